"""家政服务超市 and purchased services. Residents: offers, book, my bookings, rate. Staff: providers
with credentials, offers, the bookings and ratings of their area, contracts and deliverables."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from sqlalchemy import func, select

from core.i18n import gettext as _
from core.rbac.scope import in_scope
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import check_in_scope, requires
from core.web.render import render
from plugins.co_governance import homeservice as hs
from plugins.co_governance.models import Booking, Contract, Offer, Provider
from plugins.co_governance.plugin import SERVICE_BOOK, SERVICE_MANAGE
from plugins.co_governance.routes.common import (
    ancestors_of,
    field_errors,
    home_node,
    message,
    node_or_404,
    nodes_in_scope,
    rollback,
    text,
)

BOOK = [requires(SERVICE_BOOK)]
MANAGE = [requires(SERVICE_MANAGE)]


async def offers_for(session: Any, path: str) -> list[tuple[Offer, Provider]]:
    """Active offers of active providers listed at the resident's place or above it."""
    stmt = (
        select(Offer, Provider)
        .join(Provider, Provider.id == Offer.provider_id)
        .where(Offer.active.is_(True), Provider.active.is_(True), Provider.node_path.in_(ancestors_of(path)))
        .order_by(Offer.category, Offer.price_cents)
    )
    return [(o, p) for o, p in (await session.execute(stmt)).all()]


async def ratings_of(session: Any, provider_ids: list[int]) -> dict[int, tuple[float, int]]:
    if not provider_ids:
        return {}
    stmt = (
        select(Booking.provider_id, func.avg(Booking.rating), func.count(Booking.rating))
        .where(Booking.provider_id.in_(provider_ids), Booking.rating.is_not(None))
        .group_by(Booking.provider_id)
    )
    return {pid: (round(float(avg), 1), int(n)) for pid, avg, n in (await session.execute(stmt)).all()}


