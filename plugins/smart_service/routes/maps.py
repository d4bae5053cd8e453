"""The map's data: GeoJSON for the Leaflet maps of the report form, the inbox, the board, an event and
a grid node's page (static/map.js draws them), and the tenant's base-map setting.

    GET /smart-service/map/areas      boundaries of the grid nodes in the user's scope (?under=<node>)
    GET /smart-service/map/events     staff: events in their view scope, with the inbox's filters
                                      (?state, category, level, overdue, mine, q, node=<node>)
    GET /smart-service/map/reports    residents: open reports in their report scope, public fields only
    GET /api/v1/smart-service/map/reports   the same for the mini-program (bearer token)

Scope is applied in SQL (``in_scope`` on the node path), as in the inbox; a node outside it answers
404. What a resident's map may show of an event is ``public_feature``: the fields Open311 GET publishes
(number, category, open/closed, when) and the point as publicity.py allows it (public categories only,
snapped to the category's grid) — no title, description, people or notes; a resident's own report exactly.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery, QueryParameter
from sqlalchemy import select

from core.db.base import utcnow
from core.grids.models import GridNode
from core.i18n import gettext as _
from core.rbac.scope import in_scope
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.guards import check_in_scope, requires
from core.web.headers import allow_images_from
from core.web.routes.api import api_router
from plugins.smart_service import board, publicity
from plugins.smart_service.lifecycle import FINAL, OPEN, REPORT, STATE_LABELS, State
from plugins.smart_service.models import Category, Event
from plugins.smart_service.routes.staff import VIEW, _filters, _inbox_statement, _is_overdue

GEOJSON = "application/geo+json"
MAX_AREAS = 2000
MAX_EVENTS = 500
MAX_REPORTS = 300
GRID_VIEW = "core.grid.view"
NO_STORE = {"Cache-Control": "no-store"}


# ---- the base map ------------------------------------------------------------------------------


def tile_source(url: str) -> str | None:
    """The CSP host-source a tile URL loads from: ``https://t{s}.x.cn/…`` → ``https://*.x.cn``."""
    m = re.match(r"^(https?)://([^/]+)/", url or "")
    if not m:
        return None
    scheme, host = m.groups()
    if "{" in host:
        _label, dot, rest = host.partition(".")
        if "{" in rest or not dot:
            return None  # a placeholder beyond the first label cannot be a CSP wildcard
        host = f"*.{rest}"
    return f"{scheme}://{host}"


def map_config(request: Request) -> dict[str, str]:
    """The tenant's base map for a page's map (``tiles`` empty: boundaries on a plain background),
    and this page's CSP widened to load its tiles."""
    settings = ctx(request).plugin_settings.get("smart_service", {})
    tiles = str(settings.get("map_tile_url") or "")
    source = tile_source(tiles) if tiles else None
    if source is None:
        tiles = ""
    else:
        allow_images_from(request.scope, source)
    return {"tiles": tiles, "attribution": str(settings.get("map_tile_attribution") or "")}


# ---- features ----------------------------------------------------------------------------------


def _collection(features: list[dict[str, Any]], **members: Any) -> Response[bytes]:
    body = msgspec.json.encode({"type": "FeatureCollection", "features": features, **members})
    return Response(body, media_type=GEOJSON, headers=NO_STORE)


def _point(event: Event) -> dict[str, Any]:
    assert event.lon is not None and event.lat is not None
    return {"type": "Point", "coordinates": [float(event.lon), float(event.lat)]}


def public_feature(event: Event, category: Category | None, locale: str, *, mine: bool = False) -> dict[str, Any]:
    """What a resident's map may show of an event: Open311 GET's public fields, at the point
    publicity.py allows (snapped to the category's grid) — exact only on the resident's own report."""
    if mine:
        geometry = _point(event)
    else:
        lat, lon, _address = publicity.location(event, category)
        geometry = {"type": "Point", "coordinates": [float(lon), float(lat)]}
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            "number": event.number,
            "service_name": category.label(locale) if category else event.category_code,
            "status": "closed" if State(event.state) in FINAL else "open",
            "requested_datetime": event.created_at.isoformat(),
            "mine": mine,
        },
    }


async def _category_names(session: Any, locale: str) -> dict[str, str]:
    rows = await session.execute(select(Category))
    return {cat.code: cat.label(locale) for cat in rows.scalars()}


async def _node(request: Request, node_id: int | None, action: str) -> GridNode | None:
    """The ``under``/``node`` parameter: a node in the user's scope for ``action``, else 404."""
    if node_id is None:
        return None
    c = ctx(request)
    assert c.db is not None
    node = (await c.db.execute(select(GridNode).where(GridNode.id == node_id))).scalar_one_or_none()
    if node is None:
        raise NotFoundException()
    check_in_scope(request, action, node.path)
    return node


# ---- boundaries --------------------------------------------------------------------------------


