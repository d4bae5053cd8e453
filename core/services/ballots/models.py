"""Ballots: the question or candidates, the electorate frozen when the ballot opens (electors with
their weights, and the users who may cast each elector's ballot), one cast per elector (a
unique key: one ballot per voter or per owner, enforced by the database) and the choices.

A secret ballot's choices carry no cast id, a random id (ours are time-ordered) and no time, and
they are not in the audit log: nothing a staff member can read links a voter to a choice. When a
secret ballot allows changing a vote, the choice carries a seal — an HMAC of ballot and elector
under the deployment's key — so the voter's own later vote can find and replace it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped, utcnow
from core.services._schema import tenant_fk

WEIGHT = BigInteger  # hundredths (0.01 m² for area): exact sums and comparisons on both databases
DRAFT, OPEN, CLOSED = "draft", "open", "closed"
QUESTION, ELECTION = "question", "election"
YES, NO, ABSTAIN = "yes", "no", "abstain"


class Ballot(TenantScoped, Base):
    __tablename__ = "ballots"
    __table_args__ = (
        tenant_fk("node_id", "grid_nodes"),
        Index("ix_ballots_tenant_path", "tenant_id", "node_path"),
        Index("ix_ballots_tenant_status", "tenant_id", "status", "closes_at"),
    )

    source: Mapped[str] = mapped_column(String(64), default="")
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    kind: Mapped[str] = mapped_column(String(16), default=QUESTION)
    rule: Mapped[str] = mapped_column(String(64))
    rule_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    max_choices: Mapped[int] = mapped_column(Integer, default=1)
    secret: Mapped[bool] = mapped_column(Boolean, default=False)
    changeable: Mapped[bool] = mapped_column(Boolean, default=False)
    open_electorate: Mapped[bool] = mapped_column(Boolean, default=False)  # electors join on first cast
    eligibility: Mapped[str] = mapped_column(String(100), default="everyone")
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result_digest: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None]
    created_by: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BallotOption(TenantScoped, Base):
    __tablename__ = "ballot_options"
    __table_args__ = (
        UniqueConstraint("tenant_id", "ballot_id", "position"),
        tenant_fk("ballot_id", "ballots", ondelete="CASCADE"),
    )

    ballot_id: Mapped[int]
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(300))
    meaning: Mapped[str] = mapped_column(String(16), default="")  # yes | no | abstain | "" (a candidate)
    subject_type: Mapped[str | None] = mapped_column(String(120))  # what a candidate is, for its plugin
    subject_id: Mapped[str | None] = mapped_column(String(64))


class BallotElector(TenantScoped, Base):
    """One who holds a ballot: a user, or an owner (several units, area summed; co-owners of a
    unit together; the developer's unsold units together). ``weight`` is the area for the
    owners' rule, 1 otherwise, in hundredths; ``heads`` is the headcount (1)."""

    __tablename__ = "ballot_electors"
    __table_args__ = (
        UniqueConstraint("tenant_id", "ballot_id", "key"),
        tenant_fk("ballot_id", "ballots", ondelete="CASCADE"),
    )

    ballot_id: Mapped[int]
    key: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(300), default="")
    weight: Mapped[int] = mapped_column(WEIGHT, default=100)
    heads: Mapped[int] = mapped_column(Integer, default=1)


class BallotElectorMember(TenantScoped, Base):
    """A user who may cast an elector's ballot (the owner, a co-owner, the person themself)."""

    __tablename__ = "ballot_elector_members"
    __audit__ = False  # part of the electorate snapshot, written in bulk when the ballot opens
    __table_args__ = (
        UniqueConstraint("tenant_id", "ballot_id", "user_id", "elector_id"),
        tenant_fk("elector_id", "ballot_electors", ondelete="CASCADE"),
        tenant_fk("user_id", "users"),
    )

    ballot_id: Mapped[int]
    elector_id: Mapped[int]
    user_id: Mapped[int]


class BallotCast(TenantScoped, Base):
    """That an elector voted, how and when (participation is public knowledge; the choice may not be)."""

    __tablename__ = "ballot_casts"
    __audit__ = False  # recorded explicitly, without the choice when the ballot is secret
    __table_args__ = (
        UniqueConstraint("tenant_id", "ballot_id", "elector_id"),  # one ballot per elector
        tenant_fk("ballot_id", "ballots", ondelete="CASCADE"),
        tenant_fk("elector_id", "ballot_electors"),
        tenant_fk("proxy_document_id", "stored_files"),
    )

    ballot_id: Mapped[int]
    elector_id: Mapped[int]
    channel: Mapped[str] = mapped_column(String(16))  # online | paper | proxy
    cast_by: Mapped[int | None]  # the voter online; the staff member who entered a paper or proxy vote
    proxy_name: Mapped[str | None] = mapped_column(String(100))
    proxy_document_id: Mapped[int | None]
    weight: Mapped[int] = mapped_column(WEIGHT)
    heads: Mapped[int] = mapped_column(Integer)
    cast_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[datetime | None]


class BallotChoice(TenantScoped, Base):
    """One chosen option. The service gives it a random id (``_schema.random_id``): ours are time-ordered."""

    __tablename__ = "ballot_choices"
    __audit__ = False  # an audit entry would carry who and when: the link a secret ballot must not keep
    __table_args__ = (
        tenant_fk("ballot_id", "ballots", ondelete="CASCADE"),
        tenant_fk("option_id", "ballot_options"),
        tenant_fk("cast_id", "ballot_casts", ondelete="CASCADE"),
        Index("ix_ballot_choices_tenant_ballot", "tenant_id", "ballot_id", "option_id"),
        Index("ix_ballot_choices_tenant_cast", "tenant_id", "cast_id"),
        Index("ix_ballot_choices_tenant_seal", "tenant_id", "seal"),
    )

    ballot_id: Mapped[int]
    option_id: Mapped[int]
    cast_id: Mapped[int | None]  # None on a secret ballot
    seal: Mapped[str | None] = mapped_column(String(64))  # secret and changeable ballots only
    weight: Mapped[int] = mapped_column(WEIGHT)
    heads: Mapped[int] = mapped_column(Integer)
