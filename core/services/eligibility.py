"""Who may join an activity or vote in an open ballot: one small rule language, shared.

``"everyone"`` — any user of the tenant; ``"residents"`` — users whose account is linked to a
resident record; ``"role:<code>"`` — users holding that role at a node whose scope overlaps the
record's node (a volunteer of a community may join an activity in one of its grids, or one of the
whole district). Pillars express their own groups as roles (a volunteer, a party member).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.rbac.models import RoleAssignment
from core.services.errors import InvalidInput, lazy

EVERYONE, RESIDENTS, ROLE = "everyone", "residents", "role:"


def check_rule(rule: str) -> str:
    rule = (rule or EVERYONE).strip()
    if rule in (EVERYONE, RESIDENTS) or (rule.startswith(ROLE) and len(rule) > len(ROLE)):
        return rule
    raise InvalidInput(lazy("Unknown eligibility %(rule)s: use everyone, residents or role:<code>."), rule=rule)


async def is_eligible(session: AsyncSession, rule: str, user_id: int, node_path: str) -> bool:
    if rule == EVERYONE:
        return True
    if rule == RESIDENTS:
        from core.services.accounts.models import ResidentAccount

        stmt = select(ResidentAccount.id).where(
            ResidentAccount.user_id == user_id, ResidentAccount.resident_id.is_not(None)
        )
        return (await session.execute(stmt)).first() is not None
    if rule.startswith(ROLE):
        stmt = select(RoleAssignment.node_path).where(
            RoleAssignment.user_id == user_id, RoleAssignment.role_code == rule[len(ROLE) :]
        )
        paths = (await session.execute(stmt)).scalars()
        return any(node_path.startswith(p) or p.startswith(node_path) for p in paths)
    return False
