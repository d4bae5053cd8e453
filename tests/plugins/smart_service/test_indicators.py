"""Indicators on a hand-made set of events give exactly the percentages worked out by hand, only
over the events in the user's scope; the dashboard draws them and exports them to Excel."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from core.db.base import new_id
from core.grids.models import GridNode
from core.identity.models import User
from plugins.smart_service import indicators as ind
from plugins.smart_service.models import Category, Event, HandlingUnit

SH = ZoneInfo("Asia/Shanghai")
START, END = date(2026, 11, 2), date(2026, 11, 8)
MONDAY_10 = datetime(2026, 11, 2, 10, 0, tzinfo=SH)
TUESDAY_2330 = datetime(2026, 11, 3, 23, 30, tzinfo=SH)  # 15:30 UTC: still Tuesday in 双滦区


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> dict[str, Any]:
    """Root R with areas A (grid A1 below it) and B; nine counted events, one merged, one too old."""
    db = app.state.db
    nodes: dict[str, GridNode] = {}
    async with db.transaction(fresh_tenant.id) as s:
        for code, parent in (("R", None), ("A", "R"), ("B", "R"), ("A1", "A")):
            up = nodes.get(parent) if parent else None
            node = GridNode(id=new_id(), code=code, kind="grid", name=f"区域{code}", parent_id=up.id if up else None)
            node.depth = up.depth + 1 if up else 0
            node.path = (up.path if up else "/") + f"{node.id}/"
            s.add(node)
            nodes[code] = node
        worker = User(id=new_id(), username="w", display_name="网格员甲", password_hash="-")
        s.add(worker)
        unit = HandlingUnit(id=new_id(), code="u1", name="一号单位", level=3)
        s.add(unit)
        await s.flush()
        s.add(Category(code="C", name_zh="市容环境"))
        s.add(Category(code="D", name_zh="公共设施"))
        await s.flush()
        s.add(Category(code="C-01", parent_code="C", name_zh="暴露垃圾"))
        await s.flush()
        # (area, state, extra columns, created)
        rows: list[tuple[str, str, dict[str, Any], datetime]] = [
            ("A1", "reported", {}, MONDAY_10),
            ("A1", "rejected", {}, MONDAY_10),
            ("A1", "registered", {}, MONDAY_10),
            ("B", "dispatched", {"handling_unit_id": unit.id, "assignee_user_id": worker.id}, MONDAY_10),
            ("B", "parked", {"parked_from": "registered"}, MONDAY_10),
            ("B", "parked", {"parked_from": "handling", "extension_count": 1}, MONDAY_10),
            ("A1", "closed", {"rating": 5, "handling_unit_id": unit.id, "handled_at": TUESDAY_2330}, TUESDAY_2330),
            ("A1", "closed", {"rework_count": 1, "rating": 3, "handled_at": TUESDAY_2330}, TUESDAY_2330),
            ("B", "closed", {"extension_count": 1, "rating": 4, "handled_at": TUESDAY_2330}, TUESDAY_2330),
            ("A1", "merged", {"rating": 1}, MONDAY_10),  # a duplicate: not counted
            ("A1", "closed", {"rating": 1}, datetime(2026, 10, 30, 10, 0, tzinfo=SH)),  # before the range
        ]
        for i, (area, state, extra, created) in enumerate(rows):
            s.add(
                Event(
                    id=new_id(),
                    number=f"T-{i}",
                    title="测试",
                    category_code="D" if i == 3 else "C-01",
                    source="resident",
                    node_id=nodes[area].id,
                    node_path=nodes[area].path,
                    state=state,
                    created_at=created,
                    **extra,
                )
            )
    return {"db": db, "tenant": fresh_tenant.id, "nodes": nodes, "unit": unit.id, "worker": worker.id}


async def _compute(district: dict[str, Any], root: str = "R", **kw: Any) -> ind.Report:
    async with district["db"].session(district["tenant"]) as s:
        return await ind.compute(s, prefixes=[district["nodes"][root].path], start=START, end=END, **kw)


async def test_the_rates_of_reported_events_are_exactly_the_hand_computed_ones(district: dict[str, Any]) -> None:
    report = await _compute(district)
    assert report.total.counts == {
        "received": 9,
        "registered": 7,
        "dispatched": 5,
        "closed": 3,
        "due": 0,  # no deadline of these falls in the period (see test_indicators_standard.py)
        "on_time": 0,
        "handle_due": 0,
        "handled_due": 0,
        "handled_on_time": 0,
        "handled": 3,
        "reworks": 1,
        "extended": 2,
        "rated": 3,
        "satisfied": 2,
    }
    assert report.total.rates == {
        "registration_rate": 77.8,  # 7 / 9
        "dispatch_rate": 71.4,  # 5 / 7
        "closure_rate": 42.9,  # 3 / 7
        "on_time_rate": None,  # nothing was due
        "handling_rate": None,
        "on_time_handling_rate": None,
        "rework_rate": 33.3,  # 1 rework / 3 handled
        "extension_rate": 28.6,  # 2 / 7
        "satisfaction_rate": 66.7,  # 2 / 3
    }


async def test_areas_units_workers_categories_and_days_each_get_their_share(district: dict[str, Any]) -> None:
    areas = await _compute(district, by="area")
    by_area = {f.label: f for f in areas.rows}
    assert list(by_area) == ["区域A", "区域B"]
    assert by_area["区域A"].counts["received"] == 5 and by_area["区域A"].rate("registration_rate") == 60.0
    assert by_area["区域A"].rate("closure_rate") == 66.7  # 2 closed of 3 registered
    assert by_area["区域B"].rate("registration_rate") == 100.0 and by_area["区域B"].rate("dispatch_rate") == 75.0
    assert by_area["区域B"].rate("satisfaction_rate") == 100.0

    units = {f.label: f.counts["received"] for f in (await _compute(district, by="unit")).rows}
    assert units == {"一号单位": 2, "": 7}
    workers = {f.label: f.counts["received"] for f in (await _compute(district, by="worker")).rows}
    assert workers == {"网格员甲": 1, "": 8}
    categories = {f.label: f.counts["received"] for f in (await _compute(district, by="category")).rows}
    assert categories == {"市容环境": 8, "公共设施": 1}

    days = {f.key: f.counts["received"] for f in (await _compute(district, by="period", grain="day")).rows}
    assert days == {"2026-11-02": 6, "2026-11-03": 3}
    weeks = {f.key: f.counts["received"] for f in (await _compute(district, by="period", grain="week")).rows}
    assert weeks == {"2026-11-02": 9}
    months = {f.key: f.counts["received"] for f in (await _compute(district, by="period", grain="month")).rows}
    assert months == {"2026-11": 9}


async def test_someone_scoped_to_one_area_sees_only_its_events(district: dict[str, Any]) -> None:
    report = await _compute(district, root="B", by="area")
    assert report.total.counts["received"] == 4
    assert report.total.rate("dispatch_rate") == 75.0
    assert report.total.rate("rework_rate") == 0.0
    assert report.rows == []  # B has no child areas
    empty = await _compute(district, root="A1")
    assert empty.total.counts["received"] == 5
    async with district["db"].session(district["tenant"]) as s:
        nothing = await ind.compute(s, prefixes=[], start=START, end=END)
    assert nothing.total.counts["received"] == 0 and nothing.total.rate("closure_rate") is None


async def test_the_dashboard_shows_the_rates_with_a_chart_and_exports_them_to_excel(as_admin: Any) -> None:
    page = await as_admin.get("/t/shuangluan/smart-service/indicators?by=category")
    assert page.status_code == 200
    assert 'data-chart="ss-indicators-chart"' in page.text and 'data-rate="satisfaction_rate"' in page.text
    r = await as_admin.get("/t/shuangluan/smart-service/indicators.xlsx?by=unit&start=2026-01-01")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows[0]) == 1 + len(ind.COUNTS) + len(ind.RATES) + 1  # and the composite score
    assert len(rows) >= 3  # header, at least one unit, the total
    bad = await as_admin.get("/t/shuangluan/smart-service/indicators?start=tomorrow")
    assert bad.status_code == 400 and 'id="e-start"' in bad.text


async def test_a_resident_cannot_open_the_indicators(as_resident: Any) -> None:
    r = await as_resident.get("/t/shuangluan/smart-service/indicators")
    assert r.status_code == 403  # signed in, not allowed the indicators anywhere
