"""JSON API for activities: what a resident's phone and a staff scanner app do.

GET  /api/v1/activities                         coming up, that I may see (?page=)
GET  /api/v1/activities/{id}                    one, with my sign-up
POST /api/v1/activities/{id}/signup             sign me up
POST /api/v1/activities/{id}/cancel             cancel my sign-up
GET  /api/v1/activities/{id}/qr                 my check-in code (valid 5 minutes)
POST /api/v1/activities/{id}/check-in           staff: {"token"} scanned → in or out
GET  /api/v1/me/activities                      my sign-ups and hours served
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from sqlalchemy import select

from core.i18n import gettext as _
from core.identity.models import User
from core.services import activities
from core.services.activities.models import PUBLISHED, SIGNED_UP, Activity, ActivitySignup
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.guards import requires
from core.web.pagination import paginate
from core.web.routes.api import api_router
from core.web.services.activities import JOIN, MANAGE, _managed, _visible, _visible_activity, my_token, open_for_signup
from core.web.services.common import BadBody, iso, json_object, refuse, refuse_error, text


def _missing() -> Response[Any]:
    return refuse(404, _("There is no such activity here."))


def _activity_out(a: Activity, signup: ActivitySignup | None = None) -> dict[str, Any]:
    return {
        "id": a.id,
        "title": a.title,
        "description": a.description,
        "place": a.place,
        "node_id": a.node_id,
        "starts_at": iso(a.starts_at),
        "ends_at": iso(a.ends_at),
        "signup_opens_at": iso(a.signup_opens_at),
        "signup_closes_at": iso(a.signup_closes_at),
        "capacity": a.capacity,
        "signed_up": a.signed_up,
        "eligibility": a.eligibility,
        "status": a.status,
        "open_for_signup": open_for_signup(a),
        "me": _signup_out(signup),
    }


def _signup_out(s: ActivitySignup | None) -> dict[str, Any] | None:
    if s is None or s.status != SIGNED_UP:
        return None
    return {
        "signed_up_at": iso(s.signed_up_at),
        "checked_in_at": iso(s.checked_in_at),
        "checked_out_at": iso(s.checked_out_at),
        "minutes": s.minutes,
    }


async def _mine(request: Request, activity_id: int) -> ActivitySignup | None:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    stmt = select(ActivitySignup).where(ActivitySignup.activity_id == activity_id, ActivitySignup.user_id == c.user.id)
    return (await c.db.execute(stmt)).scalar_one_or_none()


@get("/activities", guards=[requires(JOIN)], summary="Activities coming up that I may see")
async def api_list(request: Request, db: DbSession, page: FromQuery[int] = 1) -> dict[str, Any]:
    stmt = (
        select(Activity)
        .where(Activity.status == PUBLISHED, Activity.ends_at >= datetime.now(UTC), _visible(request, JOIN))
        .order_by(Activity.starts_at, Activity.id)
    )
    result = await paginate(db, stmt, page, 20)
    return {
        "page": result.number,
        "pages": result.pages,
        "total": result.total,
        "activities": [_activity_out(a) for a in result.items],
    }


@get("/activities/{activity_id:int}", guards=[requires(JOIN)], summary="One activity, with my sign-up")
async def api_one(request: Request, activity_id: FromPath[int]) -> Any:
    try:
        activity = await _visible_activity(request, activity_id)
    except NotFoundException:
        return _missing()
    return _activity_out(activity, await _mine(request, activity_id))


async def _act(request: Request, activity_id: int, what: str) -> Any:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    try:
        activity = await _visible_activity(request, activity_id)
    except NotFoundException:
        return _missing()
    try:
        if what == "signup":
            await activities.sign_up(c.db, activity.id, c.user.id)
        else:
            await activities.withdraw(c.db, activity.id, c.user.id)
        await c.db.commit()
    except ServiceError as err:
        return refuse_error(err)
    await c.db.refresh(activity)
    return Response(_activity_out(activity, await _mine(request, activity_id)), status_code=200)


@post("/activities/{activity_id:int}/signup", guards=[requires(JOIN)], status_code=200, summary="Sign me up")
async def api_signup(request: Request, activity_id: FromPath[int]) -> Any:
    return await _act(request, activity_id, "signup")


@post("/activities/{activity_id:int}/cancel", guards=[requires(JOIN)], status_code=200, summary="Cancel my sign-up")
async def api_cancel(request: Request, activity_id: FromPath[int]) -> Any:
    return await _act(request, activity_id, "withdraw")


@get("/activities/{activity_id:int}/qr", guards=[requires(JOIN)], summary="My check-in code for the QR image")
async def api_qr(request: Request, activity_id: FromPath[int]) -> Any:
    try:
        activity = await _visible_activity(request, activity_id)
        token = await my_token(request, activity)
    except NotFoundException:
        return _missing()
    expires = datetime.fromtimestamp(int(token.split(".")[3]), UTC)
    return {"token": token, "expires_at": iso(expires)}


@post(
    "/activities/{activity_id:int}/check-in",
    guards=[requires(MANAGE)],
    status_code=200,
    summary="Staff: a scanned code checks its holder in, or out if they are in",
)
async def api_check_in(request: Request, activity_id: FromPath[int], db: DbSession) -> Any:
    try:
        activity = await _managed(request, activity_id)
    except NotFoundException:
        return _missing()
    try:
        body = await json_object(request)
        signup, direction = await activities.check_by_token(
            db, request.app.state.vault, text(body, "token", 200), activity_id=activity.id
        )
        user_id, minutes = signup.user_id, signup.minutes
        await db.commit()
    except BadBody as exc:
        return refuse(400, str(exc))
    except ServiceError as err:
        return refuse_error(err)
    name = (await db.execute(select(User.display_name).where(User.id == user_id))).scalar_one_or_none()
    return {"direction": direction, "user": {"id": user_id, "display_name": name}, "minutes": minutes}


@get("/me/activities", guards=[requires(JOIN)], summary="My sign-ups and the hours I served")
async def api_my_activities(db: DbSession, rc: Ctx) -> dict[str, Any]:
    assert rc.user is not None
    served = await activities.served(db, rc.user.id)
    return {
        "attended": served.activities,
        "hours": served.hours,
        "activities": [_activity_out(a, s) for a, s in await activities.my_activities(db, rc.user.id, limit=100)],
    }


handlers = [api_router(api_list, api_one, api_signup, api_cancel, api_qr, api_check_in, api_my_activities)]
