"""Events queued on a session reach ``on_event`` after commit, never after a rollback, and a
rolled-back savepoint drops only its own events."""

from __future__ import annotations

from typing import Any

from core import hookimpl
from core.services import events
from core.services.events import Event
from tests.plugins_contract.conftest import running


class Ear:
    __liuzhi_name__ = "test_ear"

    def __init__(self) -> None:
        self.heard: list[tuple[int, str]] = []

    @hookimpl
    def on_event(self, tenant_id: int, event: Event) -> None:
        self.heard.append((tenant_id, event.name))


async def test_events_are_delivered_after_commit_and_dropped_on_rollback(migrated: Any, world: Any) -> None:
    ear = Ear()
    async with running(migrated, ear) as app:
        tid = world.tenant.id
        async with app.state.db.transaction(tid, app_state=app.state) as s:
            await events.emit(s, Event("test.kept"))
            try:
                async with s.begin_nested():
                    events.emit(s, Event("test.savepoint_dropped"))
                    raise RuntimeError("undo the savepoint")
            except RuntimeError:
                pass
            async with s.begin_nested():
                events.emit(s, Event("test.savepoint_kept"))
            assert [e.name for e in events.pending(s)] == ["test.kept", "test.savepoint_kept"]
            assert ear.heard == []  # nothing before commit
        await events.delivered()  # the after-commit deliveries, awaited rather than polled
        assert ear.heard == [(tid, "test.kept"), (tid, "test.savepoint_kept")]
        try:
            async with app.state.db.transaction(tid, app_state=app.state) as s:
                events.emit(s, Event("test.rolled_back"))
                raise RuntimeError("the request failed")
        except RuntimeError:
            pass
        await events.delivered()  # a rolled-back transaction queued nothing to wait for
    assert ear.heard == [(tid, "test.kept"), (tid, "test.savepoint_kept")]


async def test_the_older_emit_still_delivers_at_once(migrated: Any, world: Any) -> None:
    ear = Ear()
    async with running(migrated, ear) as app:
        await events.emit(app.state, world.tenant.id, None, Event("test.now"))
    assert ear.heard == [(world.tenant.id, "test.now")]
