"""Storing bytes: one directory per tenant under the data dir; the database row says who owns it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id
from core.services.files.models import StoredFile

MAX_BYTES = 20 * 1024 * 1024


class FileTooLarge(ValueError):
    pass


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        p = (self.root / key).resolve()
        if not str(p).startswith(str(self.root.resolve())):
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
    ) -> StoredFile:
        if len(data) > MAX_BYTES:
            raise FileTooLarge(filename)
        file_id = new_id()
        key = f"t{tenant_id}/{file_id % 256:02x}/{file_id}"
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        row = StoredFile(
            id=file_id,
            owner_type=owner_type,
            owner_id=None if owner_id is None else str(owner_id),
            filename=Path(filename).name[:255] or "file",
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            storage_key=key,
            uploaded_by=uploaded_by,
        )
        session.add(row)
        return row

    def read(self, row: StoredFile) -> bytes:
        return self.path(row.storage_key).read_bytes()

    def delete_tenant(self, tenant_id: int) -> None:
        import shutil

        shutil.rmtree(self.root / f"t{tenant_id}", ignore_errors=True)
