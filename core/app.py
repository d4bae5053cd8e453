"""create_app(settings) -> Litestar: one PluginManager per app, no module globals."""

from __future__ import annotations

import importlib.util
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from litestar import Litestar, Router
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.types import Receive, Scope, Send

from core import i18n
from core.config import REPO_ROOT, Settings
from core.crypto import Vault
from core.db.base import Base, is_tenant_scoped
from core.db.engine import Database
from core.identity.store import DatabaseStore, SessionConfig
from core.identity.throttle import LoginBrake, RedisCounter, SqlCounter
from core.ops import tracing
from core.ops.limits import StorageLimits
from core.ops.wiring import Ops
from core.pluginhost.manager import PluginHost
from core.rbac.subjects import SubjectCache
from core.services import events
from core.services.files.storage import LocalStorage
from core.web import declared
from core.web.assets import Assets, serve_asset
from core.web.context import PREFIX_KEY, SLUG_KEY, ContextMiddleware, TenantCache
from core.web.csrf import CSRFRotationMiddleware, CSRFSettings, SessionCSRFMiddleware
from core.web.errors import exception_handlers
from core.web.headers import with_security_headers
from core.web.inputs import InputGuardMiddleware
from core.web.proxies import parse_networks, resolve_client
from core.web.ratelimit import ApiRateLimit
from core.web.render import build_environment

log = logging.getLogger("liuzhi")

_PREFIX = re.compile(r"^/t/([a-z0-9][a-z0-9-]{0,62})(/.*)?$")

# Front-end libraries installed by `npm ci`, served by the app itself (no CDN).
VENDOR = {
    "htmx": "htmx.org/dist",
    "htmx-sse": "htmx-ext-sse/dist",
    "pico": "@picocss/pico/css",
    "chartjs": "chart.js/dist",
    "leaflet": "leaflet/dist",
}


class LiuzhiApp(Litestar):
    """Litestar, plus the tenant path prefix: ``/t/<slug>/x`` is routed as ``/x`` for that tenant,
    and the operations layer (request id, metrics, access log, usage) around every request."""

    ops: Ops | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] == "http":
            send = with_security_headers(scope, send)
        if scope["type"] in ("http", "websocket"):
            resolve_client(scope, self.state.trusted_proxies)
            m = _PREFIX.match(scope["path"])
            if m:
                slug, rest = m.group(1), m.group(2) or "/"
                scope = dict(scope)  # type: ignore[assignment]
                scope[SLUG_KEY] = slug  # type: ignore[literal-required]
                scope[PREFIX_KEY] = f"/t/{slug}"  # type: ignore[literal-required]
                scope["path"] = rest
                scope["raw_path"] = rest.encode()
        if self.ops is not None:
            await self.ops.layer(scope, receive, send, super().__call__)
            return
        await super().__call__(scope, receive, send)


