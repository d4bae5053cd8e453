"""Taking a file from a form: size and type checked, bytes stored, the row added for the caller to commit.

The type a browser declares is only a claim: for the kinds we recognise by their first bytes
(images, PDF) the bytes decide, so an HTML page cannot be stored as "image/png" and later served
inline as a picture.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Request
from litestar.datastructures import UploadFile

from core.services.files.models import StoredFile
from core.services.files.storage import MAX_BYTES, FileTooLarge, FileTypeNotAllowed, clean_filename
from core.web.context import ctx

CHUNK = 1024 * 1024
IMAGES = ("image/jpeg", "image/png", "image/gif", "image/webp")
DOCUMENTS = ("application/pdf",)
RECOGNISABLE = IMAGES + DOCUMENTS  # what ``sniff`` can tell from the bytes

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"%PDF-", 0, "application/pdf"),
)


def sniff(data: bytes) -> str | None:
    """The content type the bytes show, for the few kinds recognisable by their start; else None."""
    for magic, offset, content_type in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def normalise_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower() or "application/octet-stream"


def type_allowed(content_type: str, allowed: Iterable[str]) -> bool:
    """``allowed`` holds exact types or ``major/*`` patterns."""
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern == content_type or (pattern.endswith("/*") and content_type.startswith(pattern[:-1])):
            return True
    return False


async def read_limited(upload: UploadFile, max_bytes: int) -> bytes:
    """Read at most ``max_bytes``; one byte more means too large (without reading the rest)."""
    chunks, size = [], 0
    while True:
        chunk = await upload.read(CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise FileTooLarge(clean_filename(upload.filename), max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


async def upload_state(request: Request) -> dict[str, Any] | None:
    """For an upload form: ``{"upload_mb", "full", "used_mb"}`` of the current tenant (the
    ``storage_notice`` macro of templates/macros.html shows a full quota), or None."""
    c = ctx(request)
    limits = getattr(request.app.state.storage, "limits", None)
    if limits is None or c.tenant is None or c.db is None:
        return None
    state: dict[str, Any] = await limits.state(c.db, c.tenant.id)
    return state


async def save_upload(
    request: Request,
    upload: UploadFile,
    owner_type: str,
    owner_id: Any,
    *,
    allowed_types: Iterable[str] = IMAGES + DOCUMENTS,
    max_bytes: int = MAX_BYTES,
) -> StoredFile:
    """Store ``upload`` for the current tenant as owned by ``owner_type``/``owner_id``, uploaded by
    the current user; the row is added to the request's session: the caller commits.

    ``owner_type`` ("<plugin>.<record>") tells whose ``file_access`` hook decides who may see it.
    Raises ``FileTooLarge`` or ``FileTypeNotAllowed`` (both ``UploadError``) with a message for
    the page.
    """
    c = ctx(request)
    if c.tenant is None or c.db is None:
        raise RuntimeError("save_upload needs a tenant request")
    allowed = tuple(allowed_types)
    filename = clean_filename(upload.filename)
    data = await read_limited(upload, max_bytes)
    declared = normalise_type(upload.content_type)
    sniffed = sniff(data)
    if sniffed is not None:
        content_type = sniffed
    elif declared in RECOGNISABLE:
        content_type = "application/octet-stream"  # claims a kind we would recognise, yet is not one
    else:
        content_type = declared
    if not type_allowed(content_type, allowed):
        raise FileTypeNotAllowed(filename, content_type, allowed)
    storage = request.app.state.storage
    return await storage.save(
        c.db,
        c.tenant.id,
        data=data,
        filename=filename,
        content_type=content_type,
        owner_type=owner_type,
        owner_id=owner_id,
        uploaded_by=c.user.id if c.user is not None else None,
        max_bytes=max_bytes,
    )
