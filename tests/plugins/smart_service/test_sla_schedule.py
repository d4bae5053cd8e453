"""The SLA sweep comes when a deadline does: after a run its slot waits for the district's next
running deadline (an hour at most when nothing runs), and a new, earlier deadline brings it forward."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from core.db.base import new_id, utcnow
from core.grids.models import GridNode
from core.services.jobs import JobContext
from core.services.jobs.models import PeriodicRun
from plugins.smart_service import services, sla_schedule
from plugins.smart_service.models import Category, Event


async def _slot(db: Any, tenant_id: int) -> Any:
    async with db.session(tenant_id) as s:
        stmt = select(PeriodicRun.next_run_at).where(
            PeriodicRun.tenant_id == tenant_id, PeriodicRun.name == services.SLA_JOB
        )
        return await s.scalar(stmt)


async def test_the_sweep_waits_for_the_next_deadline_and_an_earlier_one_wakes_it(app: Any, fresh_tenant: Any) -> None:
    db, tenant = app.state.db, fresh_tenant.id
    now = utcnow()
    async with db.transaction(tenant) as s:
        node = GridNode(id=new_id(), code="G", kind="grid", name="网格", depth=0)
        node.path = f"/{node.id}/"
        s.add_all([node, Category(code="C", name_zh="市容")])
        s.add(PeriodicRun(tenant_id=tenant, name=services.SLA_JOB, next_run_at=now))
        await s.flush()
        s.add(
            Event(
                id=new_id(),
                number="D-1",
                title="t",
                category_code="C",
                source="resident",
                node_id=node.id,
                node_path=node.path,
                state="handling",
                stage="handle",
                clock_seq=1,
                due_at=now + timedelta(hours=3),
            )
        )
    async with db.transaction(tenant) as s:
        assert (await sla_schedule.job(JobContext(tenant, s, db, app.state.plugins), {}))["escalated"] == 0
    # Three hours away is beyond the hourly look: the slot is an hour ahead.
    assert timedelta(minutes=59) < await _slot(db, tenant) - now <= timedelta(hours=1, minutes=1)
    # A change commits a deadline in 10 minutes: the sweep comes then, not in an hour.
    soon = now + timedelta(minutes=10)
    await sla_schedule.heard(SimpleNamespace(db=db), tenant, {"due_at": soon.isoformat()})
    assert await _slot(db, tenant) == soon
    # A later deadline never pushes it back.
    await sla_schedule.heard(SimpleNamespace(db=db), tenant, {"due_at": (now + timedelta(hours=2)).isoformat()})
    assert await _slot(db, tenant) == soon
    async with db.transaction(tenant) as s:
        (await s.execute(select(Event))).scalar_one().due_at = now + timedelta(minutes=20)
    async with db.transaction(tenant) as s:
        await sla_schedule.job(JobContext(tenant, s, db, app.state.plugins), {})
    assert timedelta(minutes=19) < await _slot(db, tenant) - now <= timedelta(minutes=21)
