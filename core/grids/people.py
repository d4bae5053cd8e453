"""Use cases on residents and households: validate, encrypt, de-duplicate, move, reveal, count owners."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.crypto import Vault
from core.db.base import new_id
from core.grids import validation as v
from core.grids.basedata import RESIDENT_ACTIVE, RESIDENT_MOVED_OUT, Household, Owner, Ownership, Residence, Resident
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


@dataclass(frozen=True)
class Placement:
    """One person to register: their cleaned data and the household they live in from ``moved_in``."""

    data: ResidentInput
    node_id: int | None
    node_path: str | None
    relation: str = ""
    moved_in: date | None = None


CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


async def known_residents(session: AsyncSession, vault: Vault, id_numbers: Iterable[str]) -> dict[str, Resident]:
    """The residents holding these (normalised) ID numbers, by blind index: one query per batch."""
    digests = sorted({vault.blind_index(n, ID_PURPOSE) for n in id_numbers if n})
    if not digests:
        return {}
    # The digests go into the SQL text (hex, so safe): PostgreSQL then plans with the values
    # and hashes the list. As bound parameters, a cached generic plan compares every row of
    # the district with all 500 of them while a first import runs on stale statistics.
    wanted = bindparam("digests", digests, expanding=True, literal_execute=True)
    found = await session.execute(select(Resident).where(Resident.id_number_hash.in_(wanted)))
    return {r.id_number_hash: r for r in found.scalars() if r.id_number_hash}


def holder(known: dict[str, Resident], vault: Vault, data: ResidentInput) -> Resident | None:
    """Who in ``known`` holds the ID number of ``data`` (None without one: a new person)."""
    return known.get(vault.blind_index(data.id_number, ID_PURPOSE)) if data.id_number else None


def _differences(existing: Resident, vault: Vault, p: Placement) -> tuple[dict[str, str], bool, bool]:
    """The update rule: given values that differ are written, blank ones keep what is stored.
    Returns (plain fields to change, whether the phone changes, whether the person moves)."""
    data = p.data
    changes = {
        key: getattr(data, key)
        for key in ("name", "ethnicity", "registration")
        if getattr(data, key) and getattr(existing, key) != getattr(data, key)
    }
    new_phone = bool(data.phone) and existing.phone_hash != vault.blind_index(data.phone or "", PHONE_PURPOSE)
    moves = p.node_id is not None and existing.node_id != p.node_id
    return changes, new_phone, moves


async def upsert_residents(
    session: AsyncSession,
    vault: Vault,
    batch: Sequence[Placement],
    known: dict[str, Resident] | None = None,
    write: bool = True,
) -> list[tuple[Resident | None, str]]:
    """Create, update or leave alone each placement (a re-import changes nothing): the one write
    path of the resident register, for the form (a batch of one) and the import alike.

    Identity is the ID number when there is one; without it, a new row each time (the caller
    decides). ``known`` is ``known_residents`` for the batch when the caller already looked them
    up. With ``write=False`` nothing is written: the outcomes say what would happen (a dry run).
    Returns (resident — None for a new one in a dry run —, "created"|"updated"|"unchanged") per row.
    """
    if known is None:
        known = await known_residents(session, vault, [p.data.id_number or "" for p in batch])
    out: list[tuple[Resident | None, str]] = []
    stays: list[Residence] = []
    for p in batch:
        existing = holder(known, vault, p.data)
        if existing is None:
            resident = _new_resident(session, vault, p, stays) if write else None
            if resident is not None and resident.id_number_hash:
                known[resident.id_number_hash] = resident  # the same person twice in a batch: once
            out.append((resident, CREATED))
            continue
        changes, new_phone, moves = _differences(existing, vault, p)
        if write and (changes or new_phone or moves):
            for key, value in changes.items():
                setattr(existing, key, value)
            if new_phone:
                apply_sensitive(existing, vault, ResidentInput(name=p.data.name, phone=p.data.phone))
            if moves:
                assert p.node_id is not None and p.node_path is not None
                await _move(session, existing, p.node_id, p.node_path, p.relation, p.moved_in or date.today())
        out.append((existing, UPDATED if changes or new_phone or moves else UNCHANGED))
    if stays:
        # Without ORM relationships the flush does not order tables by their foreign keys: the
        # new residents go in first, explicitly, then their residences.
        await session.flush()
        session.add_all(stays)
    return out


def _new_resident(session: AsyncSession, vault: Vault, p: Placement, stays: list[Residence]) -> Resident:
    # Ids are set here, not at flush, so the residence can point at its resident without a
    # flush per row.
    data = p.data
    resident = Resident(id=new_id(), name=data.name, node_id=p.node_id, node_path=p.node_path)
    apply_sensitive(resident, vault, data)
    for key in ("gender", "birth_date", "ethnicity", "registration", "note"):
        setattr(resident, key, getattr(data, key))
    activate(resident)
    session.add(resident)
    if p.node_id is not None:
        stays.append(
            Residence(
                id=new_id(),
                resident_id=resident.id,
                node_id=p.node_id,
                relation=p.relation,
                moved_in=p.moved_in or date.today(),
            )
        )
    return resident


async def upsert_resident(
    session: AsyncSession,
    vault: Vault,
    data: ResidentInput,
    node: GridNode | None,
    relation: str = "",
    moved_in: date | None = None,
) -> tuple[Resident, str]:
    """``upsert_residents`` for one person (the form's path)."""
    where = Placement(data, node.id if node else None, node.path if node else None, relation, moved_in)
    resident, outcome = (await upsert_residents(session, vault, [where]))[0]
    assert resident is not None
    return resident, outcome


def activate(resident: Resident) -> None:
    """Living in a household: the status of anyone who moves in (again) or is registered."""
    resident.status = RESIDENT_ACTIVE


async def move_in(session: AsyncSession, resident: Resident, node: GridNode, relation: str, on: date) -> Residence:
    """Close the current residence (if any) and open one at ``node``: the 人房关系 history. Whoever
    moves in lives here: active again after a move out."""
    return await _move(session, resident, node.id, node.path, relation, on)


async def _move(
    session: AsyncSession, resident: Resident, node_id: int, node_path: str, relation: str, on: date
) -> Residence:
    await move_out(session, resident, on, status=None)
    stay = Residence(resident_id=resident.id, node_id=node_id, relation=relation, moved_in=on)
    session.add(stay)
    resident.node_id, resident.node_path = node_id, node_path
    activate(resident)
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
