"""服务智治 tables: categories, the working calendar, handling units and the dispatch catalogue,
events with their timeline, and per-tenant counters for event numbers.

Every table is tenant-owned (``TenantScoped``: ``(tenant_id, id)`` primary key, tenant_id first in
every unique key and foreign key). Table names start with ``ss_`` (smart service) and stay short so
that generated constraint names fit PostgreSQL's 63 characters. Foreign keys between tenant rows
are plain NO ACTION, as in core/grids/basedata.py (SQLite applies RESTRICT row by row, and SET
NULL on a composite key would null tenant_id).

Requests for 延期 (extension) and 挂账 (parking) and 督办 (supervision) are not tables of their
own: each request, decision and supervision is an ``EventTransition`` (who, when, note, data),
and the event carries the current flags (``pending``, ``pending_hours``, ``supervised``,
``extension_count`` …) that lists and indicators filter on.

Scope: an event's ``node_path`` is the materialised path of the grid node where it happened, so
``core.rbac.scope.in_scope(Event.node_path, prefixes)`` filters lists in SQL.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped, utcnow
from plugins.smart_service.lifecycle import OPEN, State

# The open states in the order they are declared: one SQL text for the inbox's filter in every
# process (a frozenset's order changes with the hash seed) and the predicate of its partial index,
# which the planner matches only when the query's list implies it.
OPEN_STATES: tuple[str, ...] = tuple(s.value for s in State if s in OPEN)
OPEN_PREDICATE = text("state IN (" + ", ".join(f"'{s}'" for s in OPEN_STATES) + ")")

# The working calendar a district has until it sets its own (sla.py computes with it).
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_PERIODS: tuple[tuple[str, str], ...] = (("08:30", "12:00"), ("13:30", "17:30"))
DEFAULT_WEEKDAYS: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0

# Category kinds (GB/T 30428.2: 部件 = city components such as manhole covers, 事件 = events such as
# illegal parking).
COMPONENT, EVENT_KIND = "component", "event"
KINDS = (COMPONENT, EVENT_KIND)
# Where a report comes from: 巡查上报, 随手拍, 12345 工单, 上级交办, and 自处置 (found and handled on
# the spot by a grid worker in one step: indicators count it by this source).
ON_THE_SPOT = "on_the_spot"
SOURCES = ("grid_patrol", "resident", "hotline_12345", "superior", ON_THE_SPOT)
# Urgency: 1 一般 normal, 2 紧急 urgent, 3 特急 critical (2 and 3 use a category's urgent limits).
URGENCIES = (1, 2, 3)
# Handling levels: 1 区指挥中心 district command centre, 2 街道/部门 sub-district or department,
# 3 社区 community (grid workers work under their community).
LEVELS = (1, 2, 3)
MAX_DESCRIPTION = 4000  # Open311's limit for description
# Words in a category's name that keep it off public outputs unless the district says otherwise
# (邻里纠纷, 群租, public order …): the default of ``Category.public`` when a category is made.
NON_PUBLIC_WORDS = ("纠纷", "群租", "治安", "矛盾", "信访", "涉稳", "涉黑", "吸毒", "家暴")


def public_by_default(name_zh: str) -> bool:
    return not any(word in (name_zh or "") for word in NON_PUBLIC_WORDS)


def _public_default(context: Any) -> bool:
    return public_by_default(str(context.get_current_parameters().get("name_zh") or ""))


def _fk(columns: list[str], table: str, remote: list[str] | None = None) -> ForeignKeyConstraint:
    remote = remote or ["id"]
    return ForeignKeyConstraint(["tenant_id", *columns], [f"{table}.tenant_id", *(f"{table}.{c}" for c in remote)])


class Category(TenantScoped, Base):
    """A 部件/事件 class or sub-class (``parent_code`` set) with its urgency and time limits.

    ``time_limits`` maps SLA stages (accept, dispatch, sign, handle, inspect) to working hours;
    ``urgent_time_limits`` overrides some of them for 紧急 events and ``critical_time_limits`` for
    特急 ones. Missing stages use ``sla.DEFAULT_LIMITS``.
    """

    __tablename__ = "ss_categories"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        _fk(["parent_code"], "ss_categories", ["code"]),
    )

    code: Mapped[str] = mapped_column(String(32))
    parent_code: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16), default=EVENT_KIND)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    urgency: Mapped[int] = mapped_column(Integer, default=1)
    time_limits: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    urgent_time_limits: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # 特急 (urgency 3) has its own limits; a stage missing here falls back to the urgent ones.
    critical_time_limits: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Public outputs (Open311 GET, public pages) show a category's events only when it is public;
    # 邻里纠纷, 群租 and public-order classes default to not (``public_by_default``).
    public: Mapped[bool] = mapped_column(Boolean, default=_public_default)
    # Public location snapped to a grid of this many metres (0: as reported).
    public_location_m: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def label(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") and self.name_en else self.name_zh


class WorkCalendar(TenantScoped, Base):
    """The district's working hours (one row per tenant; none means ``sla.DEFAULT_CALENDAR``)."""

    __tablename__ = "ss_work_calendars"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    periods: Mapped[list[list[str]]] = mapped_column(JSON, default=lambda: [list(p) for p in DEFAULT_PERIODS])
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=lambda: list(DEFAULT_WEEKDAYS))


