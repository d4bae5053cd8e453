"""平安法治 tables (prefix ``rl_``): grid teams and members, screening visits and disputes, mediation
cases with mediators and their case-file entries, petitions with lawyers, counselling appointments,
special-population registers with visits, and per-tenant counters for case numbers.

Every table is tenant-owned: ``(tenant_id, id)`` primary key, tenant_id first in every unique key and
foreign key. ``node_path`` is the materialised path of the grid node a row belongs to, so
``core.rbac.scope.in_scope`` filters lists in SQL. Counselling notes and special-population details
are sensitive (精神卫生法 第23条, 个人信息保护法 第28条): encrypted with core's vault, masked in the audit log.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped, utcnow


def _fk(columns: list[str], table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", *columns], [f"{table}.tenant_id", f"{table}.id"])


class Counter(TenantScoped, Base):
    __tablename__ = "rl_counters"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)
    __audit__ = False  # moved by core's counters (Core UPDATEs); the numbered case is audited instead

    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[int] = mapped_column(Integer, default=0)


class Team(TenantScoped, Base):
    """A 全科网格 team "1+1+X+Y" serving one grid node."""

    __tablename__ = "rl_teams"
    __table_args__ = (UniqueConstraint("tenant_id", "node_id"), _fk(["node_id"], "grid_nodes"))

    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TeamMember(TenantScoped, Base):
    __tablename__ = "rl_team_members"
    __table_args__ = (
        _fk(["team_id"], "rl_teams"),
        _fk(["user_id"], "users"),
        Index("ix_rl_team_members_team", "tenant_id", "team_id"),
    )

    team_id: Mapped[int]
    position: Mapped[str] = mapped_column(String(16))  # rules.POSITIONS
    name: Mapped[str] = mapped_column(String(100))
    duty: Mapped[str] = mapped_column(String(100), default="")  # 网格党支部书记, 楼栋长, 社区民警, 律师 …
    user_id: Mapped[int | None]
    party_member: Mapped[bool] = mapped_column(Boolean, default=False)


class Screening(TenantScoped, Base):
    """A 矛盾纠纷排查 visit by a grid worker."""

    __tablename__ = "rl_screenings"
    __table_args__ = (
        _fk(["node_id"], "grid_nodes"),
        Index("ix_rl_screenings_tenant_path", "tenant_id", "node_path"),
    )

    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    worker_user_id: Mapped[int | None]
    visited_at: Mapped[datetime] = mapped_column(default=utcnow)
    place: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    disputes_found: Mapped[int] = mapped_column(Integer, default=0)


class Dispute(TenantScoped, Base):
    """A dispute found in screening (or reported to the committee): who, what kind, how risky."""

    __tablename__ = "rl_disputes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        _fk(["node_id"], "grid_nodes"),
        _fk(["screening_id"], "rl_screenings"),
        Index("ix_rl_disputes_tenant_path", "tenant_id", "node_path"),
        Index("ix_rl_disputes_tenant_event", "tenant_id", "event_ref"),
    )

    number: Mapped[str] = mapped_column(String(32))
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    screening_id: Mapped[int | None]
    kind: Mapped[str] = mapped_column(String(16))  # disputes.KINDS
    risk: Mapped[str] = mapped_column(String(8))  # low | medium | high
    summary: Mapped[str] = mapped_column(Text)
    parties: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{"name": …}]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | mediation | event | resolved
    case_id: Mapped[int | None]
    event_ref: Mapped[str | None] = mapped_column(String(64))  # smart_service event id, when handed there
    # What smart_service answered about that event (its number and page), heard through core events.
    event_number: Mapped[str | None] = mapped_column(String(64))
    event_href: Mapped[str | None] = mapped_column(String(300))
    reported_by: Mapped[int | None]
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)


class Case(TenantScoped, Base):
    """A people's-mediation case file (人民调解卷宗) from 受理 to 回访."""

    __tablename__ = "rl_cases"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        _fk(["node_id"], "grid_nodes"),
        _fk(["dispute_id"], "rl_disputes"),
        Index("ix_rl_cases_tenant_path", "tenant_id", "node_path"),
        Index("ix_rl_cases_tenant_state_due", "tenant_id", "state", "due_on"),
        Index("ix_rl_cases_tenant_created", "tenant_id", "created_at"),
    )

    number: Mapped[str] = mapped_column(String(32))
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    dispute_id: Mapped[int | None]
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    origin: Mapped[str | None] = mapped_column(String(16))  # mediation.ORIGINS, set on 受理
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
    due_on: Mapped[date | None] = mapped_column(Date)
    overdue_at: Mapped[datetime | None]  # set once by the overdue job
    concluded_at: Mapped[datetime | None]
    days_to_close: Mapped[int | None]  # from acceptance (or filing) to conclusion, for the indicators
    parties: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    facts: Mapped[str] = mapped_column(Text, default="")
    matters: Mapped[str] = mapped_column(Text, default="")
    terms: Mapped[str] = mapped_column(Text, default="")
    performance: Mapped[str] = mapped_column(Text, default="")
    effective_on: Mapped[date | None] = mapped_column(Date)  # agreement signed and in effect
    confirmation_due_on: Mapped[date | None] = mapped_column(Date)  # 第33条
    routes: Mapped[list[str]] = mapped_column(JSON, default=list)  # 第26条, on termination
    agreement_document_id: Mapped[int | None]
    version: Mapped[int] = mapped_column(Integer, default=1)


