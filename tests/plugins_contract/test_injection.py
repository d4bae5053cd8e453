"""Request dependencies are injected (#8): a handler declares ``db: DbSession``, ``rc: Ctx`` and
``app_services: Services``
and gets the request's tenant-bound session (the one the signed-in user was loaded in, nothing
committed for it, its events delivered after its commit only), the request's context and the
app's services; ``liuzhi.api.ctx`` still works and says what replaced it."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Request, get, post
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

import liuzhi.api
from core import hookimpl
from core.appservices import AppServices, app_services
from core.grids.models import GridNode
from core.pluginhost.manifest import Action, Manifest
from core.services import events
from core.services.events import Event
from core.web.context import RequestContext
from core.web.context import ctx as core_ctx
from core.web.deps import Ctx, DbSession, Services
from core.web.guards import requires
from liuzhi.testing import form_post
from tests.plugins_contract.conftest import running
from tests.plugins_contract.test_hooks import signed_in_client

NAME = "kc_inject"
VIEW = "kc_inject.thing.view"


@get("/kc-inject/", guards=[requires(VIEW)])
async def whoami(request: Request, db: DbSession, rc: Ctx, app_services: Services) -> dict[str, Any]:
    assert isinstance(db, AsyncSession) and isinstance(rc, RequestContext) and isinstance(app_services, AppServices)
    assert rc.user is not None and rc.tenant is not None
    return {
        "user": rc.user.username,
        "same_session": db is RequestContext.of(request).db and rc.user in db,  # the user was loaded in it
        "tenant_bound": db.info.get("tenant_id") == rc.tenant.id,
        "nodes": await db.scalar(select(func.count()).select_from(GridNode)),
        "services": app_services is request.app.state.services and app_services.vault is request.app.state.vault,
    }


@post("/kc-inject/saved", guards=[requires(VIEW)], status_code=200)
async def saved(db: DbSession) -> str:
    events.emit(db, Event("kc_inject.saved"))
    await db.commit()
    return "ok"


@post("/kc-inject/not-committed", guards=[requires(VIEW)], status_code=200)
async def not_committed(db: DbSession) -> str:
    events.emit(db, Event("kc_inject.not_committed"))  # nobody commits for the handler
    return "ok"


@post("/kc-inject/failed", guards=[requires(VIEW)], status_code=200)
async def failed(db: DbSession) -> str:
    events.emit(db, Event("kc_inject.failed"))
    raise RuntimeError("the handler failed before committing")


class Injected:
    __liuzhi_name__ = NAME

    def __init__(self) -> None:
        self.heard: list[str] = []

    @hookimpl
    def plugin_manifest(self) -> Manifest:
        return Manifest(
            name=NAME,
            pillar="other",
            title_zh="注入",
            title_en="Injection",
            version="1",
            actions=(Action(VIEW, "查看", "View", ("district_admin",)),),
        )

    @hookimpl
    def register_routes(self) -> list[Any]:
        return [whoami, saved, not_committed, failed]

    @hookimpl
    def on_event(self, tenant_id: int, event: Event) -> None:
        self.heard.append(event.name)


async def test_a_handler_receives_the_requests_tenant_bound_session_its_context_and_the_services(
    migrated: Any, districts: Any
) -> None:
    plugin = Injected()
    async with running(migrated, plugin) as app:
        d = await districts(app, enable=[NAME], communities=("a", "b"))
        async with signed_in_client(app, d.slug) as client:
            got = await client.get(f"/t/{d.slug}/kc-inject/")
            assert got.status_code == 200, got.text
            assert got.json() == {
                "user": "admin",
                "same_session": True,
                "tenant_bound": True,
                "nodes": 3,  # this district's root and two communities: the session sees no other tenant's
                "services": True,
            }
            assert (await form_post(client, f"/t/{d.slug}/kc-inject/saved")).status_code == 200
            assert (await form_post(client, f"/t/{d.slug}/kc-inject/not-committed")).status_code == 200
            assert (await form_post(client, f"/t/{d.slug}/kc-inject/failed")).status_code == 500
        await events.delivered()
    assert [name for name in plugin.heard if name.startswith("kc_inject.")] == ["kc_inject.saved"]


async def test_app_services_are_one_typed_object_behind_the_old_state_names(app: Any) -> None:
    services = app_services(app)
    assert isinstance(services, AppServices)
    assert services.db is app.state.db and services.plugins is app.state.plugins
    assert services.storage is app.state.storage and services.jobs is app.state.jobs
    assert services.policies is app.state.policies  # one cache, whichever name reaches it


def test_liuzhi_api_ctx_still_works_and_says_what_replaced_it() -> None:
    with pytest.warns(DeprecationWarning, match=r"liuzhi.api.ctx is deprecated .*rc: Ctx"):
        old = liuzhi.api.ctx
    assert old is core_ctx
    assert "ctx" not in liuzhi.api.__all__
    assert {"DbSession", "Ctx", "Services", "RequestContext", "AppServices", "app_services"} <= set(liuzhi.api.__all__)
