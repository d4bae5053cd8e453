"""Per-request context: tenant → user → locale, set once by one middleware before any handler.

Data flows one way: request → tenant resolved → user resolved → guard → handler → service.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import i18n
from core.db.availability import database_unavailable
from core.db.context import Actor, set_actor, set_tenant
from core.i18n import gettext as _
from core.identity.models import ApiToken, Operator, User
from core.identity.sessions import session_current, token_usable, touch_token
from core.rbac.enforcer import Subject, TenantPolicy
from core.rbac.subjects import POLICY_MAX_AGE, load_subject, policy_for, subject_for  # noqa: F401  (also their old home)
from core.tenancy.models import Tenant, TenantDomain, TenantPlugin
from core.web.proxies import client_host, within

PREFIX_KEY = "liuzhi.prefix"
SLUG_KEY = "liuzhi.slug"
STATE_KEY = "ctx"


@dataclass
class RequestContext:
    tenant: Tenant | None = None
    base: str = ""  # URL prefix of the tenant: "/t/<slug>" on a shared host, "" on its own host
    user: User | None = None
    operator: Operator | None = None
    token: ApiToken | None = None
    subject: Subject = field(default_factory=lambda: Subject(None))
    policy: TenantPolicy | None = None
    enabled: frozenset[str] = frozenset()
    plugin_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    locale: str = i18n.DEFAULT_LOCALE
    db: AsyncSession | None = None
    here: str = "/"  # this page's URL as the browser asked for it (prefix, trailing slash, query)

    @staticmethod
    def of(request: Request) -> RequestContext:
        """The context of ``request``, where it cannot be injected (hooks given a request, guards,
        helpers); a handler declares ``rc: Ctx`` instead (core/web/deps.py)."""
        found: RequestContext = request.scope["state"][STATE_KEY]
        return found

    def url(self, path: str = "/") -> str:
        return self.base + (path if path.startswith("/") else "/" + path)

    def can(self, action: str, path: str | None = None) -> bool:
        if self.user is None or self.policy is None:
            return False
        return self.policy.allows(self.subject, action, path)

    def scope_prefixes(self, action: str) -> list[str]:
        if self.user is None or self.policy is None:
            return []
        return self.policy.prefixes(self.subject, action)

    @property
    def actor(self) -> Actor | None:
        if self.user is not None:
            return Actor("user", self.user.id, self.user.username)
        if self.operator is not None:
            return Actor("operator", self.operator.id, self.operator.username)
        return None

    def term(self, key: str, default: str) -> str:
        """Tenant terminology: a district may call a 网格 a 片区."""
        if self.tenant is not None and self.locale == "zh_Hans":
            return self.tenant.terminology.get(key, default)
        return default


def ctx(request: Request) -> RequestContext:
    """Core's own short form of ``RequestContext.of``. Plugins: a handler declares
    ``rc: Ctx`` and ``db: DbSession`` (``liuzhi.api.ctx`` is deprecated)."""
    return request.state[STATE_KEY]


# ---- tenant resolution (cached briefly: every request needs it, it rarely changes) ----------

_CACHE_TTL = 1.0


class TenantCache:
    def __init__(self) -> None:
        self._by_key: dict[str, tuple[float, Any]] = {}

    def get(self, key: str) -> Any:
        hit = self._by_key.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        return None

    def put(self, key: str, value: Any) -> None:
        self._by_key[key] = (time.monotonic() + _CACHE_TTL, value)

    def clear(self) -> None:
        self._by_key.clear()


@dataclass(frozen=True)
class TenantConfig:
    tenant: Tenant
    enabled: frozenset[str]
    settings: dict[str, dict[str, Any]]


async def load_tenant(app_state: Any, *, slug: str | None = None, host: str | None = None) -> TenantConfig | None:
    cache: TenantCache = app_state.tenant_cache
    key = f"slug:{slug}" if slug else f"host:{host}"
    found = cache.get(key)
    if found is not None:
        return found or None
    db = app_state.db
    async with db.session(None) as s:
        if slug:
            tenant = (await s.execute(select(Tenant).where(Tenant.slug == slug))).scalar_one_or_none()
        else:
            tenant = None
            assert host is not None
            row = await s.get(TenantDomain, host)
            if row is not None:
                tenant = await s.get(Tenant, row.tenant_id)
            elif app_state.settings.base_domain and host.endswith("." + app_state.settings.base_domain):
                sub = host[: -len(app_state.settings.base_domain) - 1]
                tenant = (await s.execute(select(Tenant).where(Tenant.slug == sub))).scalar_one_or_none()
    config = None
    if tenant is not None:
        async with db.session(tenant.id) as s:
            rows = (await s.execute(select(TenantPlugin))).scalars().all()
        installed = set(app_state.plugins.manifests)
        config = TenantConfig(
            tenant=tenant,
            enabled=frozenset(r.plugin for r in rows if r.enabled and r.plugin in installed),
            settings={r.plugin: dict(r.settings or {}) for r in rows},
        )
    cache.put(key, config or False)
    return config


async def close_quietly(session: AsyncSession) -> None:
    """Close the request's session. The answer has usually been sent by then: if the database went
    away meanwhile, the rollback on close fails, and that must not cut the response (the pool has
    already thrown the dead connection away)."""
    try:
        await session.close()
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        logging.getLogger("liuzhi.web").warning("closing a session: database unavailable (%s)", type(exc).__name__)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ContextMiddleware:
    """Resolves tenant, user and locale; opens the request's tenant-bound database session.

    Route ``opt`` decides what a route needs: ``area`` = "tenant" (default), "platform" (operators,
    no tenant) or "public" (no tenant, no user); ``plugin`` = the plugin that owns the route.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request: Request = Request(scope)
        state = request.app.state
        handler = scope.get("route_handler")
        opt = handler.opt if handler is not None else {}
        area = opt.get("area", "tenant")
        c = RequestContext()
        query = scope.get("query_string", b"").decode("latin-1")
        c.here = (
            scope.get(PREFIX_KEY, "") + scope.get("raw_path", b"/").decode("latin-1") + (f"?{query}" if query else "")
        )
        scope.setdefault("state", {})[STATE_KEY] = c
        if area == "public":
            c.locale = i18n.normalise(request.session.get("locale") if "session" in scope else None)
            i18n.set_locale(c.locale)
            await self.app(scope, receive, send)
            return

        if area == "platform" and state.platform_allowed and not within(client_host(scope), state.platform_allowed):
            raise NotFoundException()  # the console is not there for this address
        config = None
        if area == "tenant":
            slug = scope.get(SLUG_KEY)
            host = (request.headers.get("host") or "").split(":")[0].lower()
            config = await load_tenant(state, slug=slug) if slug else await load_tenant(state, host=host)
            if config is None and not slug:
                resolved = await state.plugins.run("resolve_tenant", host=host, path=scope["path"])
                if resolved:
                    config = await load_tenant(state, slug=resolved)
            if config is None and not slug and scope["path"] == "/" and scope["type"] == "http":
                from core.web.root import bare_root  # the deployment's own front door

                await (await bare_root(request)).to_asgi_response(None, request)(scope, receive, send)
                return
            if config is None:
                raise NotFoundException("unknown tenant")
            c.tenant, c.enabled, c.plugin_settings = config.tenant, config.enabled, config.settings
            c.base = scope.get(PREFIX_KEY, "")

        tenant_id = c.tenant.id if c.tenant else None
        set_tenant(tenant_id)
        session = state.db.session(tenant_id)
        c.db = session
        try:
            session_data = request.session if "session" in scope else {}
            if area == "tenant":
                await self._resolve_user(request, c, session, session_data, bool(opt.get("api")))
            elif area == "platform" and session_data.get("op"):
                op = await session.get(Operator, int(session_data["op"]))
                if op is not None and not session_current(session_data, op):
                    request.clear_session()
                    op = None
                c.operator = op if op is not None and op.is_active else None
            session.info["actor"] = c.actor
            set_actor(c.actor)
            c.locale = i18n.normalise(
                session_data.get("locale")
                or (c.user.locale if c.user else None)
                or i18n.from_accept_language(request.headers.get("accept-language") if area != "tenant" else None)
                or (c.tenant.locale if c.tenant else None)
            )
            i18n.set_locale(c.locale)
            plugin = opt.get("plugin")
            if area == "tenant" and plugin and plugin not in c.enabled:
                # Another tenant may have it on; here it does not exist (checked after the user is
                # known, so the 404 page still shows who is signed in).
                raise NotFoundException()
            await self.app(scope, receive, send)
        finally:
            await close_quietly(session)

    async def _resolve_user(
        self, request: Request, c: RequestContext, session: AsyncSession, data: dict[str, Any], api: bool
    ) -> None:
        assert c.tenant is not None
        if not c.tenant.active:
            return  # suspended: nobody is signed in; pages say so
        user = None
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            if not (api or request.scope["route_handler"].opt.get("bearer")):
                raise NotAuthorizedException(_("API tokens work only with the JSON API (/api/…), not with pages."))
            token = (
                await session.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(auth[7:].strip())))
            ).scalar_one_or_none()
            if token_usable(token):
                assert token is not None
                c.token = token
                user = await session.get(User, (c.tenant.id, token.user_id))
                await touch_token(request.app.state.db, c.tenant.id, token)
        elif not api and data.get("tid") == c.tenant.id and data.get("uid"):
            # A session belongs to one tenant: on another tenant's URLs it is anonymous.
            user = await session.get(User, (c.tenant.id, int(data["uid"])))
            if user is not None and not session_current(data, user):
                request.clear_session()  # ended elsewhere (password, deactivation, roles)
                user = None
        if user is None or not user.is_active:
            return
        c.user = user
        c.subject = await subject_for(request.app.state, c.tenant, session, user.id)
        c.policy = await policy_for(request.app.state, c.tenant, session)


def __getattr__(name: str) -> Any:
    # page_context moved next to the shell (core.web.shell); the old name still works.
    if name == "page_context":
        import warnings

        from core.web import shell

        warnings.warn("core.web.context.page_context moved to core.web.shell", DeprecationWarning, stacklevel=2)
        return shell.page_context
    raise AttributeError(name)
