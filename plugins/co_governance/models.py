"""社会共治 tables: volunteers and teams, service records (hours per activity), the 雷锋超市's
catalogue and redemptions, 家政/purchased-service providers with offers, bookings and contracts,
training courses with enrolments and outcomes, 红色物业 companies and their quarterly reviews.

Every table is tenant-owned (``(tenant_id, id)`` key, tenant_id first in every unique key and
foreign key). Names start with ``cg_``. Activities, points and certificates are not tables here:
they live in core's shared services (activities, ledger, documents); rows here point at them.

Scope: rows carry the ``node_path`` of the grid node they belong to, so lists filter with
``core.rbac.scope.in_scope`` in SQL.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
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


def _fk(column: str, table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", column], [f"{table}.tenant_id", f"{table}.id"])


class Volunteer(TenantScoped, Base):
    """A registered volunteer (志愿服务条例 第十二条: name, contact, skills, availability). The
    ``number`` follows the tenant's format and is never the 身份证号."""

    __tablename__ = "cg_volunteers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        UniqueConstraint("tenant_id", "user_id"),
        _fk("user_id", "users"),
        _fk("node_id", "grid_nodes"),
        Index("ix_cg_volunteers_tenant_path", "tenant_id", "node_path"),
        Index("ix_cg_volunteers_tenant_minutes", "tenant_id", "minutes_total"),
        CheckConstraint("minutes_total >= 0", name="minutes_not_negative"),
    )

    number: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None]
    name: Mapped[str] = mapped_column(String(50))
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_masked: Mapped[str] = mapped_column(String(16), default="")
    skills: Mapped[str] = mapped_column(String(300), default="")
    availability: Mapped[str] = mapped_column(String(200), default="")
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | suspended
    minutes_total: Mapped[int] = mapped_column(Integer, default=0)  # sum of its service records
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)


class Team(TenantScoped, Base):
    """A volunteer team (志愿服务队) of a community or the district."""

    __tablename__ = "cg_teams"
    __table_args__ = (
        UniqueConstraint("tenant_id", "node_id", "name"),
        _fk("node_id", "grid_nodes"),
        Index("ix_cg_teams_tenant_path", "tenant_id", "node_path"),
    )

    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TeamMember(TenantScoped, Base):
    __tablename__ = "cg_team_members"
    __table_args__ = (
        UniqueConstraint("tenant_id", "team_id", "volunteer_id"),
        _fk("team_id", "cg_teams"),
        _fk("volunteer_id", "cg_volunteers"),
        Index("ix_cg_team_members_tenant_volunteer", "tenant_id", "volunteer_id"),
    )

    team_id: Mapped[int]
    volunteer_id: Mapped[int]
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActivityInfo(TenantScoped, Base):
    """Who organises a volunteer activity (谁组织谁记录): the team and the organising unit."""

    __tablename__ = "cg_activity_info"
    __table_args__ = (
        UniqueConstraint("tenant_id", "activity_id"),
        _fk("activity_id", "activities"),
        _fk("team_id", "cg_teams"),
    )

    activity_id: Mapped[int]
    team_id: Mapped[int | None]
    organiser: Mapped[str] = mapped_column(String(100), default="")


