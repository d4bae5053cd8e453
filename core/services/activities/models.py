"""Activities people sign up for and attend: the activity, and one sign-up row per participant
that carries the attendance (check-in/out) and the hours it earned."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped, utcnow
from core.services._schema import tenant_fk

DRAFT, PUBLISHED, CANCELLED = "draft", "published", "cancelled"
SIGNED_UP, WITHDRAWN = "signed_up", "withdrawn"


class Activity(TenantScoped, Base):
    __tablename__ = "activities"
    __table_args__ = (
        tenant_fk("node_id", "grid_nodes"),
        Index("ix_activities_tenant_path", "tenant_id", "node_path"),
        Index("ix_activities_tenant_starts", "tenant_id", "starts_at"),
        # The database, not only the service, keeps sign-ups within capacity.
        CheckConstraint("signed_up >= 0 AND (capacity IS NULL OR signed_up <= capacity)", name="within_capacity"),
    )

    source: Mapped[str] = mapped_column(String(64), default="")  # the plugin that published it
    category: Mapped[str] = mapped_column(String(64), default="")  # the publisher's own classification
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    place: Mapped[str] = mapped_column(String(300), default="")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    signup_opens_at: Mapped[datetime | None]
    signup_closes_at: Mapped[datetime | None]
    capacity: Mapped[int | None] = mapped_column(Integer)
    signed_up: Mapped[int] = mapped_column(Integer, default=0)
    eligibility: Mapped[str] = mapped_column(String(100), default="everyone")
    status: Mapped[str] = mapped_column(String(16), default=PUBLISHED)
    created_by: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActivitySignup(TenantScoped, Base):
    __tablename__ = "activity_signups"
    __table_args__ = (
        UniqueConstraint("tenant_id", "activity_id", "user_id"),
        tenant_fk("activity_id", "activities", ondelete="CASCADE"),
        tenant_fk("user_id", "users"),
        Index("ix_activity_signups_tenant_user", "tenant_id", "user_id"),
    )

    activity_id: Mapped[int]
    user_id: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=SIGNED_UP)
    signed_up_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    checked_out_at: Mapped[datetime | None]
    check_method: Mapped[str | None] = mapped_column(String(16))  # "qr" | "list"
    checked_in_by: Mapped[int | None]
    minutes: Mapped[int | None] = mapped_column(Integer)  # served time: whole minutes, exact to sum
    minutes_source: Mapped[str | None] = mapped_column(String(16))  # "clock" | "staff"
