"""党建领治 tables: 大工委/大党委 and their 联席会议 with decisions, 三项清单 (needs, resources,
projects and their progress), 共建协议 with what each side did, 五事联办 matters, 双报到 units and
members with posts, the 服务记录卡 entries staff type in, quarterly feedback, 评议 results, and
网络楼长.

Every table is tenant-owned (``TenantScoped``: ``(tenant_id, id)`` primary key, tenant_id first in
every unique key and foreign key). Table names start with ``pl_``. Foreign keys between tenant
rows are plain NO ACTION, as in smart_service. Scope: each row that belongs somewhere carries the
``node_path`` of its community (or sub-district), so lists filter with ``core.rbac.scope.in_scope``.

Service hours from activities are not copied here: the 服务记录卡 reads core's activity sign-ups
(``source = "party_leadership"``) beside the entries staff record in ``pl_service_records``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped, utcnow


def _fk(columns: list[str], table: str, remote: list[str] | None = None) -> ForeignKeyConstraint:
    remote = remote or ["id"]
    return ForeignKeyConstraint(["tenant_id", *columns], [f"{table}.tenant_id", *(f"{table}.{c}" for c in remote)])


# ---- 大工委 / 大党委 and 联席会议 ----------------------------------------------------------------


class Committee(TenantScoped, Base):
    """街道大工委 (at a sub-district) or 社区大党委 (at a community)."""

    __tablename__ = "pl_committees"
    __table_args__ = (_fk(["node_id"], "grid_nodes"), Index("ix_pl_committees_path", "tenant_id", "node_path"))

    kind: Mapped[str] = mapped_column(String(24))  # rules.COMMITTEE_KINDS
    name: Mapped[str] = mapped_column(String(200))
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommitteeMember(TenantScoped, Base):
    """A seat: 书记, 副书记 or 兼职委员 (from a 驻区单位), with its term."""

    __tablename__ = "pl_committee_members"
    __table_args__ = (_fk(["committee_id"], "pl_committees"), _fk(["unit_id"], "pl_units"))

    committee_id: Mapped[int]
    name: Mapped[str] = mapped_column(String(50))
    position: Mapped[str] = mapped_column(String(30))  # rules.POSITIONS
    unit_id: Mapped[int | None]
    term_start: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)


class Meeting(TenantScoped, Base):
    """A 联席会议: called with an agenda, then held with attendance and minutes."""

    __tablename__ = "pl_meetings"
    __table_args__ = (
        _fk(["committee_id"], "pl_committees"),
        Index("ix_pl_meetings_path", "tenant_id", "node_path", "starts_at"),
    )

    committee_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    title: Mapped[str] = mapped_column(String(200))
    agenda: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(200), default="")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="called")  # called | held
    expected: Mapped[int] = mapped_column(Integer, default=0)  # 应到
    present: Mapped[int] = mapped_column(Integer, default=0)  # 实到
    attendance: Mapped[list[int]] = mapped_column(JSON, default=list)  # committee member ids present
    minutes: Mapped[str] = mapped_column(Text, default="")
    held_at: Mapped[datetime | None]
    created_by: Mapped[int | None]


class Decision(TenantScoped, Base):
    """A decision of a meeting, tracked to done; a 要事共决 decision carries its vote."""

    __tablename__ = "pl_decisions"
    __table_args__ = (_fk(["meeting_id"], "pl_meetings"), Index("ix_pl_decisions_status", "tenant_id", "status"))

    meeting_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(100), default="")  # who carries it out
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | done
    votes_for: Mapped[int | None] = mapped_column(Integer)
    votes_against: Mapped[int | None] = mapped_column(Integer)
    votes_abstain: Mapped[int | None] = mapped_column(Integer)
    done_at: Mapped[datetime | None]
    done_note: Mapped[str] = mapped_column(Text, default="")


# ---- 双报到: units, members, posts, 服务记录卡, feedback, 评议 ------------------------------------


class Unit(TenantScoped, Base):
    """A 驻区单位 and its party organisation, registered (报到) with a community."""

    __tablename__ = "pl_units"
    __table_args__ = (
        _fk(["node_id"], "grid_nodes"),
        _fk(["organisation_id"], "organisations"),
        _fk(["contact_user_id"], "users"),
        UniqueConstraint("tenant_id", "node_id", "name"),
        Index("ix_pl_units_path", "tenant_id", "node_path"),
    )

    name: Mapped[str] = mapped_column(String(200))
    party_org: Mapped[str] = mapped_column(String(200), default="")  # e.g. 国网双滦供电公司党支部
    organisation_id: Mapped[int | None]  # core's 驻区单位 record, when there is one
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_user_id: Mapped[int | None]  # the employer's contact: sees its own members' results
    reported_on: Mapped[date] = mapped_column(Date)
    receipt_document_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Member(TenantScoped, Base):
    """An 在职党员 who reported in to a community. Sensitive (party membership): party roles only."""

    __tablename__ = "pl_members"
    __table_args__ = (
        _fk(["user_id"], "users"),
        _fk(["resident_id"], "residents"),
        _fk(["unit_id"], "pl_units"),
        _fk(["node_id"], "grid_nodes"),
        UniqueConstraint("tenant_id", "user_id"),
        Index("ix_pl_members_path", "tenant_id", "node_path"),
        Index("ix_pl_members_unit", "tenant_id", "unit_id"),
    )

    name: Mapped[str] = mapped_column(String(50))
    user_id: Mapped[int | None]  # None: registered on paper, no account yet
    resident_id: Mapped[int | None]  # where they live
    unit_id: Mapped[int | None]  # where they work
    branch: Mapped[str] = mapped_column(String(200), default="")  # 所在党支部
    node_id: Mapped[int]  # the community reported to
    node_path: Mapped[str] = mapped_column(String(1000))
    reported_on: Mapped[date] = mapped_column(Date)
    receipt_document_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Post(TenantScoped, Base):
    """A service post (岗位) of a community in one of the tenant's categories."""

    __tablename__ = "pl_posts"
    __table_args__ = (_fk(["node_id"], "grid_nodes"), Index("ix_pl_posts_path", "tenant_id", "node_path"))

    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    category: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int] = mapped_column(Integer, default=5)
    claimed: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PostClaim(TenantScoped, Base):
    __tablename__ = "pl_post_claims"
    __table_args__ = (
        _fk(["post_id"], "pl_posts"),
        _fk(["member_id"], "pl_members"),
        UniqueConstraint("tenant_id", "post_id", "member_id"),
        Index("ix_pl_post_claims_member", "tenant_id", "member_id"),
    )

    post_id: Mapped[int]
    member_id: Mapped[int]
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ServiceRecord(TenantScoped, Base):
    """A 服务记录卡 line typed in by staff (service outside an activity: a paper sheet, a post's duty)."""

    __tablename__ = "pl_service_records"
    __table_args__ = (
        _fk(["member_id"], "pl_members"),
        _fk(["post_id"], "pl_posts"),
        Index("ix_pl_service_records_member", "tenant_id", "member_id", "served_on"),
    )

    member_id: Mapped[int]
    post_id: Mapped[int | None]
    served_on: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(300))
    entered_by: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Feedback(TenantScoped, Base):
    """The quarterly feedback a community sends a member's employer (one per unit and quarter)."""

    __tablename__ = "pl_feedback"
    __table_args__ = (_fk(["unit_id"], "pl_units"), UniqueConstraint("tenant_id", "unit_id", "year", "quarter"))

    unit_id: Mapped[int]
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)  # members, hours, per member
    note: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_by: Mapped[int | None]


