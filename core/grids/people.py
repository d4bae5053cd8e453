"""Use cases on residents and households: validate, encrypt, de-duplicate, move, reveal, count owners."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.crypto import Vault
from core.grids import validation as v
from core.grids.basedata import RESIDENT_MOVED_OUT, Household, Owner, Ownership, Residence, Resident
from core.grids.models import GridNode
from core.rbac.scope import in_scope

ID_PURPOSE, PHONE_PURPOSE = "id_number", "phone"
REVEAL_ACTION = "core.resident.reveal"


@dataclass
class ResidentInput:
    name: str
    id_number: str | None = None
    phone: str | None = None
    gender: str | None = None
    birth_date: date | None = None
    ethnicity: str = ""
    registration: str = ""
    note: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def clean_resident(raw: dict[str, Any]) -> ResidentInput:
    """Validate a form or an import row; errors are English sentences keyed by field (translate at display)."""
    name = str(raw.get("name") or "").strip()
    data = ResidentInput(name=name)
    if not name:
        data.errors["name"] = "A name is required."
    elif len(name) > 50:
        data.errors["name"] = "A name has at most 50 characters."
    id_raw = str(raw.get("id_number") or "").strip()
    if id_raw:
        try:
            data.id_number = v.check_id_number(id_raw)
            data.birth_date = v.id_number_birth_date(data.id_number)
            data.gender = v.id_number_gender(data.id_number)
        except v.InvalidValue as exc:
            data.errors["id_number"] = str(exc)
    phone_raw = str(raw.get("phone") or "").strip()
    if phone_raw:
        try:
            data.phone = v.check_phone(phone_raw)
        except v.InvalidValue as exc:
            data.errors["phone"] = str(exc)
    for key in ("ethnicity", "registration"):
        value = str(raw.get(key) or "").strip()
        if len(value) > 20:
            data.errors[key] = "At most 20 characters."
        setattr(data, key, value)
    data.note = str(raw.get("note") or "").strip()[:2000]
    return data


def apply_sensitive(resident: Resident, vault: Vault, data: ResidentInput) -> None:
    if data.id_number:
        resident.id_number_enc = vault.encrypt(data.id_number, ID_PURPOSE.encode())
        resident.id_number_hash = vault.blind_index(data.id_number, ID_PURPOSE)
        resident.id_number_masked = v.mask_id_number(data.id_number)
    if data.phone:
        resident.phone_enc = vault.encrypt(data.phone, PHONE_PURPOSE.encode())
        resident.phone_hash = vault.blind_index(data.phone, PHONE_PURPOSE)
        resident.phone_masked = v.mask_phone(data.phone)


async def find_by_id_number(session: AsyncSession, vault: Vault, id_number: str) -> Resident | None:
    digest = vault.blind_index(v.normalise_id_number(id_number), ID_PURPOSE)
    return (await session.execute(select(Resident).where(Resident.id_number_hash == digest))).scalar_one_or_none()


async def upsert_resident(
    session: AsyncSession,
    vault: Vault,
    data: ResidentInput,
    node: GridNode | None,
    relation: str = "",
    moved_in: date | None = None,
) -> tuple[Resident, str]:
    """Create, update or leave alone (re-imports change nothing). Returns (resident, "created"|"updated"|"unchanged").

    Identity is the ID number when there is one; without it, a new row each time (the caller decides).
    """
    existing = await find_by_id_number(session, vault, data.id_number) if data.id_number else None
    if existing is None:
        resident = Resident(name=data.name)
        apply_sensitive(resident, vault, data)
        for key in ("gender", "birth_date", "ethnicity", "registration", "note"):
            setattr(resident, key, getattr(data, key))
        session.add(resident)
        await session.flush()
        if node is not None:
            await move_in(session, resident, node, relation, moved_in or date.today())
        return resident, "created"
    changed = False
    for key in ("name", "ethnicity", "registration"):
        if getattr(data, key) and getattr(existing, key) != getattr(data, key):
            setattr(existing, key, getattr(data, key))
            changed = True
    if data.phone and existing.phone_hash != vault.blind_index(data.phone, PHONE_PURPOSE):
        apply_sensitive(existing, vault, ResidentInput(name=data.name, phone=data.phone))
        changed = True
    if node is not None and existing.node_id != node.id:
        await move_in(session, existing, node, relation, moved_in or date.today())
        changed = True
    return existing, "updated" if changed else "unchanged"


async def move_in(session: AsyncSession, resident: Resident, node: GridNode, relation: str, on: date) -> Residence:
    """Close the current residence (if any) and open one at ``node``: the 人房关系 history."""
    await move_out(session, resident, on, status=None)
    stay = Residence(resident_id=resident.id, node_id=node.id, relation=relation, moved_in=on)
    session.add(stay)
    resident.node_id, resident.node_path = node.id, node.path
    return stay


async def move_out(
    session: AsyncSession, resident: Resident, on: date, status: str | None = RESIDENT_MOVED_OUT
) -> None:
    current = (
        (
            await session.execute(
                select(Residence).where(Residence.resident_id == resident.id, Residence.moved_out.is_(None))
            )
        )
        .scalars()
        .all()
    )
    for stay in current:
        stay.moved_out = on
    if status is not None:
        resident.status = status
        resident.node_id, resident.node_path = None, None


def log_view(session: AsyncSession, resident: Resident) -> None:
    """A read of a resident's record is a read of personal data: it goes to the access log."""
    record(session, "resident.view", "residents", resident.id)


