"""The resident register as lists and exports read it: the scoped, filtered query, a row as a
list shows it, the residence history, and the export policy (masks unless the user may reveal
there; every export audited with its row count and how many rows went out in full).

Writes (create, update, move) are ``core.grids.people``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.crypto import Vault
from core.grids import people, search_policy
from core.grids.access import REVEAL, VIEW, Viewer, allowed, scoped, within
from core.grids.basedata import RESIDENT_ACTIVE, RESIDENT_DECEASED, RESIDENT_MOVED_OUT, Residence, Resident
from core.grids.models import GridNode
from core.grids.places import chain, node_link, nodes_by_id
from core.i18n import gettext as _
from core.i18n import lazy

GENDERS = {"male": lazy("Male"), "female": lazy("Female")}
STATUSES = {
    RESIDENT_ACTIVE: lazy("Living here"),
    RESIDENT_MOVED_OUT: lazy("Moved out"),
    RESIDENT_DECEASED: lazy("Deceased"),
}
REGISTRATIONS = ("户籍", "流动", "境外")  # stored as written in the registers
RELATIONS = ("户主", "配偶", "子女", "父母", "租户", "其他")


@dataclass(frozen=True)
class Listing:
    """A list's statement with the filters as understood and their problems (translated)."""

    stmt: Select[Any]
    filters: dict[str, str]
    errors: dict[str, str]


async def resident_query(
    session: AsyncSession,
    vault: Vault,
    viewer: Viewer,
    searcher: search_policy.Searcher,
    q: str,
    node: str,
    status: str,
    action: str = VIEW,
) -> Listing:
    """The scoped, filtered statement behind the list and the export (same filters for both)."""
    filters = {"q": q.strip(), "node": node.strip(), "status": status.strip()}
    errors: dict[str, str] = {}
    stmt = select(Resident).where(scoped(Resident.node_path, viewer.scope_prefixes(VIEW)))
    if action != VIEW:
        stmt = stmt.where(scoped(Resident.node_path, viewer.scope_prefixes(action)))
    # Exact values of ID numbers and phones only for those who may reveal them (no oracle).
    found = await search_policy.resident_criteria(session, vault, searcher, filters["q"])
    if found.error:
        errors["q"] = _(found.error)
    elif found.where is not None:
        stmt = stmt.where(found.where)
    if filters["node"]:
        node_id = _number(filters["node"]) or 0
        node_row = (await session.execute(select(GridNode).where(GridNode.id == node_id))).scalar_one_or_none()
        if node_row is None or not viewer.can(VIEW, node_row.path):
            errors["node"] = _("Choose an area from the list.")
        else:
            stmt = stmt.where(Resident.node_path.startswith(node_row.path, autoescape=True))
    if filters["status"]:
        if filters["status"] in STATUSES:
            stmt = stmt.where(Resident.status == filters["status"])
        else:
            errors["status"] = _("Choose a status from the list.")
    if errors:
        stmt = stmt.where(Resident.id.is_(None))  # a bad filter shows nothing rather than everything
    return Listing(stmt.order_by(Resident.name, Resident.id), filters, errors)


def resident_row(r: Resident, nodes: dict[int, GridNode], locale: str) -> dict[str, Any]:
    return {
        "r": r,
        "link": node_link(r.node_id, nodes),
        "gender": _(GENDERS[r.gender]) if r.gender in GENDERS else "",
        "birth_year": r.birth_date.year if r.birth_date else "",
        "household": chain(r.node_path, nodes, locale, last=4),
        "household_full": chain(r.node_path, nodes, locale),
        "status": _(STATUSES.get(r.status, r.status)),
    }


