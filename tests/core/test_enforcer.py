"""The authorization core: casbin's evaluation and the fast path agree; paths never match siblings."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from core.rbac.enforcer import Assignment, Subject, TenantPolicy
from tests.conftest import make_client

ROLES = ["admin", "secretary", "worker", "resident"]
ACTIONS = ["core.grid.view", "core.resident.view", "smart_service.view", "smart_service.event.dispatch"]
PATTERNS = [*ACTIONS, "*", "core.*", "smart_service.*"]
PATHS = ["/1/", "/1/2/", "/1/2/3/", "/1/20/", "/1/2/30/", "/4/"]


@settings(max_examples=300, deadline=None)
@given(
    rules=st.lists(st.tuples(st.sampled_from(ROLES), st.sampled_from(PATTERNS)), max_size=10),
    assignments=st.lists(st.tuples(st.sampled_from(ROLES), st.sampled_from(PATHS)), max_size=5),
    action=st.sampled_from(ACTIONS),
    path=st.sampled_from([None, *PATHS]),
)
def test_the_fast_path_answers_exactly_like_casbin(
    rules: list[tuple[str, str]], assignments: list[tuple[str, str]], action: str, path: str | None
) -> None:
    policy = TenantPolicy(rules, 1)
    subject = Subject(7, tuple(Assignment(r, p) for r, p in assignments))
    assert policy.allows(subject, action, path) == policy.enforce(subject, action, path)


def test_an_assignment_never_covers_a_sibling_with_a_longer_id() -> None:
    policy = TenantPolicy([("worker", "core.grid.view")], 1)
    worker = Subject(1, (Assignment("worker", "/1/2/"),))
    assert policy.allows(worker, "core.grid.view", "/1/2/3/")
    assert not policy.allows(worker, "core.grid.view", "/1/20/")
    assert not policy.allows(worker, "core.grid.view", "/1/")


async def test_an_htmx_request_gets_only_the_content_block(as_admin: Any, app: Any) -> None:
    full = await as_admin.get("/t/shuangluan/grid/")
    partial = await as_admin.get("/t/shuangluan/grid/", headers={"HX-Request": "true"})
    assert full.status_code == partial.status_code == 200
    assert "<html" in full.text and "<html" not in partial.text
    assert 'id="lz-nav"' not in partial.text and len(partial.text) < len(full.text)


async def test_guards_run_on_the_event_loop(app: Any) -> None:
    """pycasbin is not thread-safe: every guard must be a coroutine (Litestar threads sync ones)."""
    import inspect

    from core.web import guards

    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for guard in handler.guards or []:
                assert inspect.iscoroutinefunction(guard), f"{handler}: sync guard {guard}"
    assert inspect.iscoroutinefunction(guards.requires("x"))
    async with make_client(app):
        pass


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.lists(st.integers(1, 120), min_size=1, max_size=4).map(lambda ids: "/" + "/".join(map(str, ids)) + "/"),
    path=st.lists(st.integers(1, 120), min_size=1, max_size=5).map(lambda ids: "/" + "/".join(map(str, ids)) + "/"),
)
def test_the_scope_range_matches_exactly_the_paths_under_the_prefix(prefix: str, path: str) -> None:
    from core.rbac.scope import prefix_range

    lo, hi = prefix_range(prefix)
    assert (lo <= path < hi) == path.startswith(prefix)
