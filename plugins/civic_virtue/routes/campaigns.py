"""Staff pages of the 评选: the pillar's landing page, setting up a campaign, a campaign's page
(nominations ranked with their consent, the shortlist and its 公示 with objections, the live
count, anomalies, award) and a nomination's page (story, evidence, photos, panel scores, the
nominee's volunteer record, consent recorded in person).

Scope: a campaign is visible to staff whose area it covers or lies in; nominations to staff whose
area holds the nominee. Anything else answers 404."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import or_, select

from core.i18n import gettext as _
from core.services import documents, notices
from core.services.errors import ServiceError, lazy
from core.services.files.models import StoredFile
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import check_in_scope, requires
from core.web.render import render
from plugins.civic_virtue import campaigns as cs
from plugins.civic_virtue import festivals, glance, nominations, places, review, voting
from plugins.civic_virtue.models import SHORTLISTED, Campaign, Nomination
from plugins.civic_virtue.plugin import MANAGE, NAME, REVIEW, VIEW
from plugins.civic_virtue.routes.common import (
    AREA_KINDS,
    Errors,
    FormError,
    Values,
    ancestors_of,
    integer,
    local_datetime,
    message,
    node_in_scope,
    nodes_for,
    rollback,
    stage_label,
    text,
)
from plugins.civic_virtue.stages import Periods, Stage

BASE = "/civic-virtue"


def visible(prefixes: list[str]) -> Any:
    from core.rbac.scope import in_scope

    return or_(in_scope(Campaign.node_path, prefixes), Campaign.node_path.in_(ancestors_of(prefixes)))


async def load_campaign(request: Request, campaign_id: int) -> Campaign:
    c = ctx(request)
    assert c.db is not None
    row = (
        await c.db.execute(select(Campaign).where(Campaign.id == campaign_id, visible(c.scope_prefixes(VIEW))))
    ).scalar_one_or_none()
    if row is None:
        from litestar.exceptions import NotFoundException

        raise NotFoundException()
    return row


async def load_nomination(request: Request, nomination_id: int) -> Nomination:
    c = ctx(request)
    assert c.db is not None
    try:
        n = await nominations.get(c.db, nomination_id)
    except ServiceError:
        from litestar.exceptions import NotFoundException

        raise NotFoundException() from None
    check_in_scope(request, VIEW, n.node_path)
    return n


@get(f"{BASE}/", guards=[requires(VIEW)])
async def overview(request: Request, db: DbSession, rc: Ctx) -> Any:
    prefixes = rc.scope_prefixes(VIEW)
    rows = list(
        (
            await db.execute(select(Campaign).where(visible(prefixes)).order_by(Campaign.created_at.desc()).limit(100))
        ).scalars()
    )
    counts = await cs.nomination_counts(db, [r.id for r in rows])
    figures = await glance.area(db, prefixes)
    by_community = await festivals.by_community(db, prefixes, since=glance.year_start())
    return await render(
        request,
        "civic_virtue/overview.html",
        {
            "rows": [
                {"c": r, "stage": cs.stage(r), "stage_label": stage_label(cs.stage(r)), "n": counts.get(r.id, 0)}
                for r in rows
            ],
            "f": figures,
            "by_community": by_community,
            "can_manage": rc.can(MANAGE),
            "kinds": cs.KINDS,
            "chart": {
                "labels": [n.label(rc.locale) for n, _e, _p in by_community][:30],
                "values": [p for _n, _e, p in by_community][:30],
            },
            "place_count": len(await places.in_area(db, prefixes)),
        },
    )


async def _form(request: Request, values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Any:
    c = ctx(request)
    settings = c.plugin_settings.get(NAME, {})
    return await render(
        request,
        "civic_virtue/campaign_form.html",
        {
            "values": Values(values),
            "errors": Errors(errors),
            "kinds": cs.KINDS,
            "nodes": await nodes_for(request, MANAGE, AREA_KINDS),
            "min_days": settings.get("publicity_days", 7),
        },
        status_code=status,
    )


@get(f"{BASE}/campaigns/new", guards=[requires(MANAGE)])
async def campaign_new(request: Request, rc: Ctx) -> Any:
    settings = rc.plugin_settings.get(NAME, {})
    values = {
        "kind": "moral_model",
        "awards_per_category": 1,
        "votes_per_category": settings.get("votes_per_resident", 1),
        "voter_rule": settings.get("voter_rule", "residents"),
    }
    return await _form(request, values, {})


@post(f"{BASE}/campaigns/", guards=[requires(MANAGE)])
async def campaign_create(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    settings = rc.plugin_settings.get(NAME, {})
    values = {k: text(data, k) for k in data if not k.startswith("_")}
    values["self_nomination"] = bool(data.get("self_nomination"))
    try:
        node = await node_in_scope(request, data.get("node_id"), MANAGE, AREA_KINDS)
        instants = [
            local_datetime(data, k)
            for k in (
                "nomination_opens_at",
                "nomination_closes_at",
                "review_closes_at",
                "publicity_closes_at",
                "vote_closes_at",
            )
        ]
        campaign = await cs.create(
            db,
            cs.CampaignInput(
                title=text(data, "title"),
                kind=text(data, "kind"),
                node=node,
                periods=Periods(*instants),  # type: ignore[arg-type]
                categories=text(data, "categories").replace("、", "\n").splitlines(),
                description=text(data, "description"),
                nominee_rule=text(data, "nominee_rule") or None,
                voter_rule=text(data, "voter_rule") or settings.get("voter_rule", "residents"),
                self_nomination=bool(data.get("self_nomination")),
                awards_per_category=integer(data, "awards_per_category", 1, low=1, high=100),
                votes_per_category=integer(data, "votes_per_category", 1, low=1, high=20),
            ),
            min_publicity_days=int(settings.get("publicity_days", 7)),
        )
    except FormError as e:
        return await _form(request, values, {e.field: e.message}, 400)
    except ServiceError as e:
        return await _form(request, values, {getattr(e, "field", None) or "title": message(e)}, e.status)
    await db.commit()
    return Redirect(rc.url(f"{BASE}/campaigns/{campaign.id}"), status_code=303)


async def _campaign_page(
    request: Request, campaign: Campaign, *, error: str | None = None, done: str | None = None, status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None
    settings = c.plugin_settings.get(NAME, {})
    stage = cs.stage(campaign)
    prefixes = c.scope_prefixes(VIEW)
    ranked = [r for r in await review.ranking(c.db, campaign) if c.can(VIEW, r.nomination.node_path)]
    cats = await cs.categories(c.db, campaign.id)
    notice = await review.shortlist_notice(c.db, campaign)
    objections = await notices.objections(c.db, campaign.shortlist_notice_id) if notice is not None else []
    counts = await voting.count(c.db, campaign) if campaign.shortlist_notice_id else []
    anomalies = (
        await voting.anomalies(
            c.db,
            campaign,
            per_household=int(settings.get("household_vote_alert", 3)),
            per_minute=int(settings.get("burst_vote_alert", 60)),
        )
        if campaign.shortlist_notice_id and stage in (Stage.VOTING, Stage.COUNTING, Stage.AWARDED)
        else []
    )
    verified = await voting.verify(c.db, campaign) if stage == Stage.AWARDED else {}
    names = {r.nomination.id: r.nomination.nominee_name for r in ranked}
    return await render(
        request,
        "civic_virtue/campaign.html",
        {
            "campaign": campaign,
            "kind": cs.KINDS.get(campaign.kind),
            "stage": stage,
            "stage_label": stage_label(stage),
            "cats": cats,
            "cat_names": {cat.id: cat.name for cat in cats},
            "ranked": ranked,
            "notice": notice,
            "objections": objections,
            "counts": counts,
            "names": names,
            "anomalies": anomalies,
            "verified": verified,
            "can_review": c.can(REVIEW, campaign.node_path) or bool(prefixes and c.can(REVIEW)),
            "can_manage": c.can(MANAGE, campaign.node_path),
            "error": error,
            "done": done,
            "Stage": Stage,
            "SHORTLISTED": SHORTLISTED,
            "status_labels": status_labels(),
        },
        status_code=status,
    )


def status_labels() -> dict[str, str]:
    return {
        "submitted": _("Submitted"),
        "shortlisted": _("Shortlisted"),
        "not_shortlisted": _("Not shortlisted"),
        "winner": _("Winner"),
        "declined": _("Declined"),
    }


DONE = {  # messages after a redirect: marked for extraction with lazy
    "published": lazy("The shortlist is on public notice and the vote is set up."),
    "answered": lazy("The objection is answered."),
    "awarded": lazy("The winners are announced and their certificates issued."),
}


@get(f"{BASE}/campaigns/{{campaign_id:int}}", guards=[requires(VIEW)])
async def campaign_page(request: Request, campaign_id: FromPath[int], done: FromQuery[str | None] = None) -> Any:
    note = _(DONE[done]) if done in DONE else None
    return await _campaign_page(request, await load_campaign(request, campaign_id), done=note)


async def _act(request: Request, campaign: Campaign, step: Any, done: str) -> Any:
    c = ctx(request)
    assert c.db is not None
    campaign_id = campaign.id  # read before a rollback expires it
    try:
        await step()
    except ServiceError as e:
        await rollback(request)
        campaign = await load_campaign(request, campaign_id)
        return await _campaign_page(request, campaign, error=message(e), status=e.status)
    except FormError as e:
        await rollback(request)
        campaign = await load_campaign(request, campaign_id)
        return await _campaign_page(request, campaign, error=e.message, status=400)
    await c.db.commit()
    return Redirect(c.url(f"{BASE}/campaigns/{campaign_id}?done={done}"), status_code=303)


@post(f"{BASE}/campaigns/{{campaign_id:int}}/publish-shortlist", guards=[requires(REVIEW)])
async def publish_shortlist(request: Request, campaign_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    campaign = await load_campaign(request, campaign_id)
    if not rc.can(REVIEW, campaign.node_path):
        from litestar.exceptions import NotFoundException

        raise NotFoundException()
    return await _act(request, campaign, lambda: review.publish_shortlist(db, campaign), "published")


@post(f"{BASE}/campaigns/{{campaign_id:int}}/objections/{{objection_id:int}}/answer", guards=[requires(REVIEW)])
async def answer_objection(
    request: Request, campaign_id: FromPath[int], objection_id: FromPath[int], data: Form, db: DbSession, rc: Ctx
) -> Any:
    campaign = await load_campaign(request, campaign_id)
    mine = (
        {o.id for o in await notices.objections(db, campaign.shortlist_notice_id)}
        if campaign.shortlist_notice_id
        else set()
    )
    if objection_id not in mine or not rc.can(REVIEW, campaign.node_path):
        from litestar.exceptions import NotFoundException

        raise NotFoundException()
    return await _act(request, campaign, lambda: notices.answer(db, objection_id, text(data, "answer")), "answered")


@post(f"{BASE}/campaigns/{{campaign_id:int}}/award", guards=[requires(MANAGE)])
async def award(request: Request, campaign_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    campaign = await load_campaign(request, campaign_id)
    if not rc.can(MANAGE, campaign.node_path):
        from litestar.exceptions import NotFoundException

        raise NotFoundException()
    base = str(request.base_url).rstrip("/")
    if "/t/" in base:
        base = base.split("/t/")[0]

    settings = rc.plugin_settings.get(NAME, {})
    rule, amount = str(settings.get("award_points_rule") or ""), int(settings.get("award_points") or 0)

    async def step() -> None:
        await voting.award(
            db,
            campaign,
            storage=request.app.state.storage,
            tenant=rc.tenant,
            base_url=base,
            points=(rule, amount) if rule and amount else None,
        )

    return await _act(request, campaign, step, "awarded")


@get(f"{BASE}/nominations/{{nomination_id:int}}", guards=[requires(VIEW)])
async def nomination_page(request: Request, nomination_id: FromPath[int]) -> Any:
    return await _nomination_page(request, await load_nomination(request, nomination_id))


async def _nomination_page(request: Request, n: Nomination, *, error: str | None = None, status: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    campaign = await cs.get(c.db, n.campaign_id)
    stage = cs.stage(campaign)
    scores = await review.scores_of(c.db, n.id)
    mine = next((s for s in scores if s.reviewer_id == c.user.id), None)
    photos = list(
        (
            await c.db.execute(
                select(StoredFile).where(
                    StoredFile.owner_type == nominations.PHOTO_OWNER, StoredFile.owner_id == str(n.id)
                )
            )
        ).scalars()
    )
    consented = n.id in await nominations.consented(c.db, [n])
    cert = None
    if n.certificate_id:
        cert = await documents.get(c.db, n.certificate_id)
    category = await cs.category(c.db, campaign.id, n.category_id)
    return await render(
        request,
        "civic_virtue/nomination.html",
        {
            "n": n,
            "campaign": campaign,
            "category": category,
            "stage": stage,
            "stage_label": stage_label(stage),
            "scores": scores,
            "mine": mine,
            "photos": photos,
            "consented": consented,
            "served": await nominations.served_record(c.db, n),
            "cert": cert,
            "can_review": c.can(REVIEW, n.node_path),
            "error": error,
            "Stage": Stage,
            "SHORTLISTED": SHORTLISTED,
        },
        status_code=status,
    )


async def _nomination_act(request: Request, nomination_id: int, action: str, step: Any, back: str = "") -> Any:
    c = ctx(request)
    assert c.db is not None
    n = await load_nomination(request, nomination_id)
    if not c.can(action, n.node_path):
        from litestar.exceptions import NotFoundException

        raise NotFoundException()
    try:
        await step(n)
    except (ServiceError, FormError) as e:
        await rollback(request)
        text_ = message(e) if isinstance(e, ServiceError) else e.message
        status = e.status if isinstance(e, ServiceError) else 400
        return await _nomination_page(
            request, await load_nomination(request, nomination_id), error=text_, status=status
        )
    campaign_id = n.campaign_id
    await c.db.commit()
    if back == "campaign":  # the campaign page's shortlist buttons come back to it
        return Redirect(c.url(f"{BASE}/campaigns/{campaign_id}"), status_code=303)
    return Redirect(c.url(f"{BASE}/nominations/{nomination_id}"), status_code=303)


@post(f"{BASE}/nominations/{{nomination_id:int}}/score", guards=[requires(REVIEW)])
async def score(request: Request, nomination_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:

    async def step(n: Nomination) -> None:
        assert rc.user is not None
        await review.score(db, n, rc.user.id, integer(data, "score", low=0, high=100), text(data, "comment"))

    return await _nomination_act(request, nomination_id, REVIEW, step)


@post(f"{BASE}/nominations/{{nomination_id:int}}/shortlist", guards=[requires(REVIEW)])
async def shortlist(request: Request, nomination_id: FromPath[int], data: Form, db: DbSession) -> Any:

    async def step(n: Nomination) -> None:
        await review.set_shortlisted(db, n, text(data, "shortlisted") == "1", text(data, "note"))

    return await _nomination_act(request, nomination_id, REVIEW, step, text(data, "back"))


@post(f"{BASE}/nominations/{{nomination_id:int}}/unshortlist", guards=[requires(REVIEW)])
async def unshortlist(request: Request, nomination_id: FromPath[int], data: Form, db: DbSession) -> Any:

    async def step(n: Nomination) -> None:
        await review.drop_from_shortlist(db, n, text(data, "reason"))

    return await _nomination_act(request, nomination_id, REVIEW, step)


@post(f"{BASE}/nominations/{{nomination_id:int}}/consent", guards=[requires(REVIEW)])
async def record_consent(request: Request, nomination_id: FromPath[int], data: Form, db: DbSession) -> Any:
    """Staff record a consent given in person or by phone (a paper form goes through the nominee's
    own page or core's consent register)."""
    channel = text(data, "channel")

    async def step(n: Nomination) -> None:
        if channel not in ("in_person", "phone"):
            raise FormError("channel", _("Say how the nominee agreed: in person or by phone."))
        if text(data, "withdraw") == "1":
            await nominations.withdraw_consent(db, n, user_id=None, channel=channel)
        else:
            await nominations.give_consent(db, n, user_id=None, channel=channel)

    return await _nomination_act(request, nomination_id, REVIEW, step)


handlers = [
    overview,
    campaign_new,
    campaign_create,
    campaign_page,
    publish_shortlist,
    answer_objection,
    award,
    nomination_page,
    score,
    shortlist,
    unshortlist,
    record_consent,
]