class CalendarDay(TenantScoped, Base):
    """An exception to the weekly pattern: a holiday (``working`` false) or a 调休 working day."""

    __tablename__ = "ss_calendar_days"
    __table_args__ = (UniqueConstraint("tenant_id", "day"),)

    day: Mapped[date] = mapped_column(Date)
    working: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(String(100), default="")  # 国庆节, 春节调休 …


class HandlingUnit(TenantScoped, Base):
    """Who handles events: a command centre, sub-district, department or community (level 1/2/3).

    Units tied to the territory name their node (scope follows it); a department may have none.
    """

    __tablename__ = "ss_handling_units"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        _fk(["node_id"], "grid_nodes"),
        Index("ix_ss_handling_units_tenant_path", "tenant_id", "node_path"),
    )

    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    level: Mapped[int] = mapped_column(Integer)
    node_id: Mapped[int | None]
    node_path: Mapped[str | None] = mapped_column(String(1000))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def label(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") and self.name_en else self.name


class DispatchRule(TenantScoped, Base):
    """派单目录: events of a category (or its class, or any: NULL) in an area (a node's subtree)
    go to a handling unit. The most specific area wins; see ``services.dispatch_target``."""

    __tablename__ = "ss_dispatch_rules"
    __table_args__ = (
        _fk(["category_code"], "ss_categories", ["code"]),
        _fk(["node_id"], "grid_nodes"),
        _fk(["unit_id"], "ss_handling_units"),
        Index("ix_ss_dispatch_rules_tenant_path", "tenant_id", "node_path"),
    )

    category_code: Mapped[str | None] = mapped_column(String(32))
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    unit_id: Mapped[int]
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Event(TenantScoped, Base):
    """A reported problem (事件) and where it is in its lifecycle (lifecycle.py).

    ``version`` is the optimistic lock: every change of state increments it, and a transition on
    a version someone else has moved on is refused (SQLAlchemy's ``version_id_col``).
    """

    __tablename__ = "ss_events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        _fk(["category_code"], "ss_categories", ["code"]),
        _fk(["node_id"], "grid_nodes"),
        _fk(["handling_unit_id"], "ss_handling_units"),
        _fk(["supervisor_unit_id"], "ss_handling_units"),
        _fk(["reporter_user_id"], "users"),
        _fk(["assignee_user_id"], "users"),
        _fk(["reporter_resident_id"], "residents"),
        _fk(["merged_into_id"], "ss_events"),
        Index("ix_ss_events_tenant_path", "tenant_id", "node_path"),
        Index("ix_ss_events_tenant_state_due", "tenant_id", "state", "due_at"),
        Index("ix_ss_events_tenant_category_lat", "tenant_id", "category_code", "lat"),
        Index("ix_ss_events_tenant_created", "tenant_id", "created_at"),
        Index("ix_ss_events_tenant_unit", "tenant_id", "handling_unit_id"),
        Index("ix_ss_events_tenant_assignee", "tenant_id", "assignee_user_id"),
        Index("ix_ss_events_tenant_reporter", "tenant_id", "reporter_user_id"),
        Index("ix_ss_events_tenant_close_due", "tenant_id", "close_due_at"),
        Index("ix_ss_events_tenant_handle_due", "tenant_id", "handle_due_at"),
        # Indicator rollups (rollups.py) look for events changed since their last pass.
        Index("ix_ss_events_tenant_updated", "tenant_id", "updated_at"),
        # The inbox: open events in its sort order (soonest deadline, none last), the scope's path
        # beside it so a community's rows are picked in the index; a few per cent of all events.
        Index(
            "ix_ss_events_open_due",
            "tenant_id",
            "due_at",
            "created_at",
            "id",
            "node_path",
            postgresql_where=OPEN_PREDICATE,
            sqlite_where=OPEN_PREDICATE,
        ),
        # A grid's or a community's open events (the inbox's count, its page when few): just theirs.
        Index(
            "ix_ss_events_open_path",
            "tenant_id",
            "node_path",
            postgresql_where=OPEN_PREDICATE,
            sqlite_where=OPEN_PREDICATE,
        ),
    )

    number: Mapped[str] = mapped_column(String(32))  # SL-20261127-0001
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category_code: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[int] = mapped_column(Integer, default=1)

    reporter_user_id: Mapped[int | None]
    reporter_resident_id: Mapped[int | None]
    reporter_name: Mapped[str] = mapped_column(String(100), default="")
    reporter_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sensitive": True})
    reporter_phone_masked: Mapped[str | None] = mapped_column(String(16))

    lon: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    lat: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    address: Mapped[str] = mapped_column(String(300), default="")
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))

    state: Mapped[str] = mapped_column(String(16))
    level: Mapped[int] = mapped_column(Integer, default=3)
    handling_unit_id: Mapped[int | None]
    assignee_user_id: Mapped[int | None]
    # 督办 after a breach: the unit one level up supervises; the handling unit stays as it was.
    supervisor_unit_id: Mapped[int | None]
    supervisor_level: Mapped[int | None] = mapped_column(Integer)
    # The handling clock (派遣 → 签收 → 处置 → 反馈) runs from the last dispatch: its deadline
    # (``handle_due_at``, for 按期处置), the case's deadline (``close_due_at`` = handling + inspection
    # limits, for 按期结案 and 应结案数) and when it was last handled (反馈).
    dispatched_at: Mapped[datetime | None]
    handle_due_at: Mapped[datetime | None]
    close_due_at: Mapped[datetime | None]
    handled_at: Mapped[datetime | None]
    # What residents see about its progress (Open311 ``status_notes``); internal notes never are.
    public_note: Mapped[str] = mapped_column(Text, default="")

    # SLA: the current stage's deadline. ``clock_seq`` counts deadlines set (new stage, restart,
    # approved extension); ``escalated_seq`` is the one already escalated, so a breach escalates once.
    stage: Mapped[str | None] = mapped_column(String(16))
    stage_started_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    clock_seq: Mapped[int] = mapped_column(Integer, default=0)
    escalated_seq: Mapped[int | None] = mapped_column(Integer)
    sla_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    sla_remaining_seconds: Mapped[int | None] = mapped_column(Integer)  # working time left while parked

    pending: Mapped[str | None] = mapped_column(String(16))  # "extension" | "parking" awaiting approval
    pending_hours: Mapped[float | None] = mapped_column(Float)
    parked_from: Mapped[str | None] = mapped_column(String(16))
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    extension_count: Mapped[int] = mapped_column(Integer, default=0)
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)
    supervision_count: Mapped[int] = mapped_column(Integer, default=0)

    merged_into_id: Mapped[int | None]
    me_too_count: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str] = mapped_column(String(500), default="")

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class EventTransition(TenantScoped, Base):
    """One line of an event's timeline: who did what, when, from which state to which, with which
    note and photos (core ``StoredFile`` ids). Append-only: never updated or deleted by the plugin.

    ``from_state`` is NULL for the report itself; notes such as 督办 or 我也遇到 keep the state.
    ``data`` holds what the action decided (unit, level, hours, target, overdue …).
    """

    __tablename__ = "ss_event_transitions"
    __table_args__ = (
        _fk(["event_id"], "ss_events"),
        _fk(["actor_user_id"], "users"),
        Index("ix_ss_event_transitions_tenant_event", "tenant_id", "event_id", "at"),
        Index("ix_ss_event_transitions_tenant_action", "tenant_id", "action", "at"),
    )

    event_id: Mapped[int]
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    actor_user_id: Mapped[int | None]
    actor_name: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    photos: Mapped[list[int]] = mapped_column(JSON, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Counter(TenantScoped, Base):
    """Per-tenant sequences (``event:20261127`` → last number given that day)."""

    __tablename__ = "ss_counters"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)
    __audit__ = False  # bumped by Core UPDATEs; the numbered event is audited instead

    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[int] = mapped_column(Integer, default=0)


