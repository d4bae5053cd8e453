"""Points as people see them: the district admin sets a rule, a worker posts points to a participant
of an activity in their community within the rule (a double tap posts once), a wrong posting is
reversed (never edited), the resident sees balance and history on the phone and through the API;
a worker of another community gets 404."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from core.services.ledger.models import LedgerPosting
from tests.conftest import form_post, login, main_text, make_client
from tests.core.services.conftest import add_node
from tests.core.services.test_account_pages import PASSWORD, give_role, sign_up_on_page
from tests.core.services.test_activity_pages import publish


async def test_rules_posting_reversal_and_my_points(world: Any, app: Any, caplog: Any) -> None:
    slug = world.tenant.slug
    async with world.transaction() as s:
        other = await add_node(s, world.root, "c8", "community", "别的社区")
    await give_role(world, "chief", "district_admin", world.root)
    await give_role(world, "worker", "community_worker", world.community)
    await give_role(world, "elsewhere", "community_worker", other)
    async with make_client(app) as chief:
        await login(chief, slug, "chief", PASSWORD)
        r = await form_post(chief, f"/t/{slug}/points/rules", {"code": "Bad Code", "title": "x", "max_amount": "5"})
        assert r.status_code == 400 and 'id="e-code"' in r.text
        r = await form_post(
            chief,
            f"/t/{slug}/points/rules",
            {"code": "volunteer_hour", "title": "志愿服务", "direction": "earn", "max_amount": "10"},
        )
        assert r.status_code == 303
    async with make_client(app) as staff, make_client(app) as phone:
        await login(staff, slug, "worker", PASSWORD)
        activity_id = await publish(staff, slug, world.grid.id)
        await sign_up_on_page(phone, slug, caplog, "13944440000", "吴")
        await form_post(phone, f"/t/{slug}/activities/{activity_id}/signup")
        r = await staff.get(f"/t/{slug}/activities/{activity_id}/staff")
        user_id = int(re.search(r"/points/people/(\d+)", r.text).group(1))
        r = await staff.get(f"/t/{slug}/points/people/{user_id}")
        key = re.search(r'name="key" value="([^"]+)"', r.text).group(1)
        form = {"rule": "volunteer_hour", "amount": "20", "memo": "环境清扫", "key": key}
        r = await form_post(staff, f"/t/{slug}/points/people/{user_id}", form)
        assert r.status_code == 400 and 'id="e-amount"' in r.text  # more than the rule allows
        for _ in range(2):  # a double tap
            r = await form_post(staff, f"/t/{slug}/points/people/{user_id}", {**form, "amount": "5"})
            assert r.status_code == 303
        async with world.session() as s:
            assert await s.scalar(select(func.count()).select_from(LedgerPosting)) == 1
            posting_id = (await s.execute(select(LedgerPosting.id))).scalar_one()
        r = await phone.get(f"/t/{slug}/me/points")
        assert 'data-testid="points-total">5.00<' in r.text and "环境清扫" in main_text(r.text)
        r = await form_post(staff, f"/t/{slug}/points/postings/{posting_id}/reverse", {"reason": ""})
        assert r.status_code == 400
        r = await form_post(staff, f"/t/{slug}/points/postings/{posting_id}/reverse", {"reason": "录错了人"})
        assert r.status_code == 303
        r = await phone.get(f"/t/{slug}/me/points")
        assert 'data-testid="points-total">0.00<' in r.text and "录错了人" in r.text
        assert (await phone.get(f"/t/{slug}/points/")).status_code == 403
    async with make_client(app) as staff:
        await login(staff, slug, "elsewhere", PASSWORD)
        assert (await staff.get(f"/t/{slug}/points/people/{user_id}")).status_code == 404
        r = await form_post(staff, f"/t/{slug}/points/postings/{posting_id}/reverse", {"reason": "x"})
        assert r.status_code == 404
        assert "吴" not in main_text((await staff.get(f"/t/{slug}/points/")).text)