def _package_dir(module_name: str) -> Path | None:
    spec = importlib.util.find_spec(module_name.rpartition(".")[0] or module_name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def plugin_dirs(host: PluginHost) -> dict[str, Path]:
    """Each plugin's package folder: templates/, static/ and locale/ are found there by convention."""
    out = {}
    for name in host.manifests:
        plugin = host.pm.get_plugin(name)
        pkg = _package_dir(plugin.__name__) if hasattr(plugin, "__name__") else None
        if pkg is None and hasattr(plugin, "__module__"):
            pkg = _package_dir(plugin.__module__)
        if pkg is not None:
            out[name] = pkg
    return out


def load_models(host: PluginHost) -> None:
    import core.models  # noqa: F401  (registers core tables)
    from core.audit import log as audit_log
    from core.db.engine import TenantSession
    from core.grids import locate
    from core.rbac.subjects import watch_assignments
    from core.tenancy import plugins_on

    audit_log.install(TenantSession)  # every flush of a tenant-owned row is audited (once per process)
    watch_assignments(TenantSession)  # a changed role assignment expires cached subjects everywhere
    plugins_on.watch(TenantSession)  # the tenant row mirrors its switched-on plugins for the scheduler
    locate.watch(TenantSession)  # a written grid node expires the located areas cached everywhere

    # SQLAlchemy's registry holds classes weakly: keep what plugins return alive with the host.
    host.models = [m for _name, result in host.call_sync("register_models") for m in result]
    for table in Base.metadata.sorted_tables:
        mapper_cls = next((m.class_ for m in Base.registry.mappers if m.local_table is table), None)
        if mapper_cls is not None and is_tenant_scoped(mapper_cls):
            pk = [c.name for c in table.primary_key.columns]
            if pk[:1] != ["tenant_id"]:
                raise RuntimeError(f"{table.name}: tenant-owned table must lead its key with tenant_id")


def _compression() -> CompressionConfig:
    """Brotli where the client takes it and the library is installed, else gzip."""
    exclude = ["/stream$", "^/assets/"]
    if importlib.util.find_spec("brotli") is not None:
        return CompressionConfig(
            backend="brotli", brotli_quality=5, brotli_gzip_fallback=True, minimum_size=1024, exclude=exclude
        )
    return CompressionConfig(backend="gzip", minimum_size=1024, gzip_compress_level=6, exclude=exclude)


def _static_mounts(settings: Settings, dirs: dict[str, Path]) -> dict[str, Path]:
    """URL mount → folder: core's static files, the npm packages' (vendor/…), each plugin's static/."""
    mounts: dict[str, Path] = {"core": Path(__file__).parent / "web" / "static"}
    for alias, rel in VENDOR.items():
        folder = settings.vendor_dir / rel
        if folder.is_dir():
            mounts[f"vendor/{alias}"] = folder
        else:
            log.warning("front-end files missing at %s: run `npm ci`", folder)
    for name, d in dirs.items():
        if (d / "static").is_dir():
            mounts[f"plugins/{name}"] = d / "static"
    return mounts


def _plugin_routes(host: PluginHost) -> list[Any]:
    """Each plugin's routes in a router marked with its name (the per-tenant switch reads it), with
    declared landing pages (core/web/declared.py) added; core helpers' routes as they are."""
    registered = dict(host.call_sync("register_routes"))
    for name, manifest in host.manifests.items():
        page = declared.landing_route(manifest, registered.get(name, ()))
        if page is not None:
            registered[name] = [*registered.get(name, ()), page]
    out: list[Any] = []
    for name, routes in registered.items():
        if name in host.manifests:
            out.append(Router(path="/", route_handlers=list(routes), opt={"plugin": name}))
        else:
            out.extend(routes)
    return out


def create_app(
    settings: Settings | None = None,
    *,
    extra_plugins: Iterable[Any] = (),
    load_entry_points: bool = True,
    run_jobs: bool = False,
) -> LiuzhiApp:
    from core.imports.jobs import ImportJobs
    from core.services.jobs.runner import JobRunner
    from core.services.notifications.service import LoggingSender
    from core.web.routes import core_route_handlers

    settings = settings or Settings.from_env()
    from core.grids.fieldwork.routes_files import FieldworkFiles
    from core.services.accounts.identity import core_plugins as identity_plugins
    from core.services.glance import ServicesGlance
    from core.web.worklist import CoreWorklist

    core_helpers = [
        LoggingSender(),
        ImportJobs(),
        ServicesGlance(),
        CoreWorklist(),
        FieldworkFiles(),
        *identity_plugins(settings),
    ]
    host = PluginHost([*extra_plugins, *core_helpers], load_entry_points=load_entry_points)
    load_models(host)
    db = Database(settings.database_url)
    dirs = plugin_dirs(host)

    env = build_environment(
        [d / "templates" for d in dirs.values() if (d / "templates").is_dir()],
        auto_reload=settings.debug,
        strict=settings.strict_templates,
    )
    host.call_sync("prepare_jinja2_environment", env=env)

    i18n.CATALOGUES.load_dir(Path(__file__).parent / "locale")
    for name, d in dirs.items():
        if (d / "locale").is_dir():
            i18n.CATALOGUES.load_dir(d / "locale", domain=name)

    handlers: list[Any] = list(core_route_handlers())
    mounts = _static_mounts(settings, dirs)
    for mount, folder in mounts.items():  # the plain paths; pages link the hashed ones (core/web/assets.py)
        handlers.append(create_static_files_router(f"/static/{mount}", [folder], opt={"area": "public"}))
    assets = Assets(mounts, cache=not settings.debug)
    env.globals["static_url"] = assets.url
    handlers.append(serve_asset)
    handlers.extend(_plugin_routes(host))

    if settings.redis_url:
        from litestar.channels.backends.redis import RedisChannelsPubSubBackend
        from litestar.stores.redis import RedisStore
        from redis.asyncio import Redis

        redis: Any = Redis.from_url(settings.redis_url)
        session_store: Any = RedisStore(redis, namespace="liuzhi:sessions")
        brake = LoginBrake(RedisCounter(redis), settings)
        channels_backend: Any = RedisChannelsPubSubBackend(redis=redis)
    else:
        redis = None
        session_store = DatabaseStore(db, "session")
        brake = LoginBrake(SqlCounter(db), settings)
        channels_backend = MemoryChannelsBackend()

    channels = ChannelsPlugin(backend=channels_backend, arbitrary_channels_allowed=True)
    session_config = SessionConfig(
        key="liuzhi_session",
        max_age=settings.session_max_age,
        secure=settings.cookie_secure,
        samesite="lax",
        exclude_opt_key="skip_session",
    )
    runner = JobRunner(db, host, channels=channels)
    csrf = CSRFSettings(
        secret=settings.secret_key, session_cookie="liuzhi_session", cookie_secure=settings.cookie_secure
    )
    ops = Ops.build(settings.ops, db, settings.redis_url)

    async def on_startup(app: Litestar) -> None:
        await host.run("startup", app=app)
        await ops.start()
        if run_jobs:
            await runner.start()

    async def on_shutdown(app: Litestar) -> None:
        await runner.stop()
        await ops.stop()
        await host.run("shutdown", app=app)
        await events.delivered()  # what was committed is announced before the database closes
        await db.dispose()

    app = LiuzhiApp(
        route_handlers=handlers,
        middleware=[
            DefineMiddleware(CSRFRotationMiddleware, settings=csrf),
            session_config.middleware,
            DefineMiddleware(ContextMiddleware),
            DefineMiddleware(ApiRateLimit),
            DefineMiddleware(SessionCSRFMiddleware, settings=csrf),
            DefineMiddleware(InputGuardMiddleware),
        ],
        stores={"sessions": session_store},
        plugins=[channels, *tracing.plugins(settings.ops)],
        # Pages and API answers compressed for a weak signal; not live streams (each event must
        # reach the browser at once) and not /assets/, compressed once ahead (core/web/assets.py).
        compression_config=_compression(),
        exception_handlers=exception_handlers(),
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        state=State(
            {
                "settings": settings,
                "plugins": host,
                "db": db,
                "jinja": env,
                "policies": {},
                "subjects": SubjectCache(),
                "tenant_cache": TenantCache(),
                "channels": channels,
                "jobs": runner,
                "storage": LocalStorage(settings.data_dir / "files", limits=StorageLimits(settings.ops)),
                "vault": Vault(settings.data_keys, settings.hash_key),
                "repo_root": REPO_ROOT,
                "assets": assets,
                "redis": redis,
                "login_brake": brake,
                "trusted_proxies": parse_networks(settings.trusted_proxies),
                "platform_allowed": parse_networks(settings.platform_allowed_ips),
                "ops": ops,
            }
        ),
        debug=settings.debug,
        # Uploads are checked by size with a clear message (core.services.files); let them arrive.
        request_max_body_size=25 * 1024 * 1024,
        # Logging is the process's business (the CLI, uvicorn, pytest), not the app factory's.
        logging_config=None,
        # JSON only: Litestar's HTML viewers (Scalar, Swagger, Redoc) load their scripts from a CDN,
        # and a deployment has no outside network.
        openapi_config=OpenAPIConfig(
            title="Liuzhi API", version="1", path="/api/schema", render_plugins=[JsonRenderPlugin()]
        ),
    )
    app.ops = ops
    db.session_info[events.APP_STATE] = app.state  # the outbox delivers committed events through it
    return app
