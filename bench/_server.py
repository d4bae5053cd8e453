"""The two apps bench/pages.py serves with uvicorn: the real one and the bare baseline.

``real`` is the production factory (core.asgi) with background jobs off, so the figures hold
request work only.

``bare`` is what the grid node page cannot avoid. It is a plain Litestar app — no middleware (no
session store, CSRF, tenant or user resolution), no guard — whose one route calls the grid node
page's own handler function (``core.grids.routes.nodes.grid_node.fn``), so it runs the very ORM
queries the page runs, through the same engine factory and driver, in one session (one
transaction, rolled back on close, as in the real app), and renders the same template through a
Jinja environment built as ``create_app`` builds it. Around that function the kernel is replaced
by what costs nothing per request:

- the request context is a ``RequestContext`` filled from values loaded once at start-up (tenant,
  user, role assignments, enabled plugins);
- permission answers come from the real policy once, then from a dict (the scope check is kernel
  work; its answer is the page's);
- the session class carries only the tenant filter (the ``tenant_id = …`` any multi-tenant query
  needs): no audit listener, no row-level-security ``set_config`` per transaction; on PostgreSQL
  it connects as the database owner, to whom RLS does not apply;
- the layout gets the menu the real page showed (passed in by bench/pages.py), a bell count of 0
  and a constant CSRF token of the real one's length, instead of the menu hooks, casbin checks,
  the unread count query and the CSRF middleware.

The HTML comes out the same as the real page's, CSRF token aside; bench/pages.py checks that.
Both apps read their configuration from the environment that bench/pages.py sets.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.datastructures import State
from litestar.logging import LoggingConfig
from litestar.params import FromPath
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session

BARE_URL = "BENCH_BARE_DATABASE_URL"
BARE_TENANT = "BENCH_BARE_TENANT_ID"
BARE_USER = "BENCH_BARE_USERNAME"
BARE_MENU = "BENCH_BARE_MENU"  # JSON list of {title, href, icon, active}: the real page's menu
CSRF_STAND_IN = "x" * 128  # as long as a real token


def real() -> Litestar:
    os.environ.setdefault("LIUZHI_RUN_JOBS", "0")  # bench/pages.py --jobs: the loop on, as in production
    from core.asgi import create
    from core.ops.logging import configure
    from core.ops.settings import OpsSettings

    ops = OpsSettings.from_env()
    if ops.access_log:  # as `liuzhi serve` would: the access line at INFO, in the chosen format
        configure(ops.log_format, level="INFO")

    return create()


class DecidedPolicy:
    """The real tenant policy's answers, each asked once, then looked up."""

    def __init__(self, policy: Any) -> None:
        self.policy = policy
        self.answers: dict[tuple[Any, ...], Any] = {}

    def allows(self, subject: Any, action: str, path: str | None = None) -> bool:
        key = ("allows", action, path)
        if key not in self.answers:
            self.answers[key] = self.policy.allows(subject, action, path)
        return self.answers[key]

    def prefixes(self, subject: Any, action: str) -> list[str]:
        key = ("prefixes", action)
        if key not in self.answers:
            self.answers[key] = self.policy.prefixes(subject, action)
        return list(self.answers[key])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.policy, name)


