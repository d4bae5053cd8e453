"""One row per client-generated submission id and user: what it created and where it led."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped, utcnow
from core.services._schema import tenant_fk


class ClientSubmission(TenantScoped, Base):
    __tablename__ = "client_submissions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "client_id"),
        tenant_fk("user_id", "users", ondelete="CASCADE"),
    )
    __audit__ = False  # bookkeeping: the record it created is audited

    user_id: Mapped[int]
    client_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))  # e.g. "core.field_visit", "<plugin>.report"
    ref: Mapped[str] = mapped_column(String(100), default="")  # the record's id or number
    location: Mapped[str] = mapped_column(String(500), default="")  # tenant-relative page of the result
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
