"""雷锋超市 for staff: the catalogue with stock, new items and restocking, reservations to hand
over (the fulfilment record) or cancel (stock and points back by reversal)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from sqlalchemy import select

from core.i18n import gettext as _
from core.rbac.scope import in_scope
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import DbSession
from core.web.forms import Form
from core.web.guards import check_in_scope, requires
from core.web.render import render
from plugins.co_governance import store
from plugins.co_governance.models import Redemption, StoreItem, Volunteer
from plugins.co_governance.plugin import STORE_MANAGE
from plugins.co_governance.routes.common import (
    field_errors,
    message,
    node_or_404,
    nodes_in_scope,
    rollback,
    tenant_settings,
    text,
)

GUARD = [requires(STORE_MANAGE)]
BASE = "/co-governance/store/manage"


async def _page(
    request: Request,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> Any:
    c = ctx(request)
    assert c.db is not None
    prefixes = c.scope_prefixes(STORE_MANAGE)
    items = list(
        (
            await c.db.execute(
                select(StoreItem).where(in_scope(StoreItem.node_path, prefixes)).order_by(StoreItem.name)
            )
        ).scalars()
    )
    reserved = (
        await c.db.execute(
            select(Redemption, Volunteer.name, Volunteer.number)
            .join(Volunteer, Volunteer.id == Redemption.volunteer_id)
            .where(in_scope(Redemption.node_path, prefixes), Redemption.state == store.RESERVED)
            .order_by(Redemption.reserved_at)
            .limit(100)
        )
    ).all()
    done = (
        await c.db.execute(
            select(Redemption, Volunteer.name, Volunteer.number)
            .join(Volunteer, Volunteer.id == Redemption.volunteer_id)
            .where(in_scope(Redemption.node_path, prefixes), Redemption.state != store.RESERVED)
            .order_by(Redemption.reserved_at.desc())
            .limit(30)
        )
    ).all()
    return await render(
        request,
        "co_governance/store_manage.html",
        {
            "items": items,
            "reserved": reserved,
            "done": done,
            "states": {k: _(v) for k, v in store.STATE_LABELS.items()},
            "values": values or {},
            "errors": errors or {},
            "notice": notice,
            "error": error,
            "nodes": await nodes_in_scope(request, STORE_MANAGE, ("district", "subdistrict", "community", "village")),
            "store_name": tenant_settings(request)["store_name"],
        },
        status_code=status,
    )


@get(f"{BASE}/", guards=GUARD)
async def manage(request: Request) -> Any:
    return await _page(request)


@post(f"{BASE}/items", guards=GUARD)
async def add_item(request: Request, data: Form, db: DbSession) -> Any:
    values = {k: text(data, k) for k in ("name", "price", "stock", "description", "node_id")}
    try:
        node = await node_or_404(request, values["node_id"], STORE_MANAGE)
    except NotFoundException:
        return await _page(request, values=values, errors={"node_id": _("Choose the store's place.")}, status=400)
    try:
        item = await store.add_item(
            db,
            node=node,
            name=values["name"],
            price=values["price"],
            stock=values["stock"],
            description=values["description"],
        )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _page(request, values=values, errors=field_errors(err), status=err.status)
    return await _page(request, notice=_("%(item)s added.", item=item.name))


async def _item(request: Request, item_id: int) -> StoreItem:
    c = ctx(request)
    assert c.db is not None
    item = await c.db.scalar(select(StoreItem).where(StoreItem.id == item_id))
    if item is None:
        raise NotFoundException()
    check_in_scope(request, STORE_MANAGE, item.node_path)
    return item


@post(f"{BASE}/items/{{item_id:int}}/restock", guards=GUARD)
async def restock(request: Request, item_id: FromPath[int], data: Form, db: DbSession) -> Any:
    item = await _item(request, item_id)
    try:
        await store.restock(db, item, text(data, "added"))
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _page(request, error=message(err), status=err.status)
    return await _page(request, notice=_("%(item)s: %(n)s in stock.", item=item.name, n=item.stock))


@post(f"{BASE}/items/{{item_id:int}}/toggle", guards=GUARD)
async def toggle(request: Request, item_id: FromPath[int], db: DbSession) -> Any:
    item = await _item(request, item_id)
    item.active = not item.active
    await db.commit()
    return await _page(request, notice=_("Saved."))


async def _redemption(request: Request, redemption_id: int) -> Redemption:
    c = ctx(request)
    assert c.db is not None
    red = await c.db.scalar(select(Redemption).where(Redemption.id == redemption_id))
    if red is None:
        raise NotFoundException()
    check_in_scope(request, STORE_MANAGE, red.node_path)
    return red


@post(f"{BASE}/redemptions/{{redemption_id:int}}/hand-over", guards=GUARD)
async def hand_over(request: Request, redemption_id: FromPath[int], data: Form, db: DbSession) -> Any:
    red = await _redemption(request, redemption_id)
    try:
        await store.hand_over(db, red, text(data, "note"))
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _page(request, error=message(err), status=err.status)
    return await _page(request, notice=_("%(number)s handed over.", number=red.number))


@post(f"{BASE}/redemptions/{{redemption_id:int}}/cancel", guards=GUARD)
async def cancel(request: Request, redemption_id: FromPath[int], data: Form, db: DbSession) -> Any:
    red = await _redemption(request, redemption_id)
    try:
        await store.cancel(db, red, text(data, "reason"))
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _page(request, error=message(err), status=err.status)
    return await _page(request, notice=_("%(number)s cancelled; stock and points are back.", number=red.number))


handlers = [manage, add_item, restock, toggle, hand_over, cancel]
