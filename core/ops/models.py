"""Per-tenant usage by day: requests counted in each process, added here every few seconds."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped


class UsageDay(TenantScoped, Base):
    __tablename__ = "usage_days"
    __table_args__ = (UniqueConstraint("tenant_id", "day"),)

    day: Mapped[date] = mapped_column(Date)
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    api_requests: Mapped[int] = mapped_column(BigInteger, default=0)
