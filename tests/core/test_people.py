"""Base data services: ID validation, encryption at rest, de-duplication, 人房关系, owner counting."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text

from core.crypto import DecryptionError, Vault
from core.db.base import new_id
from core.grids import people
from core.grids import validation as v
from core.grids.basedata import Household, Owner, Ownership, Residence, Resident
from core.grids.models import GridNode
from tests.conftest import PG_URL

VALID = v.make_id_number("11010519491231002")  # 11010519491231002X


@given(st.from_regex(r"[1-6]\d{5}(19[5-9]\d|200\d)(0[1-9]|1[0-2])(0[1-9]|1\d|2[0-8])\d{3}", fullmatch=True))
def test_every_generated_id_number_validates_and_one_changed_digit_does_not(first17: str) -> None:
    good = v.make_id_number(first17)
    assert v.check_id_number(good) == good
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(v.InvalidValue):
        v.check_id_number(wrong)


def test_masks_show_only_what_the_rules_allow() -> None:
    assert v.mask_id_number("11010519491231002X") == "110***********002X"
    assert v.mask_phone("13812341234") == "138****1234"


def test_impossible_birth_dates_are_refused() -> None:
    with pytest.raises(v.InvalidValue, match="birth date"):
        v.check_id_number(v.make_id_number("11010519491331002"))


def test_rotated_keys_still_decrypt_old_rows_and_a_lost_key_is_a_clear_error() -> None:
    old = Vault(("old",), "h")
    blob = old.encrypt("secret")
    rotated = Vault(("new", "old"), "h")
    assert rotated.decrypt(blob) == "secret" and rotated.needs_rotation(blob)
    with pytest.raises(DecryptionError):
        Vault(("new",), "h").decrypt(blob)


async def _household(s: Any, parent: GridNode, code: str, area: str) -> tuple[GridNode, Household]:
    node = GridNode(id=new_id(), code=code, kind="household", name=code, parent_id=parent.id, depth=parent.depth + 1)
    node.path = f"{parent.path}{node.id}/"
    s.add(node)
    await s.flush()
    hh = Household(node_id=node.id, node_path=node.path, floor_area=Decimal(area))
    s.add(hh)
    await s.flush()
    return node, hh


@pytest.fixture
async def estate(app: Any, fresh_tenant: Any) -> dict[str, Any]:
    async with app.state.db.transaction(fresh_tenant.id) as s:
        root = GridNode(id=new_id(), code="root", kind="estate", name="安顺乐居", depth=0)
        root.path = f"/{root.id}/"
        s.add(root)
        await s.flush()
        units = [await _household(s, root, f"10{i}", area) for i, area in enumerate(["90.5", "120", "60", "75.25"])]
    return {"tenant": fresh_tenant, "root": root, "units": units}


async def test_a_resident_is_stored_encrypted_and_found_by_full_id_number(app: Any, estate: Any) -> None:
    vault = app.state.vault
    tid = estate["tenant"].id
    node = estate["units"][0][0]
    async with app.state.db.transaction(tid) as s:
        resident, outcome = await people.upsert_resident(
            s, vault, people.clean_resident({"name": "张三", "id_number": VALID, "phone": "13812341234"}), node
        )
    assert outcome == "created"
    async with app.state.db.session(tid) as s:
        found = await people.find_by_id_number(s, vault, VALID.lower())
        assert found is not None and found.id == resident.id
        assert found.id_number_masked == "110***********002X" and found.phone_masked == "138****1234"
        raw = (
            await s.execute(text("SELECT id_number_enc FROM residents WHERE id = :i"), {"i": resident.id})
        ).scalar_one()
    assert VALID.encode() not in bytes(raw)


async def test_importing_the_same_person_twice_changes_nothing(app: Any, estate: Any) -> None:
    vault, tid, node = app.state.vault, estate["tenant"].id, estate["units"][0][0]
    data = people.clean_resident({"name": "李四", "id_number": v.make_id_number("13082219800101123")})
    async with app.state.db.transaction(tid) as s:
        first, _ = await people.upsert_resident(s, vault, data, node)
    async with app.state.db.transaction(tid) as s:
        again, outcome = await people.upsert_resident(s, vault, data, node)
        count = (await s.execute(select(Resident))).scalars().all()
    assert outcome == "unchanged" and again.id == first.id and len(count) == 1


async def test_moving_keeps_the_residence_history(app: Any, estate: Any) -> None:
    vault, tid = app.state.vault, estate["tenant"].id
    (a, _), (b, _) = estate["units"][0], estate["units"][1]
    async with app.state.db.transaction(tid) as s:
        r, _ = await people.upsert_resident(
            s, vault, people.clean_resident({"name": "王五"}), a, "户主", date(2020, 1, 1)
        )
        await people.move_in(s, r, b, "租户", date(2024, 5, 1))
    async with app.state.db.session(tid) as s:
        stays = (await s.execute(select(Residence).order_by(Residence.moved_in))).scalars().all()
        current = await s.get(Resident, (tid, r.id))
    assert [(x.node_id, x.moved_in, x.moved_out) for x in stays] == [
        (a.id, date(2020, 1, 1), date(2024, 5, 1)),
        (b.id, date(2024, 5, 1), None),
    ]
    assert current is not None and current.node_path == b.path


async def test_a_batch_and_a_single_write_share_one_path(app: Any, estate: Any) -> None:
    """The import's batch and the form's single write give the same outcomes on the same people."""
    vault, tid = app.state.vault, estate["tenant"].id
    (a, _), (b, _) = estate["units"][0], estate["units"][1]
    one = people.clean_resident({"name": "孙八", "id_number": v.make_id_number("13082219800101125")})
    two = people.clean_resident({"name": "周九", "id_number": v.make_id_number("13082219800101126")})
    batch = [people.Placement(one, a.id, a.path, "户主"), people.Placement(two, a.id, a.path, "配偶")]
    async with app.state.db.transaction(tid) as s:
        dry = await people.upsert_residents(s, vault, batch, write=False)
        assert [o for _r, o in dry] == ["created", "created"] and not (await s.execute(select(Resident))).first()
        made = await people.upsert_residents(s, vault, batch)
    assert [o for _r, o in made] == ["created", "created"]
    async with app.state.db.transaction(tid) as s:
        again, outcome = await people.upsert_resident(s, vault, one, a, "户主")
        moved, moved_outcome = await people.upsert_resident(s, vault, two, b, "户主")
    assert (outcome, moved_outcome) == ("unchanged", "updated") and moved.node_id == b.id
    assert made[0][0] is not None and again.id == made[0][0].id


async def test_moving_in_again_makes_a_resident_active(app: Any, estate: Any) -> None:
    vault, tid = app.state.vault, estate["tenant"].id
    (a, _), (b, _) = estate["units"][0], estate["units"][1]
    async with app.state.db.transaction(tid) as s:
        r, _ = await people.upsert_resident(s, vault, people.clean_resident({"name": "吴十"}), a, "户主")
        await people.move_out(s, r, date(2024, 1, 1))
        assert r.status == "moved_out" and r.node_id is None
        await people.move_in(s, r, b, "户主", date(2024, 6, 1))
    async with app.state.db.session(tid) as s:
        current = await s.get(Resident, (tid, r.id))
    assert current is not None and current.status == "active" and current.node_id == b.id


async def test_owner_counts_follow_the_civil_code(app: Any, estate: Any) -> None:
    """One owner of two units counts once; two developer-held units count as one owner in total."""
    tid, units = estate["tenant"].id, estate["units"]
    async with app.state.db.transaction(tid) as s:
        zhang = Owner(kind="person", name="张三")
        dev1 = Owner(kind="developer", name="开发商甲")
        dev2 = Owner(kind="developer", name="开发商乙")
        s.add_all([zhang, dev1, dev2])
        await s.flush()
        s.add_all(
            [
                Ownership(household_id=units[0][1].id, owner_id=zhang.id),
                Ownership(household_id=units[1][1].id, owner_id=zhang.id),
                Ownership(household_id=units[2][1].id, owner_id=dev1.id),
                Ownership(household_id=units[3][1].id, owner_id=dev2.id),
            ]
        )
    async with app.state.db.session(tid) as s:
        totals = await people.owner_totals(s, estate["root"].path)
    assert totals.area == Decimal("345.75") and totals.households == 4 and totals.owners == 2


async def test_revealing_an_id_number_is_logged(app: Any, estate: Any) -> None:
    from core.audit.models import AuditEntry

    vault, tid, node = app.state.vault, estate["tenant"].id, estate["units"][0][0]
    async with app.state.db.transaction(tid) as s:
        r, _ = await people.upsert_resident(s, vault, people.clean_resident({"name": "赵六", "id_number": VALID}), node)
    async with app.state.db.transaction(tid) as s:
        row = await s.get(Resident, (tid, r.id))
        assert await people.reveal(s, vault, row, "id_number") == VALID
    async with app.state.db.session(tid) as s:
        logged = (await s.execute(select(AuditEntry).where(AuditEntry.action == "resident.reveal"))).scalars().all()
    assert [e.object_id for e in logged] == [str(r.id)]


@pytest.mark.skipif(not PG_URL, reason="row-level security is PostgreSQL's")
async def test_residents_table_is_behind_row_level_security(app: Any, estate: Any, db: Any) -> None:
    vault, tid, node = app.state.vault, estate["tenant"].id, estate["units"][0][0]
    async with app.state.db.transaction(tid) as s:
        await people.upsert_resident(s, vault, people.clean_resident({"name": "钱七"}), node)
    async with db.session(None) as s:
        assert (await s.execute(text("SELECT count(*) FROM residents"))).scalar_one() == 0