class Review(TenantScoped, Base):
    """A year's 评议 of a member or a unit: the figures it was scored on and the result."""

    __tablename__ = "pl_reviews"
    __table_args__ = (
        UniqueConstraint("tenant_id", "year", "subject", "subject_id"),
        Index("ix_pl_reviews_path", "tenant_id", "year", "node_path"),
        Index("ix_pl_reviews_unit", "tenant_id", "year", "unit_id"),
    )

    year: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(8))  # member | unit
    subject_id: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int | None]  # the member's employer (for the employer's export), or the unit
    node_path: Mapped[str] = mapped_column(String(1000))
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    posts: Mapped[int] = mapped_column(Integer, default=0)
    staff_points: Mapped[int] = mapped_column(Integer, default=0)  # the community's own rating
    score: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    grade: Mapped[str] = mapped_column(String(16))  # rules.GRADES
    hours_met: Mapped[bool] = mapped_column(Boolean)
    passed: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(String(300), default="")
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow)


# ---- 三项清单 ------------------------------------------------------------------------------------


class Need(TenantScoped, Base):
    """需求清单: what residents need (typed in, from a resident, or from a smart_service event)."""

    __tablename__ = "pl_needs"
    __table_args__ = (
        _fk(["node_id"], "grid_nodes"),
        UniqueConstraint("tenant_id", "source_ref"),
        Index("ix_pl_needs_path", "tenant_id", "node_path", "status"),
    )

    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="staff")  # staff | resident | event
    source_ref: Mapped[str | None] = mapped_column(String(64))  # e.g. "smart_service.event:123"
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | matched | closed
    created_by: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Resource(TenantScoped, Base):
    """资源清单: what a unit (or a member) offers — a venue, funds, staff, skills."""

    __tablename__ = "pl_resources"
    __table_args__ = (
        _fk(["node_id"], "grid_nodes"),
        _fk(["unit_id"], "pl_units"),
        Index("ix_pl_resources_path", "tenant_id", "node_path"),
    )

    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    unit_id: Mapped[int | None]
    kind: Mapped[str] = mapped_column(String(16))  # rules.RESOURCE_KINDS
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Project(TenantScoped, Base):
    """项目清单: a need matched with a resource, claimed (认领) by a unit or member, done with a summary."""

    __tablename__ = "pl_projects"
    __table_args__ = (
        _fk(["node_id"], "grid_nodes"),
        _fk(["need_id"], "pl_needs"),
        _fk(["resource_id"], "pl_resources"),
        _fk(["unit_id"], "pl_units"),
        _fk(["member_id"], "pl_members"),
        Index("ix_pl_projects_path", "tenant_id", "node_path", "state"),
    )

    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    need_id: Mapped[int | None]
    resource_id: Mapped[int | None]
    state: Mapped[str] = mapped_column(String(16), default="listed")  # rules.ProjectState
    unit_id: Mapped[int | None]  # claimed by a unit …
    member_id: Mapped[int | None]  # … or by a member
    claimed_at: Mapped[datetime | None]
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    summary: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProjectUpdate(TenantScoped, Base):
    """A line of a project's record: claim, progress with an optional photo, completion."""

    __tablename__ = "pl_project_updates"
    __table_args__ = (_fk(["project_id"], "pl_projects"), Index("ix_pl_project_updates", "tenant_id", "project_id"))

    project_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    progress: Mapped[int | None] = mapped_column(Integer)
    photo_file_id: Mapped[int | None]
    by_user_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# ---- 共建协议 ------------------------------------------------------------------------------------


