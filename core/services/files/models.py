from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped, utcnow


class StoredFile(TenantScoped, Base):
    __tablename__ = "stored_files"
    __table_args__ = (Index("ix_stored_files_owner", "tenant_id", "owner_type", "owner_id"),)

    owner_type: Mapped[str] = mapped_column(String(120))  # "<plugin>.<record>", decides who may see it
    owner_id: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(500))
    uploaded_by: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
