"""Issued documents: the PDF in core's file storage and the record its verification QR opens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped, utcnow
from core.services._schema import tenant_fk


class Document(TenantScoped, Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("tenant_id", "verify_code"),
        tenant_fk("file_id", "stored_files"),
        Index("ix_documents_tenant_subject", "tenant_id", "subject_type", "subject_id"),
    )

    kind: Mapped[str] = mapped_column(String(64))  # certificate | agreement | receipt | announcement | …
    title: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(64), default="")
    subject_type: Mapped[str | None] = mapped_column(String(120))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    node_path: Mapped[str | None] = mapped_column(String(1000))
    file_id: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    verify_code: Mapped[str] = mapped_column(String(32))
    issued_by: Mapped[int | None]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str] = mapped_column(String(300), default="")