class CaseMediator(TenantScoped, Base):
    __tablename__ = "rl_case_mediators"
    __table_args__ = (
        UniqueConstraint("tenant_id", "case_id", "user_id"),
        _fk(["case_id"], "rl_cases"),
        _fk(["user_id"], "users"),
        Index("ix_rl_case_mediators_user", "tenant_id", "user_id"),
    )

    case_id: Mapped[int]
    user_id: Mapped[int]


class CaseEntry(TenantScoped, Base):
    """One record of the case file: acceptance, refusal, investigation, session, agreement,
    termination, follow-up, reminder, overdue flag."""

    __tablename__ = "rl_case_entries"
    __table_args__ = (_fk(["case_id"], "rl_cases"), Index("ix_rl_case_entries_case", "tenant_id", "case_id", "at"))

    case_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None]
    actor_name: Mapped[str] = mapped_column(String(100), default="")
    attendees: Mapped[str] = mapped_column(String(500), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Petition(TenantScoped, Base):
    """A 信访 case with a lawyer taking part (律师参与信访)."""

    __tablename__ = "rl_petitions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        _fk(["node_id"], "grid_nodes"),
        _fk(["lawyer_user_id"], "users"),
        Index("ix_rl_petitions_lawyer", "tenant_id", "lawyer_user_id"),
    )

    number: Mapped[str] = mapped_column(String(32))
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    subject: Mapped[str] = mapped_column(String(200))
    petitioner: Mapped[str] = mapped_column(String(100))
    received_on: Mapped[date] = mapped_column(Date)
    accept_due_on: Mapped[date] = mapped_column(Date)
    conclude_due_on: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="received")  # received | accepted | concluded
    lawyer_user_id: Mapped[int | None]
    advice: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(Text, default="")


class Appointment(TenantScoped, Base):
    """A 心理咨询 appointment, booked by a resident or referred by staff. Notes: counsellor only."""

    __tablename__ = "rl_appointments"
    __table_args__ = (
        _fk(["node_id"], "grid_nodes"),
        _fk(["counsellor_user_id"], "users"),
        Index("ix_rl_appointments_counsellor", "tenant_id", "counsellor_user_id", "starts_at"),
    )

    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    room: Mapped[str] = mapped_column(String(100))
    person_name: Mapped[str] = mapped_column(String(100))
    resident_user_id: Mapped[int | None]
    referred_by: Mapped[int | None]
    counsellor_user_id: Mapped[int | None]
    starts_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default="booked")  # booked | done | cancelled
    notes_enc: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sensitive": True})
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SpecialPerson(TenantScoped, Base):
    """A person on one of the 特殊人群 registers, with the schedule of visits."""

    __tablename__ = "rl_special_people"
    __table_args__ = (
        _fk(["node_id"], "grid_nodes"),
        Index("ix_rl_special_people_path", "tenant_id", "category", "node_path"),
    )

    category: Mapped[str] = mapped_column(String(24))  # sensitive.CATEGORIES
    name: Mapped[str] = mapped_column(String(100))
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    details_enc: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sensitive": True})
    visit_every_days: Mapped[int] = mapped_column(Integer, default=30)
    next_visit_on: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class SpecialVisit(TenantScoped, Base):
    __tablename__ = "rl_special_visits"
    __table_args__ = (
        _fk(["person_id"], "rl_special_people"),
        Index("ix_rl_special_visits_person", "tenant_id", "person_id"),
    )

    person_id: Mapped[int]
    visited_on: Mapped[date] = mapped_column(Date)
    user_id: Mapped[int | None]
    note_enc: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sensitive": True})


MODELS = (
    Counter,
    Team,
    TeamMember,
    Screening,
    Dispute,
    Case,
    CaseMediator,
    CaseEntry,
    Petition,
    Appointment,
    SpecialPerson,
    SpecialVisit,
)