MODELS = (Category, WorkCalendar, CalendarDay, HandlingUnit, DispatchRule, Event, EventTransition, Counter)


class Booking(TenantScoped, Base):
    """预约代办: a resident (or staff on their behalf) books a matter a community worker does for them.

    States (bookings.py): requested → taken → done | cancelled. ``due_at`` is set when a worker takes
    it (the tenant's ``proxy_service_days`` in working time); overdue = not done by then. ``node_path``
    is where the applicant lives, so staff lists filter by scope in SQL.
    """

    __tablename__ = "ss_bookings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        _fk(["node_id"], "grid_nodes"),
        _fk(["applicant_user_id"], "users"),
        _fk(["created_by_user_id"], "users"),
        _fk(["taken_by_user_id"], "users"),
        Index("ix_ss_bookings_tenant_path", "tenant_id", "node_path"),
        Index("ix_ss_bookings_tenant_applicant", "tenant_id", "applicant_user_id"),
        Index("ix_ss_bookings_tenant_state_due", "tenant_id", "state", "due_at"),
    )

    number: Mapped[str] = mapped_column(String(32))  # BK-20261127-0001
    matter: Mapped[str] = mapped_column(String(32))  # a code of bookings.MATTERS
    documents: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    preferred_day: Mapped[date] = mapped_column(Date)
    applicant_user_id: Mapped[int | None]
    applicant_name: Mapped[str] = mapped_column(String(100))
    applicant_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sensitive": True})
    applicant_phone_masked: Mapped[str | None] = mapped_column(String(16))
    created_by_user_id: Mapped[int | None]
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    state: Mapped[str] = mapped_column(String(16), default="requested")
    taken_by_user_id: Mapped[int | None]
    taken_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    result: Mapped[str] = mapped_column(Text, default="")
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


