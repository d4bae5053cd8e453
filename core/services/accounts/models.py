"""Resident accounts: a user who signed up with a phone, their link to a resident record, one-time
codes, and identities from outside providers (mini-program, provincial unified identity)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped, utcnow
from core.services._schema import tenant_fk

LINK_PENDING, LINK_CONFIRMED, LINK_REJECTED, LINK_CANCELLED = "pending", "confirmed", "rejected", "cancelled"


class ResidentAccount(TenantScoped, Base):
    """The resident side of a ``User``: the verified phone and, once confirmed, the resident record."""

    __tablename__ = "resident_accounts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id"),
        UniqueConstraint("tenant_id", "phone_hash"),
        tenant_fk("user_id", "users", ondelete="CASCADE"),
        tenant_fk("resident_id", "residents"),
        Index("ix_resident_accounts_tenant_resident", "tenant_id", "resident_id"),
    )

    user_id: Mapped[int]
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary, info={"sensitive": True})
    phone_hash: Mapped[str] = mapped_column(String(64), info={"sensitive": True})
    phone_masked: Mapped[str] = mapped_column(String(16))
    resident_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    linked_at: Mapped[datetime | None]


class AccountLink(TenantScoped, Base):
    """A request to link an account to a resident record (and so a household): confirmed at once
    when name + 身份证号 match a record, otherwise by a community worker in scope."""

    __tablename__ = "account_links"
    __table_args__ = (
        tenant_fk("account_id", "resident_accounts", ondelete="CASCADE"),
        tenant_fk("resident_id", "residents"),
        tenant_fk("household_node_id", "grid_nodes"),
        Index("ix_account_links_tenant_status_path", "tenant_id", "status", "node_path"),
        Index("ix_account_links_tenant_account", "tenant_id", "account_id"),
    )

    account_id: Mapped[int]
    claimed_name: Mapped[str] = mapped_column(String(50))
    claimed_id_hash: Mapped[str | None] = mapped_column(String(64), info={"sensitive": True})
    claimed_id_masked: Mapped[str | None] = mapped_column(String(18))
    resident_id: Mapped[int | None]
    household_node_id: Mapped[int | None]
    node_path: Mapped[str | None] = mapped_column(String(1000))  # where a worker in scope sees it
    note: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), default=LINK_PENDING)
    method: Mapped[str | None] = mapped_column(String(16))  # "id_match" | "worker"
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None]
    reason: Mapped[str] = mapped_column(String(300), default="")


class OneTimeCode(TenantScoped, Base):
    """A code sent to a phone: only its keyed hash is kept; it expires and allows a few attempts."""

    __tablename__ = "one_time_codes"
    __audit__ = False  # codes are not user data; the sign-up itself is audited
    __table_args__ = (Index("ix_one_time_codes_tenant_phone", "tenant_id", "phone_hash", "purpose", "created_at"),)

    phone_hash: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None]


class ExternalIdentity(TenantScoped, Base):
    """A user's identity at an outside provider (``provider`` = the hook's provider name)."""

    __tablename__ = "external_identities"
    __table_args__ = (
        UniqueConstraint("tenant_id", "provider", "subject"),
        tenant_fk("user_id", "users", ondelete="CASCADE"),
        Index("ix_external_identities_tenant_user", "tenant_id", "user_id"),
    )

    provider: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