async def export_rows(
    session: AsyncSession, vault: Vault, viewer: Viewer, listing: Listing, locale: str
) -> list[list[Any]]:
    """The export's rows: full ID numbers and phones only where the user may reveal them; the
    export itself goes to the audit log (rows, how many in full, the filters)."""
    rows = (await session.execute(listing.stmt)).scalars().all()
    nodes = await nodes_by_id(session, [r.node_path for r in rows])
    reveal_prefixes = viewer.scope_prefixes(REVEAL)
    revealed = 0
    out = []
    for r in rows:
        id_number, phone = r.id_number_masked or "", r.phone_masked or ""
        if reveal_prefixes and within(r.node_path, reveal_prefixes):
            if r.id_number_enc is not None:
                id_number = vault.decrypt(r.id_number_enc, people.ID_PURPOSE.encode())
            if r.phone_enc is not None:
                phone = vault.decrypt(r.phone_enc, people.PHONE_PURPOSE.encode())
            revealed += 1
        row = resident_row(r, nodes, locale)
        out.append(
            [
                r.name,
                row["gender"],
                row["birth_year"],
                id_number,
                phone,
                row["household_full"],
                r.registration,
                row["status"],
            ]
        )
    record(
        session,
        "resident.export",
        "residents",
        None,
        {"rows": len(out), "revealed": revealed, **{k: val for k, val in listing.filters.items() if val}},
    )
    return out


async def find_visible(session: AsyncSession, viewer: Viewer, resident_id: int, action: str = VIEW) -> Resident | None:
    """The resident if the user may see them (and act on them with ``action``); None looks the
    same whether they do not exist or lie outside the user's scope (a 404 either way)."""
    resident = (await session.execute(select(Resident).where(Resident.id == resident_id))).scalar_one_or_none()
    if resident is None or not allowed(viewer, VIEW, resident.node_path):
        return None
    if action != VIEW and not allowed(viewer, action, resident.node_path):
        return None
    return resident


async def history(
    session: AsyncSession, viewer: Viewer, resident: Resident, locale: str
) -> tuple[list[dict[str, Any]], dict[int, GridNode]]:
    """The residence history, newest first, with the nodes the page names (the current one too)."""
    stays = (
        (
            await session.execute(
                select(Residence)
                .where(Residence.resident_id == resident.id)
                .order_by(Residence.moved_in.desc(), Residence.id.desc())
            )
        )
        .scalars()
        .all()
    )
    stay_nodes: dict[int, GridNode] = {}
    if stays:
        found = await session.execute(select(GridNode).where(GridNode.id.in_({s.node_id for s in stays})))
        stay_nodes = {n.id: n for n in found.scalars()}
    nodes = await nodes_by_id(session, [resident.node_path, *[n.path for n in stay_nodes.values()]])
    rows = [
        {
            "stay": s,
            "label": chain(stay_nodes[s.node_id].path, nodes, locale, last=4) if s.node_id in stay_nodes else "",
            "full": chain(stay_nodes[s.node_id].path, nodes, locale) if s.node_id in stay_nodes else "",
            "link": node_link(s.node_id, stay_nodes)
            if s.node_id in stay_nodes and viewer.can(VIEW, stay_nodes[s.node_id].path)
            else None,
        }
        for s in stays
    ]
    return rows, nodes


async def current_since(session: AsyncSession, resident: Resident) -> Any:
    """When the current residence began (None without one)."""
    return (
        await session.execute(
            select(Residence.moved_in).where(Residence.resident_id == resident.id, Residence.moved_out.is_(None))
        )
    ).scalar()


async def duplicate_holder(
    session: AsyncSession,
    vault: Vault,
    viewer: Viewer,
    searcher: search_policy.Searcher,
    id_number: str,
    own_id: int | None = None,
) -> tuple[Resident | None, str | None]:
    """Who already holds this ID number: (the resident if the user may see them, a message).
    The check itself is logged (and counted) whether or not the form then saves."""
    await search_policy.duplicate_check(searcher, session)
    await session.commit()
    existing = await people.find_by_id_number(session, vault, id_number)
    if existing is None or existing.id == own_id:
        return None, None
    if allowed(viewer, REVEAL, existing.node_path):
        return existing, _("This ID number is already registered:")
    # Somewhere the user may not look: say so without saying where.
    return None, _("This ID number is already registered elsewhere in the district.")


def _number(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None
