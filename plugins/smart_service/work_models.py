"""Tables of the work around an event: who belongs to a handling unit (its queue), the outside work
order an event came from (12345 工单, 上级交办) with the messages sent back to it, and the areas a
resident follows.

Tenant-owned like every table of the plugin (``TenantScoped``, tenant_id first in every key).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped, utcnow

# Where a work order comes from: the 12345 hotline, or a superior's assignment (上级交办).
HOTLINE, SUPERIOR = "hotline_12345", "superior"
ORDER_CHANNELS = (HOTLINE, SUPERIOR)
# 12345's answer on the citizen's callback: 满意, 基本满意, 不满意 (the last reopens for 重办).
SATISFIED, BASICALLY, UNSATISFIED = "satisfied", "basically", "unsatisfied"
EVALUATIONS = (SATISFIED, BASICALLY, UNSATISFIED)
# What goes back to the hotline: a reply (回复) and the closure (办结).
REPLY, CLOSE = "reply", "close"
QUEUED, SENT, FAILED = "queued", "sent", "failed"


def _fk(columns: list[str], table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", *columns], [f"{table}.tenant_id", f"{table}.id"])


class UnitMember(TenantScoped, Base):
    """A person who works a handling unit's queue (staff of a 街道办, a 区直部门, a property company):
    members sign for, handle and return what is dispatched to the unit."""

    __tablename__ = "ss_unit_members"
    __table_args__ = (
        UniqueConstraint("tenant_id", "unit_id", "user_id"),
        _fk(["unit_id"], "ss_handling_units"),
        _fk(["user_id"], "users"),
        Index("ix_ss_unit_members_tenant_user", "tenant_id", "user_id"),
    )

    unit_id: Mapped[int]
    user_id: Mapped[int]
    duty: Mapped[str] = mapped_column(String(50), default="")  # 科长, 办事员 …
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkOrder(TenantScoped, Base):
    """The outside order an event was entered from: its number there, its deadline there, its
    category there, who issued it. One per event; one per (channel, number)."""

    __tablename__ = "ss_work_orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "event_id"),
        UniqueConstraint("tenant_id", "channel", "external_number"),
        _fk(["event_id"], "ss_events"),
    )

    event_id: Mapped[int]
    channel: Mapped[str] = mapped_column(String(20))
    external_number: Mapped[str] = mapped_column(String(64))
    external_category: Mapped[str] = mapped_column(String(100), default="")
    issuer: Mapped[str] = mapped_column(String(100), default="")  # 交办单位 / 12345 centre
    due_at: Mapped[datetime | None]
    evaluation: Mapped[str | None] = mapped_column(String(16))
    evaluation_note: Mapped[str] = mapped_column(Text, default="")
    evaluated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkOrderMessage(TenantScoped, Base):
    """What went back to the order's source (回复, 办结): queued in the transaction of the change,
    sent by a job through the tenant's adapter, its result kept."""

    __tablename__ = "ss_work_order_messages"
    __table_args__ = (
        _fk(["order_id"], "ss_work_orders"),
        _fk(["event_id"], "ss_events"),
        Index("ix_ss_work_order_messages_tenant_event", "tenant_id", "event_id"),
    )

    order_id: Mapped[int]
    event_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    adapter: Mapped[str] = mapped_column(String(50), default="")
    receipt: Mapped[str] = mapped_column(String(200), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class AreaFollow(TenantScoped, Base):
    """A user follows an area (a grid node and its subtree): new public reports there are told to them."""

    __tablename__ = "ss_area_follows"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "node_id"),
        _fk(["user_id"], "users"),
        _fk(["node_id"], "grid_nodes"),
        Index("ix_ss_area_follows_tenant_path", "tenant_id", "node_path"),
    )

    user_id: Mapped[int]
    node_id: Mapped[int]
    node_path: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


MODELS = (UnitMember, WorkOrder, WorkOrderMessage, AreaFollow)
