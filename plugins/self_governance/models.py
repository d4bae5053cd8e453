"""居民自治 tables: matters (议题) with their 三方联动 / 四议两公开 step records, meetings with
attendance (应到/实到) and motions, owners' assemblies (业主大会) whose items are core ballots,
petitions to call a meeting, owners' committees (业委会) with members, and 公约 versions.

Every table is tenant-owned (``(tenant_id, id)`` key; tenant_id first in every unique key and
foreign key). Table names start with ``sg_``. Votes themselves live in core's ballots service:
an assembly item points at its ballot; nothing here stores a choice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped, utcnow


def _fk(column: str, table: str, ondelete: str | None = None) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", column], [f"{table}.tenant_id", f"{table}.id"], ondelete=ondelete)


class Matter(TenantScoped, Base):
    """A 议题 raised for an estate or a community, moving through its procedure's steps
    (``procedures.py``): ``step`` is the index of the step now due, ``status`` open / returned /
    dropped / done."""

    __tablename__ = "sg_matters"
    __table_args__ = (
        _fk("node_id", "grid_nodes"),
        Index("ix_sg_matters_tenant_path", "tenant_id", "node_path"),
        Index("ix_sg_matters_tenant_status", "tenant_id", "status", "step"),
    )

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    procedure: Mapped[str] = mapped_column(String(32))
    step: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="open")
    source: Mapped[str] = mapped_column(String(32), default="staff")  # staff | resident | event
    source_ref: Mapped[str | None] = mapped_column(String(64))  # e.g. the smart_service event number
    raised_by: Mapped[int | None]
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent, during execution
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MatterRecord(TenantScoped, Base):
    """Who decided what at each step: one row per action on a matter."""

    __tablename__ = "sg_matter_records"
    __table_args__ = (
        _fk("matter_id", "sg_matters", "CASCADE"),
        Index("ix_sg_matter_records_tenant_matter", "tenant_id", "matter_id", "at"),
    )

    matter_id: Mapped[int]
    step: Mapped[int] = mapped_column(Integer)
    step_key: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    by_user_id: Mapped[int | None]
    by_name: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # progress, photo file ids, notice id …
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Meeting(TenantScoped, Base):
    """A 居民会议, 居民代表会议 or 民主议事 meeting: notice, who should attend, who did, minutes."""

    __tablename__ = "sg_meetings"
    __table_args__ = (
        _fk("node_id", "grid_nodes"),
        _fk("matter_id", "sg_matters"),
        Index("ix_sg_meetings_tenant_path", "tenant_id", "node_path", "starts_at"),
    )

    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    basis: Mapped[str] = mapped_column(String(16), default="adults")  # adults | households | list
    place: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime]
    noticed_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled | held | cancelled
    minutes: Mapped[str] = mapped_column(Text, default="")
    matter_id: Mapped[int | None]
    notice_id: Mapped[int | None]
    created_by: Mapped[int | None]


class Attendee(TenantScoped, Base):
    """One person who should attend (应到), from the register; ``present`` once checked in (实到)."""

    __tablename__ = "sg_attendees"
    __table_args__ = (
        UniqueConstraint("tenant_id", "meeting_id", "resident_id"),
        _fk("meeting_id", "sg_meetings", "CASCADE"),
        _fk("resident_id", "residents"),
    )
    __audit__ = False  # the list is written in bulk when the meeting is scheduled

    meeting_id: Mapped[int]
    resident_id: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    household_label: Mapped[str] = mapped_column(String(200), default="")
    present: Mapped[bool] = mapped_column(Boolean, default=False)
    method: Mapped[str | None] = mapped_column(String(16))  # roll | qr
    checked_at: Mapped[datetime | None]


class Motion(TenantScoped, Base):
    """A motion voted at a meeting by those present (show of hands or slips counted by staff)."""

    __tablename__ = "sg_motions"
    __table_args__ = (_fk("meeting_id", "sg_meetings", "CASCADE"),)

    meeting_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    yes: Mapped[int] = mapped_column(Integer, default=0)
    no: Mapped[int] = mapped_column(Integer, default=0)
    abstain: Mapped[int] = mapped_column(Integer, default=0)
    present: Mapped[int] = mapped_column(Integer, default=0)
    expected: Mapped[int] = mapped_column(Integer, default=0)
    valid: Mapped[bool] = mapped_column(Boolean, default=False)
    passed: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(200), default="")
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


class Assembly(TenantScoped, Base):
    """A 业主大会 of one estate by e-vote: noticed, then open for votes in its period."""

    __tablename__ = "sg_assemblies"
    __table_args__ = (
        _fk("node_id", "grid_nodes"),
        Index("ix_sg_assemblies_tenant_path", "tenant_id", "node_path", "opens_at"),
    )

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    extraordinary: Mapped[bool] = mapped_column(Boolean, default=False)
    noticed_at: Mapped[datetime]
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="noticed")  # noticed | open | closed
    open_votes: Mapped[bool] = mapped_column(Boolean, default=False)  # the tenant's rule when created
    notice_id: Mapped[int | None]
    result_notice_id: Mapped[int | None]
    created_by: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssemblyItem(TenantScoped, Base):
    """One item put to the owners, with its 民法典 第278条第一款 category (1–9) and its ballot."""

    __tablename__ = "sg_assembly_items"
    __table_args__ = (
        UniqueConstraint("tenant_id", "assembly_id", "position"),
        _fk("assembly_id", "sg_assemblies", "CASCADE"),
        _fk("ballot_id", "ballots"),
    )

    assembly_id: Mapped[int]
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[int] = mapped_column(Integer)
    ballot_id: Mapped[int | None]


class Petition(TenantScoped, Base):
    """A request to call a meeting (居民会议: 1/5 of residents; 业主大会 临时会议: 20% of owners)."""

    __tablename__ = "sg_petitions"
    __table_args__ = (_fk("node_id", "grid_nodes"),)

    kind: Mapped[str] = mapped_column(String(32))  # residents_meeting | owners_assembly
    title: Mapped[str] = mapped_column(String(200))
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    created_by: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Signature(TenantScoped, Base):
    __tablename__ = "sg_signatures"
    __table_args__ = (
        UniqueConstraint("tenant_id", "petition_id", "user_id"),
        _fk("petition_id", "sg_petitions", "CASCADE"),
        _fk("user_id", "users"),
    )

    petition_id: Mapped[int]
    user_id: Mapped[int]
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Committee(TenantScoped, Base):
    """An estate's 业主委员会 for one term; 备案 due within 30 days of election."""

    __tablename__ = "sg_committees"
    __table_args__ = (
        _fk("node_id", "grid_nodes"),
        Index("ix_sg_committees_tenant_path", "tenant_id", "node_path", "term_end"),
    )

    name: Mapped[str] = mapped_column(String(200))
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    elected_on: Mapped[date] = mapped_column(Date)
    term_start: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date] = mapped_column(Date)
    filed_on: Mapped[date | None] = mapped_column(Date)  # 备案 with the 街道/住建部门
    filed_with: Mapped[str] = mapped_column(String(200), default="")
    current: Mapped[bool] = mapped_column(Boolean, default=True)


