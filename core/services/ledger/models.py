"""The points ledger: accounts, postings (one business event each, idempotent) and their entries.

Entries are never changed: a trigger refuses UPDATE on both databases and the app role has no
DELETE on PostgreSQL. A CHECK keeps accounts that may not go negative at or above zero, so even
a path around the service cannot overdraw one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped, utcnow
from core.services._schema import tenant_fk

# Amounts are whole hundredths of a point (integers): exact on both databases, where SQLite
# would compare NUMERIC as floating point. The service speaks Decimal.
AMOUNT = BigInteger


class LedgerAccount(TenantScoped, Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "key"),
        tenant_fk("owner_user_id", "users"),
        Index("ix_ledger_accounts_tenant_owner", "tenant_id", "owner_user_id"),
        CheckConstraint("allow_negative OR balance >= 0", name="not_overdrawn"),
    )

    key: Mapped[str] = mapped_column(String(200))  # "<owner>:<purpose>", chosen by the caller
    label: Mapped[str] = mapped_column(String(200), default="")
    owner_user_id: Mapped[int | None]
    allow_negative: Mapped[bool] = mapped_column(Boolean, default=False)
    balance: Mapped[int] = mapped_column(AMOUNT, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerPosting(TenantScoped, Base):
    __tablename__ = "ledger_postings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        UniqueConstraint("tenant_id", "reverses_id"),  # a posting is reversed at most once
        tenant_fk("reverses_id", "ledger_postings"),
        Index("ix_ledger_postings_tenant_created", "tenant_id", "created_at"),
    )

    idempotency_key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))  # what was asked: the same key must mean the same posting
    kind: Mapped[str] = mapped_column(String(64), default="")
    memo: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(64), default="")
    reverses_id: Mapped[int | None]
    created_by: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerEntry(TenantScoped, Base):
    __tablename__ = "ledger_entries"
    __audit__ = False  # the posting is audited; entries are its lines
    __table_args__ = (
        tenant_fk("posting_id", "ledger_postings"),
        tenant_fk("account_id", "ledger_accounts"),
        Index("ix_ledger_entries_tenant_account", "tenant_id", "account_id", "id"),
        Index("ix_ledger_entries_tenant_posting", "tenant_id", "posting_id"),
        CheckConstraint("amount <> 0", name="not_zero"),
    )

    posting_id: Mapped[int]
    account_id: Mapped[int]
    amount: Mapped[int] = mapped_column(AMOUNT)
    balance_after: Mapped[int] = mapped_column(AMOUNT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PointsRule(TenantScoped, Base):
    """A district's rule for staff postings (积分规则): what a posting is for, whether it adds or
    deducts, and the most one posting may move. Local practice, so data, never a constant."""

    __tablename__ = "points_rules"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint("max_amount > 0", name="positive_max"),
        CheckConstraint("direction IN ('earn', 'deduct')", name="direction_known"),
    )

    code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    direction: Mapped[str] = mapped_column(String(8), default="earn")
    max_amount: Mapped[int] = mapped_column(AMOUNT)  # hundredths, like every amount
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
