"""Liuzhi core: the tenant-aware kernel every plugin stands on.

Plugins import their public API from here: ``from core import hookimpl``.
"""

from core.pluginhost.markers import hookimpl

# The plugin contract's version (docs/plugins.md "Versions"): a plugin states the one it targets in
# ``Manifest(core_api=…)``; this release serves OLDEST_CORE_API … CORE_API_VERSION.
CORE_API_VERSION = 1
OLDEST_CORE_API = 1

__all__ = ["CORE_API_VERSION", "OLDEST_CORE_API", "hookimpl"]
