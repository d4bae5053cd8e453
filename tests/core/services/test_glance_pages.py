"""Six pillars at a glance: a community's page and the staff dashboard show every enabled plugin's
headline figures from ``node_figures`` — here the shared services' own (activities held, hours
served, ballots closed, notices up), counted for the node and everything under it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.services import activities
from tests.conftest import login, main_text, make_client
from tests.core.services.test_account_pages import PASSWORD, give_role


async def test_a_community_page_and_the_dashboard_show_its_figures(world: Any, app: Any) -> None:
    slug = world.tenant.slug
    worker_id = await give_role(world, "worker", "community_worker", world.community)
    start = datetime.now(UTC) - timedelta(hours=3)
    async with world.transaction() as s:
        act = await activities.publish(
            s, title="清扫", node=world.grid, starts_at=start, ends_at=start + timedelta(hours=2), source="core"
        )
        await activities.sign_up(s, act.id, worker_id, by_staff=True, at=start - timedelta(hours=1))
        await activities.set_minutes(s, act.id, worker_id, 90, "补录")
    async with make_client(app) as staff:
        await login(staff, slug, "worker", PASSWORD)
        r = await staff.get(f"/t/{slug}/grid/{world.community.id}", headers={"Accept-Language": "en"})
        assert r.status_code == 200 and 'data-testid="glance"' in r.text
        text = main_text(r.text)
        assert "Activities this year" in text or "今年活动" in text
        assert "1.5" in text  # hours served under the community
        r = await staff.get(f"/t/{slug}/")
        assert 'data-testid="glance"' in r.text and "1.5" in main_text(r.text)
