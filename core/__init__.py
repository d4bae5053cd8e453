"""Liuzhi core: the tenant-aware kernel every plugin stands on.

Plugins import their public API from here: ``from core import hookimpl``.
"""

from core.pluginhost.markers import hookimpl

CORE_API_VERSION = 1

__all__ = ["CORE_API_VERSION", "hookimpl"]
