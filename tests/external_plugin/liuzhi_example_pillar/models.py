"""The plugin's one table: notes, owned by a tenant (tenant_id leads every key)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from liuzhi.api import Base, TenantScoped, utcnow

TITLE_MAX = 100


class ExampleNote(TenantScoped, Base):
    __tablename__ = "example_notes"
    __table_args__ = (
        # A composite foreign key: a note can only point at a user of its own tenant.
        ForeignKeyConstraint(["tenant_id", "author_id"], ["users.tenant_id", "users.id"]),
        Index("ix_example_notes_tenant_created", "tenant_id", "created_at"),
    )

    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    body: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
