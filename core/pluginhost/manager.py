"""One PluginManager per app: loads entry points, reads manifests, calls hooks per tenant."""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import logging
import warnings
from collections.abc import Iterable
from typing import Any

import pluggy

from core import CORE_API_VERSION, OLDEST_CORE_API
from core.pluginhost import hookspecs
from core.pluginhost.manifest import Manifest
from core.pluginhost.markers import PROJECT

log = logging.getLogger("liuzhi.plugins")
ENTRY_POINT_GROUP = "liuzhi.plugins"
# Core's own contributions to the lifecycle hooks, registered in every host like plugins (each is
# built with the host). Named, not imported, so the plugin host depends on no feature of core.
CORE_HELPERS = ("core.rbac.provisioning:RolesOnTenantCreated",)


async def await_me_maybe(value: Any) -> Any:
    """A hook may return a value, a callable or an awaitable (Datasette's idiom)."""
    if callable(value):
        value = value()
    if inspect.isawaitable(value):
        value = await value
    return value


class PluginError(RuntimeError):
    pass


class PluginHost:
    def __init__(self, extra_plugins: Iterable[Any] = (), load_entry_points: bool = True) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        # Installed plugins that failed to import or target a core API this release does not serve:
        # reported (``liuzhi plugins list``, the start-up log, the admin's plugin page) and skipped.
        self.broken: dict[str, str] = {}
        self.models: list[type] = []
        self._from_entry_points: set[str] = set()
        if load_entry_points:
            self._load_entry_points()
        for plugin in extra_plugins:
            self.pm.register(plugin, name=getattr(plugin, "__liuzhi_name__", None))
        for ref in CORE_HELPERS:
            module, _, attr = ref.partition(":")
            helper = getattr(importlib.import_module(module), attr)(self)
            self.pm.register(helper, name=helper.__liuzhi_name__)
        self.manifests: dict[str, Manifest] = {}
        self._load_manifests()

    def _load_entry_points(self) -> None:
        """Like pluggy's loader, but one plugin that fails to import is reported, not fatal."""
        for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if self.pm.get_plugin(ep.name) is not None or self.pm.is_blocked(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                log.error("plugin %s failed to load: %s", ep.name, exc)
                self.broken[ep.name] = f"{type(exc).__name__}: {exc}"
                continue
            self.pm.register(plugin, name=ep.name)
            self._from_entry_points.add(ep.name)

    def _load_manifests(self) -> None:
        for plugin in self.pm.get_plugins():
            name = self.pm.get_name(plugin)
            impls = [i for i in self.pm.hook.plugin_manifest.get_hookimpls() if i.plugin is plugin]
            if not impls:
                continue  # a helper module (core's own adapters) rather than a pillar
            manifest = impls[0].function()
            if not isinstance(manifest, Manifest):
                raise PluginError(f"{name}: plugin_manifest() must return a Manifest")
            if manifest.name != name:
                raise PluginError(f"{name}: manifest name {manifest.name!r} differs from entry point")
            problem = api_problem(manifest)
            if problem is not None:
                if name not in self._from_entry_points:
                    raise PluginError(f"{name}: {problem}")
                # An installed plugin written for another contract is left out; the rest starts.
                log.error("plugin %s refused: %s", name, problem)
                self.broken[name] = problem
                self.pm.unregister(plugin)
                continue
            self.manifests[name] = manifest

    # ---- introspection ---------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return sorted(self.manifests)

    def hooks_of(self, name: str) -> list[str]:
        plugin = self.pm.get_plugin(name)
        return sorted(
            hook
            for hook in dir(self.pm.hook)
            if not hook.startswith("_") and any(i.plugin is plugin for i in getattr(self.pm.hook, hook).get_hookimpls())
        )

    def plugin_name_of(self, impl: pluggy.HookImpl) -> str:
        return impl.plugin_name

    # ---- calling ---------------------------------------------------------------------------

    def _impls(self, hook: str, enabled: Iterable[str] | None) -> list[pluggy.HookImpl]:
        impls = getattr(self.pm.hook, hook).get_hookimpls()
        # pluggy calls the last registered first; keep that order (LIFO) for predictability.
        impls = list(reversed(impls))
        if enabled is None:
            return impls
        allowed = set(enabled)
        # Core's own helper plugins have no manifest and are always on.
        return [i for i in impls if i.plugin_name in allowed or i.plugin_name not in self.manifests]

    def _spec(self, hook: str) -> tuple[bool, bool]:
        """(firstresult, contained) as the hookspec declares them."""
        caller = getattr(self.pm.hook, hook, None)
        if caller is None or caller.spec is None:
            raise PluginError(f"no hook {hook!r} in the contract")
        is_contained = bool(getattr(caller.spec.function, hookspecs.CONTAINED, False))
        return bool(caller.spec.opts.get("firstresult")), is_contained

    async def run(self, hook: str, enabled: Iterable[str] | None = None, /, **kwargs: Any) -> Any:
        """Call ``hook`` the way its spec says: on every plugin (or only the ``enabled`` ones and the
        always-on helpers); a ``firstresult`` hook returns the first answer that is not None, any
        other hook a list of ``(plugin, answer)``; a ``@contained`` hook logs and skips a plugin
        that raises, any other lets the error propagate to the caller."""
        first, is_contained = self._spec(hook)
        return await self._collect(hook, enabled, kwargs, first=first, contain=is_contained)

    async def _collect(
        self, hook: str, enabled: Iterable[str] | None, kwargs: dict[str, Any], *, first: bool, contain: bool
    ) -> Any:
        results: list[tuple[str, Any]] = []
        for impl in self._impls(hook, enabled):
            try:
                value = await await_me_maybe(impl.function(**self._args(impl, kwargs)))
            except Exception:
                if not contain:
                    raise
                log.exception("plugin %s failed in hook %s; skipped", impl.plugin_name, hook)
                continue
            if value is None:
                continue
            if first:
                return value
            results.append((impl.plugin_name, value))
        return None if first else results

    # The call-site forms below predate ``run``: the caller, not the spec, chose. Kept for plugins
    # and branches written against them; they warn once per call site. A hook the spec contains is
    # contained whichever form calls it.

    async def call(self, hook: str, enabled: Iterable[str] | None = None, /, **kwargs: Any) -> list[Any]:
        """Deprecated: use ``run``. Every plugin's answer; errors propagate unless the spec contains them."""
        _deprecated("call")
        found = await self._collect(hook, enabled, kwargs, first=False, contain=self._spec(hook)[1])
        return [value for _name, value in found]

    async def call_safely(
        self, hook: str, enabled: Iterable[str] | None = None, /, **kwargs: Any
    ) -> list[tuple[str, Any]]:
        """Deprecated: use ``run``. A plugin that raises is logged and skipped."""
        _deprecated("call_safely")
        found: list[tuple[str, Any]] = await self._collect(hook, enabled, kwargs, first=False, contain=True)
        return found

    async def call_first(self, hook: str, enabled: Iterable[str] | None = None, /, **kwargs: Any) -> Any:
        """Deprecated: use ``run`` (the spec says firstresult)."""
        _deprecated("call_first")
        return await self._collect(hook, enabled, kwargs, first=True, contain=self._spec(hook)[1])

    async def call_one(self, name: str, hook: str, /, **kwargs: Any) -> Any:
        """Call ``hook`` on plugin ``name`` only (on_plugin_enabled/disabled)."""
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            if impl.plugin_name == name:
                return await await_me_maybe(impl.function(**self._args(impl, kwargs)))
        return None

    def call_sync(self, hook: str, /, **kwargs: Any) -> list[tuple[str, Any]]:
        """Start-up hooks that must not be async (models, routes, migrations, commands)."""
        out = []
        for impl in self._impls(hook, None):
            value = impl.function(**self._args(impl, kwargs))
            if inspect.isawaitable(value):
                raise PluginError(f"{impl.plugin_name}.{hook} must not be async")
            if value is not None:
                out.append((impl.plugin_name, value))
        return out

    @staticmethod
    def _args(impl: pluggy.HookImpl, kwargs: dict[str, Any]) -> dict[str, Any]:
        # Like pluggy: an implementation takes any subset of the spec's arguments.
        return {k: kwargs[k] for k in impl.argnames if k in kwargs}


def api_problem(manifest: Manifest) -> str | None:
    """Why this release cannot run a plugin written for ``manifest.core_api`` (None: it can)."""
    wanted = manifest.core_api
    if wanted > CORE_API_VERSION:
        return (
            f"needs core API {wanted}, this Liuzhi provides core API {CORE_API_VERSION}: "
            f"upgrade Liuzhi or install a {manifest.name} release for core API {CORE_API_VERSION}"
        )
    if wanted < OLDEST_CORE_API:
        return (
            f"written for core API {wanted}, which this Liuzhi no longer serves (core API "
            f"{OLDEST_CORE_API}–{CORE_API_VERSION}): update the plugin (docs/plugins.md, Changelog)"
        )
    return None


def _deprecated(name: str) -> None:
    warnings.warn(
        f"PluginHost.{name}() is deprecated: call PluginHost.run(), whose hookspec decides first-result "
        "and error handling",
        DeprecationWarning,
        stacklevel=3,
    )
