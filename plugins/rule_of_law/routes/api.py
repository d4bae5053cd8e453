"""JSON API for a mini-program: residents book counselling and apply for mediation (bearer tokens).

    GET  /api/v1/rule-of-law/counselling/rooms
    GET  /api/v1/rule-of-law/counselling          my appointments
    POST /api/v1/rule-of-law/counselling          {"room", "starts_at" (ISO), "consent": true}
    POST /api/v1/rule-of-law/mediation            {"kind", "summary", "parties": ["…"]} — an application (申请调解)

Errors are ``{"status_code": …, "detail": "<message in the user's language>"}``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from sqlalchemy import select

from core.grids.models import GridNode
from core.i18n import gettext as _
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.guards import requires
from core.web.routes.api import api_router
from plugins.rule_of_law import cases, counselling, screening
from plugins.rule_of_law.common import ServiceError
from plugins.rule_of_law.plugin import BOOK, NAME
from plugins.rule_of_law.routes.counselling import parse_time
from plugins.rule_of_law.routes.web import rollback

GUARD = [requires(BOOK)]


class BookIn(msgspec.Struct):
    room: str
    starts_at: str
    consent: bool = False


class ApplyIn(msgspec.Struct):
    kind: str
    summary: str
    parties: list[str]


def refuse(status: int, detail: str) -> Response[Any]:
    return Response({"status_code": status, "detail": detail}, status_code=status)


def _out(a: Any) -> dict[str, Any]:
    return {"id": str(a.id), "room": a.room, "starts_at": a.starts_at.isoformat(), "state": a.state}


async def _home(request: Request) -> GridNode | None:
    """Where the resident is registered: the node of their BOOK grant (a resident's own grid)."""
    c = ctx(request)
    assert c.db is not None
    for a in c.subject.assignments:
        if c.can(BOOK, a.path):
            return (await c.db.execute(select(GridNode).where(GridNode.id == a.node_id))).scalar_one_or_none()
    return None


async def _decode(request: Request, kind: type[Any]) -> Any:
    try:
        return msgspec.json.decode(await request.body(), type=kind)
    except msgspec.ValidationError as exc:
        raise ValueError(str(exc)) from None
    except msgspec.DecodeError:
        raise ValueError(_("The request body is not valid JSON.")) from None


@get("/rule-of-law/counselling/rooms", guards=GUARD, summary="Counselling rooms one can book")
async def api_rooms(rc: Ctx) -> dict[str, Any]:
    return {"rooms": counselling.rooms(rc.plugin_settings.get(NAME, {}))}


@get("/rule-of-law/counselling", guards=GUARD, summary="My counselling appointments")
async def api_my_appointments(db: DbSession, rc: Ctx) -> dict[str, Any]:
    assert rc.user is not None
    return {"appointments": [_out(a) for a in await counselling.of_resident(db, rc.user.id)]}


@post("/rule-of-law/counselling", guards=GUARD, status_code=201, summary="Book a counselling appointment (心理咨询)")
async def api_book(request: Request, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    try:
        body = await _decode(request, BookIn)
    except ValueError as exc:
        return refuse(400, str(exc))
    at = parse_time(body.starts_at)
    if at is None:
        return refuse(400, _("Choose a date and time."))
    home = await _home(request)
    if home is None:
        return refuse(409, _("Your account is not linked to a place in the district yet."))
    try:
        appt = await counselling.book(
            db,
            node=home,
            room=body.room,
            allowed_rooms=counselling.rooms(rc.plugin_settings.get(NAME, {})),
            person_name=rc.user.display_name,
            starts_at=at,
            resident_user_id=rc.user.id,
            consent_given=body.consent,
        )
        await db.commit()
    except ServiceError as exc:
        await rollback(rc)
        return refuse(exc.status, exc.translate(_))
    return _out(appt)


@post("/rule-of-law/mediation", guards=GUARD, status_code=201, summary="Apply for people's mediation (申请调解)")
async def api_apply(request: Request, db: DbSession, rc: Ctx) -> Any:
    """The application is recorded as a dispute handed to the committee, which decides on 受理."""
    assert rc.user is not None
    try:
        body = await _decode(request, ApplyIn)
    except ValueError as exc:
        return refuse(400, str(exc))
    home = await _home(request)
    if home is None:
        return refuse(409, _("Your account is not linked to a place in the district yet."))
    try:
        names = screening.parse_parties("、".join(str(p) for p in body.parties))
        _visit, found = await screening.record_visit(
            db,
            home,
            None,
            place="",
            note=_("Application for mediation by %(name)s", name=rc.user.display_name),
            disputes=[screening.DisputeInput(body.kind, "low", body.summary, names)],
        )
        case = await screening.hand_to_mediation(db, found[0])
        await db.commit()
    except ServiceError as exc:
        await rollback(rc)
        return refuse(exc.status, exc.translate(_))
    return {
        "number": case.number,
        "state": case.state,
        "state_label": _(cases.mediation.STATE_LABELS[cases.mediation.State(case.state)]),
    }


handlers = [api_router(api_rooms, api_my_appointments, api_book, api_apply)]
