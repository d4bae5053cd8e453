"""Liuzhi's public face for plugin authors.

``liuzhi.api`` lists every name a plugin may import (docs/plugins.md "The public API");
``liuzhi.testing`` is the pytest plugin (fixtures for an app, a migrated database, districts with
the plugin on and off, signed-in clients per role, a tenant-bound session). Everything else under
``core`` is the product's inside and may change without notice.
"""
