"""心理咨询: residents book, staff refer, counsellors take appointments and keep notes only they read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from core.i18n import gettext as _
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import requires
from core.web.render import render
from plugins.rule_of_law import counselling, sensitive
from plugins.rule_of_law.common import ZONE, ServiceError
from plugins.rule_of_law.plugin import BOOK, COUNSEL, NAME, REFER
from plugins.rule_of_law.routes.web import context, node_in_scope, nodes_in_scope, rollback, see_other, text

GUARD = [requires(COUNSEL, REFER, BOOK)]


def parse_time(raw: str) -> datetime | None:
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=ZONE)


@get("/rule-of-law/counselling/", guards=GUARD)
async def counselling_page(request: Request) -> Any:
    return await _counselling_page(request)


async def _counselling_page(request: Request, error: str | None = None) -> Any:
    c = context(request)
    uid = c.user.id if c.user else 0
    return await render(
        request,
        "rule_of_law/counselling.html",
        {
            "taken": await counselling.for_counsellor(c.db, uid, c.scope_prefixes(COUNSEL)) if c.can(COUNSEL) else [],  # type: ignore[arg-type]
            "mine": await counselling.of_resident(c.db, uid),  # type: ignore[arg-type]
            "rooms": counselling.rooms(c.plugin_settings.get(NAME, {})),
            "nodes": await nodes_in_scope(c, REFER if c.can(REFER) else BOOK),
            "states": counselling.STATE_LABELS,
            "may_book": c.can(BOOK) or c.can(REFER),
            "is_staff": c.can(REFER),
            "error": error,
        },
        status_code=400 if error else 200,
    )


@post("/rule-of-law/counselling/", guards=[requires(BOOK, REFER)])
async def counselling_book(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    staff = rc.can(REFER)
    node = await node_in_scope(rc, REFER if staff else BOOK, text(data, "node"))
    if node is None:
        return await _counselling_page(request, error=_("Choose a grid in your area."))
    at = parse_time(text(data, "starts_at"))
    if at is None:
        return await _counselling_page(request, error=_("Choose a date and time."))
    uid = rc.user.id if rc.user else None
    try:
        await counselling.book(
            db,
            node=node,
            room=text(data, "room"),
            allowed_rooms=counselling.rooms(rc.plugin_settings.get(NAME, {})),
            person_name=text(data, "person_name") or (rc.user.display_name if rc.user and not staff else ""),
            starts_at=at,
            resident_user_id=None if staff else uid,
            referred_by=uid if staff else None,
            consent_given=text(data, "consent") == "on",
        )
        await db.commit()
    except ServiceError as exc:
        await rollback(rc)
        return await _counselling_page(request, error=exc.translate(_))
    return see_other(rc, "/rule-of-law/counselling/")


async def _mine(request: Request, appointment_id: int) -> Any:
    c = context(request)
    try:
        a = await counselling.get(c.db, appointment_id)  # type: ignore[arg-type]
    except ServiceError:
        raise NotFoundException() from None
    uid = c.user.id if c.user else None
    untaken = a.counsellor_user_id is None and c.can(COUNSEL, a.node_path)
    if not (sensitive.may_read_notes(a, uid) or untaken):
        raise NotFoundException()
    return a


@get("/rule-of-law/counselling/{appointment_id:int}", guards=[requires(COUNSEL)])
async def appointment_page(request: Request, appointment_id: FromPath[int]) -> Any:
    return await _appointment_page(request, appointment_id)


async def _appointment_page(request: Request, appointment_id: int, error: str | None = None) -> Any:
    c = context(request)
    a = await _mine(request, appointment_id)
    uid = c.user.id if c.user else None
    notes = ""
    if sensitive.may_read_notes(a, uid):
        notes = await sensitive.read_notes(c.db, request.app.state.vault, a, uid)  # type: ignore[arg-type]
        await c.db.commit()  # type: ignore[union-attr]  (the read is logged)
    return await render(
        request,
        "rule_of_law/appointment.html",
        {
            "a": a,
            "notes": notes,
            "mine": sensitive.may_read_notes(a, uid),
            "states": counselling.STATE_LABELS,
            "error": error,
        },
        status_code=400 if error else 200,
    )


@post("/rule-of-law/counselling/{appointment_id:int}/{what:str}", guards=[requires(COUNSEL)])
async def appointment_act(
    request: Request, appointment_id: FromPath[int], what: FromPath[str], data: Form, db: DbSession, rc: Ctx
) -> Any:
    a = await _mine(request, appointment_id)
    uid = rc.user.id if rc.user else 0
    try:
        if what == "take":
            await counselling.take(db, a, uid)
        elif what == "notes":
            await sensitive.write_notes(db, request.app.state.vault, a, uid, text(data, "notes"))
        else:
            raise NotFoundException()
        await db.commit()
    except ServiceError as exc:
        await rollback(rc)
        return await _appointment_page(request, appointment_id, error=exc.translate(_))
    return see_other(rc, f"/rule-of-law/counselling/{appointment_id}")


handlers = [counselling_page, counselling_book, appointment_page, appointment_act]
