"""Loading a folder of data files through the importers — a district's base data shipped as files
(the demo districts' in tenants/<slug>/demo/):

    nodes.csv           the tree import's columns: code, parent, kind, name, name_en
    boundaries.geojson  a FeatureCollection; each feature's ``properties.code`` names its node
    residents.csv       the resident import's columns: name, id_number, phone, household, relation,
                        ethnicity, registration, note, moved_in
    organisations.csv   kind, name, credit_code, contact_name, contact_phone, address, node (a code)
    households.csv      household (a code), floor_area, owner_kind, owner — a person by ID number,
                        a developer or an organisation by name; a row may give only the area

Every file is optional. Loading twice changes nothing: the importers find what is there by code and
ID number, and a floor area, a boundary or an organisation the district already has is left as it
is (someone may have edited it). A row the importers refuse stops the load with the file and row
(``BundleError``): shipped data must load cleanly, and the caller's transaction writes nothing.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.crypto import Vault
from core.grids import households, organisations, people
from core.grids import validation as v
from core.grids.basedata import Organisation
from core.grids.geo import GeoError, clean_geometry
from core.grids.models import GridNode
from core.imports import residents, tree
from core.imports.outcome import CREATED, ERROR, Area, Outcome
from core.imports.readers import open_sheet
from core.imports.runner import batches

EVERYWHERE = Area(("/",))  # the files are the district's own: no user's area limits them


class BundleError(ValueError):
    """A file of the bundle does not load; ``str(exc)`` names the file and the row."""


@dataclass
class Loaded:
    nodes: int = 0
    boundaries: int = 0
    residents: int = 0
    organisations: int = 0
    ownerships: int = 0


async def load_bundle(session: AsyncSession, vault: Vault, folder: Path) -> Loaded:
    """Load what ``folder`` holds, in dependency order: nodes, their boundaries, the residents,
    the organisations, then households' areas and owners (owners are residents or organisations)."""
    done = Loaded()
    if (folder / "nodes.csv").exists():
        done.nodes = await _import(session, folder / "nodes.csv", tree.LAYOUT, tree.TreeImporter(EVERYWHERE))
    if (folder / "boundaries.geojson").exists():
        done.boundaries = await _boundaries(session, folder / "boundaries.geojson")
    if (folder / "residents.csv").exists():
        importer = residents.ResidentImporter(vault, EVERYWHERE)
        done.residents = await _import(session, folder / "residents.csv", residents.LAYOUT, importer)
    if (folder / "organisations.csv").exists():
        done.organisations = await _organisations(session, vault, folder / "organisations.csv")
    if (folder / "households.csv").exists():
        done.ownerships = await _households(session, vault, folder / "households.csv")
    return done


async def _import(session: AsyncSession, path: Path, layout: Any, importer: Any) -> int:
    """One file through the import's own importer, as the import job runs it; how many rows were new."""
    sheet = open_sheet(path.read_bytes(), path.name, layout)
    rows = list(sheet.rows())
    if importer.__class__ is tree.TreeImporter:
        rows = tree.order_rows(rows)
    await importer.prepare(session)
    created = 0
    for batch in batches(rows):
        outcomes: list[Outcome] = await importer.process(session, batch, write=True)
        _stop_at_error(path, outcomes)
        created += sum(1 for o in outcomes if o.status == CREATED)
        await session.flush()
    return created


def _stop_at_error(path: Path, outcomes: list[Outcome]) -> None:
    for o in outcomes:
        if o.status == ERROR:
            raise BundleError(f"{path}: row {o.row}: {o.reason}")


def _csv(path: Path) -> list[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [(i, {k: (val or "").strip() for k, val in row.items()}) for i, row in enumerate(csv.DictReader(fh), 2)]


async def _by_code(session: AsyncSession, codes: set[str]) -> dict[str, GridNode]:
    found = await session.execute(select(GridNode).where(GridNode.code.in_(sorted(codes))))
    return {n.code: n for n in found.scalars()}


async def _boundaries(session: AsyncSession, path: Path) -> int:
    try:
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleError(f"{path}: not a GeoJSON FeatureCollection ({exc})") from exc
    nodes = await _by_code(session, {str((f.get("properties") or {}).get("code", "")) for f in features})
    changed = 0
    for i, feature in enumerate(features, 1):
        code = str((feature.get("properties") or {}).get("code", ""))
        node = nodes.get(code)
        if node is None:
            raise BundleError(f"{path}: feature {i}: no node with the code {code!r}")
        if node.boundary:
            continue  # drawn or uploaded by someone: never overwritten
        try:
            node.boundary = clean_geometry(feature)
        except GeoError as exc:
            raise BundleError(f"{path}: feature {i} ({code}): {exc}") from exc
        changed += 1
    await session.flush()
    return changed


async def _organisations(session: AsyncSession, vault: Vault, path: Path) -> int:
    rows = _csv(path)
    nodes = await _by_code(session, {r["node"] for _n, r in rows})
    have = set((await session.execute(select(Organisation.name))).scalars())
    added = 0
    for number, r in rows:
        if r["name"] in have:
            continue
        node = nodes.get(r["node"])
        try:
            if node is None:
                raise v.InvalidValue(f"no node with the code {r['node']!r}")
            credit_code = v.check_credit_code(r["credit_code"]) if r["credit_code"] else None
            phone = v.check_phone(r["contact_phone"]) if r["contact_phone"] else None
        except v.InvalidValue as exc:
            raise BundleError(f"{path}: row {number}: {exc}") from exc
        org = Organisation(
            kind=r["kind"],
            name=r["name"],
            credit_code=credit_code,
            contact_name=r["contact_name"],
            address=r["address"],
            node_id=node.id,
            node_path=node.path,
        )
        if phone:
            organisations.set_contact_phone(org, phone, vault)
        session.add(org)
        have.add(r["name"])
        added += 1
    await session.flush()
    return added


async def _households(session: AsyncSession, vault: Vault, path: Path) -> int:
    rows = _csv(path)
    nodes = await _by_code(session, {r["household"] for _n, r in rows})
    added = 0
    for number, r in rows:
        node = nodes.get(r["household"])
        if node is None or node.kind != tree.HOUSEHOLD_KIND:
            raise BundleError(f"{path}: row {number}: no household with the code {r['household']!r}")
        household = await people.ensure_household(session, node)
        if r.get("floor_area") and household.floor_area is None:
            area, problem = households.parse_area(r["floor_area"])
            if problem:
                raise BundleError(f"{path}: row {number}: {problem}")
            household.floor_area = area
        if r.get("owner_kind"):
            owner = await _owner(session, vault, path, number, r["owner_kind"], r["owner"])
            if await households.add_ownership(session, household, owner):
                await session.flush()
                added += 1
    await session.flush()
    return added


async def _owner(session: AsyncSession, vault: Vault, path: Path, number: int, kind: str, who: str) -> Any:
    if kind == "person":
        resident = await people.find_by_id_number(session, vault, who)
        if resident is None:
            raise BundleError(f"{path}: row {number}: no resident with that ID number")
        return await people.owner_for(session, "person", resident.name, resident=resident)
    if kind == "organisation":
        org = (await session.execute(select(Organisation).where(Organisation.name == who))).scalars().first()
        if org is None:
            raise BundleError(f"{path}: row {number}: no organisation named {who!r}")
        return await people.owner_for(session, "organisation", org.name, organisation_id=org.id)
    if kind == "developer" and who:
        return await people.owner_for(session, "developer", who)
    raise BundleError(f"{path}: row {number}: an owner is a person, an organisation or a developer, with a name")
