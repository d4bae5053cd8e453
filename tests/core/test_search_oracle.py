"""No oracle on masked data: a user who may not reveal an ID number or phone learns nothing by
searching for it — residents and organisations, lists and exports. Exact search is a reveal for
those who may reveal: audited and rate-limited. And the default roles follow the minimum
necessary rule, with reads of the register logged."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.grids import people
from core.grids import validation as v
from core.grids.basedata import Organisation, Resident
from core.identity.models import User
from core.rbac.models import RoleAssignment, RolePermission
from core.web.context import load_tenant
from tests.conftest import main_text

# Roles the issue names as "may not reveal" by default, plus the ones that now lose the register.
NO_REVEAL = ("grid_worker", "grid_leader", "subdistrict_officer", "community_worker", "party_admin", "mediator")
# What differs between any two requests: tokens, nonces, request ids.
TOKENS = re.compile(r'(nonce|value|content)="[^"]*"|lz_[\w-]+|\b[0-9a-f]{16,}\b')


async def _target(app: Any) -> tuple[int, Resident, str, str]:
    """A resident of the grid worker's grid with an ID number and a phone, and their full values."""
    config = await load_tenant(app.state, slug="shuangluan")
    vault = app.state.vault
    async with app.state.db.session(config.tenant.id) as s:
        grid = (
            await s.execute(
                select(RoleAssignment.node_path)
                .join(User, User.id == RoleAssignment.user_id)
                .where(User.username == "grid_worker", RoleAssignment.role_code == "grid_worker")
            )
        ).scalar_one()
        rows = (
            await s.execute(
                select(Resident)
                .where(
                    Resident.id_number_enc.is_not(None),
                    Resident.phone_enc.is_not(None),
                    Resident.node_path.startswith(grid),
                )
                .order_by(Resident.id)
            )
        ).scalars()
        for r in rows:
            if r.node_path:
                idn = vault.decrypt(r.id_number_enc, people.ID_PURPOSE.encode())
                phone = vault.decrypt(r.phone_enc, people.PHONE_PURPOSE.encode())
                return config.tenant.id, r, idn, phone
    raise AssertionError("no demo resident with an ID number")


def _other_id(idn: str) -> str:
    """Another valid ID number with the same mask (what an attacker's guess looks like)."""
    for month in range(1, 13):
        for day in range(1, 29):
            other = v.make_id_number(idn[:10] + f"{month:02d}{day:02d}" + idn[14:17])
            if other != idn and v.mask_id_number(other) == v.mask_id_number(idn):
                return other
    raise AssertionError("no other ID number with that mask")


def _other_phone(phone: str) -> str:
    return phone[:3] + ("0000" if phone[3:7] != "0000" else "1111") + phone[7:]


# The action each searched page's guard requires.
GUARD = {
    "/t/shuangluan/residents/": "core.resident.view",
    "/t/shuangluan/residents/export": "core.resident.export",
    "/t/shuangluan/organisations/": "core.org.view",
}


async def _refusal(app: Any, tenant_id: int, role: str, path: str) -> int:
    """403 where the role may not open the page at all (the guard); else 400, the refused search."""
    async with app.state.db.session(tenant_id) as s:
        held = await s.execute(
            select(RolePermission.action).where(RolePermission.role_code == role, RolePermission.action == GUARD[path])
        )
        return 400 if held.first() is not None else 403


def _seen(r: Any) -> tuple[int, str]:
    return r.status_code, TOKENS.sub("", main_text(r.text))


@pytest.mark.parametrize("role_user", NO_REVEAL)
async def test_a_user_who_may_not_reveal_learns_nothing_from_an_exact_search(
    app: Any, signed_in: Any, role_user: str
) -> None:
    tid, resident, idn, phone = await _target(app)
    c = await signed_in("shuangluan", role_user)
    for right, wrong in ((idn, _other_id(idn)), (phone, _other_phone(phone))):
        for path in GUARD:
            a = await c.get(path, params={"q": right})
            b = await c.get(path, params={"q": wrong})
            assert _seen(a) == _seen(b), f"{role_user} tells {path}?q=<right> from <wrong>"
            assert resident.name not in main_text(a.text) or path.startswith("/t/shuangluan/organisations")
            assert a.status_code == await _refusal(app, tid, role_user, path)


