"""Storing bytes: one directory per tenant under the data dir; the database row says who owns it.

Layout: ``<data_dir>/files/t<tenant_id>/<id % 256 as hex>/<id>``. Deleting a tenant removes its
folder; exporting a tenant reads the files its rows name.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id
from core.i18n import gettext as _
from core.services.files.models import StoredFile

MAX_BYTES = 20 * 1024 * 1024
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


class UploadError(ValueError):
    """An upload was refused; ``str(exc)`` is a message for the person who sent it, ``status`` the
    HTTP status to answer with (413 for too large a file or a full storage quota)."""

    status = 400


class FileTooLarge(UploadError):
    status = 413

    def __init__(self, filename: str, limit: int) -> None:
        self.filename, self.limit = filename, limit
        super().__init__(
            _("%(name)s is too large: files may be at most %(mb)s MB.", name=filename, mb=_megabytes(limit))
        )


class FileTypeNotAllowed(UploadError):
    def __init__(self, filename: str, content_type: str, allowed: tuple[str, ...]) -> None:
        self.filename, self.content_type, self.allowed = filename, content_type, allowed
        super().__init__(
            _(
                "%(name)s is not an accepted kind of file (%(type)s). Accepted: %(allowed)s.",
                name=filename,
                type=content_type or "?",
                allowed=", ".join(allowed),
            )
        )


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):g}"


def clean_filename(name: str | None) -> str:
    """The last path part, without control characters or separators; never empty."""
    base = _UNSAFE.sub("_", (name or "").replace("\\", "/").rsplit("/", 1)[-1]).strip(" .")
    return base[:255] or "file"


class LocalStorage:
    """``limits`` (core/ops/limits.py ``StorageLimits``) checks the tenant's upload size and quota
    before a byte is written; without it (demo seeding, imports of exports) nothing is limited."""

    def __init__(self, root: Path, limits: Any = None) -> None:
        self.root = root
        self.limits = limits

    async def check_room(self, session: AsyncSession, tenant_id: int, size: int) -> None:
        """Raise ``QuotaExceeded`` if ``size`` more bytes do not fit the tenant's quota (for callers
        that store several files at once and want all or none)."""
        if self.limits is not None:
            await self.limits.check(session, tenant_id, size)

    def path(self, key: str) -> Path:
        root = self.root.resolve()
        p = (root / key).resolve()
        if not p.is_relative_to(root) or p == root:
            raise ValueError("bad storage key")
        return p

    async def save(
        self,
        session: AsyncSession,
        tenant_id: int,
        *,
        data: bytes,
        filename: str,
        content_type: str,
        owner_type: str,
        owner_id: object = None,
        uploaded_by: int | None = None,
        max_bytes: int = MAX_BYTES,
    ) -> StoredFile:
        """Write ``data`` and add its row to ``session`` (the caller commits)."""
        filename = clean_filename(filename)
        if len(data) > max_bytes:
            raise FileTooLarge(filename, max_bytes)
        if self.limits is not None:
            tenant_max = await self.limits.check(session, tenant_id, len(data))
            if tenant_max and len(data) > tenant_max:
                raise FileTooLarge(filename, tenant_max)
        file_id = new_id()
        key = f"t{tenant_id}/{file_id % 256:02x}/{file_id}"
        await asyncio.to_thread(self._write, self.path(key), data)
        row = StoredFile(
            id=file_id,
            tenant_id=tenant_id,
            owner_type=owner_type,
            owner_id=None if owner_id is None else str(owner_id),
            filename=filename,
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            storage_key=key,
            uploaded_by=uploaded_by,
        )
        session.add(row)
        return row

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        # Write then rename: a reader never sees half a file.
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, target)

    def read(self, row: StoredFile) -> bytes:
        return self.path(row.storage_key).read_bytes()

    def exists(self, row: StoredFile) -> bool:
        return self.path(row.storage_key).is_file()

    def delete(self, row: StoredFile) -> None:
        self.path(row.storage_key).unlink(missing_ok=True)

    def delete_tenant(self, tenant_id: int) -> None:
        shutil.rmtree(self.root / f"t{int(tenant_id)}", ignore_errors=True)