class Agreement(TenantScoped, Base):
    """A 共建协议 between a community and a unit, for a period; reminded once before it expires."""

    __tablename__ = "pl_agreements"
    __table_args__ = (
        _fk(["node_id"], "grid_nodes"),
        _fk(["unit_id"], "pl_units"),
        Index("ix_pl_agreements_path", "tenant_id", "node_path"),
        Index("ix_pl_agreements_end", "tenant_id", "ends_on"),
    )

    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    unit_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    terms: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    signed_file_id: Mapped[int | None]  # the signed PDF
    terminated_on: Mapped[date | None] = mapped_column(Date)
    reminded_for: Mapped[date | None] = mapped_column(Date)  # the end date a reminder went out for
    created_by: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgreementAction(TenantScoped, Base):
    """What one side did under an agreement (履约记录)."""

    __tablename__ = "pl_agreement_actions"
    __table_args__ = (_fk(["agreement_id"], "pl_agreements"),)

    agreement_id: Mapped[int]
    side: Mapped[str] = mapped_column(String(16))  # community | unit
    done_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# ---- 五事联办 ------------------------------------------------------------------------------------


class Matter(TenantScoped, Base):
    """A matter filed under one of the five kinds and routed to the joint process it needs."""

    __tablename__ = "pl_matters"
    __table_args__ = (_fk(["node_id"], "grid_nodes"), Index("ix_pl_matters_path", "tenant_id", "node_path", "status"))

    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    kind: Mapped[str] = mapped_column(String(16))  # rules.MATTER_KINDS
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    route: Mapped[str] = mapped_column(String(16))  # rules.ROUTES
    status: Mapped[str] = mapped_column(String(16), default="routed")  # routed | resolved
    meeting_id: Mapped[int | None]
    project_id: Mapped[int | None]
    resolution: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[datetime | None]
    created_by: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# ---- 网络楼长 ------------------------------------------------------------------------------------


class Captain(TenantScoped, Base):
    """A member who is a building's online captain (网络楼长): one per building."""

    __tablename__ = "pl_captains"
    __table_args__ = (
        _fk(["node_id"], "grid_nodes"),
        _fk(["member_id"], "pl_members"),
        UniqueConstraint("tenant_id", "node_id"),
        Index("ix_pl_captains_path", "tenant_id", "node_path"),
        Index("ix_pl_captains_member", "tenant_id", "member_id"),
    )

    node_id: Mapped[int]  # the building
    node_path: Mapped[str] = mapped_column(String(1000))
    member_id: Mapped[int]
    group_link: Mapped[str] = mapped_column(String(300), default="")  # the building's group (WeChat …)
    contact: Mapped[str] = mapped_column(String(100), default="")  # shown to the building's residents
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)


MODELS = (
    Committee,
    CommitteeMember,
    Meeting,
    Decision,
    Unit,
    Member,
    Post,
    PostClaim,
    ServiceRecord,
    Feedback,
    Review,
    Need,
    Resource,
    Project,
    ProjectUpdate,
    Agreement,
    AgreementAction,
    Matter,
    Captain,
)
