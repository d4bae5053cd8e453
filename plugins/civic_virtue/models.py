"""文化德治 tables: 评选 campaigns with their categories, nominations, the panel's scores; the
community activities this pillar publishes (邻里节, 共建) with their headcounts and co-building
units; themed places (主题楼道, 主题公园).

Everything else lives in core's shared services and is referred to by id: the public vote is one
ballot per category (``core.services.ballots``), the 公示 of the shortlist and of the winners are
notices (``core.services.notices``), the nominee's agreement to publication is a consent record
(``core.services.consent``), certificates are documents (``core.services.documents``), and an
activity's sign-up and attendance are ``core.services.activities``.

Every table is tenant-owned (``(tenant_id, id)`` key, tenant_id first in every unique key and
foreign key); names start with ``cv_``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
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


def _fk(column: str, table: str, ondelete: str | None = None) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", column], [f"{table}.tenant_id", f"{table}.id"], ondelete=ondelete)


# Campaign status: what people decided (the stage inside a running campaign follows from its dates).
DRAFT, RUNNING, AWARDED, CANCELLED = "draft", "running", "awarded", "cancelled"
# Nomination status.
SUBMITTED, SHORTLISTED, NOT_SHORTLISTED, WINNER, DECLINED = (
    "submitted",
    "shortlisted",
    "not_shortlisted",
    "winner",
    "declined",
)
# Who nominated: a resident (someone else), the nominee themself, a unit (单位推荐), staff (组织推荐).
NOMINATOR_KINDS = ("resident", "self", "unit", "staff")


class Campaign(TenantScoped, Base):
    """A 评选: its categories, who may be nominated, the periods of its stages, how many awards."""

    __tablename__ = "cv_campaigns"
    __table_args__ = (
        _fk("node_id", "grid_nodes"),
        _fk("shortlist_notice_id", "notices"),
        _fk("winners_notice_id", "notices"),
        Index("ix_cv_campaigns_tenant_path", "tenant_id", "node_path"),
        CheckConstraint(
            "nomination_opens_at < nomination_closes_at AND nomination_closes_at <= review_closes_at"
            " AND review_closes_at < publicity_closes_at AND publicity_closes_at < vote_closes_at",
            name="periods_in_order",
        ),
    )

    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="custom")  # a key of campaigns.KINDS
    description: Mapped[str] = mapped_column(Text, default="")
    node_id: Mapped[int]  # the organiser's level: the district, a 街道 or a community
    node_path: Mapped[str] = mapped_column(String(1000))
    nominee_rule: Mapped[str] = mapped_column(String(100), default="everyone")  # core eligibility rule
    voter_rule: Mapped[str] = mapped_column(String(100), default="residents")
    self_nomination: Mapped[bool] = mapped_column(Boolean, default=False)
    awards_per_category: Mapped[int] = mapped_column(Integer, default=1)
    votes_per_category: Mapped[int] = mapped_column(Integer, default=1)
    nomination_opens_at: Mapped[datetime]
    nomination_closes_at: Mapped[datetime]
    review_closes_at: Mapped[datetime]
    publicity_closes_at: Mapped[datetime]  # the shortlist's 公示 runs from review_closes_at
    vote_closes_at: Mapped[datetime]  # the public vote runs from publicity_closes_at
    status: Mapped[str] = mapped_column(String(16), default=RUNNING)
    shortlist_notice_id: Mapped[int | None]
    winners_notice_id: Mapped[int | None]
    awarded_at: Mapped[datetime | None]
    created_by: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignCategory(TenantScoped, Base):
    """A category of a campaign (助人为乐 …); its public vote is one ballot."""

    __tablename__ = "cv_categories"
    __table_args__ = (
        UniqueConstraint("tenant_id", "campaign_id", "name"),
        _fk("campaign_id", "cv_campaigns", ondelete="CASCADE"),
        _fk("ballot_id", "ballots"),
    )

    campaign_id: Mapped[int]
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(50))
    ballot_id: Mapped[int | None]


class Nomination(TenantScoped, Base):
    """Someone put forward in a category, with the story and evidence. Nothing here is shown
    beyond staff unless the nominee's consent (``consent_subject``) is current."""

    __tablename__ = "cv_nominations"
    __table_args__ = (
        _fk("campaign_id", "cv_campaigns", ondelete="CASCADE"),
        _fk("category_id", "cv_categories"),
        _fk("nominee_user_id", "users"),
        _fk("nominee_resident_id", "residents"),
        _fk("nominated_by", "users"),
        _fk("node_id", "grid_nodes"),
        _fk("certificate_id", "documents"),
        Index("ix_cv_nominations_tenant_campaign", "tenant_id", "campaign_id", "status"),
        Index("ix_cv_nominations_tenant_nominee", "tenant_id", "nominee_user_id"),
        Index("ix_cv_nominations_tenant_path", "tenant_id", "node_path"),
    )

    campaign_id: Mapped[int]
    category_id: Mapped[int]
    number: Mapped[int] = mapped_column(Integer, default=0)  # 候选人编号 once shortlisted
    nominee_name: Mapped[str] = mapped_column(String(50))
    nominee_user_id: Mapped[int | None]  # the account that can consent online, when one was found
    nominee_resident_id: Mapped[int | None]  # the register record, when staff nominated from it
    nominee_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sensitive": True})
    nominee_phone_masked: Mapped[str | None] = mapped_column(String(16))
    node_id: Mapped[int]  # where the nominee lives or works: staff scope follows it
    node_path: Mapped[str] = mapped_column(String(1000))
    headline: Mapped[str] = mapped_column(String(100))  # 一句话事迹
    story: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    nominator_kind: Mapped[str] = mapped_column(String(16))
    nominator_unit: Mapped[str] = mapped_column(String(100), default="")
    nominated_by: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(20), default=SUBMITTED)
    review_note: Mapped[str] = mapped_column(Text, default="")
    votes: Mapped[int | None] = mapped_column(Integer)  # stored from the closed ballot
    certificate_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def consent_subject(self) -> tuple[str, int] | None:
        """Whose consent publication needs: the nominee's account (they consent themself online),
        else their register record (staff record a consent given in person). None: nobody can
        consent yet, so nothing about this nominee can be published."""
        if self.nominee_user_id:
            return ("user", self.nominee_user_id)
        if self.nominee_resident_id:
            return ("resident", self.nominee_resident_id)
        return None


