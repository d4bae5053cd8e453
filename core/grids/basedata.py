"""Base data "人、地、事、物、组织" hung on the territory tree: households (with floor area and
owners), residents (with their residence history, 人房关系) and organisations.

Scope: every row carries the materialised path of the node it belongs to (``node_path``), so a
user's scopes become one SQL predicate. Sensitive values (身份证号, phones) are stored encrypted
with a blind index for exact search and a precomputed mask for display.

Foreign keys between tenant rows are plain NO ACTION: SQLite applies RESTRICT row by row (a
subtree deleted in one statement would fail), and SET NULL on a composite key would null tenant_id.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Date,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped, utcnow

RESIDENT_ACTIVE, RESIDENT_MOVED_OUT, RESIDENT_DECEASED = "active", "moved_out", "deceased"
ORG_KINDS = ("resident_unit", "social_org", "property_company", "party_org")  # 驻区单位 社会组织 物业企业 党组织
OWNER_KINDS = ("person", "organisation", "developer")


def _node_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", "node_id"], ["grid_nodes.tenant_id", "grid_nodes.id"])


class Household(TenantScoped, Base):
    """The 专有部分 of one 户 node: its floor area decides vote weights (民法典 第278条)."""

    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("tenant_id", "node_id"), _node_fk())

    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    floor_area: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))  # m², 专有部分建筑面积
    usage: Mapped[str] = mapped_column(String(32), default="residential")
    note: Mapped[str] = mapped_column(Text, default="")


class Resident(TenantScoped, Base):
    """实有人口. The current household is denormalised (node_id/node_path) for scope filters."""

    __tablename__ = "residents"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id_number_hash"),
        ForeignKeyConstraint(["tenant_id", "node_id"], ["grid_nodes.tenant_id", "grid_nodes.id"]),
        # The list's page comes from these alone (core_0012): scope, order and status filter.
        Index("ix_residents_tenant_path", "tenant_id", "node_path", postgresql_include=["name", "id", "status"]),
        Index("ix_residents_tenant_name", "tenant_id", "name", "id", postgresql_include=["node_path", "status"]),
        Index("ix_residents_tenant_phone_hash", "tenant_id", "phone_hash"),
    )

    name: Mapped[str] = mapped_column(String(50))
    gender: Mapped[str | None] = mapped_column(String(8))
    birth_date: Mapped[date | None] = mapped_column(Date)
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sensitive": True})
    id_number_hash: Mapped[str | None] = mapped_column(String(64), info={"sensitive": True})
    id_number_masked: Mapped[str | None] = mapped_column(String(18))
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sensitive": True})
    phone_hash: Mapped[str | None] = mapped_column(String(64), info={"sensitive": True})
    phone_masked: Mapped[str | None] = mapped_column(String(16))
    ethnicity: Mapped[str] = mapped_column(String(20), default="")
    registration: Mapped[str] = mapped_column(String(20), default="")  # 户籍 / 流动 / 境外
    status: Mapped[str] = mapped_column(String(16), default=RESIDENT_ACTIVE)
    node_id: Mapped[int | None]
    node_path: Mapped[str | None] = mapped_column(String(1000))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Residence(TenantScoped, Base):
    """人房关系: who lived where, from when to when. The open row (moved_out is NULL) is current."""

    __tablename__ = "residences"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "resident_id"], ["residents.tenant_id", "residents.id"], ondelete="CASCADE"),
        _node_fk(),
        Index("ix_residences_tenant_resident", "tenant_id", "resident_id"),
        Index("ix_residences_tenant_node", "tenant_id", "node_id"),
    )

    resident_id: Mapped[int]
    node_id: Mapped[int]
    relation: Mapped[str] = mapped_column(String(20), default="")  # 户主 配偶 子女 租户 …
    moved_in: Mapped[date] = mapped_column(Date)
    moved_out: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")


class Organisation(TenantScoped, Base):
    __tablename__ = "organisations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "credit_code"),
        ForeignKeyConstraint(["tenant_id", "node_id"], ["grid_nodes.tenant_id", "grid_nodes.id"]),
        Index("ix_organisations_tenant_path", "tenant_id", "node_path"),
        Index("ix_organisations_tenant_phone_hash", "tenant_id", "contact_phone_hash"),
    )

    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sensitive": True})
    contact_phone_masked: Mapped[str | None] = mapped_column(String(16))
    contact_phone_hash: Mapped[str | None] = mapped_column(String(64), info={"sensitive": True})
    address: Mapped[str] = mapped_column(String(300), default="")
    node_id: Mapped[int | None]
    node_path: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Owner(TenantScoped, Base):
    """An owner for vote counting: a person, an organisation, or the developer (unsold units
    of one developer count as one owner in total, 司法解释 第9条)."""

    __tablename__ = "owners"
    __table_args__ = (
        UniqueConstraint("tenant_id", "resident_id"),
        UniqueConstraint("tenant_id", "organisation_id"),
        ForeignKeyConstraint(["tenant_id", "resident_id"], ["residents.tenant_id", "residents.id"]),
        ForeignKeyConstraint(["tenant_id", "organisation_id"], ["organisations.tenant_id", "organisations.id"]),
    )

    kind: Mapped[str] = mapped_column(String(16))
    resident_id: Mapped[int | None]
    organisation_id: Mapped[int | None]
    name: Mapped[str] = mapped_column(String(200))


class Ownership(TenantScoped, Base):
    """Owner of a household. One owner of several units is one Owner row with several of these."""

    __tablename__ = "ownerships"
    __table_args__ = (
        UniqueConstraint("tenant_id", "household_id", "owner_id"),
        ForeignKeyConstraint(
            ["tenant_id", "household_id"], ["households.tenant_id", "households.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "owner_id"], ["owners.tenant_id", "owners.id"]),
        Index("ix_ownerships_tenant_owner", "tenant_id", "owner_id"),
    )

    household_id: Mapped[int]
    owner_id: Mapped[int]
