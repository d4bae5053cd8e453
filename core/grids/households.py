"""Households (户) as their page shows them: floor area and usage, the owners with every other
household each one holds (as far as the user may see), the residents; and the ownership rules
(who may be recorded as an owner, one ownership per owner and household)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids import people
from core.grids.access import ORG_VIEW, VIEW, Viewer, allowed
from core.grids.basedata import Household, Organisation, Owner, Ownership, Resident
from core.grids.models import GridNode
from core.grids.places import PICKER_LIMIT, chain, nodes_by_id
from core.i18n import gettext as _
from core.i18n import lazy
from core.rbac.scope import in_scope

USAGES = {
    "residential": lazy("Residential"),
    "commercial": lazy("Commercial"),
    "office": lazy("Office"),
    "other": lazy("Other"),
}
OWNER_KIND_LABELS = {
    "person": lazy("Resident"),
    "organisation": lazy("Organisation"),
    "developer": lazy("Developer"),
}
MAX_AREA = Decimal("10000")
_Picked = TypeVar("_Picked", Resident, Organisation)  # what the owner form picks from a list


def parse_area(raw: str) -> tuple[Decimal | None, str | None]:
    """Floor area in m²: blank, or > 0 and ≤ 10000 with at most two decimals."""
    if not raw:
        return None, None
    try:
        area = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        return None, _("Write the area as a number of square metres, e.g. 89.5.")
    if not area.is_finite() or area <= 0 or area > MAX_AREA:
        return None, _("The area must be more than 0 and at most %(max)s m².", max=MAX_AREA)
    if area != area.quantize(Decimal("0.01")):
        return None, _("At most two decimals.")
    return area.quantize(Decimal("0.01")), None


async def household_of(session: AsyncSession, node: GridNode) -> Household | None:
    return (await session.execute(select(Household).where(Household.node_id == node.id))).scalar_one_or_none()


async def owners(
    session: AsyncSession, viewer: Viewer, household: Household, node: GridNode, locale: str
) -> list[dict[str, Any]]:
    """The household's owners, each with every household they hold that the user may see."""
    held = (
        await session.execute(
            select(Ownership, Owner)
            .join(Owner, Owner.id == Ownership.owner_id)
            .where(Ownership.household_id == household.id)
            .order_by(Owner.name)
        )
    ).all()
    owner_ids = [o.id for _own, o in held]
    # Every household each owner holds, as far as the user may see: one owner, listed once.
    others = (
        (
            await session.execute(
                select(Ownership.owner_id, Household.node_id, Household.node_path)
                .join(Household, Household.id == Ownership.household_id)
                .where(Ownership.owner_id.in_(owner_ids), in_scope(Household.node_path, viewer.scope_prefixes(VIEW)))
                .order_by(Household.node_path)
            )
        ).all()
        if owner_ids
        else []
    )
    nodes = await nodes_by_id(session, [row[2] for row in others])
    return [
        {
            "ownership": own,
            "owner": owner,
            "kind": _(OWNER_KIND_LABELS.get(owner.kind, owner.kind)),
            "households": [
                {"id": nid, "label": chain(path, nodes, locale, last=4), "here": nid == node.id}
                for oid, nid, path in others
                if oid == owner.id
            ],
        }
        for own, owner in held
    ]


async def residents_of(session: AsyncSession, node: GridNode) -> list[Resident]:
    stmt = select(Resident).where(Resident.node_id == node.id).order_by(Resident.name)
    return list((await session.execute(stmt)).scalars().all())


async def owner_choices(session: AsyncSession, viewer: Viewer) -> tuple[list[Organisation], list[str]]:
    """What the owner form offers: organisations in the user's scope, developers known by name."""
    orgs = (
        (
            await session.execute(
                select(Organisation)
                .where(in_scope(Organisation.node_path, viewer.scope_prefixes(ORG_VIEW)))
                .order_by(Organisation.name)
                .limit(PICKER_LIMIT)
            )
        )
        .scalars()
        .all()
    )
    developers = list(
        (await session.execute(select(Owner.name).where(Owner.kind == "developer").order_by(Owner.name))).scalars()
    )
    return list(orgs), developers


