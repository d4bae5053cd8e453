"""Pages and JSON API over the shared services (core/services): what residents and staff touch.

The services stay free of the web layer; these modules parse, call one service, and render.
"""

from __future__ import annotations

from typing import Any


def service_route_handlers() -> list[Any]:
    from core.web.services import (
        accounts,
        activities,
        api_accounts,
        api_activities,
        ballots,
        consent,
        me,
        notices,
        points,
    )

    return [
        *accounts.handlers,
        *api_accounts.handlers,
        *me.handlers,
        *activities.handlers,
        *api_activities.handlers,
        *points.handlers,
        *ballots.handlers,
        *notices.handlers,
        *consent.handlers,
    ]
