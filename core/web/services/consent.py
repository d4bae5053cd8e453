"""Consent (个人信息保护法) pages: a person's own consents — given, withdrawn, given again — on the
phone and in the JSON API (withdrawing is as easy as giving, 第十五条); staff with
``core.consent.view`` see the records of residents in their part of the tree; and the public
verification page a document's QR code opens."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core.grids.basedata import Resident
from core.i18n import gettext as _
from core.i18n import lazy
from core.rbac.scope import in_scope
from core.services import accounts, consent, documents
from core.services.consent.models import ConsentRecord
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.guards import public, requires, signed_in
from core.web.pagination import paginate
from core.web.render import render
from core.web.routes.api import api_router
from core.web.services.common import BadBody, Form, iso, json_object, refuse, refuse_error, rollback, text

VIEW = "core.consent.view"
CHANNELS = {"online": lazy("online"), "paper": lazy("on paper"), "in_person": lazy("in person"),
            "phone": lazy("by phone"), "expired": lazy("expired")}  # fmt: skip
DONE = {"given": lazy("Your consent has been recorded."), "withdrawn": lazy("Your consent has been withdrawn.")}


async def my_subjects(request: Request) -> list[consent.Person]:
    """The person as consent knows them: their user, and their resident record once linked."""
    c = ctx(request)
    assert c.db is not None and c.user is not None
    subjects: list[consent.Person] = [("user", c.user.id)]
    resident = await accounts.linked_resident(c.db, c.user.id)
    if resident is not None:
        subjects.append(("resident", resident.id))
    return subjects


async def my_records(request: Request) -> list[ConsentRecord]:
    c = ctx(request)
    assert c.db is not None
    out: list[ConsentRecord] = []
    for subject in await my_subjects(request):
        out.extend(await consent.history(c.db, subject))
    return sorted(out, key=lambda r: r.given_at, reverse=True)


def _subject(value: str, subjects: list[consent.Person]) -> consent.Person | None:
    kind = "resident" if value == "resident" else "user"
    return next((s for s in subjects if s[0] == kind), None)


async def _page(request: Request, error: str | None = None, status: int = 200) -> Any:
    done = request.query_params.get("done")
    return await render(
        request,
        "core/services/my_consents.html",
        {
            "records": await my_records(request),
            "channels": {k: _(v) for k, v in CHANNELS.items()},
            "error": error,
            "message": _(DONE[done]) if done in DONE else None,
            "offer": {
                "purpose": request.query_params.get("purpose", "")[:100],
                "scope": request.query_params.get("scope", "")[:500],
                "subject": request.query_params.get("subject", "user"),
            },
        },
        status_code=status,
    )


@get("/me/consents", guards=[signed_in])
async def my_consents(request: Request) -> Any:
    """My consents; a pillar asking for one links here with ``?purpose=&scope=`` for me to agree."""
    return await _page(request)


@post("/me/consents/give", guards=[signed_in], status_code=200)
async def give(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    subject = _subject(text(data, "subject", 16), await my_subjects(request))
    if subject is None:
        return await _page(request, _("Link your account to your resident record first."), 409)
    try:
        await consent.give(db, subject, text(data, "purpose", 100), text(data, "scope", 1000), channel="online")
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _page(request, err.translate(_), err.status)
    return Redirect(rc.url("/me/consents?done=given"), status_code=303)


@post("/me/consents/withdraw", guards=[signed_in], status_code=200)
async def withdraw(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    subject = _subject(text(data, "subject", 16), await my_subjects(request))
    if subject is None:
        raise NotFoundException()
    try:
        await consent.withdraw(db, subject, text(data, "purpose", 100), channel="online")
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _page(request, err.translate(_), err.status)
    return Redirect(rc.url("/me/consents?done=withdrawn"), status_code=303)


@get("/consents/", guards=[requires(VIEW)])
async def staff_list(
    request: Request, db: DbSession, rc: Ctx, page: FromQuery[int] = 1, purpose: FromQuery[str] = ""
) -> Any:
    """Residents' consent records in the staff member's area (records of a user without a linked
    record are theirs alone)."""
    stmt = (
        select(ConsentRecord, Resident.name)
        .join(Resident, Resident.id == ConsentRecord.subject_id)
        .where(ConsentRecord.subject_type == "resident", in_scope(Resident.node_path, rc.scope_prefixes(VIEW)))
        .order_by(ConsentRecord.given_at.desc(), ConsentRecord.id)
    )
    purpose = purpose.strip()[:100]
    if purpose:
        stmt = stmt.where(ConsentRecord.purpose == purpose)
    total_stmt = stmt
    result = await paginate(db, total_stmt.with_only_columns(ConsentRecord.id), page, 30)
    rows = []
    if result.items:
        rows = (await db.execute(stmt.where(ConsentRecord.id.in_(result.items)))).all()
    return await render(
        request,
        "core/services/consents_staff.html",
        {"page": result, "rows": rows, "purpose": purpose, "channels": {k: _(v) for k, v in CHANNELS.items()}},
    )


@get("/verify/{code:str}", guards=[public])
async def verify(request: Request, code: FromPath[str], db: DbSession) -> Any:
    """What a document's QR code opens: whether it is genuine and current (no personal data)."""
    doc = await documents.verify(db, code)
    return await render(
        request,
        "core/services/verify.html",
        {"doc": doc, "code": code[:32]},
        status_code=200 if doc is not None else 404,
        block=None,
    )


# ---- JSON API -------------------------------------------------------------------------------


def _record_out(r: ConsentRecord) -> dict[str, Any]:
    return {
        "subject": r.subject_type,
        "purpose": r.purpose,
        "scope": r.scope,
        "given_at": iso(r.given_at),
        "given_channel": r.given_channel,
        "withdrawn_at": iso(r.withdrawn_at),
        "in_force": r.withdrawn_at is None,
    }


@get("/me/consents", guards=[signed_in], summary="My consents, newest first")
async def api_my_consents(request: Request) -> dict[str, Any]:
    return {"consents": [_record_out(r) for r in await my_records(request)]}


async def _api_change(request: Request, give_it: bool) -> Any:
    c = ctx(request)
    assert c.db is not None
    try:
        body = await json_object(request)
    except BadBody as exc:
        return refuse(400, str(exc))
    subject = _subject(text(body, "subject", 16), await my_subjects(request))
    if subject is None:
        return refuse(409, _("Link your account to your resident record first."))
    try:
        if give_it:
            row = await consent.give(
                c.db, subject, text(body, "purpose", 100), text(body, "scope", 1000), channel="online"
            )
        else:
            row = await consent.withdraw(c.db, subject, text(body, "purpose", 100), channel="online")
        await c.db.commit()
    except ServiceError as err:
        return refuse_error(err)
    return Response(_record_out(row), status_code=200)


@post("/me/consents/give", guards=[signed_in], status_code=200, summary="Give a consent {purpose, scope, subject}")
async def api_give(request: Request) -> Any:
    return await _api_change(request, True)


@post("/me/consents/withdraw", guards=[signed_in], status_code=200, summary="Withdraw a consent {purpose, subject}")
async def api_withdraw(request: Request) -> Any:
    return await _api_change(request, False)


handlers = [my_consents, give, withdraw, staff_list, verify, api_router(api_my_consents, api_give, api_withdraw)]
