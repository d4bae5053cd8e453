"""Taking a file from a form: size and type checked, bytes stored, the row added for the caller to commit.

The type a browser declares is only a claim: for the kinds we recognise by their first bytes
(images, PDF) the bytes decide, so an HTML page cannot be stored as "image/png" and later served
inline as a picture.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

from litestar.datastructures import UploadFile

from core.services.files.models import StoredFile
from core.services.files.storage import MAX_BYTES, FileTooLarge, FileTypeNotAllowed, clean_filename

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


async def store_upload(
    session: Any,
    storage: Any,
    tenant_id: int,
    upload: UploadFile,
    owner_type: str,
    owner_id: Any,
    *,
    uploaded_by: int | None,
    allowed_types: Iterable[str] = IMAGES + DOCUMENTS,
    max_bytes: int = MAX_BYTES,
) -> StoredFile:
    """Store ``upload`` for ``tenant_id`` as owned by ``owner_type``/``owner_id``; the row is added
    to ``session`` (bound to the tenant): the caller commits.

    ``owner_type`` ("<plugin>.<record>") tells whose ``file_access`` hook decides who may see it.
    Raises ``FileTooLarge`` or ``FileTypeNotAllowed`` (both ``UploadError``) with a message for
    the page. (Handlers call ``core.web.uploads.save_upload(request, …)``, which fills these in.)
    """
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
    return await storage.save(
        session,
        tenant_id,
        data=data,
        filename=filename,
        content_type=content_type,
        owner_type=owner_type,
        owner_id=owner_id,
        uploaded_by=uploaded_by,
        max_bytes=max_bytes,
    )


async def storage_state(session: Any, storage: Any, tenant_id: int) -> dict[str, Any] | None:
    """``{"upload_mb", "full", "used_mb"}`` of the tenant's storage quota, or None without limits."""
    limits = getattr(storage, "limits", None)
    if limits is None:
        return None
    state: dict[str, Any] = await limits.state(session, tenant_id)
    return state


# Deprecated request-taking forms: they moved to core.web.uploads (services do not know requests).
# These read the request context the web layer put on the request, without importing it.


async def upload_state(request: Any) -> dict[str, Any] | None:
    """Deprecated: ``core.web.uploads.upload_state``."""
    _moved("upload_state")
    c = request.state["ctx"]
    if c.tenant is None or c.db is None:
        return None
    return await storage_state(c.db, request.app.state.storage, c.tenant.id)


async def save_upload(request: Any, upload: UploadFile, owner_type: str, owner_id: Any, **kw: Any) -> StoredFile:
    """Deprecated: ``core.web.uploads.save_upload``."""
    _moved("save_upload")
    c = request.state["ctx"]
    if c.tenant is None or c.db is None:
        raise RuntimeError("save_upload needs a tenant request")
    uploaded_by = c.user.id if c.user is not None else None
    return await store_upload(
        c.db, request.app.state.storage, c.tenant.id, upload, owner_type, owner_id, uploaded_by=uploaded_by, **kw
    )


def _moved(name: str) -> None:
    warnings.warn(
        f"core.services.files.{name}(request, …) is deprecated: use core.web.uploads.{name}",
        DeprecationWarning,
        stacklevel=3,
    )