class CommitteeMember(TenantScoped, Base):
    __tablename__ = "sg_committee_members"
    __table_args__ = (
        _fk("committee_id", "sg_committees", "CASCADE"),
        _fk("resident_id", "residents"),
    )

    committee_id: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    resident_id: Mapped[int | None]
    post: Mapped[str] = mapped_column(String(16), default="member")  # chair | vice_chair | member
    party_member: Mapped[bool] = mapped_column(Boolean, default=False)
    vetting: Mapped[str] = mapped_column(String(16), default="pending")  # pending | approved | rejected
    vetting_note: Mapped[str] = mapped_column(String(300), default="")
    vetted_by: Mapped[int | None]


class Covenant(TenantScoped, Base):
    """A 居民公约 or 管理规约 version, with the vote or meeting that adopted it."""

    __tablename__ = "sg_covenants"
    __table_args__ = (
        UniqueConstraint("tenant_id", "node_id", "kind", "version"),
        _fk("node_id", "grid_nodes"),
        _fk("ballot_id", "ballots"),
        _fk("meeting_id", "sg_meetings"),
    )

    kind: Mapped[str] = mapped_column(String(16))  # residents | management
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    adopted_on: Mapped[date] = mapped_column(Date)
    ballot_id: Mapped[int | None]
    meeting_id: Mapped[int | None]
    filed_by: Mapped[int | None]
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)


MODELS = (
    Matter,
    MatterRecord,
    Meeting,
    Attendee,
    Motion,
    Assembly,
    AssemblyItem,
    Petition,
    Signature,
    Committee,
    CommitteeMember,
    Covenant,
)
