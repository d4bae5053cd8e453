"""Indicator rollups (rollups.py): the indicators' counts per local day × node × group, so a
dashboard sums a few thousand rows instead of reading every event of the range.

- ``IndicatorRollup``: one row per (day, node_path, dim, group_key) with the counts of
  ``indicators.COUNTS``; each count in the row of the day its population is dated by (reported
  counts by the report's day, due counts by the deadline's day, as the indicators count them).
  ``dim`` says what ``group_key`` is: ``c`` the category class (大类), ``u`` the handling unit's id,
  ``w`` the assignee's id ('' for none); every event is counted once in each dim.
- ``IndicatorMark``: per event, what the rollups hold of it — a copy of the columns the indicators
  count (``COUNTED``) as of the pass that rolled it up, its version and updated_at, and the three
  days it is counted on. The rollups are aggregated from the marks (never from events), so they
  equal the marks' counts exactly; a dashboard adds the events changed since (found by version or
  updated_at) and takes away their marks, and is exact at any moment.
- ``IndicatorState``: per district, the days the rollups cover (``rolled_before``: every day before
  it), from when to look for changed events (``watermark``) and what they were built with
  (``signature``: the calendar's time zone and the category classes; a change rebuilds them).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped, utcnow

COUNT_COLUMNS = (
    "received",
    "registered",
    "dispatched",
    "closed",
    "due",
    "on_time",
    "handle_due",
    "handled_due",
    "handled_on_time",
    "handled",
    "reworks",
    "extended",
    "rated",
    "satisfied",
)


class IndicatorRollup(TenantScoped, Base):
    __tablename__ = "ss_indicator_rollups"
    # By day for a district (every node in scope); by path for a grid or a community (its rows only).
    __table_args__ = (
        Index("ix_ss_indicator_rollups_dim_day", "tenant_id", "dim", "day", "node_path"),
        Index("ix_ss_indicator_rollups_dim_path", "tenant_id", "dim", "node_path", "day"),
    )

    day: Mapped[str] = mapped_column(String(10))  # the local day, YYYY-MM-DD
    node_path: Mapped[str] = mapped_column(String(1000))
    dim: Mapped[str] = mapped_column(String(1))
    group_key: Mapped[str] = mapped_column(String(40))
    received: Mapped[int] = mapped_column(Integer, default=0)
    registered: Mapped[int] = mapped_column(Integer, default=0)
    dispatched: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    due: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    handle_due: Mapped[int] = mapped_column(Integer, default=0)
    handled_due: Mapped[int] = mapped_column(Integer, default=0)
    handled_on_time: Mapped[int] = mapped_column(Integer, default=0)
    handled: Mapped[int] = mapped_column(Integer, default=0)
    reworks: Mapped[int] = mapped_column(Integer, default=0)
    extended: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)


class IndicatorMark(TenantScoped, Base):
    """``id`` is the event's id; the columns after ``handle_due_day`` are the event's, by the same
    names, so the indicators' expressions (``indicators._columns_over``) read either table."""

    __tablename__ = "ss_indicator_marks"
    # A pass rebuilds the days its changed events were or are counted on from the marks of those days.
    __table_args__ = (
        Index("ix_ss_indicator_marks_created_day", "tenant_id", "created_day"),
        Index("ix_ss_indicator_marks_close_due_day", "tenant_id", "close_due_day"),
        Index("ix_ss_indicator_marks_handle_due_day", "tenant_id", "handle_due_day"),
    )

    version: Mapped[int] = mapped_column(Integer)
    stamp: Mapped[datetime] = mapped_column()  # the event's updated_at
    created_day: Mapped[str | None] = mapped_column(String(10))
    close_due_day: Mapped[str | None] = mapped_column(String(10))
    handle_due_day: Mapped[str | None] = mapped_column(String(10))
    node_path: Mapped[str] = mapped_column(String(1000), default="")
    category_code: Mapped[str] = mapped_column(String(32), default="")
    handling_unit_id: Mapped[int | None] = mapped_column(BigInteger)
    assignee_user_id: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), default="")
    parked_from: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column()
    close_due_at: Mapped[datetime | None]
    handle_due_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    handled_at: Mapped[datetime | None]
    rating: Mapped[int | None] = mapped_column(Integer)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    extension_count: Mapped[int] = mapped_column(Integer, default=0)


# The event's columns a mark copies: what ``indicators._columns_over`` and the groupings read.
COUNTED = (
    "node_path",
    "category_code",
    "handling_unit_id",
    "assignee_user_id",
    "state",
    "parked_from",
    "created_at",
    "close_due_at",
    "handle_due_at",
    "closed_at",
    "handled_at",
    "rating",
    "rework_count",
    "extension_count",
)


class IndicatorState(TenantScoped, Base):
    __tablename__ = "ss_indicator_state"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(20), default="rollups")
    signature: Mapped[str] = mapped_column(String(64))
    rolled_before: Mapped[str] = mapped_column(String(10))
    watermark: Mapped[datetime] = mapped_column()
    built_at: Mapped[datetime] = mapped_column(default=utcnow)


MODELS = (IndicatorRollup, IndicatorMark, IndicatorState)
