"""Uploads from a request: the current tenant, user and storage filled in for the files service."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Request
from litestar.datastructures import UploadFile

from core.services.files.models import StoredFile
from core.services.files.storage import MAX_BYTES
from core.services.files.uploads import DOCUMENTS, IMAGES, storage_state, store_upload
from core.web.context import ctx


async def upload_state(request: Request) -> dict[str, Any] | None:
    """For an upload form: ``{"upload_mb", "full", "used_mb"}`` of the current tenant (the
    ``storage_notice`` macro of templates/macros.html shows a full quota), or None."""
    c = ctx(request)
    if c.tenant is None or c.db is None:
        return None
    return await storage_state(c.db, request.app.state.storage, c.tenant.id)


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
    the current user; the row is added to the request's session: the caller commits."""
    c = ctx(request)
    if c.tenant is None or c.db is None:
        raise RuntimeError("save_upload needs a tenant request")
    return await store_upload(
        c.db,
        request.app.state.storage,
        c.tenant.id,
        upload,
        owner_type,
        owner_id,
        uploaded_by=c.user.id if c.user is not None else None,
        allowed_types=allowed_types,
        max_bytes=max_bytes,
    )
