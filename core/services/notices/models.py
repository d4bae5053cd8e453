"""Public notices (公示 / 公开栏): an item shown at a node of the tree for a period, and the
objections (异议) raised during that period with their answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped, utcnow
from core.services._schema import tenant_fk

PUBLISHED, WITHDRAWN = "published", "withdrawn"
OBJECTION_OPEN, OBJECTION_ANSWERED = "open", "answered"


class Notice(TenantScoped, Base):
    __tablename__ = "notices"
    __table_args__ = (
        tenant_fk("node_id", "grid_nodes"),
        Index("ix_notices_tenant_path_period", "tenant_id", "node_path", "ends_at"),
        Index("ix_notices_tenant_subject", "tenant_id", "subject_type", "subject_id"),
    )

    source: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(64), default="")  # the publisher's own classification
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    subject_type: Mapped[str | None] = mapped_column(String(120))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # Whose personal data the notice shows, under which consent purpose: re-checked on every read.
    consent_purpose: Mapped[str | None] = mapped_column(String(100))
    persons: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[subject_type, subject_id], …]
    status: Mapped[str] = mapped_column(String(16), default=PUBLISHED)
    published_by: Mapped[int | None]
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_reason: Mapped[str] = mapped_column(String(300), default="")


class NoticeObjection(TenantScoped, Base):
    __tablename__ = "notice_objections"
    __table_args__ = (
        tenant_fk("notice_id", "notices", ondelete="CASCADE"),
        Index("ix_notice_objections_tenant_notice", "tenant_id", "notice_id"),
    )

    notice_id: Mapped[int]
    raised_by: Mapped[int | None]  # the user, when raised online; None when staff record one
    name: Mapped[str] = mapped_column(String(100), default="")
    channel: Mapped[str] = mapped_column(String(16), default="online")  # online | in_person | phone | letter
    body: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16), default=OBJECTION_OPEN)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[int | None]
