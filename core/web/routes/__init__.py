"""Core's own pages and endpoints; plugins add theirs through ``register_routes``."""

from __future__ import annotations

from typing import Any


def core_route_handlers() -> list[Any]:
    from core.grids.fieldwork import routes as field_routes
    from core.grids.fieldwork import routes_api as field_api
    from core.grids.fieldwork import routes_pwa as field_pwa
    from core.grids.routes import grid_route_handlers
    from core.imports import routes as import_routes
    from core.ops import routes as ops_routes
    from core.rbac import routes as rbac_routes
    from core.web.routes import (
        account,
        admin,
        api,
        auth,
        dashboard,
        files,
        health,
        notifications,
        platform,
        second_factor,
    )
    from core.web.routes import platform_ops as ops_platform
    from core.web.services import service_route_handlers

    return [
        *health.handlers,
        *ops_routes.handlers,
        *ops_platform.handlers,
        *api.handlers,
        *auth.handlers,
        *dashboard.handlers,
        *grid_route_handlers(),
        *account.handlers,
        *admin.handlers,
        *notifications.handlers,
        *files.handlers,
        *platform.handlers,
        *second_factor.handlers,
        *rbac_routes.handlers,
        *import_routes.handlers,
        *service_route_handlers(),
        *field_routes.handlers,
        *field_api.handlers,
        *field_pwa.handlers,
    ]
