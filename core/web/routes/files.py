"""Serving stored files: only to who the owning plugin says may see them (or who uploaded them).

Another tenant's file, a file nobody vouches for and a missing one all answer 404, alike.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, get
from litestar.datastructures import ETag
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File
from sqlalchemy import select

from core.services.files.models import StoredFile
from core.web.context import ctx
from core.web.deps import DbSession
from core.web.guards import signed_in

log = logging.getLogger("liuzhi.files")

# Shown in the browser; anything else (HTML, SVG, scripts …) is offered as a download, so a file
# someone uploaded can never run as a page of this site.
INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "audio/mpeg",
        "audio/ogg",
        "video/mp4",
        "video/webm",
    }
)
# Belt and braces for what is shown inline: no scripts, no requests elsewhere. (Not for PDF:
# browsers' PDF viewers do not work in a sandboxed document.)
SANDBOX_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"


async def may_see(request: Request, row: StoredFile) -> bool:
    """The uploader always may; otherwise the first plugin that answers ``file_access`` decides."""
    c = ctx(request)
    if c.user is not None and row.uploaded_by == c.user.id:
        return True
    try:
        answer = await request.app.state.plugins.run("file_access", c.enabled, request=request, file=row)
    except Exception:  # a broken plugin shows nothing rather than everything
        log.exception("file_access failed for file %s (%s)", row.id, row.owner_type)
        return False
    return answer is True


@get("/files/{file_id:int}", guards=[signed_in], opt={"bearer": True})  # photos the API links to
async def serve_file(request: Request, file_id: FromPath[int], db: DbSession) -> Any:
    row = (await db.execute(select(StoredFile).where(StoredFile.id == file_id))).scalar_one_or_none()
    if row is None or not await may_see(request, row):
        raise NotFoundException()
    storage = request.app.state.storage
    path = storage.path(row.storage_key)
    if not path.is_file():
        log.error("file %s of tenant %s is missing at %s", row.id, row.tenant_id, path)
        raise NotFoundException()
    content_type = row.content_type.lower()
    inline = content_type in INLINE_TYPES
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-cache"}
    if content_type != "application/pdf":
        headers["Content-Security-Policy"] = SANDBOX_CSP
    return File(
        path=path,
        filename=row.filename,
        media_type=row.content_type,
        content_disposition_type="inline" if inline else "attachment",
        headers=headers,
        etag=ETag(value=row.sha256),
    )


handlers = [serve_file]
