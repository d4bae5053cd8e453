"""Roles, their granted actions (the casbin policy source) and assignments of users at nodes."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped


class Role(TenantScoped, Base):
    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    code: Mapped[str] = mapped_column(String(64))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)

    def label(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") and self.name_en else self.name_zh


class RolePermission(TenantScoped, Base):
    __tablename__ = "role_permissions"
    __table_args__ = (UniqueConstraint("tenant_id", "role_code", "action"),)

    role_code: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(120))


class RoleAssignment(TenantScoped, Base):
    """User has role at node; covers the node's subtree (node_path is copied for the prefix check)."""

    __tablename__ = "role_assignments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "role_code", "node_id"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "node_id"], ["grid_nodes.tenant_id", "grid_nodes.id"], ondelete="CASCADE"),
        Index("ix_role_assignments_tenant_user", "tenant_id", "user_id"),
    )

    user_id: Mapped[int]
    role_code: Mapped[str] = mapped_column(String(64))
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
