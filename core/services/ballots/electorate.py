"""Building an electorate: a list of users, or the owners of an estate from the household register.

Owners (民法典 第278条, 建筑物区分所有权司法解释 第8–9条): area is each unit's 专有部分建筑面积
from the register; one owner of several units is one elector with all of their area; all unsold
units of the developer are one elector; the co-owners of a unit are one elector (one vote for it),
any of whom may cast it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.basedata import Household, Owner, Ownership
from core.rbac.scope import in_scope
from core.services.errors import InvalidInput, lazy


@dataclass(frozen=True)
class ElectorSpec:
    key: str  # stable within the ballot: "user:42", "owners:7,9", "developer"
    label: str
    weight: int = 100  # hundredths: 1 for a person, the area for owners
    heads: int = 1
    members: tuple[int, ...] = ()  # user ids who may cast this elector's ballot


def users(user_ids: Iterable[int], labels: dict[int, str] | None = None) -> list[ElectorSpec]:
    """One elector per user, weight 1."""
    labels = labels or {}
    return [ElectorSpec(f"user:{u}", labels.get(u, ""), members=(u,)) for u in dict.fromkeys(user_ids)]


def area_units(area: Decimal | None) -> int:
    return int((area or Decimal(0)) * 100)


async def owners(session: AsyncSession, path_prefix: str) -> list[ElectorSpec]:
    """The owners of the units under ``path_prefix`` as electors. Refuses (with the count) when a
    unit has no floor area or no owner on the register: the thresholds need the whole estate."""
    from core.services.accounts.models import ResidentAccount

    units = (
        await session.execute(
            select(Household.id, Household.floor_area).where(in_scope(Household.node_path, [path_prefix]))
        )
    ).all()
    if not units:
        raise InvalidInput(lazy("There are no units on the register under this node."))
    no_area = [hid for hid, area in units if area is None or area <= 0]
    if no_area:
        raise InvalidInput(lazy("%(n)s units have no floor area on the register."), n=len(no_area))
    holders: dict[int, list[tuple[int, str, str, int | None]]] = defaultdict(list)
    rows = await session.execute(
        select(Ownership.household_id, Owner.id, Owner.kind, Owner.name, Owner.resident_id)
        .join(Owner, Owner.id == Ownership.owner_id)
        .join(Household, Household.id == Ownership.household_id)
        .where(in_scope(Household.node_path, [path_prefix]))
    )
    for household_id, owner_id, kind, name, resident_id in rows:
        holders[household_id].append((owner_id, kind, name, resident_id))
    no_owner = [hid for hid, _area in units if not holders.get(hid)]
    if no_owner:
        raise InvalidInput(lazy("%(n)s units have no owner on the register."), n=len(no_owner))

    weight: dict[str, int] = defaultdict(int)
    names: dict[str, list[str]] = {}
    residents: dict[str, set[int]] = defaultdict(set)
    for household_id, area in units:
        owned = holders[household_id]
        if any(kind == "developer" for _o, kind, _n, _r in owned):
            key = "developer"
            owned = [o for o in owned if o[1] == "developer"]
        else:
            key = "owners:" + ",".join(str(o) for o in sorted(o for o, *_ in owned))
        weight[key] += area_units(area)
        names.setdefault(key, sorted({n for _o, _k, n, _r in owned}))
        residents[key].update(r for *_x, r in owned if r is not None)
    wanted = {r for rs in residents.values() for r in rs}
    user_of: dict[int, set[int]] = defaultdict(set)
    if wanted:
        for resident_id, user_id in await session.execute(
            select(ResidentAccount.resident_id, ResidentAccount.user_id).where(ResidentAccount.resident_id.in_(wanted))
        ):
            user_of[resident_id].add(user_id)
    return [
        ElectorSpec(
            key,
            "、".join(names[key]),
            weight=weight[key],
            heads=1,
            members=tuple(sorted({u for r in residents[key] for u in user_of[r]})),
        )
        for key in sorted(weight)
    ]