def bare() -> Litestar:
    from core import i18n
    from core.app import _static_mounts, load_models, plugin_dirs
    from core.config import Settings
    from core.db import tenant_filter
    from core.db.engine import make_engine
    from core.grids.routes import nodes as grid
    from core.identity.models import User
    from core.pluginhost.manager import PluginHost
    from core.tenancy.models import Tenant, TenantPlugin
    from core.web.assets import Assets
    from core.web.context import STATE_KEY, RequestContext, load_subject, policy_for
    from core.web.headers import nonce
    from core.web.render import build_environment, is_htmx, render_block

    host = PluginHost()
    load_models(host)
    dirs = plugin_dirs(host)
    env = build_environment([d / "templates" for d in dirs.values() if (d / "templates").is_dir()])
    host.call_sync("prepare_jinja2_environment", env=env)
    i18n.CATALOGUES.load_dir(Path(i18n.__file__).parent / "locale")
    for name, d in dirs.items():
        if (d / "locale").is_dir():
            i18n.CATALOGUES.load_dir(d / "locale", domain=name)
    # Hashed static URLs, as the real app's pages have them (core/web/assets.py).
    assets = Assets(_static_mounts(Settings(), dirs))
    env.globals["static_url"] = assets.url

    class BareSession(Session):
        """The stock session plus the tenant filter alone."""

    tenant_filter.install(BareSession)
    engine = make_engine(os.environ[BARE_URL])
    sessions = async_sessionmaker(engine, sync_session_class=BareSession, expire_on_commit=False)
    tenant_id = int(os.environ[BARE_TENANT])
    loaded: dict[str, Any] = {}

    def session() -> Any:
        s = sessions()
        s.info["tenant_id"] = tenant_id
        return s

    async def load(app: Litestar) -> None:
        async with session() as s:
            tenant = await s.get(Tenant, tenant_id)
            assert tenant is not None
            user = (await s.execute(select(User).where(User.username == os.environ[BARE_USER]))).scalar_one()
            plugins = (await s.execute(select(TenantPlugin))).scalars().all()
            loaded.update(
                tenant=tenant,
                user=user,
                subject=await load_subject(s, user.id),
                policy=DecidedPolicy(await policy_for(State({"policies": {}}), tenant, s)),
                enabled=frozenset(p.plugin for p in plugins if p.enabled and p.plugin in host.manifests),
                settings={p.plugin: dict(p.settings or {}) for p in plugins},
                base=f"/t/{tenant.slug}",
                locale=user.locale or tenant.locale,
                menu=json.loads(os.environ.get(BARE_MENU) or "[]"),
            )

    async def render(
        request: Request,
        template: str,
        context: dict[str, Any] | None = None,
        *,
        status_code: int = 200,
        block: str | None = "content",
        headers: dict[str, str] | None = None,
    ) -> Response[str]:
        """core.web.render.render without page_context: the layout's pieces were loaded at start-up."""
        c = request.state[STATE_KEY]
        partial = block is not None and is_htmx(request)
        values = {"c": c, "tenant": c.tenant, "user": c.user, "locale": c.locale}
        if not partial:
            values.update(menu=loaded["menu"], unread=0)
        values.update(context or {}, request=request, csrf_token=CSRF_STAND_IN, csp_nonce=nonce(request.scope))
        tpl = env.get_template(template)
        folder = template.split("/", 1)[0]
        with i18n.in_domain(folder if folder in i18n.CATALOGUES.domains else None):
            html = render_block(tpl, block, values) if partial and block else tpl.render(values)
        html = assets.rewrite(html)
        return Response(html, status_code=status_code, media_type="text/html", headers=headers)

    grid.render = render  # type: ignore[assignment]  (this process serves only the bare app)
    page = grid.grid_node.fn

    # At /grid/<id>, the path the real handler sees once the kernel has taken off /t/<slug>.
    @get("/grid/{node_id:int}")
    async def grid_node(request: Request, node_id: FromPath[int]) -> Any:
        s = session()
        c = RequestContext(
            tenant=loaded["tenant"],
            base=loaded["base"],
            user=loaded["user"],
            subject=loaded["subject"],
            policy=loaded["policy"],
            enabled=loaded["enabled"],
            plugin_settings=loaded["settings"],
            locale=loaded["locale"],
            db=s,
        )
        c.here = c.base + request.scope["path"]
        request.state[STATE_KEY] = c
        i18n.set_locale(c.locale)
        try:
            return await page(request, node_id=node_id, db=s, rc=c)  # what injection hands the real handler
        finally:
            await s.close()

    async def dispose(app: Litestar) -> None:
        await engine.dispose()

    return Litestar(
        route_handlers=[grid_node],
        on_startup=[load],
        on_shutdown=[dispose],
        state=State({"plugins": host, "jinja": env}),
        openapi_config=None,
        logging_config=LoggingConfig(log_exceptions="always"),  # a broken baseline must say why
    )