async def _resident(
    request: Request,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> Any:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    node = await home_node(request, SERVICE_BOOK)
    offers = await offers_for(c.db, node.path) if node else []
    mine = list(
        (
            await c.db.execute(
                select(Booking, Offer.title)
                .join(Offer, Offer.id == Booking.offer_id)
                .where(Booking.user_id == c.user.id)
                .order_by(Booking.created_at.desc())
                .limit(30)
            )
        ).all()
    )
    return await render(
        request,
        "co_governance/services.html",
        {
            "offers": offers,
            "ratings": await ratings_of(c.db, list({p.id for _o, p in offers})),
            "mine": mine,
            "states": {k: _(v) for k, v in hs.STATE_LABELS.items()},
            "values": values or {},
            "errors": errors or {},
            "notice": notice,
            "error": error,
            "can_manage": c.can(SERVICE_MANAGE),
        },
        status_code=status,
    )


@get("/co-governance/services/", guards=BOOK)
async def services_page(request: Request) -> Any:
    return await _resident(request)


@post("/co-governance/services/offers/{offer_id:int}/book", guards=BOOK)
async def book(request: Request, offer_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    node = await home_node(request, SERVICE_BOOK)
    if node is None:
        raise NotFoundException()
    offer = next((o for o, _p in await offers_for(db, node.path) if o.id == offer_id), None)
    if offer is None:
        raise NotFoundException()
    values = {"offer_id": str(offer_id), "wanted_on": text(data, "wanted_on"), "note": text(data, "note")}
    try:
        booking = await hs.book(
            db, offer, user_id=rc.user.id, node=node, wanted_on=values["wanted_on"], note=values["note"]
        )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _resident(request, values=values, errors=field_errors(err), status=err.status)
    return await _resident(request, notice=_("Booked: %(number)s. The provider will confirm.", number=booking.number))


async def _my_booking(request: Request, booking_id: int) -> Booking:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    booking = await c.db.scalar(select(Booking).where(Booking.id == booking_id, Booking.user_id == c.user.id))
    if booking is None:
        raise NotFoundException()
    return booking


@post("/co-governance/services/bookings/{booking_id:int}/rate", guards=BOOK)
async def rate(request: Request, booking_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    booking = await _my_booking(request, booking_id)
    try:
        await hs.rate(db, booking, rc.user.id, text(data, "rating"), text(data, "comment"))
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _resident(request, error=message(err), status=err.status)
    return await _resident(request, notice=_("Thank you for rating the service."))


@post("/co-governance/services/bookings/{booking_id:int}/cancel", guards=BOOK)
async def cancel_mine(request: Request, booking_id: FromPath[int], db: DbSession) -> Any:
    booking = await _my_booking(request, booking_id)
    try:
        await hs.move(db, booking, "cancel", staff=False)
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _resident(request, error=message(err), status=err.status)
    return await _resident(request, notice=_("Booking cancelled."))


# ---- staff -----------------------------------------------------------------------------------


async def _manage(
    request: Request,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    form: str = "",
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> Any:
    c = ctx(request)
    assert c.db is not None
    prefixes = c.scope_prefixes(SERVICE_MANAGE)
    providers = list(
        (
            await c.db.execute(select(Provider).where(in_scope(Provider.node_path, prefixes)).order_by(Provider.name))
        ).scalars()
    )
    offers = (
        list(
            (
                await c.db.execute(
                    select(Offer).where(Offer.provider_id.in_([p.id for p in providers])).order_by(Offer.category)
                )
            ).scalars()
        )
        if providers
        else []
    )
    bookings = list(
        (
            await c.db.execute(
                select(Booking, Offer.title, Provider.name)
                .join(Offer, Offer.id == Booking.offer_id)
                .join(Provider, Provider.id == Booking.provider_id)
                .where(in_scope(Booking.node_path, prefixes))
                .order_by(Booking.created_at.desc())
                .limit(50)
            )
        ).all()
    )
    contracts = list(
        (
            await c.db.execute(
                select(Contract, Provider.name)
                .join(Provider, Provider.id == Contract.provider_id)
                .where(in_scope(Contract.node_path, prefixes))
                .order_by(Contract.starts_on.desc())
            )
        ).all()
    )
    return await render(
        request,
        "co_governance/services_manage.html",
        {
            "providers": providers,
            "offers": offers,
            "names": {p.id: p.name for p in providers},
            "ratings": await ratings_of(c.db, [p.id for p in providers]),
            "bookings": bookings,
            "contracts": contracts,
            "kinds": {k: _(v) for k, v in hs.KINDS.items()},
            "categories": hs.OFFER_CATEGORIES,
            "states": {k: _(v) for k, v in hs.STATE_LABELS.items()},
            "nodes": await nodes_in_scope(request, SERVICE_MANAGE, ("district", "subdistrict", "community", "village")),
            "values": values or {},
            "errors": errors or {},
            "form": form,
            "notice": notice,
            "error": error,
        },
        status_code=status,
    )


@get("/co-governance/services/manage/", guards=MANAGE)
async def manage(request: Request) -> Any:
    return await _manage(request)


@post("/co-governance/services/manage/providers", guards=MANAGE)
async def add_provider(request: Request, data: Form, db: DbSession) -> Any:
    keys = ("name", "kind", "credit_code", "licence", "contact_name", "phone", "node_id")
    values = {k: text(data, k) for k in keys}
    try:
        node = await node_or_404(request, values["node_id"], SERVICE_MANAGE)
        provider = await hs.add_provider(
            db,
            name=values["name"],
            kind=values["kind"],
            credit_code=values["credit_code"],
            node=node,
            licence=values["licence"],
            contact_name=values["contact_name"],
            phone=values["phone"],
        )
        await db.commit()
    except NotFoundException:
        return await _manage(
            request, values=values, errors={"node_id": _("Choose a place.")}, form="provider", status=400
        )
    except ServiceError as err:
        await rollback(request)
        return await _manage(request, values=values, errors=field_errors(err), form="provider", status=err.status)
    return await _manage(request, notice=_("%(name)s listed.", name=provider.name))


async def _provider(request: Request, provider_id: int) -> Provider:
    c = ctx(request)
    assert c.db is not None
    provider = await c.db.scalar(select(Provider).where(Provider.id == provider_id))
    if provider is None:
        raise NotFoundException()
    check_in_scope(request, SERVICE_MANAGE, provider.node_path)
    return provider


@post("/co-governance/services/manage/providers/{provider_id:int}/offers", guards=MANAGE)
async def add_offer(request: Request, provider_id: FromPath[int], data: Form, db: DbSession) -> Any:
    provider = await _provider(request, provider_id)
    values = {k: text(data, k) for k in ("title", "category", "price", "unit", "description")}
    try:
        await hs.add_offer(
            db,
            provider,
            title=values["title"],
            category=values["category"],
            price=values["price"],
            unit=values["unit"] or "次",
            description=values["description"],
        )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _manage(request, error=message(err), status=err.status)
    return await _manage(request, notice=_("Offer added."))


@post("/co-governance/services/manage/providers/{provider_id:int}/contracts", guards=MANAGE)
async def add_contract(request: Request, provider_id: FromPath[int], data: Form, db: DbSession) -> Any:
    provider = await _provider(request, provider_id)
    try:
        node = await node_or_404(request, provider.node_id, SERVICE_MANAGE)
        await hs.add_contract(
            db,
            provider,
            title=text(data, "title"),
            node=node,
            amount=text(data, "amount") or "0",
            starts_on=text(data, "starts_on"),
            ends_on=text(data, "ends_on"),
            deliverables=text(data, "deliverables").splitlines(),
        )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _manage(request, error=message(err), status=err.status)
    return await _manage(request, notice=_("Contract recorded."))


@post("/co-governance/services/manage/contracts/{contract_id:int}/deliverables/{index:int}", guards=MANAGE)
async def tick_deliverable(
    request: Request, contract_id: FromPath[int], index: FromPath[int], data: Form, db: DbSession
) -> Any:
    contract = await db.scalar(select(Contract).where(Contract.id == contract_id))
    if contract is None:
        raise NotFoundException()
    check_in_scope(request, SERVICE_MANAGE, contract.node_path)
    try:
        await hs.mark_deliverable(db, contract, index, text(data, "done") == "1")
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _manage(request, error=message(err), status=err.status)
    return await _manage(request, notice=_("Saved."))


@post("/co-governance/services/manage/bookings/{booking_id:int}/{action:str}", guards=MANAGE)
async def move_booking(request: Request, booking_id: FromPath[int], action: FromPath[str], db: DbSession) -> Any:
    booking = await db.scalar(select(Booking).where(Booking.id == booking_id))
    if booking is None or action not in ("confirm", "done", "cancel"):
        raise NotFoundException()
    check_in_scope(request, SERVICE_MANAGE, booking.node_path)
    try:
        await hs.move(db, booking, action, staff=True)
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _manage(request, error=message(err), status=err.status)
    return await _manage(
        request, notice=_("%(number)s: %(state)s.", number=booking.number, state=_(hs.STATE_LABELS[booking.state]))
    )


handlers = [
    services_page,
    book,
    rate,
    cancel_mine,
    manage,
    add_provider,
    add_offer,
    add_contract,
    tick_deliverable,
    move_booking,
]