class ReviewScore(TenantScoped, Base):
    """One panel member's score of a nomination (one per member, changeable until the shortlist is out)."""

    __tablename__ = "cv_scores"
    __table_args__ = (
        UniqueConstraint("tenant_id", "nomination_id", "reviewer_id"),
        _fk("nomination_id", "cv_nominations", ondelete="CASCADE"),
        _fk("reviewer_id", "users"),
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
    )

    nomination_id: Mapped[int]
    reviewer_id: Mapped[int]
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    scored_at: Mapped[datetime] = mapped_column(default=utcnow)


# Kinds of community activity this pillar publishes through core.services.activities.
FESTIVAL, CO_BUILDING, CULTURE = "festival", "co_building", "culture"
ACTIVITY_KINDS = (FESTIVAL, CO_BUILDING, CULTURE)


class CommunityEvent(TenantScoped, Base):
    """What a 邻里节 or co-building activity adds to its core activity: the headcount (most people
    at a 邻里节 walk in without signing up), the co-building units that took part, a summary."""

    __tablename__ = "cv_events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "activity_id"),
        _fk("activity_id", "activities", ondelete="CASCADE"),
        Index("ix_cv_events_tenant_path", "tenant_id", "node_path", "starts_at"),
        CheckConstraint("headcount >= 0", name="headcount_positive"),
    )

    activity_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16), default=FESTIVAL)
    node_path: Mapped[str] = mapped_column(String(1000))  # copied from the activity for counts by area
    starts_at: Mapped[datetime]
    headcount: Mapped[int] = mapped_column(Integer, default=0)
    units: Mapped[list[str]] = mapped_column(JSON, default=list)  # 共建单位
    summary: Mapped[str] = mapped_column(Text, default="")


STAIRWELL, PARK = "stairwell", "park"
PLACE_KINDS = (STAIRWELL, PARK)


class ThemedPlace(TenantScoped, Base):
    """A 睦邻文化主题楼道 or 主题公园, placed at a node of the tree and a point on the map."""

    __tablename__ = "cv_places"
    __table_args__ = (
        UniqueConstraint("tenant_id", "node_id", "name"),
        _fk("node_id", "grid_nodes"),
        Index("ix_cv_places_tenant_path", "tenant_id", "node_path"),
    )

    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    theme: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    opened_on: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def point(self) -> tuple[float, float] | None:
        return (self.lon, self.lat) if self.lon is not None and self.lat is not None else None


MODELS: tuple[Any, ...] = (Campaign, CampaignCategory, Nomination, ReviewScore, CommunityEvent, ThemedPlace)
