"""The app's services as one typed object: what ``create_app`` builds once and every request, job
and hook shares (database, plugins, storage, vault, jobs, channels, …).

``app_services(app)`` (or ``app_services(request)``) returns it; a handler declares
``app_services: AppServices`` and receives it (core/web/deps.py). The untyped ``app.state.<name>``
keys stay as aliases of the same objects for code written before (docs/plugins.md, Changelog).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ipaddress import IPv4Network, IPv6Network

    from jinja2 import Environment
    from litestar.channels import ChannelsPlugin

    from core.config import Settings
    from core.crypto import Vault
    from core.db.engine import Database
    from core.identity.throttle import LoginBrake
    from core.ops.wiring import Ops
    from core.pluginhost.manager import PluginHost
    from core.rbac.subjects import SubjectCache
    from core.services.files.storage import LocalStorage
    from core.services.jobs.runner import JobRunner

STATE_KEY = "services"


@dataclass(frozen=True)
class AppServices:
    settings: Settings
    plugins: PluginHost
    db: Database
    jinja: Environment
    storage: LocalStorage
    vault: Vault
    jobs: JobRunner
    channels: ChannelsPlugin
    subjects: SubjectCache
    login_brake: LoginBrake
    ops: Ops
    repo_root: Path
    redis: Any = None  # redis.asyncio.Redis when LIUZHI_REDIS_URL is set
    # The web layer's own (typed Any here: lower layers never import core.web).
    assets: Any = None  # core.web.assets.Assets
    tenant_cache: Any = None  # core.web.context.TenantCache
    policies: dict[int, Any] = field(default_factory=dict)  # tenant id → its loaded RBAC policy
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    platform_allowed: tuple[IPv4Network | IPv6Network, ...] = ()

    def as_state(self) -> dict[str, Any]:
        """The state bag's keys (``app.state.db`` …): the same objects, for older code, plus this."""
        return {f.name: getattr(self, f.name) for f in fields(self)} | {STATE_KEY: self}


def app_services(app_or_request: Any) -> AppServices:
    """The services of a Litestar app, given the app, a request (``request.app``) or the app's state."""
    state = getattr(getattr(app_or_request, "app", app_or_request), "state", app_or_request)
    found: AppServices = state[STATE_KEY] if hasattr(state, "__getitem__") else getattr(state, STATE_KEY)
    return found
