"""Demo base data for 双安社区 (双滦区): households with floor areas and owners, about forty
residents with valid generated ID numbers and phones, and a few organisations.

Everything is generated from fixed tables, so a second run finds what the first made and adds
nothing (nodes by code, residents by ID number, households by node, owners and organisations by
name).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.crypto import Vault
from core.db.base import new_id
from core.grids import people
from core.grids import validation as v
from core.grids.basedata import Organisation, Ownership, Resident
from core.grids.models import GridNode

COMMUNITY = "sl-ybs-sa"
REGION = "130803"  # 双滦区's administrative division code: the first six digits of its ID numbers
DEVELOPER = "承德双安房地产开发有限公司"
ESTATE_UNITS = "sl-ybs-sa-g01-asly"

# New nodes under 双安社区 (parent code, code, kind, name, English name); grid.csv has 1号楼1单元's rooms.
EXTRA_NODES: tuple[tuple[str, str, str, str, str], ...] = (
    *[
        (f"{ESTATE_UNITS}-{unit}", f"{ESTATE_UNITS}-{unit}-{room}", "household", room, room)
        for unit in ("b1-u2", "b2-u1")
        for room in ("101", "102", "201", "202")
    ],
    ("sl-ybs-sa-g02", "sl-ybs-sa-g02-sajy", "estate", "双安家园", "Shuang'an Jiayuan"),
    ("sl-ybs-sa-g02-sajy", "sl-ybs-sa-g02-sajy-b1", "building", "1号楼", "Building 1"),
    ("sl-ybs-sa-g02-sajy-b1", "sl-ybs-sa-g02-sajy-b1-u1", "unit", "1单元", "Unit 1"),
    *[
        ("sl-ybs-sa-g02-sajy-b1-u1", f"sl-ybs-sa-g02-sajy-b1-u1-{room}", "household", room, room)
        for room in ("101", "102", "201", "202")
    ],
    ("sl-ybs-sa-g03", "sl-ybs-sa-g03-lpxq", "estate", "滦畔小区", "Luanpan Estate"),
    ("sl-ybs-sa-g03-lpxq", "sl-ybs-sa-g03-lpxq-b3", "building", "3号楼", "Building 3"),
    ("sl-ybs-sa-g03-lpxq-b3", "sl-ybs-sa-g03-lpxq-b3-u2", "unit", "2单元", "Unit 2"),
    *[
        ("sl-ybs-sa-g03-lpxq-b3-u2", f"sl-ybs-sa-g03-lpxq-b3-u2-{room}", "household", room, room)
        for room in ("301", "302", "401", "402")
    ],
)

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
MEN = ("建国", "志强", "海涛", "文军", "宏伟", "晓东", "子轩")
WOMEN = ("秀英", "桂兰", "丽娜", "春梅", "玉珍", "淑芬", "雨桐")


def _given(male: bool, n: int) -> str:
    names = MEN if male else WOMEN
    return names[n % len(names)]


AREAS = ("89.50", "120.00", "76.30", "105.80", "132.60", "68.00")


@dataclass(frozen=True)
class Person:
    name: str
    born: date
    male: bool
    relation: str
    registration: str = "户籍"
    ethnicity: str = "汉族"
    phone: bool = True


def _households() -> list[str]:
    codes = [f"{ESTATE_UNITS}-b1-u1-{room}" for room in ("101", "102", "201", "202")]
    return codes + [code for _p, code, kind, _n, _e in EXTRA_NODES if kind == "household"]


def _people(index: int, code: str) -> list[Person]:
    """A family per household: a head, often a spouse and a child; tenants in a few."""
    surname, other = SURNAMES[index % len(SURNAMES)], SURNAMES[(index + 7) % len(SURNAMES)]
    head_year = 1950 + (index * 7) % 40
    ethnicity = "满族" if index % 5 == 2 else "汉族"
    male = index % 3 != 1
    if code.endswith(("b1-u2-102", "b3-u2-401")):  # let to tenants; the owners live elsewhere
        return [
            Person(surname + _given(True, index), date(1990 + index % 8, 3, 9), True, "租户", "流动"),
            Person(other + _given(False, index + 3), date(1992 + index % 6, 8, 21), False, "租户", "流动"),
        ]
    family = [
        Person(
            surname + _given(male, index),
            date(head_year, 1 + index % 12, 1 + (index * 3) % 28),
            male,
            "户主",
            ethnicity=ethnicity,
        )
    ]
    if index % 2 == 0:
        family.append(
            Person(
                other + _given(not male, index + 5),
                date(head_year + 2, 1 + (index + 4) % 12, 1 + (index * 5) % 28),
                not male,
                "配偶",
                ethnicity=ethnicity,
            )
        )
    if index % 3 != 2:
        family.append(
            Person(
                surname + _given(index % 2 == 0, index + 2),
                date(min(head_year + 28, 2018), 1 + (index + 7) % 12, 1 + (index * 11) % 28),
                index % 2 == 0,
                "子女",
                ethnicity=ethnicity,
                phone=head_year + 28 < 2006,
            )
        )
    return family


def _id_number(person: Person, seq: int) -> str:
    order = (seq * 2 + (1 if person.male else 0)) % 1000  # the 17th digit is odd for men
    return v.make_id_number(f"{REGION}{person.born:%Y%m%d}{order:03d}")


def _credit_code(first17: str) -> str:
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    total = sum(chars.index(ch) * w for ch, w in zip(first17, weights, strict=True))
    return first17 + chars[(31 - total % 31) % 31]


ORGANISATIONS: tuple[tuple[str, str, str | None, str, str, str], ...] = (
    # kind, name, credit code (first 17), contact, address, node code
    ("property_company", "承德安顺物业服务有限公司", "91130803MA07LY8K1", "孙经理", "安顺乐居物业中心", ESTATE_UNITS),
    ("social_org", "双安社区老年人协会", "51130803MA0N2D3E4", "周会长", "双安社区服务中心二楼", COMMUNITY),
    ("party_org", "中共双安社区委员会", None, "刘书记", "双安社区党群服务中心", COMMUNITY),
    ("resident_unit", "双滦区双安小学", "12130803MA0P3F4G5", "吴校长", "双安路18号", "sl-ybs-sa-g02"),
)


async def _ensure_nodes(session: AsyncSession, nodes: dict[str, GridNode]) -> None:
    for parent_code, code, kind, name, name_en in EXTRA_NODES:
        if code in nodes:
            continue
        parent = nodes[parent_code]
        node = GridNode(code=code, kind=kind, name=name, name_en=name_en, parent_id=parent.id, depth=parent.depth + 1)
        node.id = new_id()
        node.path = f"{parent.path}{node.id}/"
        session.add(node)
        nodes[code] = node
    await session.flush()


async def _own(session: AsyncSession, household_node: GridNode, owner: Any) -> None:
    household = await people.ensure_household(session, household_node)
    held = await session.execute(
        select(Ownership.id).where(Ownership.household_id == household.id, Ownership.owner_id == owner.id)
    )
    if held.first() is None:
        session.add(Ownership(household_id=household.id, owner_id=owner.id))
        await session.flush()


async def seed_people(session: AsyncSession, vault: Vault, nodes: dict[str, GridNode]) -> int:
    """Seed 双安社区's base data; returns how many residents were added (0 on a second run)."""
    if COMMUNITY not in nodes:
        return 0
    await _ensure_nodes(session, nodes)
    added = 0
    heads: dict[str, Resident] = {}
    seq = 0
    for index, code in enumerate(_households()):
        node = nodes[code]
        household = await people.ensure_household(session, node)
        if household.floor_area is None:
            household.floor_area = Decimal(AREAS[index % len(AREAS)])
        if code.endswith(("b3-u2-301", "b3-u2-302")):
            continue  # unsold: the developer's, nobody lives there
        for person in _people(index, code):
            seq += 1
            id_number = _id_number(person, seq)
            resident = await people.find_by_id_number(session, vault, id_number)
            if resident is None:
                phone = f"1383140{seq:04d}" if person.phone else None
                data = people.clean_resident(
                    {
                        "name": person.name,
                        "id_number": id_number,
                        "phone": phone,
                        "ethnicity": person.ethnicity,
                        "registration": person.registration,
                    }
                )
                moved_in = date(2012 + index % 10, 1 + index % 12, 1 + index % 28)
                resident, _outcome = await people.upsert_resident(session, vault, data, node, person.relation, moved_in)
                added += 1
            if person.relation == "户主":
                heads[code] = resident
    # Owners: each head owns their home; 安顺乐居 1-1-101's head also owns the let 1-2-102; the
    # developer still holds two unsold units; the tenants' 401 belongs to 1-1-201's head.
    first = f"{ESTATE_UNITS}-b1-u1-"
    for code, head in heads.items():
        await _own(session, nodes[code], await people.owner_for(session, "person", head.name, resident=head))
    landlord = heads[first + "101"]
    landlord_owner = await people.owner_for(session, "person", landlord.name, resident=landlord)
    await _own(session, nodes[f"{ESTATE_UNITS}-b1-u2-102"], landlord_owner)
    other = heads[first + "201"]
    await _own(
        session,
        nodes["sl-ybs-sa-g03-lpxq-b3-u2-401"],
        await people.owner_for(session, "person", other.name, resident=other),
    )
    developer = await people.owner_for(session, "developer", DEVELOPER)
    for room in ("301", "302"):
        await _own(session, nodes[f"sl-ybs-sa-g03-lpxq-b3-u2-{room}"], developer)
    await _seed_organisations(session, vault, nodes)
    return added


async def _seed_organisations(session: AsyncSession, vault: Vault, nodes: dict[str, GridNode]) -> None:
    have = set((await session.execute(select(Organisation.name))).scalars())
    for i, (kind, name, code17, contact, address, node_code) in enumerate(ORGANISATIONS):
        if name in have:
            continue
        node = nodes[node_code]
        phone = f"1393140{i:04d}"
        session.add(
            Organisation(
                kind=kind,
                name=name,
                credit_code=_credit_code(code17) if code17 else None,
                contact_name=contact,
                contact_phone_enc=vault.encrypt(phone, people.PHONE_PURPOSE.encode()),
                contact_phone_masked=v.mask_phone(phone),
                contact_phone_hash=vault.blind_index(phone, people.PHONE_PURPOSE),
                address=address,
                node_id=node.id,
                node_path=node.path,
            )
        )
    await session.flush()