async def reveal(session: AsyncSession, vault: Vault, resident: Resident, what: str) -> str | None:
    """The full ID number or phone, for a user holding the reveal action; every reveal is logged."""
    blob, purpose = (resident.id_number_enc, ID_PURPOSE) if what == "id_number" else (resident.phone_enc, PHONE_PURPOSE)
    if blob is None:
        return None
    record(session, "resident.reveal", "residents", resident.id, {"field": what})
    return vault.decrypt(blob, purpose.encode())


@dataclass(frozen=True)
class OwnerTotals:
    """What a 业主大会 counts (民法典 第278条): exclusive area and owner headcount."""

    area: Decimal
    owners: int
    households: int


async def owner_totals(session: AsyncSession, path_prefix: str) -> OwnerTotals:
    """Totals for the households under ``path_prefix``: an owner of several units counts once,
    all unsold units of developers count as one owner in total (司法解释 第9条)."""
    area = await session.scalar(
        select(func.coalesce(func.sum(Household.floor_area), 0)).where(in_scope(Household.node_path, [path_prefix]))
    )
    households = await session.scalar(
        select(func.count()).select_from(Household).where(in_scope(Household.node_path, [path_prefix]))
    )
    owner_rows = (
        await session.execute(
            select(Owner.id, Owner.kind)
            .join(Ownership, Ownership.owner_id == Owner.id)
            .join(Household, Household.id == Ownership.household_id)
            .where(in_scope(Household.node_path, [path_prefix]))
            .distinct()
        )
    ).all()
    people = sum(1 for _id, kind in owner_rows if kind != "developer")
    developers = 1 if any(kind == "developer" for _id, kind in owner_rows) else 0
    return OwnerTotals(Decimal(area or 0), people + developers, int(households or 0))


async def ensure_household(session: AsyncSession, node: GridNode) -> Household:
    """The Household row of a 户 node, created on first use (floor area and owners hang on it)."""
    found = (await session.execute(select(Household).where(Household.node_id == node.id))).scalar_one_or_none()
    if found is None:
        found = Household(node_id=node.id, node_path=node.path)
        session.add(found)
        await session.flush()
    return found


async def owner_for(
    session: AsyncSession,
    kind: str,
    name: str,
    resident: Resident | None = None,
    organisation_id: int | None = None,
) -> Owner:
    """The one Owner row of a person, an organisation or a developer (by name): an owner of
    several units is one row with several ownerships, so votes count them once."""
    if kind == "person":
        assert resident is not None
        cond = Owner.resident_id == resident.id
    elif kind == "organisation":
        cond = Owner.organisation_id == organisation_id
    else:
        cond = (Owner.kind == kind) & (Owner.name == name)
    found = (await session.execute(select(Owner).where(cond).limit(1))).scalar_one_or_none()
    if found is None:
        found = Owner(
            kind=kind,
            name=name,
            resident_id=resident.id if resident is not None else None,
            organisation_id=organisation_id,
        )
        session.add(found)
        await session.flush()
    return found
