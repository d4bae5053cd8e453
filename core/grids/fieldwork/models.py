"""Field work tables, tenant-owned with RLS (migration core_0008). Each row carries the node path
it belongs to, so a supervisor's list is one scope predicate."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped, utcnow
from core.services._schema import tenant_fk


class Patrol(TenantScoped, Base):
    """巡查: one walk of a grid worker through their grid, started and ended on the phone."""

    __tablename__ = "field_patrols"
    __table_args__ = (
        tenant_fk("user_id", "users"),
        tenant_fk("node_id", "grid_nodes"),
        Index("ix_field_patrols_tenant_user", "tenant_id", "user_id", "started_at"),
        Index("ix_field_patrols_tenant_path", "tenant_id", "node_path"),
    )

    user_id: Mapped[int]
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    distance_m: Mapped[int] = mapped_column(default=0)
    point_count: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(Text, default="")


class PatrolPoint(TenantScoped, Base):
    """A position of the route (WGS84). One per patrol and instant: a batch sent twice adds nothing."""

    __tablename__ = "field_patrol_points"
    __table_args__ = (
        tenant_fk("patrol_id", "field_patrols", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "patrol_id", "at"),
    )
    __audit__ = False  # hundreds per patrol; the patrol's start and end are audited

    patrol_id: Mapped[int]
    at: Mapped[datetime]
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    accuracy: Mapped[float | None] = mapped_column(Float)


class PatrolFinding(TenantScoped, Base):
    """What was found on the way: a link to a record another module made during the patrol
    (a report, a case …), named by its module (``source``) and its number (``ref``)."""

    __tablename__ = "field_patrol_findings"
    __table_args__ = (
        tenant_fk("patrol_id", "field_patrols", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "source", "ref"),
    )

    patrol_id: Mapped[int]
    source: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    href: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Visit(TenantScoped, Base):
    """走访: a visit to a household (a 户 node) with its notes and what changed in the register."""

    __tablename__ = "field_visits"
    __table_args__ = (
        tenant_fk("user_id", "users"),
        tenant_fk("household_node_id", "grid_nodes"),
        Index("ix_field_visits_tenant_path", "tenant_id", "node_path", "visited_at"),
        Index("ix_field_visits_tenant_user", "tenant_id", "user_id", "visited_at"),
    )

    user_id: Mapped[int]
    household_node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    visited_at: Mapped[datetime] = mapped_column(default=utcnow)
    notes: Mapped[str] = mapped_column(Text, default="")
    # What the visit changed, in words for the list: [{"resident": id, "name": masked, "what": [...]}]
    changes: Mapped[list[Any]] = mapped_column(JSON, default=list)


class DailyLog(TenantScoped, Base):
    """民情日志: what a grid worker saw and heard today, for their community to read."""

    __tablename__ = "field_logs"
    __table_args__ = (
        tenant_fk("user_id", "users"),
        tenant_fk("node_id", "grid_nodes"),
        Index("ix_field_logs_tenant_path", "tenant_id", "node_path", "day"),
        Index("ix_field_logs_tenant_user", "tenant_id", "user_id", "day"),
    )

    user_id: Mapped[int]
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    day: Mapped[date] = mapped_column(Date)
    topic: Mapped[str] = mapped_column(String(32), default="other")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


MODELS = (Patrol, PatrolPoint, PatrolFinding, Visit, DailyLog)
