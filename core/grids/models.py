"""Node kinds (tenant data) and grid nodes with a materialised path ``/id/id/…/`` (trailing slash
so a prefix never matches a sibling: ``/1/`` is not a prefix of ``/10/``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKeyConstraint, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped


class NodeKind(TenantScoped, Base):
    __tablename__ = "grid_node_kinds"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    code: Mapped[str] = mapped_column(String(32))
    name_zh: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(50), default="")
    level: Mapped[int] = mapped_column(Integer)


class GridNode(TenantScoped, Base):
    __tablename__ = "grid_nodes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        ForeignKeyConstraint(["tenant_id", "parent_id"], ["grid_nodes.tenant_id", "grid_nodes.id"]),
        Index("ix_grid_nodes_tenant_path", "tenant_id", "path"),
        Index("ix_grid_nodes_tenant_parent", "tenant_id", "parent_id"),
    )

    parent_id: Mapped[int | None]
    code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    path: Mapped[str] = mapped_column(String(1000))
    depth: Mapped[int] = mapped_column(Integer, default=0)
    boundary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Listed in the tenant's definition (tenants/<slug>/grid.csv): `liuzhi tenants apply` may rename,
    # move or remove it; nodes made in the app or by an import are the app's and are left alone.
    defined: Mapped[bool] = mapped_column(Boolean, default=False)

    def label(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") and self.name_en else self.name
