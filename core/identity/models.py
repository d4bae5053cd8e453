"""Users (tenant-owned), operators (platform), API tokens (tenant-owned), key/value store rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped, new_id, utcnow


class SecondFactor:
    """Session epoch and TOTP second factor, on tenant users and platform operators alike.

    ``session_epoch`` is copied into each session at sign-in; bumping it (password change or reset,
    deactivation, role revocation) ends every session that carries an older one, in whichever
    store (database or Redis) the session lives."""

    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sensitive": True})
    totp_enabled_at: Mapped[datetime | None]
    # The last time step accepted: a code is good once (no replay within its 30 s window).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # SHA-256 digests of the unused recovery codes, space-separated (text, not JSON: PostgreSQL
    # has no equality on json, and some queries select users DISTINCT).
    totp_recovery: Mapped[str] = mapped_column(Text, default="", server_default="", info={"sensitive": True})


class User(SecondFactor, TenantScoped, Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "username"),)

    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200), info={"sensitive": True})
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class Operator(SecondFactor, Base):
    """A platform operator: belongs to no tenant, reaches only /platform."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(TenantScoped, Base):
    """A machine client's bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "token_hash"),
    )

    user_id: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), info={"sensitive": True})
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class KeyValue(Base):
    """Server-side sessions and throttling counters when no Redis is configured."""

    __tablename__ = "kv_store"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime | None] = mapped_column(index=True)


class LoginThrottle(Base):
    """Failed sign-ins per key (account at an address, address, account), counted by one atomic
    upsert when no Redis is configured. Times are epoch seconds."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