@get("/smart-service/map/areas", guards=[requires(VIEW, REPORT)])
async def map_areas(request: Request, db: DbSession, rc: Ctx, under: FromQuery[int | None] = None) -> Response[bytes]:
    """Boundaries of the nodes the user may view events of or report in (under ``under``)."""
    prefixes = sorted(set(rc.scope_prefixes(VIEW)) | set(rc.scope_prefixes(REPORT)))
    node = None
    if under is not None:
        node = await _node(request, under, VIEW if rc.can(VIEW) else REPORT)
    stmt = select(GridNode).where(GridNode.boundary.is_not(None), in_scope(GridNode.path, prefixes))
    if node is not None:
        stmt = stmt.where(in_scope(GridNode.path, [node.path]))
    rows = await db.execute(stmt.order_by(GridNode.depth, GridNode.path).limit(MAX_AREAS + 1))
    nodes = list(rows.scalars())
    features = [
        {
            "type": "Feature",
            "geometry": n.boundary,
            "properties": {
                "id": n.id,
                "name": n.label(rc.locale),
                "kind": n.kind,
                "depth": n.depth,
                "url": rc.url(f"/grid/{n.id}") if rc.can(GRID_VIEW, n.path) else None,
            },
        }
        for n in nodes[:MAX_AREAS]
    ]
    return _collection(features, truncated=len(nodes) > MAX_AREAS)


# ---- staff: events -----------------------------------------------------------------------------


@get("/smart-service/map/events", guards=[requires(VIEW)])
async def map_events(
    request: Request,
    db: DbSession,
    rc: Ctx,
    state_: Annotated[str | None, QueryParameter(name="state")] = None,  # "state" is litestar's reserved name
    category: FromQuery[str | None] = None,
    level: FromQuery[str | None] = None,
    overdue: FromQuery[str | None] = None,
    mine: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
    node: FromQuery[int | None] = None,
) -> Response[bytes]:
    """The inbox's events that have a point (same filters, same scope), soonest deadline first."""
    now = utcnow()
    stmt = _inbox_statement(rc, _filters(state_, category, level, overdue, mine, q), now)
    under = await _node(request, node, VIEW)
    if under is not None:
        stmt = stmt.where(in_scope(Event.node_path, [under.path]))
    stmt = stmt.where(Event.lon.is_not(None), Event.lat.is_not(None)).limit(MAX_EVENTS + 1)
    events = list((await db.execute(stmt)).scalars())
    names = await _category_names(db, rc.locale)
    features = []
    for e in events[:MAX_EVENTS]:
        late = _is_overdue(e, now)
        features.append(
            {
                "type": "Feature",
                "geometry": _point(e),
                "properties": {
                    "id": e.id,
                    "number": e.number,
                    "title": e.title,
                    "category": names.get(e.category_code, e.category_code),
                    "state": e.state,
                    "state_label": _(STATE_LABELS[State(e.state)]),
                    "group": board.OVERDUE if late else (board.group_of(e.state) or "final"),
                    "overdue": late,
                    "urgency": e.urgency,
                    "url": rc.url(f"/smart-service/events/{e.id}"),
                },
            }
        )
    return _collection(features, truncated=len(events) > MAX_EVENTS)


# ---- residents: public view of open reports ----------------------------------------------------


async def _public_reports(request: Request) -> list[dict[str, Any]]:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    categories = {cat.code: cat for cat in (await c.db.execute(select(Category))).scalars()}
    stmt = (
        select(Event)
        .where(
            in_scope(Event.node_path, c.scope_prefixes(REPORT)),
            Event.state.in_([s.value for s in OPEN]),
            Event.lon.is_not(None),
            Event.lat.is_not(None),
            # Others' events of public categories only.
            Event.category_code.in_(sorted(publicity.public_codes_of(list(categories.values())))),
        )
        .order_by(Event.created_at.desc(), Event.id.desc())
        .limit(MAX_REPORTS)
    )
    # Own reports show whatever their state, so a resident finds theirs on the map after closing.
    own = (
        select(Event)
        .where(Event.reporter_user_id == c.user.id, Event.lon.is_not(None), Event.lat.is_not(None))
        .order_by(Event.created_at.desc(), Event.id.desc())
        .limit(MAX_REPORTS)
    )
    seen: dict[int, Event] = {}
    for e in [*(await c.db.execute(own)).scalars(), *(await c.db.execute(stmt)).scalars()]:
        seen.setdefault(e.id, e)
    return [
        public_feature(e, categories.get(e.category_code), c.locale, mine=e.reporter_user_id == c.user.id)
        for e in seen.values()
    ]


@get("/smart-service/map/reports", guards=[requires(REPORT)])
async def map_reports(request: Request) -> Response[bytes]:
    return _collection(await _public_reports(request))


@get(
    "/smart-service/map/reports",
    guards=[requires(REPORT)],
    summary="Open reports near me on a map (GeoJSON, public fields)",
    name="api.smart_service.map_reports",
)
async def api_map_reports(request: Request) -> Response[bytes]:
    return _collection(await _public_reports(request))


handlers = [map_areas, map_events, map_reports, api_router(api_map_reports)]
