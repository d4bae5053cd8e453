"""Ballots, notices, consents and the verification page as people use them: a worker opens a ballot
in their community, residents vote on the phone and through the API (once each), it closes with
the tally; a notice goes up on the community's public board, a resident objects and is answered;
a resident gives and withdraws a consent; a document's QR code opens its verification page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from core.services.ballots.models import Ballot
from core.services.notices.models import NoticeObjection
from core.web.services.common import form_datetime
from tests.conftest import form_post, login, main_text, make_client
from tests.core.services.conftest import add_node
from tests.core.services.test_account_pages import PASSWORD, give_role, sign_up_on_page


async def test_a_ballot_is_opened_voted_on_once_each_and_closed_with_its_tally(
    world: Any, app: Any, caplog: Any
) -> None:
    slug = world.tenant.slug
    async with world.transaction() as s:
        other = await add_node(s, world.root, "c7", "community", "别的社区")
    await give_role(world, "worker", "community_worker", world.community)
    await give_role(world, "elsewhere", "community_worker", other)
    now = datetime.now(UTC)
    async with make_client(app) as staff, make_client(app) as one, make_client(app) as two:
        await login(staff, slug, "worker", PASSWORD)
        r = await form_post(staff, f"/t/{slug}/ballots/new", {"title": "x", "node": str(world.community.id)})
        assert r.status_code == 400 and 'id="e-opens_at"' in r.text
        r = await form_post(
            staff,
            f"/t/{slug}/ballots/new",
            {
                "title": "是否同意增设电动车充电桩",
                "node": str(world.community.id),
                "kind": "question",
                "rule": "simple_majority",
                "opens_at": form_datetime(now - timedelta(minutes=5)),
                "closes_at": form_datetime(now + timedelta(days=3)),
                "electorate": "open",
                "eligibility": "everyone",
            },
        )
        assert r.status_code == 303
        ballot_id = int(re.search(r"/ballots/(\d+)/staff", r.headers["location"]).group(1))
        assert (await one.get(f"/t/{slug}/ballots/{ballot_id}")).status_code in (302, 303)  # not signed in
        assert (await form_post(staff, f"/t/{slug}/ballots/{ballot_id}/open")).status_code == 303

        await sign_up_on_page(one, slug, caplog, "13955550001", "甲")
        await sign_up_on_page(two, slug, caplog, "13955550002", "乙")
        r = await one.get(f"/t/{slug}/me/ballots")
        assert "是否同意增设电动车充电桩" in r.text
        r = await one.get(f"/t/{slug}/ballots/{ballot_id}")
        yes = re.search(r'name="option" value="(\d+)"', r.text).group(1)
        r = await form_post(one, f"/t/{slug}/ballots/{ballot_id}/vote", {})
        assert r.status_code == 400  # no choice made
        assert (await form_post(one, f"/t/{slug}/ballots/{ballot_id}/vote", {"option": yes})).status_code == 303
        r = await form_post(one, f"/t/{slug}/ballots/{ballot_id}/vote", {"option": yes})
        assert r.status_code == 409  # one ballot per voter

        # The second voter votes through the API.
        api = two
        r = await api.post(f"/t/{slug}/api/v1/accounts/sign-in", json={"phone": "13955550002", "password": PASSWORD})
        auth = {"Authorization": f"Bearer {r.json()['token']}"}
        r = await api.get(f"/t/{slug}/api/v1/ballots/{ballot_id}", headers=auth)
        no = next(o["id"] for o in r.json()["options"] if o["label"] == "反对")
        r = await api.post(f"/t/{slug}/api/v1/ballots/{ballot_id}/vote", json={"option_ids": [no]}, headers=auth)
        assert r.status_code == 200 and r.json()["my_vote"]["options"] == [no]

    async with make_client(app) as staff:
        await login(staff, slug, "elsewhere", PASSWORD)
        assert (await staff.get(f"/t/{slug}/ballots/{ballot_id}/staff")).status_code == 404
    async with make_client(app) as staff:
        await login(staff, slug, "worker", PASSWORD)
        r = await form_post(staff, f"/t/{slug}/ballots/{ballot_id}/close", {})
        assert r.status_code == 400  # closing early needs a reason
        r = await form_post(staff, f"/t/{slug}/ballots/{ballot_id}/close", {"reason": "全体已表决"})
        assert r.status_code == 303
        r = await staff.get(f"/t/{slug}/ballots/{ballot_id}/staff")
        assert 'data-testid="ballot-result"' in r.text and 'data-testid="recount-ok"' in r.text
    async with world.session() as s:
        ballot = (await s.execute(select(Ballot).where(Ballot.id == ballot_id))).scalar_one()
        assert ballot.status == "closed" and ballot.result["counts"]["cast_heads"] == 2
        assert ballot.result["outcome"]["passed"] is False  # one yes of two is not more than half


async def test_notice_board_objection_and_answer(world: Any, app: Any, caplog: Any) -> None:
    slug = world.tenant.slug
    await give_role(world, "worker", "community_worker", world.community)
    now = datetime.now(UTC)
    async with make_client(app) as staff, make_client(app) as phone, make_client(app) as anyone:
        await login(staff, slug, "worker", PASSWORD)
        r = await form_post(
            staff,
            f"/t/{slug}/notices/new",
            {
                "title": "2026年度低保评议结果公示",
                "body": "经评议，拟同意以下家庭……",
                "node": str(world.community.id),
                "starts_at": form_datetime(now - timedelta(minutes=1)),
                "ends_at": form_datetime(now + timedelta(days=7)),
            },
        )
        assert r.status_code == 303
        notice_id = int(re.search(r"/notices/(\d+)/staff", r.headers["location"]).group(1))
        # The board is public: no sign-in, and the grid's board shows the community's notice too.
        r = await anyone.get(f"/t/{slug}/board/{world.grid.id}")
        assert r.status_code == 200 and "2026年度低保评议结果公示" in r.text
        await sign_up_on_page(phone, slug, caplog, "13966660000", "丙")
        r = await form_post(phone, f"/t/{slug}/notices/{notice_id}/object", {"body": ""})
        assert r.status_code == 400
        r = await form_post(phone, f"/t/{slug}/notices/{notice_id}/object", {"body": "第三户家庭有营业收入"})
        assert r.status_code == 303
        async with world.session() as s:
            objection = (await s.execute(select(NoticeObjection))).scalars().one()
        r = await form_post(
            staff,
            f"/t/{slug}/notices/{notice_id}/objections/{objection.id}/answer",
            {"answer": "经核实，收入未超标准。"},
        )
        assert r.status_code == 303
        r = await phone.get(f"/t/{slug}/notices/{notice_id}")
        assert "经核实，收入未超标准。" in main_text(r.text)
        r = await form_post(staff, f"/t/{slug}/notices/{notice_id}/withdraw", {"reason": "评议重做"})
        assert r.status_code == 303
        assert (await anyone.get(f"/t/{slug}/notices/{notice_id}")).status_code == 404


async def test_consents_given_and_withdrawn_and_the_verification_page(world: Any, app: Any, caplog: Any) -> None:
    slug = world.tenant.slug
    async with make_client(app) as phone:
        await sign_up_on_page(phone, slug, caplog, "13977770000", "丁")
        r = await phone.get(f"/t/{slug}/me/consents?purpose=example.publish_name&scope=同意公开我的姓名")
        assert 'data-testid="consent-offer"' in r.text
        r = await form_post(
            phone,
            f"/t/{slug}/me/consents/give",
            {"purpose": "example.publish_name", "scope": "同意公开我的姓名", "subject": "user"},
        )
        assert r.status_code == 303
        r = await phone.get(f"/t/{slug}/me/consents")
        assert 'data-testid="consent-withdraw"' in r.text
        r = await form_post(
            phone, f"/t/{slug}/me/consents/withdraw", {"purpose": "example.publish_name", "subject": "user"}
        )
        assert r.status_code == 303
        r = await form_post(
            phone, f"/t/{slug}/me/consents/withdraw", {"purpose": "example.publish_name", "subject": "user"}
        )
        assert r.status_code == 409
        r = await form_post(phone, f"/t/{slug}/me/consents/give", {"purpose": "x", "scope": "y", "subject": "resident"})
        assert r.status_code == 409  # no linked record yet
    async with make_client(app) as anyone:
        r = await anyone.get(f"/t/{slug}/verify/nonexistent-code")
        assert r.status_code == 404 and 'data-testid="verify-unknown"' in r.text
