"""pluggy markers. Plugins import ``hookimpl`` from ``core``."""

import pluggy

PROJECT = "liuzhi"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
