"""Tenant rows (platform-owned) and per-tenant plugin enablement (tenant-owned)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped, new_id, utcnow

ACTIVE = "active"
SUSPENDED = "suspended"


class Tenant(Base):
    """A district. Platform-owned: not tenant-scoped, so no RLS on it."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(16), default="zh_Hans")
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    terminology: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    branding: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Bumped on every role/permission change; each process reloads its policy when it moves.
    policy_version: Mapped[int] = mapped_column(Integer, default=0)
    # 等保 2.0 level 3: district admins sign in with a second factor when the district asks for it.
    require_second_factor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Per-tenant limits set by an operator (core/ops/limits.py); a missing key means the default.
    limits: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # The switched-on plugins as ",a,b," for cross-district readers (core/tenancy/plugins_on.py).
    plugins_on: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def name(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") and self.name_en else self.name_zh

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


class TenantDomain(Base):
    """Custom host names that map to a tenant."""

    __tablename__ = "tenant_domains"

    host: Mapped[str] = mapped_column(String(253), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)


class TenantPlugin(TenantScoped, Base):
    """A plugin's switch and validated settings for one tenant."""

    __tablename__ = "tenant_plugins"

    plugin: Mapped[str] = mapped_column(String(63))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", "plugin"),)
