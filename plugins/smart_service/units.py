"""Handling units' members and queues: who works a unit (a 街道办, a 区直部门 such as 城管局, a
property company, a community), and what is waiting in a unit's queue.

A member signs for (签收), handles (处置) and returns (退单) what is dispatched to their unit on the
strength of that membership (``services.transition`` checks it); they see only their units' cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import User
from plugins.smart_service.lifecycle import FINAL, State, lazy
from plugins.smart_service.models import Event, HandlingUnit
from plugins.smart_service.services import InvalidInput
from plugins.smart_service.work_models import UnitMember

# The queue's tabs: waiting to be signed for, being worked, handed back for inspection, closed.
TABS: dict[str, tuple[State, ...]] = {
    "new": (State.DISPATCHED,),
    "doing": (State.SIGNED, State.HANDLING),
    "done": (State.FEEDBACK, State.INSPECTING, State.INSPECTED, State.CLOSED),
}
TAB_LABELS = {"new": lazy("To sign for"), "doing": lazy("Being handled"), "done": lazy("Handled")}


async def is_member(session: AsyncSession, unit_id: int, user_id: int) -> bool:
    found = await session.scalar(
        select(UnitMember.id).where(UnitMember.unit_id == unit_id, UnitMember.user_id == user_id).limit(1)
    )
    return found is not None


async def units_of(session: AsyncSession, user_id: int) -> list[HandlingUnit]:
    """The active units ``user_id`` is a member of, highest level first."""
    rows = await session.execute(
        select(HandlingUnit)
        .join(UnitMember, (UnitMember.tenant_id == HandlingUnit.tenant_id) & (UnitMember.unit_id == HandlingUnit.id))
        .where(UnitMember.user_id == user_id, HandlingUnit.active.is_(True))
        .order_by(HandlingUnit.level, HandlingUnit.name)
    )
    return list(rows.scalars())


async def members(session: AsyncSession, unit_id: int) -> list[tuple[UnitMember, User]]:
    rows = await session.execute(
        select(UnitMember, User)
        .join(User, (User.tenant_id == UnitMember.tenant_id) & (User.id == UnitMember.user_id))
        .where(UnitMember.unit_id == unit_id)
        .order_by(User.display_name)
    )
    return [(m, u) for m, u in rows.all()]


async def member_ids(session: AsyncSession, unit_id: int) -> list[int]:
    rows = await session.execute(
        select(UnitMember.user_id)
        .join(User, (User.tenant_id == UnitMember.tenant_id) & (User.id == UnitMember.user_id))
        .where(UnitMember.unit_id == unit_id, User.is_active.is_(True))
    )
    return list(rows.scalars())


async def add_member(session: AsyncSession, unit_id: int, username: str, duty: str = "") -> UnitMember:
    """Make the user called ``username`` a member of the unit; a second time changes nothing."""
    unit = (await session.execute(select(HandlingUnit).where(HandlingUnit.id == unit_id))).scalar_one_or_none()
    if unit is None:
        raise InvalidInput(lazy("Choose a handling unit"))
    username = (username or "").strip()
    user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
    if user is None or not user.is_active:
        raise InvalidInput(lazy("No active account is called %(name)s"), name=username or "—")
    duty = (duty or "").strip()
    if len(duty) > 50:
        raise InvalidInput(lazy("The duty is too long (at most %(max)s characters)"), max=50)
    existing = (
        await session.execute(select(UnitMember).where(UnitMember.unit_id == unit_id, UnitMember.user_id == user.id))
    ).scalar_one_or_none()
    if existing is not None:
        if duty:
            existing.duty = duty
        return existing
    member = UnitMember(unit_id=unit_id, user_id=user.id, duty=duty)
    session.add(member)
    await session.flush()
    return member


async def remove_member(session: AsyncSession, unit_id: int, user_id: int) -> bool:
    res = await session.execute(
        delete(UnitMember)
        .where(UnitMember.unit_id == unit_id, UnitMember.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
    return bool(res.rowcount)


def queue_statement(unit_ids: Sequence[int], tab: str) -> Any:
    """The events of a tab dispatched to any of ``unit_ids``, soonest deadline first (closed: newest)."""
    states = [s.value for s in TABS.get(tab, TABS["new"])]
    stmt = select(Event).where(Event.handling_unit_id.in_(list(unit_ids) or [-1]), Event.state.in_(states))
    if tab == "done":
        return stmt.order_by(Event.updated_at.desc(), Event.id.desc())
    return stmt.order_by(Event.due_at.is_(None), Event.due_at, Event.id)


async def in_my_queue(session: AsyncSession, event: Event, user_id: int) -> bool:
    """The event is (or was last) worked by one of the user's units: they may open it."""
    if event.handling_unit_id is None:
        return False
    if State(event.state) in FINAL and event.state != State.CLOSED.value:
        return False
    return await is_member(session, event.handling_unit_id, user_id)