async def owner_candidates(session: AsyncSession, viewer: Viewer, term: str) -> list[dict[str, Any]]:
    """Residents in the user's scope matching a name, for the owner picker."""
    if not term:
        return []
    rows = (
        (
            await session.execute(
                select(Resident)
                .where(in_scope(Resident.node_path, viewer.scope_prefixes(VIEW)))
                .where(Resident.name.icontains(term, autoescape=True))
                .order_by(Resident.name)
                .limit(50)
            )
        )
        .scalars()
        .all()
    )
    return [{"id": r.id, "label": f"{r.name} {r.id_number_masked or ''}".strip()} for r in rows]


@dataclass
class OwnerChoice:
    kind: str
    name: str = ""
    resident: Resident | None = None
    organisation: Organisation | None = None
    errors: dict[str, str] = field(default_factory=dict)


async def choose_owner(
    session: AsyncSession,
    viewer: Viewer,
    kind: str,
    resident_id: int | None,
    organisation_id: int | None,
    developer: str,
) -> OwnerChoice:
    """Who the form names as the owner: a resident or an organisation the user may see, or a
    developer by name; problems keyed by the form's fields (translated)."""
    choice = OwnerChoice(kind)
    if kind == "person":
        message = _("Choose a resident from the list.")
        choice.resident = await _pick(session, viewer, choice, Resident, VIEW, resident_id, "resident_id", message)
    elif kind == "organisation":
        message = _("Choose an organisation from the list.")
        choice.organisation = await _pick(
            session, viewer, choice, Organisation, ORG_VIEW, organisation_id, "organisation_id", message
        )
    elif kind == "developer":
        choice.name = developer
        if not developer or len(developer) > 200:
            choice.errors["developer"] = _("Write the developer's name (up to 200 characters).")
    else:
        choice.errors["owner_kind"] = _("Choose who the owner is.")
    return choice


async def _pick(
    session: AsyncSession,
    viewer: Viewer,
    choice: OwnerChoice,
    model: type[_Picked],
    action: str,
    row_id: int | None,
    field_name: str,
    message: str,
) -> _Picked | None:
    """The resident or organisation the form names, if the user may see it (``action`` where it
    lies): its name becomes the owner's; else None and ``message`` is the field's problem."""
    row = (await session.execute(select(model).where(model.id == (row_id or 0)))).scalar_one_or_none()
    if row is None or not allowed(viewer, action, row.node_path):
        choice.errors[field_name] = message
        return None
    choice.name = row.name
    return row


async def add_owner(session: AsyncSession, node: GridNode, choice: OwnerChoice) -> bool:
    """Record the ownership; False when this owner already holds this household."""
    household = await people.ensure_household(session, node)
    organisation_id = choice.organisation.id if choice.organisation else None
    owner = await people.owner_for(
        session, choice.kind, choice.name, resident=choice.resident, organisation_id=organisation_id
    )
    return await add_ownership(session, household, owner)


async def add_ownership(session: AsyncSession, household: Household, owner: Owner) -> bool:
    """One ownership per owner and household (the form and the demo bundle's import alike): False
    when this owner already holds this household."""
    exists = (
        await session.execute(
            select(Ownership.id).where(Ownership.household_id == household.id, Ownership.owner_id == owner.id)
        )
    ).first()
    if exists:
        return False
    session.add(Ownership(household_id=household.id, owner_id=owner.id))
    return True


async def remove_owner(session: AsyncSession, node: GridNode, ownership_id: int) -> bool:
    """Remove one ownership of this household; False when there is no such ownership here."""
    household = await household_of(session, node)
    if household is None:
        return False
    gone = await session.execute(
        delete(Ownership).where(Ownership.id == ownership_id, Ownership.household_id == household.id)
    )
    return bool(gone.rowcount)
