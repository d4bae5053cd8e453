"""Indicator rollups (rollups.py): the indicators' counts per local day × node × group, so a
dashboard sums a few thousand rows instead of reading every event of the range.

- ``IndicatorRollup``: one row per (day, node_path, dim, group_key) with the counts of
  ``indicators.COUNTS``; each count in the row of the day its population is dated by (reported
  counts by the report's day, due counts by the deadline's day, as the indicators count them).
  ``dim`` says what ``group_key`` is: ``c`` the category class (大类), ``u`` the handling unit's id,
  ``w`` the assignee's id ('' for none); every event is counted once in each dim.
- ``IndicatorMark``: per event, what the rollups hold of it (its version and updated_at, and the
  three days it is counted on), so a change is found and its old days rebuilt too.
- ``IndicatorState``: per district, the days the rollups cover (``rolled_before``: every day before
  it), from when to look for changed events (``watermark``) and what they were built with
  (``signature``: the calendar's time zone and the category classes; a change rebuilds them).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
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
    """``id`` is the event's id."""

    __tablename__ = "ss_indicator_marks"

    version: Mapped[int] = mapped_column(Integer)
    stamp: Mapped[datetime] = mapped_column()  # the event's updated_at
    created_day: Mapped[str | None] = mapped_column(String(10))
    close_due_day: Mapped[str | None] = mapped_column(String(10))
    handle_due_day: Mapped[str | None] = mapped_column(String(10))


class IndicatorState(TenantScoped, Base):
    __tablename__ = "ss_indicator_state"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(20), default="rollups")
    signature: Mapped[str] = mapped_column(String(64))
    rolled_before: Mapped[str] = mapped_column(String(10))
    watermark: Mapped[datetime] = mapped_column()
    built_at: Mapped[datetime] = mapped_column(default=utcnow)


MODELS = (IndicatorRollup, IndicatorMark, IndicatorState)
