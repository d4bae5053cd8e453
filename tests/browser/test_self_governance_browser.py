"""居民自治's owners' e-vote in a real browser: the community secretary notices an assembly of
安顺乐居's owners; three owners vote on their phones while the secretary's page shows the
participation (area and headcount) move without a reload; paper ballots collected door to door
are entered; the secretary closes the vote and the result with its tally is on the estate's
notice board, where an owner reads it on the phone. Screenshots: tests/artifacts/sg-<step>-<database>.png.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from core.grids.models import GridNode
from core.identity.models import User
from core.services._common import now
from core.services.ballots.models import BallotElector, BallotElectorMember
from core.tenancy.service import get_tenant
from plugins.self_governance import assemblies
from plugins.self_governance.settings import Settings
from tests.browser.conftest import LiveServer, shot_path, sign_in

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
TITLE = "关于加装电动自行车充电棚的业主大会"


async def _setup(app: Any) -> tuple[int, int, list[str], list[str]]:
    """A vote noticed 16 days ago and open now; three owners' usernames (distinct electors) and
    the keys of six more owners whose paper ballots come in later."""
    tenant = await get_tenant(app.state.db, "shuangluan")
    async with app.state.db.transaction(tenant.id) as s:
        estate = (await s.execute(select(GridNode).where(GridNode.code == "sl-ybs-sa-g01-asly"))).scalar_one()
        a = await assemblies.create(
            s,
            Settings(),
            node=estate,
            title=TITLE,
            items=[("在2号楼北侧建设电动自行车充电棚", 8)],
            noticed_at=now() - timedelta(days=16),
            opens_at=now() - timedelta(hours=1),
            closes_at=now() + timedelta(days=6),
        )
        (item,) = await assemblies.items_of(s, a.id)
        rows = await s.execute(
            select(BallotElector.key, User.username)
            .join(BallotElectorMember, BallotElectorMember.elector_id == BallotElector.id)
            .join(User, User.id == BallotElectorMember.user_id)
            .where(BallotElector.ballot_id == item.ballot_id)
            .order_by(BallotElector.weight.desc(), User.username)
        )
        voters: dict[str, str] = {}
        for key, username in rows:
            voters.setdefault(key, username)
        keys = list(voters)
        return a.id, estate.id, [voters[k] for k in keys[:3]], [*keys[3:8], "developer"]


async def test_three_owners_vote_on_phones_and_the_result_is_published(
    app: Any, live_server: LiveServer, new_context: Any
) -> None:
    aid, estate_id, owners, paper = await _setup(app)
    base = "/t/shuangluan/self-governance"
    staff = await (await new_context(**PHONE)).new_page()
    await sign_in(staff, live_server, "shuangluan", "community")
    await staff.goto(live_server.url(f"{base}/assemblies/{aid}"))
    heads = staff.locator("[data-testid=heads-share]").first
    await expect(heads).to_have_text("0.0%")
    await staff.screenshot(path=shot_path("sg-1-noticed"), full_page=True)

    for n, username in enumerate(owners, 1):
        phone = await (await new_context(**PHONE)).new_page()
        await sign_in(phone, live_server, "shuangluan", username)
        await phone.goto(live_server.url(f"{base}/my/"))
        await phone.locator("[data-testid=my-vote]", has_text=TITLE).click()
        await phone.locator("[data-testid=choice-1-yes]").check()
        await phone.locator("[data-testid=cast]").click()
        await expect(phone.locator("[data-testid=voted]")).to_be_visible()
        if n == 1:
            await phone.screenshot(path=shot_path("sg-2-owner-voted"), full_page=True)
        # the secretary's page polls: the headcount moves to n of the estate's owners, no reload
        await expect(heads).not_to_have_text("0.0%", timeout=12_000)
        await expect(staff.locator("[data-testid=item]").first).to_contain_text(f"({n} / ", timeout=12_000)
        await phone.context.close()
    await staff.screenshot(path=shot_path("sg-3-participation"), full_page=True)

    # paper ballots collected door to door, entered by staff (the developer's unsold units among them)
    tenant = await get_tenant(app.state.db, "shuangluan")
    async with app.state.db.transaction(tenant.id) as s:
        a = await assemblies.get(s, aid)
        (item,) = await assemblies.items_of(s, aid)
        for key in paper:
            await assemblies.enter_paper(s, a, key, {item.id: "yes" if key != paper[0] else "no"})

    await staff.reload()
    await staff.locator("input[name=reason]").fill("业主已全部表决完毕")
    staff.once("dialog", lambda d: d.accept())
    await staff.locator("[data-testid=close-vote]").click()
    result = staff.locator("[data-testid=result]")
    await expect(result).to_contain_text("通过")
    await expect(result).to_contain_text("同意")
    await staff.screenshot(path=shot_path("sg-4-result"), full_page=True)

    reader = await (await new_context(**PHONE)).new_page()
    await sign_in(reader, live_server, "shuangluan", owners[0])
    await reader.goto(live_server.url(f"{base}/board/{estate_id}"))
    notice = reader.locator("[data-testid=notice]", has_text=f"业主大会表决结果公告：{TITLE}")
    await expect(notice).to_contain_text("（第278条第8项）：通过")
    await expect(notice).to_contain_text("参与表决面积")
    await reader.screenshot(path=shot_path("sg-5-board"), full_page=True)