class ServiceRecord(TenantScoped, Base):
    """One volunteer's hours at one activity, with who organised and who recorded them, and the
    points posting they earned — the 志愿服务记录 kept for inspection."""

    __tablename__ = "cg_service_records"
    __table_args__ = (
        UniqueConstraint("tenant_id", "volunteer_id", "activity_id"),
        _fk("volunteer_id", "cg_volunteers"),
        _fk("activity_id", "activities"),
        _fk("posting_id", "ledger_postings"),
        Index("ix_cg_service_records_tenant_served", "tenant_id", "served_on"),
    )

    volunteer_id: Mapped[int]
    activity_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(50), default="")
    served_on: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    organiser: Mapped[str] = mapped_column(String(100), default="")
    recorded_by: Mapped[int | None]
    recorder_name: Mapped[str] = mapped_column(String(100), default="")
    points: Mapped[int] = mapped_column(Integer, default=0)  # hundredths, as the ledger
    posting_id: Mapped[int | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StoreItem(TenantScoped, Base):
    """An item in a 雷锋超市 (one per community's 邻里服务驿站), with its stock and price in points."""

    __tablename__ = "cg_store_items"
    __table_args__ = (
        _fk("node_id", "grid_nodes"),
        Index("ix_cg_store_items_tenant_path", "tenant_id", "node_path"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price > 0", name="price_positive"),
    )

    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    price: Mapped[int] = mapped_column(Integer)  # whole points
    stock: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Redemption(TenantScoped, Base):
    """A volunteer's points spent on an item: reserved (stock and points taken), then handed over
    with a record, or cancelled (both given back by a reversal)."""

    __tablename__ = "cg_redemptions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        UniqueConstraint("tenant_id", "request_key"),
        _fk("item_id", "cg_store_items"),
        _fk("volunteer_id", "cg_volunteers"),
        _fk("posting_id", "ledger_postings"),
        Index("ix_cg_redemptions_tenant_volunteer", "tenant_id", "volunteer_id"),
        Index("ix_cg_redemptions_tenant_path_state", "tenant_id", "node_path", "state"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    number: Mapped[str] = mapped_column(String(32))
    request_key: Mapped[str] = mapped_column(String(100))
    item_id: Mapped[int]
    item_name: Mapped[str] = mapped_column(String(100))
    volunteer_id: Mapped[int]
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    points: Mapped[int] = mapped_column(Integer)  # whole points
    node_path: Mapped[str] = mapped_column(String(1000))
    state: Mapped[str] = mapped_column(String(16), default="reserved")  # reserved | handed_over | cancelled
    posting_id: Mapped[int | None]
    reserved_at: Mapped[datetime] = mapped_column(default=utcnow)
    handed_over_at: Mapped[datetime | None]
    handed_over_by: Mapped[int | None]
    cancelled_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(String(300), default="")


class Provider(TenantScoped, Base):
    """A 家政 company or a social organisation the government buys services from."""

    __tablename__ = "cg_providers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "credit_code"),
        _fk("node_id", "grid_nodes"),
        Index("ix_cg_providers_tenant_path", "tenant_id", "node_path"),
    )

    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # company | social_org
    credit_code: Mapped[str] = mapped_column(String(18))  # 统一社会信用代码
    licence: Mapped[str] = mapped_column(String(300), default="")  # 资质: certificates held
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")  # a business line, not personal data
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Offer(TenantScoped, Base):
    __tablename__ = "cg_offers"
    __table_args__ = (_fk("provider_id", "cg_providers"), CheckConstraint("price_cents >= 0", name="price_ok"))

    provider_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(20))  # 保洁 / 月嫂 / 育儿 / 助老 / 维修 …
    price_cents: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(20), default="次")
    description: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Booking(TenantScoped, Base):
    """A resident's booking of an offer: requested → confirmed → done (then rated) or cancelled."""

    __tablename__ = "cg_bookings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        _fk("offer_id", "cg_offers"),
        _fk("provider_id", "cg_providers"),
        _fk("user_id", "users"),
        _fk("node_id", "grid_nodes"),
        Index("ix_cg_bookings_tenant_path_state", "tenant_id", "node_path", "state"),
        Index("ix_cg_bookings_tenant_user", "tenant_id", "user_id"),
        CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="rating_range"),
    )

    number: Mapped[str] = mapped_column(String(32))
    offer_id: Mapped[int]
    provider_id: Mapped[int]
    user_id: Mapped[int]
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    wanted_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")
    price_cents: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="requested")
    rating: Mapped[int | None]
    rating_comment: Mapped[str] = mapped_column(String(500), default="")
    rated_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Contract(TenantScoped, Base):
    """A purchased-service contract (政府购买服务) with its deliverables and whether each is met."""

    __tablename__ = "cg_contracts"
    __table_args__ = (
        _fk("provider_id", "cg_providers"),
        Index("ix_cg_contracts_tenant_path", "tenant_id", "node_path"),
    )

    provider_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    node_path: Mapped[str] = mapped_column(String(1000))
    amount_cents: Mapped[int] = mapped_column(Integer, default=0)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    deliverables: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Course(TenantScoped, Base):
    """A training course (面点、快餐、月嫂、保育 …) run by a provider at a node."""

    __tablename__ = "cg_courses"
    __table_args__ = (_fk("node_id", "grid_nodes"), Index("ix_cg_courses_tenant_path", "tenant_id", "node_path"))

    title: Mapped[str] = mapped_column(String(100))
    trade: Mapped[str] = mapped_column(String(20))
    provider_name: Mapped[str] = mapped_column(String(100))
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    sessions: Mapped[int] = mapped_column(Integer, default=10)
    required_sessions: Mapped[int] = mapped_column(Integer, default=8)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Enrolment(TenantScoped, Base):
    """A trainee on a course: attendance, completion, and the employment outcome followed up."""

    __tablename__ = "cg_enrolments"
    __table_args__ = (
        _fk("course_id", "cg_courses"),
        Index("ix_cg_enrolments_tenant_course", "tenant_id", "course_id", "state"),
    )

    course_id: Mapped[int]
    name: Mapped[str] = mapped_column(String(50))
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_masked: Mapped[str] = mapped_column(String(16), default="")
    attended: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="enrolled")  # enrolled | completed | dropped
    completed_on: Mapped[date | None] = mapped_column(Date)
    employed: Mapped[bool] = mapped_column(Boolean, default=False)
    employer: Mapped[str] = mapped_column(String(100), default="")
    employed_on: Mapped[date | None] = mapped_column(Date)
    followed_up_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PropertyCompany(TenantScoped, Base):
    """A property-service company at an estate and how the party reaches it (红色物业): its own or a
    joint/affiliated party organisation, or an assigned 党建指导员."""

    __tablename__ = "cg_property_companies"
    __table_args__ = (
        UniqueConstraint("tenant_id", "node_id", "name"),
        _fk("node_id", "grid_nodes"),
        Index("ix_cg_property_companies_tenant_path", "tenant_id", "node_path"),
    )

    name: Mapped[str] = mapped_column(String(100))
    credit_code: Mapped[str] = mapped_column(String(18), default="")
    node_id: Mapped[int]  # the estate (小区)
    node_path: Mapped[str] = mapped_column(String(1000))
    party_mode: Mapped[str] = mapped_column(String(16), default="none")
    party_org: Mapped[str] = mapped_column(String(100), default="")
    instructor: Mapped[str] = mapped_column(String(50), default="")  # 党建指导员
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PropertyReview(TenantScoped, Base):
    """A resident's review of a company's service in one quarter (one per resident and quarter)."""

    __tablename__ = "cg_property_reviews"
    __table_args__ = (
        UniqueConstraint("tenant_id", "company_id", "quarter", "user_id"),
        _fk("company_id", "cg_property_companies"),
        _fk("user_id", "users"),
        CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
    )

    company_id: Mapped[int]
    quarter: Mapped[str] = mapped_column(String(7))  # 2026Q4
    user_id: Mapped[int]
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Counter(TenantScoped, Base):
    """Per-tenant sequences (volunteer numbers per year, redemption and booking numbers)."""

    __tablename__ = "cg_counters"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)
    __audit__ = False

    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[int] = mapped_column(Integer, default=0)


MODELS = (
    Volunteer,
    Team,
    TeamMember,
    ActivityInfo,
    ServiceRecord,
    StoreItem,
    Redemption,
    Provider,
    Offer,
    Booking,
    Contract,
    Course,
    Enrolment,
    PropertyCompany,
    PropertyReview,
    Counter,
)
