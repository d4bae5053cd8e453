"""Resident accounts as a resident and a community worker notice them: sign up on a phone with a
code (sent through the notification adapters; the logging one shows it), codes that expire and
resist guessing, sign-in by phone and password, linking to the resident record at once or by a
worker in scope, and outside identity providers."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.grids import people
from core.rbac.models import RoleAssignment
from core.services import accounts, events
from core.services._common import now
from core.services.accounts.models import OneTimeCode
from core.services.errors import Conflict, InvalidInput, NotFound
from tests.core.services.conftest import add_node

PHONE = "13912345678"
ID_NUMBER = people.v.make_id_number("13082119800101123")


def sent_code(caplog: Any) -> str:
    """The last code the logging adapter 'sent' (what the demo shows)."""
    codes = re.findall(r"验证码 (\d{6})", caplog.text)
    assert codes, "no code was sent"
    return codes[-1]


async def _sign_up(world: Any, app: Any, caplog: Any, phone: str = PHONE, name: str = "张安安") -> Any:
    caplog.set_level(logging.INFO, logger="liuzhi.notify")
    async with world.transaction() as s:
        await accounts.request_code(s, app.state.plugins, app.state.vault, phone, district="测试区")
    async with world.transaction() as s:
        user, account = await accounts.sign_up(
            s, app.state.vault, phone, sent_code(caplog), display_name=name, password="secret-pass-1"
        )
        assert [e.name for e in events.pending(s)] == ["account.signed_up"]
    return user, account


async def test_a_resident_signs_up_with_a_code_and_signs_in_by_phone(world: Any, app: Any, caplog: Any) -> None:
    user, account = await _sign_up(world, app, caplog)
    assert "【测试区】验证码" in caplog.text and PHONE not in caplog.text.split("验证码")[0][-40:]
    assert account.phone_masked == "139****5678" and user.username != PHONE
    async with world.session() as s:
        roles = (await s.execute(select(RoleAssignment).where(RoleAssignment.user_id == user.id))).scalars().all()
        assert [(r.role_code, r.node_id) for r in roles] == [("resident", world.root.id)]
        assert (await accounts.authenticate(s, app.state.vault, "139 1234 5678", "secret-pass-1")).id == user.id
        assert await accounts.authenticate(s, app.state.vault, PHONE, "wrong-pass") is None
        assert await accounts.authenticate(s, app.state.vault, "13900000000", "secret-pass-1") is None
        with pytest.raises(Conflict, match="already has an account"):
            await accounts.request_code(s, app.state.plugins, app.state.vault, PHONE)


async def test_sign_in_with_a_code_and_a_password_set_later(world: Any, app: Any, caplog: Any) -> None:
    user, _ = await _sign_up(world, app, caplog, phone="13800001111")
    async with world.transaction() as s:
        await accounts.request_code(
            s,
            app.state.plugins,
            app.state.vault,
            "13800001111",
            purpose=accounts.SIGN_IN,
            at=now() + timedelta(minutes=2),
        )
    async with world.transaction() as s:
        signed = await accounts.sign_in_with_code(
            s, app.state.vault, "13800001111", sent_code(caplog), at=now() + timedelta(minutes=2)
        )
        assert signed.id == user.id
        with pytest.raises(InvalidInput, match="at least 8"):
            await accounts.set_password(s, signed, "short")
        await accounts.set_password(s, signed, "a-new-password")
        assert await accounts.authenticate(s, app.state.vault, "13800001111", "a-new-password") is not None


async def test_codes_expire_cannot_be_reused_and_wrong_guesses_count_even_after_rollback(
    world: Any, app: Any, caplog: Any
) -> None:
    caplog.set_level(logging.INFO, logger="liuzhi.notify")
    vault, phone = app.state.vault, "13700002222"
    async with world.transaction() as s:
        await accounts.request_code(s, app.state.plugins, vault, phone)
        with pytest.raises(Conflict, match="wait a minute"):
            await accounts.request_code(s, app.state.plugins, vault, phone)
    code = sent_code(caplog)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(accounts.CODE_ATTEMPTS):
        with pytest.raises(InvalidInput, match="not right"):
            async with world.transaction() as s:  # rolled back each time, as a failing request is
                await accounts.sign_up(s, vault, phone, wrong, display_name="x")
    with pytest.raises(InvalidInput, match="Too many wrong codes"):
        async with world.transaction() as s:
            await accounts.sign_up(s, vault, phone, code, display_name="x")
    async with world.transaction() as s:  # a fresh code works, once, until it expires
        await accounts.request_code(s, app.state.plugins, vault, phone, at=now() + timedelta(minutes=2))
    code = sent_code(caplog)
    with pytest.raises(InvalidInput, match="expired"):
        async with world.transaction() as s:
            await accounts.sign_up(s, vault, phone, code, display_name="x", at=now() + timedelta(minutes=13))
    async with world.transaction() as s:
        await accounts.sign_up(s, vault, phone, code, display_name="李四", at=now() + timedelta(minutes=3))
    async with world.session() as s:
        rows = (await s.execute(select(OneTimeCode.code_hash))).scalars().all()
        assert code not in "".join(rows)  # only keyed hashes are stored
    with pytest.raises(InvalidInput):
        async with world.transaction() as s:
            await accounts.sign_up(s, vault, phone, code, display_name="x")


async def test_a_phone_gets_at_most_five_codes_an_hour(world: Any, app: Any) -> None:
    async with world.transaction() as s:
        for i in range(5):
            await accounts.request_code(
                s, app.state.plugins, app.state.vault, "13600003333", at=now() + timedelta(minutes=2 * i)
            )
        with pytest.raises(Conflict, match="Too many codes"):
            await accounts.request_code(
                s, app.state.plugins, app.state.vault, "13600003333", at=now() + timedelta(minutes=11)
            )
        with pytest.raises(InvalidInput):
            await accounts.request_code(s, app.state.plugins, app.state.vault, "12345")


async def _resident(world: Any, app: Any, name: str, id_number: str, node: Any) -> Any:
    async with world.transaction() as s:
        data = people.clean_resident({"name": name, "id_number": id_number})
        resident, _ = await people.upsert_resident(s, app.state.vault, data, node)
        return resident


async def test_name_and_id_number_matching_a_record_link_at_once(world: Any, app: Any, caplog: Any) -> None:
    async with world.transaction() as s:
        home = await add_node(s, world.grid, "h1", "household", "1-101")
    resident = await _resident(world, app, "张安安", ID_NUMBER, home)
    user, _ = await _sign_up(world, app, caplog)
    async with world.transaction() as s:
        link = await accounts.request_link(s, app.state.vault, user.id, name="张安安", id_number=ID_NUMBER.lower())
        assert (link.status, link.method) == ("confirmed", "id_match")
        assert (await accounts.linked_resident(s, user.id)).id == resident.id
        assert events.pending(s)[-1].name == "account.linked"
        with pytest.raises(Conflict, match="already linked"):
            await accounts.request_link(s, app.state.vault, user.id, name="张安安", id_number=ID_NUMBER)


async def test_a_mismatch_waits_for_a_worker_in_scope_who_confirms_or_rejects(
    world: Any, app: Any, caplog: Any
) -> None:
    async with world.transaction() as s:
        home = await add_node(s, world.grid, "h2", "household", "2-101")
        other_community = await add_node(s, world.root, "c2", "community", "御祥园社区")
    resident = await _resident(world, app, "王小明", people.v.make_id_number("13082119900202224"), home)
    user, _ = await _sign_up(world, app, caplog, phone="13500004444", name="小明")
    async with world.transaction() as s:
        with pytest.raises(InvalidInput):
            await accounts.request_link(s, app.state.vault, user.id, name="王小明", id_number="123")
        link = await accounts.request_link(
            s,
            app.state.vault,
            user.id,
            name="王晓明",  # a typo in the name
            id_number=people.v.make_id_number("13082119900202224"),
            household_node_id=home.id,
        )
        assert link.status == "pending" and link.resident_id == resident.id
        with pytest.raises(Conflict, match="waiting"):
            await accounts.request_link(s, app.state.vault, user.id, name="王晓明", id_number=ID_NUMBER)
    async with world.transaction("staff") as s:
        assert [x.id for x in await accounts.pending_links(s, [world.community.path])] == [link.id]
        assert await accounts.pending_links(s, [other_community.path]) == []
        with pytest.raises(InvalidInput, match="why"):
            await accounts.decide_link(s, link.id, confirm=False)
        decided = await accounts.decide_link(s, link.id, confirm=True, reason="电话核实：姓名录入有误")
        with pytest.raises(Conflict, match="already been decided"):
            await accounts.decide_link(s, link.id, confirm=False, reason="x")
        assert (await accounts.linked_resident(s, user.id)).id == resident.id
        assert decided.decided_by == world.users["staff"].id and decided.method == "worker"


async def test_a_record_held_by_another_account_is_never_linked_at_once(world: Any, app: Any, caplog: Any) -> None:
    number = people.v.make_id_number("13082119850303336")
    await _resident(world, app, "赵六", number, world.grid)
    first, _ = await _sign_up(world, app, caplog, phone="13400005555", name="赵六")
    async with world.transaction() as s:
        assert (
            await accounts.request_link(s, app.state.vault, first.id, name="赵六", id_number=number)
        ).status == "confirmed"
    second, _ = await _sign_up(world, app, caplog, phone="13400006666", name="赵六")
    async with world.transaction() as s:
        link = await accounts.request_link(s, app.state.vault, second.id, name="赵六", id_number=number)
        assert link.status == "pending"
        with pytest.raises(Conflict, match="Another account"):
            await accounts.decide_link(s, link.id, confirm=True)
        rejected = await accounts.decide_link(s, link.id, confirm=False, reason="该居民已有账号")
        assert rejected.status == "rejected" and events.pending(s)[-1].name == "account.link_rejected"


async def test_an_outside_provider_signs_in_the_account_with_the_phone_it_vouches_for(
    world: Any, app: Any, caplog: Any
) -> None:
    user, _ = await _sign_up(world, app, caplog, phone="13300007777")
    dev = accounts.DevelopmentIdentity()
    async with world.transaction() as s:
        same = await accounts.sign_in_external(s, app.state.vault, dev, {"subject": "wx-1", "phone": "13300007777"})
        assert same.id == user.id
        again = await accounts.sign_in_external(s, app.state.vault, dev, {"subject": "wx-1"})
        assert again.id == user.id
        fresh = await accounts.sign_in_external(
            s, app.state.vault, dev, {"subject": "gov-9", "name": "钱七", "phone": "13300008888"}
        )
        assert fresh.id != user.id and fresh.display_name == "钱七"
        assert (await accounts.account_of(s, fresh.id)).phone_masked == "133****8888"
        with pytest.raises(NotFound, match="no verified phone"):
            await accounts.sign_in_external(s, app.state.vault, dev, {"subject": "anon"})
        with pytest.raises(InvalidInput, match="did not succeed"):
            await accounts.sign_in_external(s, app.state.vault, dev, {})
