"""JSON API for a mini-program: the volunteer's and resident's actions over bearer tokens.

    GET  /api/v1/co-governance/me                              number, hours, star level, points
    POST /api/v1/co-governance/volunteers                      register {"name", "phone", "skills", "availability"}
    GET  /api/v1/co-governance/activities                      open activities near me
    POST /api/v1/co-governance/activities/{id}/sign-up
    GET  /api/v1/co-governance/activities/{id}/code            my check-in code (5 minutes)
    GET  /api/v1/co-governance/records                         my service record
    GET  /api/v1/co-governance/certificate                     my certificate of service (PDF)
    GET  /api/v1/co-governance/store/items                     what I can redeem
    POST /api/v1/co-governance/store/items/{id}/redeem         {"quantity": 1}; Idempotency-Key header
    GET  /api/v1/co-governance/store/redemptions               mine
    GET  /api/v1/co-governance/services/offers                 home services near me
    POST /api/v1/co-governance/services/offers/{id}/book       {"wanted_on": "2026-12-10", "note": ""}
    GET  /api/v1/co-governance/services/bookings               mine
    POST /api/v1/co-governance/services/bookings/{id}/rate     {"rating": 1-5, "comment": ""}
    GET  /api/v1/co-governance/property/companies              my estate's companies
    POST /api/v1/co-governance/property/companies/{id}/review  {"score": 1-5, "comment": ""}

Errors are ``{"status_code": ..., "detail": "<message in the user's language>"}``.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from sqlalchemy import select

from core.i18n import gettext as _
from core.services import activities
from core.services.errors import ServiceError
from core.web.deps import Ctx, DbSession
from core.web.guards import requires
from core.web.routes.api import api_router
from plugins.co_governance import certificate, homeservice, property, rules, store, volunteers
from plugins.co_governance.models import Booking, Offer, Redemption, StoreItem, Volunteer
from plugins.co_governance.plugin import PROPERTY_REVIEW, SERVICE_BOOK, VOLUNTEER_SELF
from plugins.co_governance.routes import property as property_pages
from plugins.co_governance.routes import services as service_pages
from plugins.co_governance.routes import volunteer as volunteer_pages
from plugins.co_governance.routes.common import ancestors_of, home_node, rollback, tenant_settings

SELF = [requires(VOLUNTEER_SELF)]
BOOK = [requires(SERVICE_BOOK)]
REVIEW = [requires(PROPERTY_REVIEW)]
P = "/co-governance"


def refuse(status: int, detail: str) -> Response[Any]:
    return Response({"status_code": status, "detail": detail}, status_code=status)


def failed(err: ServiceError) -> Response[Any]:
    return refuse(err.status, err.translate(_))


async def _body(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except Exception:
        return None
    return body if isinstance(body, dict) else None


def _volunteer_out(v: Volunteer, standing: volunteers.Standing) -> dict[str, Any]:
    return {
        "number": v.number,
        "name": v.name,
        "hours": str(standing.hours),
        "hours_this_year": str(standing.year_hours),
        "star": standing.star,
        "star_name": rules.STAR_NAMES[standing.star],
        "next_star_hours": standing.next_star[1] if standing.next_star else None,
        "points": str(standing.points),
    }


async def _me_or_404(request: Request) -> Volunteer | Response[Any]:
    v = await volunteer_pages.me(request)
    if v is None:
        return refuse(404, _("You are not registered as a volunteer yet."))
    return v


@get(f"{P}/me", guards=SELF, summary="My volunteer number, hours, star level and points")
async def api_me(request: Request, db: DbSession) -> Any:
    v = await _me_or_404(request)
    if isinstance(v, Response):
        return v
    return _volunteer_out(v, await volunteers.standing(db, v))


@post(f"{P}/volunteers", guards=SELF, status_code=201, summary="Register as a volunteer")
async def api_register(request: Request, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    body = await _body(request)
    if body is None:
        return refuse(400, _("Send a JSON object."))
    node = await home_node(request, VOLUNTEER_SELF)
    if node is None:
        return refuse(409, _("Your account has no place in the district yet."))
    skills = body.get("skills") or []
    try:
        v = await volunteers.register(
            db,
            request.app.state.vault,
            name=str(body.get("name") or ""),
            phone=str(body.get("phone") or ""),
            skills=[str(s) for s in skills] if isinstance(skills, list) else str(skills),
            availability=str(body.get("availability") or ""),
            node=node,
            user_id=rc.user.id,
            number_format=tenant_settings(request)["volunteer_number_format"],
        )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return failed(err)
    return Response(_volunteer_out(v, await volunteers.standing(db, v)), status_code=201)


def _activity_out(a: Any, signup: Any = None) -> dict[str, Any]:
    return {
        "id": a.id,
        "title": a.title,
        "category": a.category,
        "place": a.place,
        "starts_at": a.starts_at.isoformat(),
        "ends_at": a.ends_at.isoformat(),
        "capacity": a.capacity,
        "signed_up": a.signed_up,
        "me": None
        if signup is None
        else {
            "checked_in_at": signup.checked_in_at.isoformat() if signup.checked_in_at else None,
            "checked_out_at": signup.checked_out_at.isoformat() if signup.checked_out_at else None,
            "minutes": signup.minutes,
        },
    }


@get(f"{P}/activities", guards=SELF, summary="Volunteer activities open near me")
async def api_activities(request: Request, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    v = await _me_or_404(request)
    if isinstance(v, Response):
        return v
    mine = {a.id: s for a, s in await activities.my_activities(db, rc.user.id)}
    return {"activities": [_activity_out(a, mine.get(a.id)) for a in await volunteer_pages.open_activities(db, v)]}


@post(f"{P}/activities/{{activity_id:int}}/sign-up", guards=SELF, status_code=200, summary="Sign up for an activity")
async def api_sign_up(request: Request, activity_id: FromPath[int], db: DbSession) -> Any:
    v = await _me_or_404(request)
    if isinstance(v, Response):
        return v
    act = next((a for a in await volunteer_pages.open_activities(db, v, limit=500) if a.id == activity_id), None)
    if act is None:
        return refuse(404, _("No such activity is open near you."))
    try:
        signup = await volunteers.sign_up(db, act.id, v)
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return failed(err)
    await db.refresh(act)
    return _activity_out(act, signup)


@get(f"{P}/activities/{{activity_id:int}}/code", guards=SELF, summary="My check-in code for an activity")
async def api_code(request: Request, activity_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    v = await _me_or_404(request)
    if isinstance(v, Response):
        return v
    try:
        act = await volunteer_pages._visible_activity(request, v, activity_id)
    except Exception:
        return refuse(404, _("No such activity is open near you."))
    return {"token": activities.issue_token(request.app.state.vault, act, rc.user.id), "valid_seconds": 300}


@get(f"{P}/records", guards=SELF, summary="My service record (who organised, who recorded, hours, points)")
async def api_records(request: Request, db: DbSession) -> Any:
    v = await _me_or_404(request)
    if isinstance(v, Response):
        return v
    return {
        "number": v.number,
        "records": [
            {
                "served_on": r.served_on.isoformat(),
                "activity": r.title,
                "category": r.category,
                "organiser": r.organiser,
                "recorded_by": r.recorder_name,
                "hours": str(rules.hours_of(r.minutes)),
                "points": str(r.points / 100),
            }
            for r in await volunteers.records_of(db, v.id)
        ],
    }


@get(f"{P}/certificate", guards=SELF, summary="My certificate of service (PDF with a verification QR code)")
async def api_certificate(request: Request, db: DbSession, rc: Ctx) -> Any:
    assert rc.tenant is not None
    v = await _me_or_404(request)
    if isinstance(v, Response):
        return v
    try:
        doc = await certificate.issue(
            db,
            request.app.state.storage,
            tenant=rc.tenant,
            volunteer=v,
            base_url=str(request.base_url).rstrip("/").split("/t/")[0],
        )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return failed(err)
    from core.services.files.models import StoredFile

    stored = await db.scalar(select(StoredFile).where(StoredFile.id == doc.file_id))
    assert stored is not None
    return Response(
        request.app.state.storage.read(stored), media_type="application/pdf", headers={"X-Verify-Code": doc.verify_code}
    )


def _item_out(i: StoreItem) -> dict[str, Any]:
    return {"id": i.id, "name": i.name, "description": i.description, "points": i.price, "stock": i.stock}


def _redemption_out(r: Redemption) -> dict[str, Any]:
    return {
        "number": r.number,
        "item": r.item_name,
        "quantity": r.quantity,
        "points": r.points,
        "state": r.state,
        "state_label": _(store.STATE_LABELS[r.state]),
        "reserved_at": r.reserved_at.isoformat(),
        "handed_over_at": r.handed_over_at.isoformat() if r.handed_over_at else None,
    }


@get(f"{P}/store/items", guards=SELF, summary="Items I can redeem at the Leifeng store")
async def api_items(request: Request, db: DbSession) -> Any:
    v = await _me_or_404(request)
    if isinstance(v, Response):
        return v
    items = (
        await db.execute(
            select(StoreItem)
            .where(StoreItem.active.is_(True), StoreItem.node_path.in_(ancestors_of(v.node_path)))
            .order_by(StoreItem.price)
        )
    ).scalars()
    return {"points": str(await volunteers.points_balance(db, v.id)), "items": [_item_out(i) for i in items]}


@post(f"{P}/store/items/{{item_id:int}}/redeem", guards=SELF, status_code=201, summary="Redeem points for an item")
async def api_redeem(request: Request, item_id: FromPath[int], db: DbSession) -> Any:
    """Reserves the item and takes the points; staff hand it over at the service station. Send an
    ``Idempotency-Key`` header so that a retried request returns the first redemption."""
    v = await _me_or_404(request)
    if isinstance(v, Response):
        return v
    body = await _body(request) or {}
    try:
        quantity = int(body.get("quantity", 1))
    except (TypeError, ValueError, OverflowError):
        return refuse(400, _("Enter a whole number."))
    item = await db.scalar(select(StoreItem).where(StoreItem.id == item_id))
    if item is None or item.node_path not in ancestors_of(v.node_path):
        return refuse(404, _("There is no item %(id)s.", id=item_id))
    key = request.headers.get("idempotency-key") or body.get("request_key")
    try:
        red = await store.redeem(db, item.id, v, quantity=quantity, request_key=f"api:{v.id}:{key}" if key else None)
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return failed(err)
    return Response(
        {**_redemption_out(red), "points_left": str(await volunteers.points_balance(db, v.id))}, status_code=201
    )


@get(f"{P}/store/redemptions", guards=SELF, summary="My redemptions")
async def api_redemptions(request: Request, db: DbSession) -> Any:
    v = await _me_or_404(request)
    if isinstance(v, Response):
        return v
    rows = await db.execute(
        select(Redemption).where(Redemption.volunteer_id == v.id).order_by(Redemption.reserved_at.desc()).limit(100)
    )
    return {"redemptions": [_redemption_out(r) for r in rows.scalars()]}


def _booking_out(b: Booking, title: str = "") -> dict[str, Any]:
    return {
        "id": b.id,
        "number": b.number,
        "service": title,
        "wanted_on": b.wanted_on.isoformat(),
        "price": f"{b.price_cents / 100:.2f}",
        "state": b.state,
        "state_label": _(homeservice.STATE_LABELS[b.state]),
        "rating": b.rating,
    }


@get(f"{P}/services/offers", guards=BOOK, summary="Home services near me, with prices and ratings")
async def api_offers(request: Request, db: DbSession) -> Any:
    node = await home_node(request, SERVICE_BOOK)
    offers = await service_pages.offers_for(db, node.path) if node else []
    ratings = await service_pages.ratings_of(db, list({p.id for _o, p in offers}))
    return {
        "offers": [
            {
                "id": o.id,
                "title": o.title,
                "category": o.category,
                "price": f"{o.price_cents / 100:.2f}",
                "unit": o.unit,
                "provider": p.name,
                "provider_kind": p.kind,
                "rating": ratings.get(p.id, (None, 0))[0],
            }
            for o, p in offers
        ]
    }


@post(f"{P}/services/offers/{{offer_id:int}}/book", guards=BOOK, status_code=201, summary="Book a home service")
async def api_book(request: Request, offer_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    body = await _body(request)
    if body is None:
        return refuse(400, _("Send a JSON object."))
    node = await home_node(request, SERVICE_BOOK)
    offer = None
    if node is not None:
        offer = next((o for o, _p in await service_pages.offers_for(db, node.path) if o.id == offer_id), None)
    if offer is None or node is None:
        return refuse(404, _("There is no offer %(id)s.", id=offer_id))
    try:
        booking = await homeservice.book(
            db,
            offer,
            user_id=rc.user.id,
            node=node,
            wanted_on=str(body.get("wanted_on") or ""),
            note=str(body.get("note") or ""),
        )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return failed(err)
    return Response(_booking_out(booking, offer.title), status_code=201)


@get(f"{P}/services/bookings", guards=BOOK, summary="My home-service bookings")
async def api_bookings(db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    rows = await db.execute(
        select(Booking, Offer.title)
        .join(Offer, Offer.id == Booking.offer_id)
        .where(Booking.user_id == rc.user.id)
        .order_by(Booking.created_at.desc())
        .limit(100)
    )
    return {"bookings": [_booking_out(b, t) for b, t in rows.all()]}


@post(f"{P}/services/bookings/{{booking_id:int}}/rate", guards=BOOK, status_code=200, summary="Rate a done service")
async def api_rate(request: Request, booking_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    body = await _body(request)
    if body is None:
        return refuse(400, _('Send the rating as JSON: {"rating": 1-5, "comment": "…"}.'))
    booking = await db.scalar(select(Booking).where(Booking.id == booking_id, Booking.user_id == rc.user.id))
    if booking is None:
        return refuse(404, _("There is no booking %(id)s.", id=booking_id))
    try:
        await homeservice.rate(db, booking, rc.user.id, body.get("rating"), str(body.get("comment") or ""))
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return failed(err)
    return _booking_out(booking)


@get(f"{P}/property/companies", guards=REVIEW, summary="The property companies of my estate")
async def api_companies(request: Request) -> Any:
    return {
        "quarter": property.current_quarter(),
        "companies": [
            {
                "id": p.id,
                "name": p.name,
                "party_mode": p.party_mode,
                "party_org": p.party_org,
                "instructor": p.instructor,
            }
            for p in await property_pages._companies_for(request)
        ],
    }


@post(
    f"{P}/property/companies/{{company_id:int}}/review",
    guards=REVIEW,
    status_code=201,
    summary="Review a property company for this quarter",
)
async def api_review(request: Request, company_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    body = await _body(request)
    if body is None:
        return refuse(400, _("Send a JSON object."))
    company = next((p for p in await property_pages._companies_for(request) if p.id == company_id), None)
    if company is None:
        return refuse(404, _("There is no property company %(id)s.", id=company_id))
    try:
        row = await property.review(db, company, rc.user.id, body.get("score"), str(body.get("comment") or ""))
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return failed(err)
    return Response({"company": company.name, "quarter": row.quarter, "score": row.score}, status_code=201)


handlers = [
    api_router(
        api_me,
        api_register,
        api_activities,
        api_sign_up,
        api_code,
        api_records,
        api_certificate,
        api_items,
        api_redeem,
        api_redemptions,
        api_offers,
        api_book,
        api_bookings,
        api_rate,
        api_companies,
        api_review,
    )
]
