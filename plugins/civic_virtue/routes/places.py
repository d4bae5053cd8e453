"""Themed places: the list and the map (Leaflet on a blank base: the grid's boundaries, no tiles),
adding a place at a node (with an optional exact point), a place's page with photos."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core.grids.models import GridNode
from core.i18n import gettext as _
from core.services.errors import ServiceError
from core.services.files.models import StoredFile
from core.services.files.storage import UploadError
from core.services.files.uploads import IMAGES
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import public, requires
from core.web.render import render
from core.web.uploads import save_upload
from plugins.civic_virtue import places
from plugins.civic_virtue.models import PLACE_KINDS
from plugins.civic_virtue.plugin import PLACES
from plugins.civic_virtue.routes.common import PLACE_KINDS as NODE_KINDS
from plugins.civic_virtue.routes.common import (
    Errors,
    FormError,
    Values,
    message,
    node_in_scope,
    nodes_for,
    rollback,
    text,
)

BASE = "/civic-virtue/places"


def kind_labels() -> dict[str, str]:
    return {k: _(places.KIND_LABELS[k]) for k in PLACE_KINDS}


@get(f"{BASE}/", guards=[public])
async def place_list(request: Request, db: DbSession, rc: Ctx, kind: FromQuery[str | None] = None) -> Any:
    """Public: themed places are shown to everyone (no personal data)."""
    rows = await places.in_area(db, ["/"], kind)
    names = (
        dict(
            (
                await db.execute(select(GridNode.id, GridNode.name).where(GridNode.id.in_({p.node_id for p in rows})))
            ).all()
        )
        if rows
        else {}
    )
    return await render(
        request,
        "civic_virtue/places.html",
        {
            "rows": rows,
            "names": names,
            "kinds": kind_labels(),
            "kind": kind if kind in PLACE_KINDS else "",
            "map": await places.map_data(db, ["/"], rc.locale),
            "can_manage": rc.can(PLACES),
            "counts": {k: sum(1 for p in rows if p.kind == k) for k in PLACE_KINDS},
        },
    )


async def _form(request: Request, values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Any:
    return await render(
        request,
        "civic_virtue/place_form.html",
        {
            "values": Values(values),
            "errors": Errors(errors),
            "kinds": kind_labels(),
            "nodes": await nodes_for(request, PLACES, NODE_KINDS),
        },
        status_code=status,
    )


@get(f"{BASE}/new", guards=[requires(PLACES)])
async def place_new(request: Request) -> Any:
    return await _form(request, {"kind": "stairwell"}, {})


def _coordinate(data: dict[str, Any], key: str) -> float | None:
    raw = text(data, key)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise FormError(key, _("Give a number such as 117.70.")) from None


@post(f"{BASE}/", guards=[requires(PLACES)])
async def place_create(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    values = {k: text(data, k) for k in data if not k.startswith("_")}
    try:
        node = await node_in_scope(request, data.get("node_id"), PLACES, NODE_KINDS)
        place = await places.add(
            db,
            places.PlaceInput(
                kind=text(data, "kind"),
                name=text(data, "name"),
                node=node,
                theme=text(data, "theme"),
                description=str(data.get("description") or ""),
                lon=_coordinate(data, "lon"),
                lat=_coordinate(data, "lat"),
            ),
        )
    except FormError as e:
        await rollback(request)
        return await _form(request, values, {e.field: e.message}, 400)
    except ServiceError as e:
        await rollback(request)
        return await _form(request, values, {getattr(e, "field", None) or "name": message(e)}, e.status)
    await db.commit()
    return Redirect(rc.url(f"{BASE}/{place.id}"), status_code=303)


async def _page(request: Request, place_id: int, *, error: str | None = None, status: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None
    try:
        place = await places.get(c.db, place_id)
    except ServiceError:
        raise NotFoundException() from None
    node = (await c.db.execute(select(GridNode).where(GridNode.id == place.node_id))).scalar_one()
    photos = list(
        (
            await c.db.execute(
                select(StoredFile.id).where(
                    StoredFile.owner_type == places.PHOTO_OWNER, StoredFile.owner_id == str(place.id)
                )
            )
        ).scalars()
    )
    return await render(
        request,
        "civic_virtue/place.html",
        {
            "place": place,
            "node": node,
            "kind": kind_labels().get(place.kind, place.kind),
            "photos": photos,
            "can_manage": c.can(PLACES, place.node_path),
            "error": error,
        },
        status_code=status,
    )


@get(f"{BASE}/{{place_id:int}}", guards=[public])
async def place_page(request: Request, place_id: FromPath[int]) -> Any:
    return await _page(request, place_id)


@post(f"{BASE}/{{place_id:int}}/photos", guards=[requires(PLACES)], request_max_body_size=30 * 1024 * 1024)
async def place_photos(request: Request, place_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    try:
        place = await places.get(db, place_id)
    except ServiceError:
        raise NotFoundException() from None
    if not rc.can(PLACES, place.node_path):
        raise NotFoundException()
    form = await request.form()
    uploads = [u for u in form.getall("photos") if isinstance(u, UploadFile) and u.filename] if "photos" in form else []
    try:
        if not uploads:
            raise FormError("photos", _("Choose photos to upload."))
        for u in uploads[:10]:
            await save_upload(request, u, places.PHOTO_OWNER, place.id, allowed_types=IMAGES)
    except (FormError, UploadError) as e:
        await rollback(request)
        return await _page(
            request, place_id, error=getattr(e, "message", None) or str(e), status=getattr(e, "status", 400)
        )
    await db.commit()
    return Redirect(rc.url(f"{BASE}/{place_id}"), status_code=303)


handlers = [place_list, place_new, place_create, place_page, place_photos]
