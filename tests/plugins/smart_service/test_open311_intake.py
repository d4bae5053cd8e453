"""Open311 intake under load, as a district's 12345 gateway would feel it: numbers stay unique when
reports arrive at once (a rolled-back one leaves a gap, never a duplicate), the key's last use is
written apart from the reports and at most once a minute, and what intake keeps of the district
(categories, calendar, keys, boundaries) follows a change — at once in the process that made it,
and in another process as soon as it sees the district's new version."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from core.db.base import utcnow
from core.grids.models import GridNode
from core.tenancy import versioned
from plugins.smart_service import reference
from plugins.smart_service import services as sv
from plugins.smart_service.models import Category, Event, Open311Key, WorkCalendar
from plugins.smart_service.open311_keys import touch_key
from tests.plugins.smart_service import test_open311
from tests.plugins.smart_service.test_open311 import IN_GRID, KEY, Open311District

district = test_open311.district  # the same fixture: a district with one grid, a category and a key

NUMBER = re.compile(r"^SL-(\d{8})-(\d{4,})$")
# Outside the grid's square but inside the district's.
OUTSIDE_GRID = ("40.900000", "117.750000")


async def _version(d: Open311District) -> int:
    from core.tenancy.models import Tenant

    async with d.db.session(None) as s:
        return int((await s.execute(select(Tenant.policy_version).where(Tenant.id == d.tenant_id))).scalar_one())


# ---- numbers ----------------------------------------------------------------------------------


async def test_concurrent_reports_get_unique_numbers_and_a_rolled_back_one_leaves_only_a_gap(
    district: Open311District,
) -> None:
    d = district
    grid = d.nodes["g01"]

    async def one(i: int) -> str | None:
        async with d.db.session(d.tenant_id) as s:
            event = await sv.report_event(
                s, title=f"第{i}件", category_code="SR-01", node_id=grid.id, source="resident", reporter_name="某"
            )
            if i % 4 == 3:  # this reporter's transaction fails after its number was taken
                await s.rollback()
                return None
            await s.commit()
            return event.number

    numbers = [n for n in await asyncio.gather(*(one(i) for i in range(16))) if n is not None]
    assert len(numbers) == 12 and len(set(numbers)) == 12
    assert all(NUMBER.match(n) for n in numbers)
    async with d.db.session(d.tenant_id) as s:
        stored = sorted((await s.execute(select(Event.number))).scalars())
    assert stored == sorted(numbers)
    sequence = sorted(int(NUMBER.match(n).group(2)) for n in numbers)  # type: ignore[union-attr]
    if d.db.dialect == "postgresql":
        # Taken apart from the reports' transactions: the four rolled-back numbers stay used up.
        assert set(sequence) < set(range(1, 17))
    else:
        # SQLite, one writer at a time: the counter moves inside the report's transaction.
        assert sequence == list(range(1, 13))

    # Posted at once over HTTP too: every answer has its own number, after the gaps, never in them.
    posted = await asyncio.gather(*(d.report() for _ in range(6)))
    assert len(set(posted)) == 6 and not set(posted) & set(numbers)
    later = sorted(int(NUMBER.match(n).group(2)) for n in posted)  # type: ignore[union-attr]
    assert later == list(range(17, 23) if d.db.dialect == "postgresql" else range(13, 19))


@pytest.fixture
async def neighbour(app: Any, owner_db: Any, district: Open311District) -> AsyncIterator[Open311District]:
    """A second district set up like the first, served by the same app."""
    from core.tenancy.service import create_tenant, delete_tenant

    tenant = await create_tenant(app.state.db, app.state.plugins, "t-" + secrets.token_hex(4), "邻区", "Next door")
    nodes = await test_open311.seed_district(app, tenant)
    yield Open311District(tenant.slug, tenant.id, app.state.db, district.client, nodes)
    await delete_tenant(app.state.db, owner_db, tenant)
    app.state.tenant_cache.clear()


async def test_two_districts_posting_at_once_each_number_from_one(
    district: Open311District, neighbour: Open311District
) -> None:
    posted = await asyncio.gather(*(district.report() for _ in range(5)), *(neighbour.report() for _ in range(4)))
    ours, theirs = posted[:5], posted[5:]

    def sequence(numbers: list[str]) -> list[int]:
        return sorted(int(NUMBER.match(n).group(2)) for n in numbers)  # type: ignore[union-attr]

    # Each district's numbers start at 1 and run without a gap (nothing rolled back); the same
    # number in both districts is two different events, each found only in its own district.
    assert sequence(ours) == [1, 2, 3, 4, 5]
    assert sequence(theirs) == [1, 2, 3, 4]
    assert (await district.event(ours[0])).tenant_id == district.tenant_id
    first = min(theirs)
    assert (await neighbour.event(first)).tenant_id == neighbour.tenant_id
    assert (await district.event(first)).id != (await neighbour.event(first)).id


# ---- the key's last use --------------------------------------------------------------------------


async def test_the_keys_last_use_is_recorded_after_the_report_and_at_most_once_a_minute(
    district: Open311District,
) -> None:
    d = district

    async def last_used() -> Any:
        async with d.db.session(d.tenant_id) as s:
            return (await s.execute(select(Open311Key.last_used_at))).scalar_one()

    assert await last_used() is None
    await d.report()
    first = await last_used()
    assert first is not None
    await d.report()
    assert await last_used() == first  # the same minute: no second write

    async with d.db.session(d.tenant_id) as s:
        key_id = (await s.execute(select(Open311Key.id))).scalar_one()
    later = utcnow() + timedelta(minutes=2)
    await touch_key(d.db, d.tenant_id, key_id, now=later)
    assert await last_used() == later


async def test_recording_the_keys_use_does_not_expire_the_districts_cached_reference_data(
    district: Open311District,
) -> None:
    d = district
    await d.report()
    before = await _version(d)
    async with d.db.session(d.tenant_id) as s:
        key_id = (await s.execute(select(Open311Key.id))).scalar_one()
    await touch_key(d.db, d.tenant_id, key_id, now=utcnow() + timedelta(minutes=5))
    await d.report()
    assert await _version(d) == before


# ---- reference data follows a change -------------------------------------------------------------


async def test_a_deactivated_key_is_refused_at_once_in_the_process_that_changed_it(district: Open311District) -> None:
    d = district
    await d.report()  # the keys are cached now
    async with d.db.transaction(d.tenant_id) as s:
        key = (await s.execute(select(Open311Key))).scalar_one()  # through the ORM, as the admin page does
        key.active = False
    r = await d.post(api_key=KEY, service_code="SR-01", lat=IN_GRID[0], long=IN_GRID[1], description="垃圾")
    assert r.status_code == 403


@pytest.fixture
def another_process() -> Iterator[None]:
    """This test's caches stand for another process's: a commit here does not drop them, so only
    the district's version (read with the tenant, cached for a second) tells them to reload."""
    caches = [reference._CACHE]
    for cache in caches:
        versioned._CACHES.discard(cache)
    yield
    for cache in caches:
        versioned._CACHES.add(cache)


