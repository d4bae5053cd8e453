"""Indicators by the standard, on a small hand-made set worked out by hand: 按期结案率 over 应结案数
(due in the period, closed or not), so a unit that sits on late cases scores worse; 处置率 and
按期处置率 per unit; 返工率 = rework occurrences ÷ cases handled; the weighted 综合指标 with the
district's weights; late stages charged to the stage and the party that was late."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.db.base import new_id
from core.grids.models import GridNode
from core.identity.models import User
from plugins.smart_service import indicators as ind
from plugins.smart_service.models import Category, Event, EventTransition, HandlingUnit

SH = ZoneInfo("Asia/Shanghai")
START, END = date(2026, 11, 2), date(2026, 11, 8)
CREATED = datetime(2026, 11, 2, 8, 0, tzinfo=SH)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> dict[str, Any]:
    db = app.state.db
    async with db.transaction(fresh_tenant.id) as s:
        node = GridNode(id=new_id(), code="R", kind="grid", name="区域R", depth=0)
        node.path = f"/{node.id}/"
        s.add(node)
        accepter = User(id=new_id(), username="acc", display_name="受理员甲", password_hash="-")
        s.add(accepter)
        u1 = HandlingUnit(id=new_id(), code="u1", name="勤快单位", level=3)
        u2 = HandlingUnit(id=new_id(), code="u2", name="拖沓单位", level=3)
        s.add_all([u1, u2])
        await s.flush()
        s.add(Category(code="C", name_zh="市容环境"))
        await s.flush()
        # name: (unit, state, handle_due, handled, close_due, closed, rework, rating)
        rows: dict[str, tuple[Any, ...]] = {
            "E1": (u1, "closed", at(3, 9), at(3, 8), at(3, 12), at(3, 11), 2, 5),  # all on time
            "E2": (u1, "closed", at(4, 9), at(4, 10), at(4, 12), at(4, 11, 30), 1, 2),  # handled late, closed in time
            "E3": (u2, "handling", at(5, 9), None, at(5, 12), None, 0, None),  # sits on it, late
            "E4": (u2, "handling", at(6, 9), None, at(6, 12), None, 0, None),  # sits on it, late
            "E5": (u2, "closed", at(2, 9), at(2, 8), at(2, 12), at(2, 11), 0, None),  # on time
            "E6": (u1, "closed", at(19, 9), at(3, 8), at(20, 12), at(3, 9), 0, None),  # due after the period
            "E7": (u2, "rejected", at(5, 9), None, at(5, 12), None, 0, None),  # rejected: never due
        }
        events = {}
        for i, (name, (unit, state, handle_due, handled, close_due, closed, rework, rating)) in enumerate(rows.items()):
            e = Event(
                id=new_id(),
                number=f"S-{i}",
                title=name,
                category_code="C",
                source="resident",
                node_id=node.id,
                node_path=node.path,
                state=state,
                handling_unit_id=unit.id,
                created_at=CREATED,
                dispatched_at=CREATED,
                handle_due_at=handle_due,
                handled_at=handled,
                close_due_at=close_due,
                closed_at=closed,
                rework_count=rework,
                rating=rating,
            )
            s.add(e)
            events[name] = e
        await s.flush()
        # Late stages as the services record them (services.charged_party).
        for event, action, when, data in [
            ("E2", "feedback", at(4, 10), {"overdue": True, "stage": "handle", "charged_unit_id": u1.id}),
            ("E3", "accept", at(2, 12), {"overdue": True, "stage": "accept", "charged_user_id": accepter.id}),
            ("E4", "accept", at(2, 13), {"overdue": True, "stage": "accept", "charged_user_id": accepter.id}),
            ("E5", "close", at(2, 11), {"stage": "inspect"}),  # in time: not late
        ]:
            s.add(
                EventTransition(
                    event_id=events[event].id, from_state="x", to_state="y", action=action, at=when, data=data
                )
            )
    return {"db": db, "tenant": fresh_tenant.id, "root": node.path, "u1": u1.id, "u2": u2.id, "acc": accepter.id}


async def _compute(d: dict[str, Any], **kw: Any) -> ind.Report:
    async with d["db"].session(d["tenant"]) as s:
        return await ind.compute(s, prefixes=[d["root"]], start=START, end=END, **kw)


async def test_on_time_closure_counts_every_case_due_in_the_period_closed_or_not(district: dict[str, Any]) -> None:
    total = (await _compute(district)).total
    # 应结案数: E1–E5 (E6 is due later, E7 was rejected); closed by the deadline: E1, E2, E5.
    assert (total.counts["due"], total.counts["on_time"]) == (5, 3)
    assert total.rate("on_time_rate") == 60.0
    # 应处置数: E1–E5; handled: E1, E2, E5; by the deadline: E1, E5.
    assert (total.counts["handle_due"], total.counts["handled_due"], total.counts["handled_on_time"]) == (5, 3, 2)
    assert total.rate("handling_rate") == 60.0 and total.rate("on_time_handling_rate") == 40.0
    # 返工率: 3 rework occurrences (E1 twice, E2 once) ÷ 4 cases handled (E1, E2, E5, E6).
    assert (total.counts["reworks"], total.counts["handled"]) == (3, 4)
    assert total.rate("rework_rate") == 75.0


async def test_a_unit_sitting_on_late_cases_scores_worse_not_better(district: dict[str, Any]) -> None:
    units = {f.label: f for f in (await _compute(district, by="unit")).rows}
    good, slow = units["勤快单位"], units["拖沓单位"]
    assert good.rate("on_time_rate") == 100.0  # E1, E2 of 2 due
    assert slow.rate("on_time_rate") == 33.3  # E5 of E3, E4, E5 (closed ÷ closed would say 100 %)
    assert good.rate("handling_rate") == 100.0 and good.rate("on_time_handling_rate") == 50.0
    assert slow.rate("handling_rate") == 33.3 and slow.rate("on_time_handling_rate") == 33.3


async def test_the_composite_score_weighs_the_rates_by_the_districts_weights(district: dict[str, Any]) -> None:
    total = (await _compute(district)).total
    assert total.rate("satisfaction_rate") == 50.0  # E1 (5) of E1, E2 rated
    # (40 × 60 + 30 × 40 + 10 × (100 − 75) + 20 × 50) ÷ 100 = 48.5
    assert total.composite() == 48.5
    only_closure = {"weight_on_time_closure": 100, "weight_on_time_handling": 0}
    assert total.composite({**only_closure, "weight_rework": 0, "weight_satisfaction": 0}) == 60.0
    # A rate without a denominator drops out with its weight: u2 has no ratings.
    slow = {f.label: f for f in (await _compute(district, by="unit")).rows}["拖沓单位"]
    assert slow.rate("satisfaction_rate") is None
    # (40 × 33.3 + 30 × 33.3 + 10 × 100) ÷ 80 (rates unrounded: 1/3 each)
    assert slow.composite() == round((40 * 100 / 3 + 30 * 100 / 3 + 10 * 100) / 80, 1)


async def test_lateness_is_charged_to_the_stage_and_the_party_that_was_late(district: dict[str, Any]) -> None:
    late = (await _compute(district)).lateness
    assert [(x.stage, x.party, x.count) for x in late] == [("accept", "受理员甲", 2), ("handle", "勤快单位", 1)]
    # The late 受理 is the accepter's, not the handling unit's.
    assert all(x.unit_id is None for x in late if x.stage == "accept")


async def test_periods_count_due_cases_in_the_period_of_their_deadline(district: dict[str, Any]) -> None:
    days = {f.key: f.counts for f in (await _compute(district, by="period", grain="day")).rows}
    assert days["2026-11-02"]["received"] == 7 and days["2026-11-02"]["due"] == 1  # E5
    assert days["2026-11-05"]["due"] == 1 and days["2026-11-05"]["on_time"] == 0  # E3, not closed
    assert sum(c["due"] for c in days.values()) == 5


async def test_the_page_states_each_formula_and_shows_the_composite(as_admin: Any) -> None:
    page = await as_admin.get("/t/shuangluan/smart-service/indicators")
    assert page.status_code == 200
    assert 'data-rate="composite"' in page.text and 'data-testid="method"' in page.text
    for formula in ("按期结案率", "应结案", "返工", "处置率", "综合"):
        assert formula in page.text
