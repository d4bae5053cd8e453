"""JSON API for a mini-program: residents take part in campaigns and activities over bearer tokens.

    GET    /api/v1/civic-virtue/campaigns                         campaigns I can see, with their stage
    GET    /api/v1/civic-virtue/campaigns/{id}                    categories and candidates (consent-gated)
    POST   /api/v1/civic-virtue/campaigns/{id}/nominations        {"category_id", "nominee_name", "headline",
                                                                   "story", "node_id", "nominee_phone"?, ...}
    GET    /api/v1/civic-virtue/nominations/mine                  by me, and of me (with my consent)
    POST   /api/v1/civic-virtue/nominations/{id}/consent          the nominee agrees to publication
    DELETE /api/v1/civic-virtue/nominations/{id}/consent          … and withdraws it (at once)
    POST   /api/v1/civic-virtue/campaigns/{id}/votes              {"category_id", "nomination_ids": [..]}
    POST   /api/v1/civic-virtue/campaigns/{id}/objections         {"body"} during the 公示
    GET    /api/v1/civic-virtue/gallery                           the role models (consent-gated)
    GET    /api/v1/civic-virtue/activities                        upcoming 邻里节 and activities
    POST   /api/v1/civic-virtue/activities/{id}/signup            sign up

Errors are ``{"status_code": ..., "detail": "<message in the user's language>"}``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.params import FromPath
from sqlalchemy import select

from core.i18n import gettext as _
from core.services import activities
from core.services.activities.models import Activity
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.guards import requires, signed_in
from core.web.routes.api import api_router
from plugins.civic_virtue import campaigns as cs
from plugins.civic_virtue import nominations, voting
from plugins.civic_virtue.models import WINNER, Campaign, CommunityEvent, Nomination
from plugins.civic_virtue.plugin import NOMINATE, VOTE
from plugins.civic_virtue.routes.campaigns import visible
from plugins.civic_virtue.routes.common import FormError, message, rollback, stage_label
from plugins.civic_virtue.routes.festivals import _visible as events_visible
from plugins.civic_virtue.routes.public import raise_objection, submit_nomination

BASE = "/civic-virtue"


def refuse(status: int, detail: str) -> Response[Any]:
    return Response({"status_code": status, "detail": detail}, status_code=status)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _campaign_json(c: Campaign) -> dict[str, Any]:
    stage = cs.stage(c)
    return {
        "id": str(c.id),
        "title": c.title,
        "kind": c.kind,
        "stage": stage.value,
        "stage_label": stage_label(stage),
        "nomination_opens_at": _time(c.nomination_opens_at),
        "nomination_closes_at": _time(c.nomination_closes_at),
        "review_closes_at": _time(c.review_closes_at),
        "publicity_closes_at": _time(c.publicity_closes_at),
        "vote_closes_at": _time(c.vote_closes_at),
        "votes_per_category": c.votes_per_category,
        "self_nomination": c.self_nomination,
    }


def _public_nominee(n: Nomination) -> dict[str, Any]:
    return {
        "id": str(n.id),
        "number": n.number,
        "name": n.nominee_name,
        "headline": n.headline,
        "story": n.story,
        "winner": n.status == WINNER,
        "votes": n.votes,
    }


async def _campaign(request: Request, campaign_id: int) -> Campaign | None:
    c = ctx(request)
    assert c.db is not None
    prefixes = sorted({*c.scope_prefixes(NOMINATE), *c.scope_prefixes(VOTE)})
    return (
        await c.db.execute(select(Campaign).where(Campaign.id == campaign_id, visible(prefixes)))
    ).scalar_one_or_none()


def _missing() -> Response[Any]:
    return refuse(404, _("No such campaign."))


@get(f"{BASE}/campaigns", guards=[signed_in], summary="Campaigns I can take part in, with their stage")
async def api_campaigns(db: DbSession, rc: Ctx) -> dict[str, Any]:
    prefixes = sorted({*rc.scope_prefixes(NOMINATE), *rc.scope_prefixes(VOTE)})
    rows = (
        await db.execute(select(Campaign).where(visible(prefixes)).order_by(Campaign.vote_closes_at.desc()).limit(50))
    ).scalars()
    return {"campaigns": [_campaign_json(r) for r in rows]}


@get(f"{BASE}/campaigns/{{campaign_id:int}}", guards=[signed_in], summary="A campaign, its categories and candidates")
async def api_campaign(request: Request, campaign_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    campaign = await _campaign(request, campaign_id)
    if campaign is None:
        return _missing()
    shown = await voting.candidates(db, campaign)
    mine = await voting.my_votes(db, campaign, rc.user.id)
    return {
        **_campaign_json(campaign),
        "categories": [
            {
                "id": str(cat.id),
                "name": cat.name,
                "candidates": [_public_nominee(n) for n in shown if n.category_id == cat.id],
                "my_vote": [str(i) for i in mine.get(cat.id, [])],
            }
            for cat in await cs.categories(db, campaign.id)
        ],
    }


@post(
    f"{BASE}/campaigns/{{campaign_id:int}}/nominations",
    guards=[requires(NOMINATE)],
    status_code=201,
    summary="Nominate someone",
)
async def api_nominate(request: Request, campaign_id: FromPath[int], db: DbSession) -> Any:
    campaign = await _campaign(request, campaign_id)
    if campaign is None:
        return _missing()
    try:
        data = await request.json()
    except Exception:
        return refuse(400, _("Send a JSON object."))
    if not isinstance(data, dict):
        return refuse(400, _("Send a JSON object."))
    try:
        n = await submit_nomination(request, campaign, data)
    except FormError as e:
        await rollback(request)
        return refuse(400, e.message)
    except ServiceError as e:
        await rollback(request)
        return refuse(e.status, message(e))
    await db.commit()
    return Response(
        {"id": str(n.id), "status": n.status, "consent_asked_of_account": n.nominee_user_id is not None},
        status_code=201,
    )


@get(f"{BASE}/nominations/mine", guards=[signed_in], summary="My nominations, and nominations of me with my consent")
async def api_mine(db: DbSession, rc: Ctx) -> dict[str, Any]:
    assert rc.user is not None
    return {
        "by_me": [
            {"id": str(n.id), "campaign": camp.title, "nominee": n.nominee_name, "status": n.status}
            for n, camp in await nominations.by_me(db, rc.user.id)
        ],
        "of_me": [
            {"id": str(n.id), "campaign": camp.title, "headline": n.headline, "status": n.status, "consent": ok}
            for n, camp, ok in await nominations.about_me(db, rc.user.id)
        ],
    }


async def _consent(request: Request, nomination_id: int, give: bool) -> Any:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    try:
        n = await nominations.get(c.db, nomination_id)
        if n.nominee_user_id != c.user.id:
            return refuse(404, _("No such nomination of you."))
        if give:
            await nominations.give_consent(c.db, n, user_id=c.user.id)
        else:
            await nominations.withdraw_consent(c.db, n, user_id=c.user.id, channel="online")
    except ServiceError as e:
        await rollback(request)
        if e.status == 404:
            return refuse(404, _("No such nomination of you."))
        return refuse(e.status, message(e))
    await c.db.commit()
    return Response({"id": str(nomination_id), "consent": give}, status_code=200)


@post(
    f"{BASE}/nominations/{{nomination_id:int}}/consent",
    guards=[signed_in],
    status_code=200,
    summary="Consent to publication",
)
async def api_consent(request: Request, nomination_id: FromPath[int]) -> Any:
    return await _consent(request, nomination_id, True)


@delete(
    f"{BASE}/nominations/{{nomination_id:int}}/consent",
    guards=[signed_in],
    status_code=200,
    summary="Withdraw consent (public pages drop the nominee at once)",
)
async def api_withdraw(request: Request, nomination_id: FromPath[int]) -> Any:
    return await _consent(request, nomination_id, False)


@post(
    f"{BASE}/campaigns/{{campaign_id:int}}/votes",
    guards=[requires(VOTE)],
    status_code=201,
    summary="Vote in a category",
)
async def api_vote(request: Request, campaign_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    campaign = await _campaign(request, campaign_id)
    if campaign is None:
        return _missing()
    try:
        data = await request.json()
        category_id = int(data["category_id"])
        chosen = [int(x) for x in data["nomination_ids"]]
    except Exception:
        return refuse(400, _('Send {"category_id": …, "nomination_ids": […]}.'))
    try:
        cast = await voting.vote(db, campaign, category_id, rc.user.id, chosen)
    except ServiceError as e:
        await rollback(request)
        return refuse(e.status, message(e))
    await db.commit()
    return Response({"category_id": str(category_id), "cast_at": _time(cast.cast_at)}, status_code=201)


@post(
    f"{BASE}/campaigns/{{campaign_id:int}}/objections",
    guards=[signed_in],
    status_code=201,
    summary="Object to the shortlist during its public notice",
)
async def api_object(request: Request, campaign_id: FromPath[int], db: DbSession) -> Any:
    campaign = await _campaign(request, campaign_id)
    if campaign is None:
        return _missing()
    try:
        data = await request.json()
        body = str(data["body"])
    except Exception:
        return refuse(400, _('Send {"body": "…"}.'))
    try:
        await raise_objection(request, campaign, body)
    except ServiceError as e:
        await rollback(request)
        return refuse(e.status, message(e))
    await db.commit()
    return Response({"campaign_id": str(campaign_id), "recorded": True}, status_code=201)


@get(f"{BASE}/gallery", guards=[signed_in], summary="The role-model gallery")
async def api_gallery(db: DbSession) -> dict[str, Any]:
    rows = list((await db.execute(select(Nomination).where(Nomination.status == WINNER).limit(500))).scalars())
    return {"role_models": [_public_nominee(n) for n in await nominations.publishable(db, rows)]}


@get(f"{BASE}/activities", guards=[signed_in], summary="Upcoming festivals and activities near me")
async def api_activities(db: DbSession, rc: Ctx) -> dict[str, Any]:
    from plugins.civic_virtue.plugin import VIEW

    prefixes = sorted({*rc.scope_prefixes(VIEW), *rc.scope_prefixes(NOMINATE), *rc.scope_prefixes(VOTE)})
    rows = (
        await db.execute(
            select(CommunityEvent, Activity)
            .join(Activity, Activity.id == CommunityEvent.activity_id)
            .where(events_visible(prefixes), Activity.ends_at > datetime.now(UTC))
            .order_by(Activity.starts_at)
            .limit(100)
        )
    ).all()
    return {
        "activities": [
            {
                "id": str(ev.id),
                "title": act.title,
                "kind": ev.kind,
                "starts_at": _time(act.starts_at),
                "ends_at": _time(act.ends_at),
                "place": act.place,
                "signed_up": act.signed_up,
                "capacity": act.capacity,
            }
            for ev, act in rows
        ]
    }


@post(
    f"{BASE}/activities/{{event_id:int}}/signup", guards=[signed_in], status_code=201, summary="Sign up for an activity"
)
async def api_signup(request: Request, event_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    from plugins.civic_virtue.plugin import VIEW

    prefixes = sorted({*rc.scope_prefixes(VIEW), *rc.scope_prefixes(NOMINATE), *rc.scope_prefixes(VOTE)})
    ev = (
        await db.execute(select(CommunityEvent).where(CommunityEvent.id == event_id, events_visible(prefixes)))
    ).scalar_one_or_none()
    if ev is None:
        return refuse(404, _("No such activity."))
    try:
        await activities.sign_up(db, ev.activity_id, rc.user.id)
    except ServiceError as e:
        await rollback(request)
        return refuse(e.status, message(e))
    await db.commit()
    return Response({"id": str(event_id), "signed_up": True}, status_code=201)


handlers = [
    api_router(
        api_campaigns,
        api_campaign,
        api_nominate,
        api_mine,
        api_consent,
        api_withdraw,
        api_vote,
        api_object,
        api_gallery,
        api_activities,
        api_signup,
    )
]