async def test_a_category_renamed_in_another_process_is_served_once_the_new_version_is_seen(
    district: Open311District, another_process: None, app: Any
) -> None:
    d = district

    async def name_of(code: str) -> str:
        services = (await d.client.get(d.url("services.json"))).json()
        return next(s["service_name"] for s in services if s["service_code"] == code)

    assert await name_of("SR-01") == "暴露垃圾"
    before = await _version(d)
    async with d.db.transaction(d.tenant_id) as s:
        category = (await s.execute(select(Category).where(Category.code == "SR-01"))).scalar_one()
        category.name_zh = "垃圾暴露"
    assert await _version(d) > before  # the write moved the district's version
    assert await name_of("SR-01") == "暴露垃圾"  # the old version is still the one this process knows
    app.state.tenant_cache.clear()  # the tenant cache's second has passed
    assert await name_of("SR-01") == "垃圾暴露"


async def test_a_calendar_changed_in_another_process_sets_the_deadlines_once_the_new_version_is_seen(
    district: Open311District, another_process: None, app: Any
) -> None:
    d = district
    v = await _version(d)
    async with d.db.session(d.tenant_id) as s:
        assert (await reference.calendar(s, v)).tz.key == "Asia/Shanghai"
    async with d.db.transaction(d.tenant_id) as s:
        s.add(WorkCalendar(timezone="Asia/Urumqi"))
    async with d.db.session(d.tenant_id) as s:
        assert (await reference.calendar(s, v)).tz.key == "Asia/Shanghai"  # cached under the old version
        assert (await reference.calendar(s, await _version(d))).tz.key == "Asia/Urumqi"


async def test_a_redrawn_boundary_places_the_next_report_in_its_grid(district: Open311District) -> None:
    d = district
    r = await d.post(api_key=KEY, service_code="SR-01", lat=OUTSIDE_GRID[0], long=OUTSIDE_GRID[1], description="x")
    assert r.status_code == 200
    assert (await d.event(r.json()[0]["service_request_id"])).node_id == d.nodes["root"].id

    async with d.db.transaction(d.tenant_id) as s:
        grid = (await s.execute(select(GridNode).where(GridNode.id == d.nodes["g01"].id))).scalar_one()
        box = [[117.74, 40.89], [117.81, 40.89], [117.81, 40.96], [117.74, 40.96], [117.74, 40.89]]
        grid.boundary = {"type": "Polygon", "coordinates": [box]}
    r = await d.post(api_key=KEY, service_code="SR-01", lat=OUTSIDE_GRID[0], long=OUTSIDE_GRID[1], description="x")
    assert (await d.event(r.json()[0]["service_request_id"])).node_id == d.nodes["g01"].id


async def test_a_bulk_change_that_bypasses_the_flush_expires_the_cache_through_expire(
    district: Open311District,
) -> None:
    d = district
    await d.report()
    async with d.db.transaction(d.tenant_id) as s:
        await s.execute(update(Open311Key).values(active=False).execution_options(synchronize_session=False))
        await versioned.expire(s, d.tenant_id)
    r = await d.post(api_key=KEY, service_code="SR-01", lat=IN_GRID[0], long=IN_GRID[1], description="垃圾")
    assert r.status_code == 403
