"""Consent records (个人信息保护法): a person's consent to one purpose, given and perhaps withdrawn,
each with its time and channel. At most one current consent per person and purpose (a partial
unique index); a withdrawn one stays as history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped, utcnow
from core.services._schema import tenant_fk

CURRENT = text("withdrawn_at IS NULL")


class ConsentRecord(TenantScoped, Base):
    __tablename__ = "consent_records"
    __table_args__ = (
        tenant_fk("evidence_file_id", "stored_files"),
        Index("ix_consent_records_tenant_subject", "tenant_id", "subject_type", "subject_id", "purpose"),
        Index(
            "uq_consent_records_current",
            "tenant_id",
            "subject_type",
            "subject_id",
            "purpose",
            unique=True,
            postgresql_where=CURRENT,
            sqlite_where=CURRENT,
        ),
    )

    subject_type: Mapped[str] = mapped_column(String(16))  # "resident" | "user"
    subject_id: Mapped[int]
    purpose: Mapped[str] = mapped_column(String(100))  # e.g. "civic_virtue.publish_profile"
    scope: Mapped[str] = mapped_column(Text)  # what the person agreed to, in the words shown to them
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    given_channel: Mapped[str] = mapped_column(String(16))  # online | paper | in_person | phone
    given_recorded_by: Mapped[int | None]
    evidence_file_id: Mapped[int | None]
    expires_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    withdrawn_channel: Mapped[str | None] = mapped_column(String(16))
    withdrawn_recorded_by: Mapped[int | None]
