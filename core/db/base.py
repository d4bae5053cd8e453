"""Declarative Base, 64-bit ids, and the TenantScoped mixin every tenant-owned table uses."""

from __future__ import annotations

import os
import secrets
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_EPOCH_MS = 1_704_067_200_000  # 2024-01-01
_lock = threading.Lock()
_last = [0, 0]
_node = (os.getpid() ^ secrets.randbits(16)) & 0x3FF


def new_id() -> int:
    """Time-ordered 63-bit id (ms | 10-bit node | 12-bit sequence).

    Generated in the app because a composite primary key (tenant_id, id) gets no autoincrement
    on SQLite, and it keeps ids globally unique across tenants (export/import keeps them).
    """
    with _lock:
        now = int(time.time() * 1000) - _EPOCH_MS
        if now <= _last[0]:
            now = _last[0]
            _last[1] = (_last[1] + 1) & 0xFFF
            if _last[1] == 0:
                now += 1
        else:
            _last[1] = 0
        _last[0] = now
        return (now << 22) | (_node << 12) | _last[1]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes on both databases (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {int: BigInteger, datetime: UTCDateTime}


class TenantScoped:
    """Mixin for tenant-owned rows: (tenant_id, id) primary key; the ORM filters and stamps it.

    Foreign keys between tenant tables must include tenant_id (ForeignKeyConstraint on both
    columns) so a row can never point into another tenant.
    """

    __tenant_scoped__ = True

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(BigInteger, primary_key=True, index=False)

    @declared_attr
    def id(cls) -> Mapped[int]:
        return mapped_column(BigInteger, primary_key=True, default=new_id)


def is_tenant_scoped(cls: type) -> bool:
    return bool(getattr(cls, "__tenant_scoped__", False))
