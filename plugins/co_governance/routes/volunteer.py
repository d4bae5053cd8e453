"""The volunteer's own pages (phone first): register, see hours, star level and points, sign up for
activities, show the check-in code, download the certificate and export the record."""

from __future__ import annotations

import csv
import io
import secrets
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select

from core.i18n import gettext as _
from core.identity.totp import qr_data_uri
from core.services import activities
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import requires
from core.web.render import render
from plugins.co_governance import certificate, rules, store, volunteers
from plugins.co_governance.models import Redemption, StoreItem, Volunteer
from plugins.co_governance.plugin import VOLUNTEER_SELF
from plugins.co_governance.routes.common import (
    ancestors_of,
    field_errors,
    home_node,
    message,
    rollback,
    tenant_settings,
    text,
)

GUARD = [requires(VOLUNTEER_SELF)]
BASE = "/co-governance/me"


async def me(request: Request) -> Volunteer | None:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    return await volunteers.by_user(c.db, c.user.id)


async def open_activities(session: Any, volunteer: Volunteer, limit: int = 20) -> list[Any]:
    """Published volunteer activities at the volunteer's node, above it or below it, not yet ended."""
    paths = ancestors_of(volunteer.node_path)
    stmt = (
        select(activities.Activity)
        .where(
            activities.Activity.source == volunteers.SOURCE,
            activities.Activity.status == activities.PUBLISHED,
            activities.Activity.ends_at > datetime.now(UTC),
            (activities.Activity.node_path.in_(paths))
            | (activities.Activity.node_path.startswith(volunteer.node_path)),
        )
        .order_by(activities.Activity.starts_at)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def _home(request: Request, volunteer: Volunteer, *, notice: str = "", error: str = "", status: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    mine = {a.id: s for a, s in await activities.my_activities(c.db, c.user.id)}
    standing = await volunteers.standing(c.db, volunteer)
    upcoming = await open_activities(c.db, volunteer)
    return await render(
        request,
        "co_governance/me.html",
        {
            "v": volunteer,
            "standing": standing,
            "star_name": _(rules.STAR_NAMES_EN[standing.star]) if standing.star else _("No star yet"),
            "next_star": standing.next_star,
            "teams": await volunteers.teams_of(c.db, volunteer.id),
            "upcoming": upcoming,
            "signed": mine,
            "records": await volunteers.records_of(c.db, volunteer.id, limit=10),
            "notice": notice,
            "error": error,
            "store_name": tenant_settings(request)["store_name"],
        },
        status_code=status,
    )


async def _register_form(request: Request, values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Any:
    return await render(
        request,
        "co_governance/register.html",
        {"values": values, "errors": errors, "skills": volunteers.SKILLS},
        status_code=status,
    )


@get(f"{BASE}/", guards=GUARD)
async def my_page(request: Request, rc: Ctx) -> Any:
    volunteer = await me(request)
    if volunteer is None:
        assert rc.user is not None
        return await _register_form(request, {"name": rc.user.display_name}, {})
    return await _home(request, volunteer)


@post(f"{BASE}/register", guards=GUARD)
async def register(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    values = {k: text(data, k) for k in ("name", "phone", "availability")}
    skills = data.get("skills", [])
    skills = skills if isinstance(skills, list) else [skills]
    values["skills"] = [str(s) for s in skills]
    node = await home_node(request, VOLUNTEER_SELF)
    if node is None:
        return await _register_form(request, values, {"_": _("Your account has no place in the district yet.")}, 409)
    try:
        await volunteers.register(
            db,
            request.app.state.vault,
            name=values["name"],
            phone=values["phone"],
            skills=values["skills"],
            availability=values["availability"],
            node=node,
            user_id=rc.user.id,
            number_format=tenant_settings(request)["volunteer_number_format"],
        )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _register_form(request, values, field_errors(err), err.status)
    return Redirect(rc.url(f"{BASE}/"), status_code=303)


@post(f"{BASE}/activities/{{activity_id:int}}/sign-up", guards=GUARD)
async def sign_up(request: Request, activity_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    volunteer = await me(request)
    if volunteer is None:
        return Redirect(rc.url(f"{BASE}/"), status_code=303)
    act = await _visible_activity(request, volunteer, activity_id)
    try:
        await volunteers.sign_up(db, act.id, volunteer)
        await db.commit()
    except ServiceError as err:
        await rollback(request, volunteer)
        return await _home(request, volunteer, error=message(err), status=err.status)
    return await _home(request, volunteer, notice=_("Signed up for %(title)s.", title=act.title))


async def _visible_activity(request: Request, volunteer: Volunteer, activity_id: int) -> Any:
    c = ctx(request)
    assert c.db is not None
    try:
        act = await activities.get(c.db, activity_id)
    except ServiceError:
        raise NotFoundException() from None
    paths = ancestors_of(volunteer.node_path)
    if act.source != volunteers.SOURCE or not (act.node_path in paths or act.node_path.startswith(volunteer.node_path)):
        raise NotFoundException()
    return act


@get(f"{BASE}/activities/{{activity_id:int}}/code", guards=GUARD)
async def check_in_code(request: Request, activity_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    """The QR code staff scan to check the volunteer in and out (valid for 5 minutes)."""
    assert rc.user is not None
    volunteer = await me(request)
    if volunteer is None:
        raise NotFoundException()
    act = await _visible_activity(request, volunteer, activity_id)
    token = activities.issue_token(request.app.state.vault, act, rc.user.id)
    return await render(
        request,
        "co_governance/code.html",
        {"activity": act, "token": token, "qr": qr_data_uri(token), "v": volunteer},
    )


@get(f"{BASE}/certificate.pdf", guards=GUARD)
async def certificate_pdf(request: Request, db: DbSession, rc: Ctx) -> Any:
    assert rc.tenant is not None
    volunteer = await me(request)
    if volunteer is None:
        raise NotFoundException()
    try:
        doc = await certificate.issue(
            db,
            request.app.state.storage,
            tenant=rc.tenant,
            volunteer=volunteer,
            base_url=str(request.base_url).rstrip("/").split("/t/")[0],
        )
        await db.commit()
    except ServiceError as err:
        await rollback(request, volunteer)
        return await _home(request, volunteer, error=message(err), status=err.status)
    from core.services.files.models import StoredFile

    stored = await db.scalar(select(StoredFile).where(StoredFile.id == doc.file_id))
    assert stored is not None
    return Response(
        request.app.state.storage.read(stored),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="certificate-{volunteer.number}.pdf"'},
    )


@get(f"{BASE}/record.csv", guards=GUARD)
async def record_csv(request: Request, db: DbSession) -> Any:
    """The volunteer's own record, as kept for inspection."""
    volunteer = await me(request)
    if volunteer is None:
        raise NotFoundException()
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow([volunteer.name, volunteer.number])
    out.writerow([*certificate.HEADER, "积分"])
    for rec in sorted(await volunteers.records_of(db, volunteer.id), key=lambda r: (r.served_on, r.id)):
        out.writerow([*certificate.rows_of([rec])[0], str(rec.points / 100)])
    return Response(
        "\ufeff" + buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="record-{volunteer.number}.csv"'},
    )


# ---- 雷锋超市 for the volunteer --------------------------------------------------------------------


async def _store_page(
    request: Request, volunteer: Volunteer | None, *, notice: str = "", error: str = "", status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None
    items: list[StoreItem] = []
    mine: list[Redemption] = []
    balance = None
    if volunteer is not None:
        items = list(
            (
                await c.db.execute(
                    select(StoreItem)
                    .where(StoreItem.active.is_(True), StoreItem.node_path.in_(ancestors_of(volunteer.node_path)))
                    .order_by(StoreItem.price, StoreItem.name)
                )
            ).scalars()
        )
        mine = list(
            (
                await c.db.execute(
                    select(Redemption)
                    .where(Redemption.volunteer_id == volunteer.id)
                    .order_by(Redemption.reserved_at.desc())
                    .limit(20)
                )
            ).scalars()
        )
        balance = await volunteers.points_balance(c.db, volunteer.id)
    return await render(
        request,
        "co_governance/store.html",
        {
            "v": volunteer,
            "items": items,
            "mine": mine,
            "balance": balance,
            "states": {k: _(v) for k, v in store.STATE_LABELS.items()},
            "store_name": tenant_settings(request)["store_name"],
            "notice": notice,
            "error": error,
            "request_key": secrets.token_urlsafe(12),
        },
        status_code=status,
    )


@get("/co-governance/store/", guards=GUARD)
async def store_page(request: Request) -> Any:
    return await _store_page(request, await me(request))


@post("/co-governance/store/items/{item_id:int}/redeem", guards=GUARD)
async def redeem(request: Request, item_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    volunteer = await me(request)
    if volunteer is None:
        return Redirect(rc.url(f"{BASE}/"), status_code=303)
    item = await db.scalar(select(StoreItem).where(StoreItem.id == item_id))
    if item is None or item.node_path not in ancestors_of(volunteer.node_path):
        raise NotFoundException()
    try:
        red = await store.redeem(db, item.id, volunteer, request_key=text(data, "request_key") or None)
        await db.commit()
    except ServiceError as err:
        await rollback(request, volunteer)
        return await _store_page(request, volunteer, error=message(err), status=err.status)
    return await _store_page(
        request,
        volunteer,
        notice=_(
            "Reserved %(item)s (%(number)s): collect it at the service station.", item=red.item_name, number=red.number
        ),
    )


handlers = [my_page, register, sign_up, check_in_code, certificate_pdf, record_csv, store_page, redeem]