async def test_searching_by_the_visible_parts_still_finds_the_resident(app: Any, signed_in: Any) -> None:
    _tid, resident, idn, _phone = await _target(app)
    worker = await signed_in("shuangluan", "grid_worker")
    r = await worker.get("/t/shuangluan/residents/", params={"q": idn[-4:]})
    assert r.status_code == 200 and resident.name in r.text
    r = await worker.get("/t/shuangluan/residents/", params={"q": v.mask_id_number(idn)})
    assert r.status_code == 200 and resident.name in r.text


async def test_an_exact_search_by_who_may_reveal_is_audited_as_a_reveal_and_rate_limited(
    app: Any, signed_in: Any
) -> None:
    tid, resident, idn, _phone = await _target(app)
    secretary = await signed_in("shuangluan", "community")
    counter = app.state.login_brake.counter
    async with app.state.db.session(tid) as s:
        uid = (await s.execute(select(User.id).where(User.username == "community"))).scalar_one()
    key = f"t{tid}:lookup:search:{uid}"
    await counter.clear(key)
    try:
        r = await secretary.get("/t/shuangluan/residents/", params={"q": idn})
        assert r.status_code == 200 and resident.name in r.text
        async with app.state.db.session(tid) as s:
            entry = (
                await s.execute(
                    select(AuditEntry)
                    .where(AuditEntry.action == "resident.search_reveal")
                    .order_by(AuditEntry.id.desc())
                    .limit(1)
                )
            ).scalar_one()
        assert entry.changes == {"field": "id_number", "value": v.mask_id_number(idn)}
        assert idn not in str(entry.changes)
        statuses = [(await secretary.get("/t/shuangluan/residents/", params={"q": idn})).status_code for _ in range(30)]
        assert statuses[-1] == 429 and statuses.count(200) == 29
    finally:
        await counter.clear(key)


async def test_an_organisations_contact_phone_is_searchable_only_by_who_may_reveal(app: Any, signed_in: Any) -> None:
    config = await load_tenant(app.state, slug="shuangluan")
    async with app.state.db.session(config.tenant.id) as s:
        org = (
            await s.execute(select(Organisation).where(Organisation.contact_phone_enc.is_not(None)).limit(1))
        ).scalar_one()
    phone = app.state.vault.decrypt(org.contact_phone_enc, people.PHONE_PURPOSE.encode())
    admin = await signed_in("shuangluan", "admin")
    r = await admin.get("/t/shuangluan/organisations/", params={"q": phone})
    assert r.status_code == 200 and org.name in r.text
    worker = await signed_in("shuangluan", "subdistrict_officer")
    r = await worker.get("/t/shuangluan/organisations/", params={"q": phone})
    assert r.status_code == 400 and org.name not in main_text(r.text)


@pytest.mark.parametrize("role_user", ["party_admin", "mediator", "building_head"])
async def test_roles_that_do_not_keep_the_register_do_not_get_it_by_default(signed_in: Any, role_user: str) -> None:
    c = await signed_in("shuangluan", role_user)
    assert (await c.get("/t/shuangluan/residents/")).status_code == 403


async def test_reading_a_residents_record_is_logged(app: Any, signed_in: Any) -> None:
    tid, resident, _idn, _phone = await _target(app)
    worker = await signed_in("shuangluan", "grid_worker")
    r = await worker.get(f"/t/shuangluan/residents/{resident.id}")
    assert r.status_code == 200
    async with app.state.db.session(tid) as s:
        logged = (
            (
                await s.execute(
                    select(AuditEntry).where(
                        AuditEntry.action == "resident.view", AuditEntry.object_id == str(resident.id)
                    )
                )
            )
            .scalars()
            .all()
        )
    assert logged and logged[-1].actor_name == "grid_worker"
