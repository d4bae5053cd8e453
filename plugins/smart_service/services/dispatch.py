"""The dispatch catalogue (派单目录): which handling unit an event goes to, by category and area."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import User
from plugins.smart_service.lifecycle import (
    lazy,
)
from plugins.smart_service.models import (
    DispatchRule,
    Event,
    HandlingUnit,
)
from plugins.smart_service.services.common import DispatchError, InvalidInput, _category


async def _dispatch_choice(
    session: AsyncSession, event: Event, data: dict[str, Any]
) -> tuple[int | None, int, int | None]:
    """(unit id, level, assignee) for a dispatch: as given, else from the catalogue."""
    unit: HandlingUnit | None = None
    if data.get("unit_id") is not None:
        unit = (
            await session.execute(select(HandlingUnit).where(HandlingUnit.id == int(data["unit_id"])))
        ).scalar_one_or_none()
        if unit is None or not unit.active:
            raise InvalidInput(lazy("Choose a handling unit"))
    assignee = data.get("assignee_user_id")
    if assignee is not None:
        user = (await session.execute(select(User).where(User.id == int(assignee)))).scalar_one_or_none()
        if user is None or not user.is_active:
            raise InvalidInput(lazy("Choose the person to handle it"))
        assignee = user.id
    if unit is None and assignee is None:
        target = await dispatch_target(session, event)
        if target is None:
            raise DispatchError(
                lazy("No handling unit is set for this category here: choose one, or add it to the dispatch catalogue")
            )
        unit = target.unit
    if unit is None:  # to a person within the current unit (a community to its grid worker)
        return event.handling_unit_id, event.level, assignee
    return unit.id, unit.level, assignee


@dataclass(frozen=True)
class Target:
    unit: HandlingUnit
    rule: DispatchRule

    @property
    def level(self) -> int:
        return self.unit.level


def ancestor_paths(path: str) -> list[str]:
    """``/1/2/3/`` → ``["/1/", "/1/2/", "/1/2/3/"]``: the areas that contain a node."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


async def dispatch_target(session: AsyncSession, event: Event, level: int | None = None) -> Target | None:
    """The handling unit the catalogue gives for ``event``.

    "小事不出网格、大事不出社区": without ``level``, the lowest level (highest number: community
    before sub-district before command centre) that has a rule for the event's category and area.
    With ``level`` (escalation), the nearest level at or above it that has one. Within a level the
    most specific area wins (the longest node path), then the most specific category (the code
    itself, then its class, then any category).
    """
    category = await _category(session, event.category_code)
    codes = [event.category_code]
    if category is not None and category.parent_code:
        codes.append(category.parent_code)
    rows = await session.execute(
        select(DispatchRule, HandlingUnit)
        .join(
            HandlingUnit,
            and_(HandlingUnit.tenant_id == DispatchRule.tenant_id, HandlingUnit.id == DispatchRule.unit_id),
        )
        .where(
            DispatchRule.active.is_(True),
            HandlingUnit.active.is_(True),
            DispatchRule.node_path.in_(ancestor_paths(event.node_path)),
            or_(DispatchRule.category_code.in_(codes), DispatchRule.category_code.is_(None)),
        )
    )
    candidates = [(rule, unit) for rule, unit in rows.all()]
    levels = {unit.level for _rule, unit in candidates}
    if level is not None:
        levels = {lv for lv in levels if lv <= level}
    if not levels:
        return None
    chosen = max(levels)

    def specificity(pair: tuple[DispatchRule, HandlingUnit]) -> tuple[int, int, int]:
        rule = pair[0]
        kind = 2 if rule.category_code == event.category_code else (1 if rule.category_code else 0)
        return (len(rule.node_path), kind, -rule.id)

    rule, unit = max((pair for pair in candidates if pair[1].level == chosen), key=specificity)
    return Target(unit, rule)