MODELS = (*MODELS, Booking)


class Open311Key(TenantScoped, Base):
    """An Open311 client's API key (``api_key`` of POST requests): only its SHA-256 is stored.
    ``name`` says who the client is; reports it sends carry it as their reporter."""

    __tablename__ = "ss_open311_keys"
    __table_args__ = (UniqueConstraint("tenant_id", "key_hash"),)

    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), info={"sensitive": True})
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]


class Open311Request(TenantScoped, Base):
    """What an Open311 POST brought beyond the event itself: the client's key, the token it can
    poll, its ``media_url``, ``attribute[...]`` answers and contact details (email encrypted)."""

    __tablename__ = "ss_open311_requests"
    __table_args__ = (
        UniqueConstraint("tenant_id", "event_id"),
        UniqueConstraint("tenant_id", "token"),
        _fk(["event_id"], "ss_events"),
        _fk(["key_id"], "ss_open311_keys"),
    )

    event_id: Mapped[int]
    key_id: Mapped[int]
    token: Mapped[str] = mapped_column(String(64))
    media_url: Mapped[str] = mapped_column(String(1000), default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    email_enc: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sensitive": True})
    device_id: Mapped[str] = mapped_column(String(100), default="")
    account_id: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


MODELS = (*MODELS, Open311Key, Open311Request)


class EventLink(TenantScoped, Base):
    """A link from an event to another pillar's record (a 人民调解 dispute), made by listening to core
    events, never by importing the other pillar. ``ref_id`` is the other side's id, unique per kind,
    so the same referral heard twice links (and creates) once."""

    __tablename__ = "ss_event_links"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "ref_id"),
        _fk(["event_id"], "ss_events"),
        Index("ix_ss_event_links_tenant_event", "tenant_id", "event_id"),
    )

    event_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))  # "dispute"
    direction: Mapped[str] = mapped_column(String(8))  # "from": it came from there; "to": referred there
    ref_id: Mapped[str] = mapped_column(String(64))
    ref_number: Mapped[str] = mapped_column(String(64), default="")
    href: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


MODELS = (*MODELS, EventLink)
