"""The worklist dashboard: each person lands on what waits for them, with counts that lead to the
list of exactly those rows, and never to a page they are then refused."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import main_text

ROLES = ("admin", "subdistrict_officer", "community", "grid_worker")


def work_items(html: str) -> list[tuple[int, str, str]]:
    """(count, label, href) of each worklist line."""
    out = []
    for href, count, label in re.findall(
        r'<a href="([^"]+)" data-testid="work-item"><span class="lz-work-count">(\d+)</span> '
        r'<span class="lz-work-label">([^<]+)</span>',
        html,
    ):
        out.append((int(count), label, href.replace("&amp;", "&")))
    return out


@pytest.mark.parametrize("who", ROLES)
async def test_every_worklist_line_counts_something_and_opens_a_page_the_user_may_see(signed_in: Any, who: str) -> None:
    c = await signed_in("shuangluan", who)
    items = work_items((await c.get("/t/shuangluan/")).text)
    assert items, f"{who} has nothing waiting in the demo district"
    for count, label, href in items:
        assert count > 0, label
        r = await c.get(href)
        assert r.status_code == 200, f"{who}: {label} → {href} answered {r.status_code}"


async def test_an_administrators_count_of_events_to_accept_is_the_length_of_the_list_it_opens(as_admin: Any) -> None:
    items = {label: (count, href) for count, label, href in work_items((await as_admin.get("/t/shuangluan/")).text)}
    count, href = items["待受理"]
    assert href == "/t/shuangluan/smart-service/events?state=reported"
    listed = main_text((await as_admin.get(href)).text)
    # Each card shows its state once; the filter's own option says it once more.
    assert 1 <= count <= 50 and listed.count("已上报") - 1 == count


async def test_a_grid_worker_sees_their_own_tasks_to_handle_not_the_dispatchers_queue(as_grid_worker: Any) -> None:
    labels = [label for _n, label, _h in work_items((await as_grid_worker.get("/t/shuangluan/")).text)]
    assert "待处置" in labels
    assert "待派遣" not in labels and "待受理" not in labels


async def test_a_resident_has_no_staff_worklist(as_resident: Any) -> None:
    html = (await as_resident.get("/t/shuangluan/")).text
    assert work_items(html) == []
