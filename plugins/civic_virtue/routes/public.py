"""Residents' pages: take part (campaigns to nominate in or vote in, nominations by me and of me
with the consent buttons), the nomination form with photos and evidence, a campaign's public page
with its candidates and the vote, and the role-model gallery.

Every page here that shows a nominee asks ``nominations.publishable`` first (shortlisted or
awarded, and consent in force *now*): a nominee who withdraws disappears on the next read."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core.i18n import gettext as _
from core.pluginhost.manifest import Notification
from core.services.errors import ServiceError
from core.services.files.models import StoredFile
from core.services.files.storage import UploadError
from core.services.files.uploads import DOCUMENTS, IMAGES
from core.services.notifications.service import notify
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.guards import public, requires, signed_in
from core.web.render import render
from core.web.uploads import save_upload
from plugins.civic_virtue import campaigns as cs
from plugins.civic_virtue import nominations, voting
from plugins.civic_virtue.models import WINNER, Campaign, CampaignCategory, Nomination
from plugins.civic_virtue.plugin import NOMINATE, REVIEW, VIEW, VOTE
from plugins.civic_virtue.routes.campaigns import visible
from plugins.civic_virtue.routes.common import (
    Errors,
    FormError,
    Values,
    message,
    number_id,
    rollback,
    stage_label,
    text,
)
from plugins.civic_virtue.stages import Stage

BASE = "/civic-virtue"
UPLOAD_LIMIT = 6 * 5 * 1024 * 1024  # up to six files of 5 MB
NODE_KINDS = ("community", "village", "grid")


async def _campaign(request: Request, campaign_id: int) -> Campaign:
    c = ctx(request)
    assert c.db is not None
    try:
        return await cs.get(c.db, campaign_id)
    except ServiceError:
        raise NotFoundException() from None


async def photos_of(request: Request, ids: list[int]) -> dict[int, list[int]]:
    c = ctx(request)
    assert c.db is not None
    if not ids:
        return {}
    rows = await c.db.execute(
        select(StoredFile.owner_id, StoredFile.id)
        .where(
            StoredFile.owner_type == nominations.PHOTO_OWNER,
            StoredFile.owner_id.in_([str(i) for i in ids]),
            StoredFile.content_type.like("image/%"),
        )
        .order_by(StoredFile.id)
    )
    out: dict[int, list[int]] = {}
    for owner, fid in rows:
        out.setdefault(int(owner), []).append(fid)
    return out


@get(f"{BASE}/take-part/", guards=[requires(NOMINATE, VOTE)])
async def take_part(request: Request, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    prefixes = sorted(set(rc.scope_prefixes(NOMINATE)) | set(rc.scope_prefixes(VOTE)))
    rows = list(
        (
            await db.execute(
                select(Campaign).where(visible(prefixes)).order_by(Campaign.vote_closes_at.desc()).limit(50)
            )
        ).scalars()
    )
    open_rows = [(r, cs.stage(r)) for r in rows]
    return await render(
        request,
        "civic_virtue/take_part.html",
        {
            "campaigns": [
                {"c": r, "stage": s, "stage_label": stage_label(s)}
                for r, s in open_rows
                if s not in (Stage.CANCELLED, Stage.UPCOMING)
            ],
            "about_me": await nominations.about_me(db, rc.user.id),
            "by_me": await nominations.by_me(db, rc.user.id),
            "can_nominate": rc.can(NOMINATE),
            "can_vote": rc.can(VOTE),
            "Stage": Stage,
            "statuses": _statuses(),
        },
    )


def _statuses() -> dict[str, str]:
    return {
        "submitted": _("Submitted"),
        "shortlisted": _("Shortlisted"),
        "not_shortlisted": _("Not shortlisted"),
        "winner": _("Winner"),
        "declined": _("Declined"),
    }


async def _nominate_form(
    request: Request, campaign: Campaign, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None
    from core.grids.models import GridNode
    from core.rbac.scope import in_scope

    nodes = list(
        (
            await c.db.execute(
                select(GridNode)
                .where(in_scope(GridNode.path, [campaign.node_path]), GridNode.kind.in_(NODE_KINDS))
                .order_by(GridNode.path)
                .limit(500)
            )
        ).scalars()
    )
    return await render(
        request,
        "civic_virtue/nominate.html",
        {
            "campaign": campaign,
            "cats": await cs.categories(c.db, campaign.id),
            "nodes": nodes,
            "values": Values(values),
            "errors": Errors(errors),
            "staff": c.can(REVIEW) or c.can(VIEW, campaign.node_path),
            "stage": cs.stage(campaign),
            "Stage": Stage,
        },
        status_code=status,
    )


@get(f"{BASE}/campaigns/{{campaign_id:int}}/nominate", guards=[requires(NOMINATE)])
async def nominate_form(request: Request, campaign_id: FromPath[int]) -> Any:
    campaign = await _campaign(request, campaign_id)
    return await _nominate_form(request, campaign, {"nominator_kind": "resident"}, {})


@post(
    f"{BASE}/campaigns/{{campaign_id:int}}/nominate",
    guards=[requires(NOMINATE)],
    request_max_body_size=UPLOAD_LIMIT,
    status_code=200,
)
async def nominate_submit(request: Request, campaign_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    campaign = await _campaign(request, campaign_id)
    form = await request.form()
    data = {k: form.get(k) for k in form if k not in ("photos", "evidence_files")}
    values = {k: text(data, k) for k in data if not k.startswith("_")}
    photos = [u for u in form.getall("photos") if isinstance(u, UploadFile) and u.filename] if "photos" in form else []
    papers = (
        [u for u in form.getall("evidence_files") if isinstance(u, UploadFile) and u.filename]
        if "evidence_files" in form
        else []
    )
    try:
        n = await submit_nomination(request, campaign, data)
        if len(photos) + len(papers) > 6:
            raise FormError("photos", _("At most six files."))
        for upload in photos:
            await save_upload(request, upload, nominations.PHOTO_OWNER, n.id, allowed_types=IMAGES)
        for upload in papers:
            await save_upload(request, upload, nominations.PHOTO_OWNER, n.id, allowed_types=IMAGES + DOCUMENTS)
    except FormError as e:
        await rollback(request)
        campaign = await _campaign(request, campaign_id)
        return await _nominate_form(request, campaign, values, {e.field: e.message}, 400)
    except ServiceError as e:
        await rollback(request)
        campaign = await _campaign(request, campaign_id)
        return await _nominate_form(
            request, campaign, values, {getattr(e, "field", None) or "form": message(e)}, e.status
        )
    except UploadError as e:
        await rollback(request)
        campaign = await _campaign(request, campaign_id)
        return await _nominate_form(request, campaign, values, {"photos": str(e)}, getattr(e, "status", 400))
    await db.commit()
    return Redirect(rc.url(f"{BASE}/take-part/?nominated={n.id}"), status_code=303)


async def submit_nomination(request: Request, campaign: Campaign, data: dict[str, Any]) -> Nomination:
    """Shared by the form and the API: parse, check the place, nominate."""
    c = ctx(request)
    assert c.db is not None and c.user is not None
    from core.grids.models import GridNode

    node_id = number_id(data.get("node_id"))
    node = None
    if node_id is not None:
        node = (await c.db.execute(select(GridNode).where(GridNode.id == node_id))).scalar_one_or_none()
    if node is None or not node.path.startswith(campaign.node_path):
        raise FormError("node_id", _("Choose where the nominee lives or works."))
    kind = text(data, "nominator_kind") or "resident"
    if kind == "staff" and not c.can(VIEW, node.path):
        raise FormError("nominator_kind", _("Only staff of the area nominate as staff."))
    category_id = number_id(data.get("category_id"))
    if category_id is None:
        raise FormError("category_id", _("Choose a category."))
    nomination = await nominations.nominate(
        c.db,
        request.app.state.vault,
        campaign,
        nominations.NominationInput(
            category_id=category_id,
            nominee_name=text(data, "nominee_name"),
            headline=text(data, "headline"),
            story=str(data.get("story") or ""),
            node=node,
            nominator_kind=kind,
            evidence=str(data.get("evidence") or ""),
            nominee_phone=text(data, "nominee_phone"),
            nominator_unit=text(data, "nominator_unit"),
        ),
        by_user_id=c.user.id,
    )
    if nomination.nominee_user_id is not None and nomination.nominee_user_id != c.user.id and c.tenant is not None:
        # Ask the nominee: nothing about them is shown until they agree on their own page.
        await notify(
            request.app.state,
            c.db,
            Notification(
                c.tenant.id,
                nomination.nominee_user_id,
                f"您被推荐参加“{campaign.title}”",
                f"事迹：{nomination.headline}。公开您的姓名、照片和事迹前需要您本人同意，请到“榜样评选”页面确认。",
                "/civic-virtue/take-part/",
            ),
            enabled=("civic_virtue",),
        )
    return nomination


@post(f"{BASE}/nominations/{{nomination_id:int}}/my-consent", guards=[signed_in])
async def my_consent(request: Request, nomination_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    """The nominee's own buttons: agree to publication, withdraw it, or decline the nomination."""
    assert rc.user is not None
    form = await request.form()
    action = str(form.get("action") or "")
    try:
        n = await nominations.get(db, nomination_id)
        if n.nominee_user_id != rc.user.id:
            raise NotFoundException()
        if action == "give":
            await nominations.give_consent(db, n, user_id=rc.user.id)
        elif action == "withdraw":
            await nominations.withdraw_consent(db, n, user_id=rc.user.id, channel="online")
        elif action == "decline":
            await nominations.decline(db, n, user_id=rc.user.id)
        else:
            raise NotFoundException()
    except ServiceError as e:
        await rollback(request)
        if e.status == 404:
            raise NotFoundException() from None
        return await render(request, "civic_virtue/message.html", {"error": message(e)}, status_code=e.status)
    await db.commit()
    return Redirect(rc.url(f"{BASE}/take-part/"), status_code=303)


async def _vote_page(request: Request, campaign: Campaign, *, error: str | None = None, status: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None
    stage = cs.stage(campaign)
    cats = await cs.categories(c.db, campaign.id)
    shown = await voting.candidates(c.db, campaign)
    photos = await photos_of(request, [n.id for n in shown])
    mine = await voting.my_votes(c.db, campaign, c.user.id) if c.user is not None else {}
    return await render(
        request,
        "civic_virtue/vote.html",
        {
            "campaign": campaign,
            "stage": stage,
            "stage_label": stage_label(stage),
            "cats": [(cat, [n for n in shown if n.category_id == cat.id]) for cat in cats],
            "photos": photos,
            "mine": mine,
            "can_vote": c.user is not None and c.can(VOTE) and stage == Stage.VOTING,
            "error": error,
            "Stage": Stage,
        },
        status_code=status,
    )


@get(f"{BASE}/campaigns/{{campaign_id:int}}/vote", guards=[public])
async def vote_page(request: Request, campaign_id: FromPath[int]) -> Any:
    return await _vote_page(request, await _campaign(request, campaign_id))


@post(f"{BASE}/campaigns/{{campaign_id:int}}/vote", guards=[requires(VOTE)], status_code=200)
async def vote_submit(request: Request, campaign_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    campaign = await _campaign(request, campaign_id)
    form = await request.form()
    category_id = number_id(form.get("category_id"))
    chosen = [number_id(v) for v in form.getall("nomination_id")] if "nomination_id" in form else []
    try:
        if category_id is None:
            raise FormError("category_id", _("Choose a category."))
        await voting.vote(db, campaign, category_id, rc.user.id, [i for i in chosen if i is not None])
    except FormError as e:
        await rollback(request)
        campaign = await _campaign(request, campaign_id)
        return await _vote_page(request, campaign, error=e.message, status=400)
    except ServiceError as e:
        await rollback(request)
        campaign = await _campaign(request, campaign_id)
        return await _vote_page(request, campaign, error=message(e), status=e.status)
    await db.commit()
    return Redirect(rc.url(f"{BASE}/campaigns/{campaign.id}/vote?voted=1"), status_code=303)


@post(f"{BASE}/campaigns/{{campaign_id:int}}/objections", guards=[signed_in], status_code=200)
async def object_to(request: Request, campaign_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    """A resident objects to the shortlist during its 公示 (core.services.notices keeps it)."""
    assert rc.user is not None
    campaign = await _campaign(request, campaign_id)
    form = await request.form()
    try:
        await raise_objection(request, campaign, str(form.get("body") or ""))
    except ServiceError as e:
        await rollback(request)
        campaign = await _campaign(request, campaign_id)
        return await _vote_page(request, campaign, error=message(e), status=e.status)
    await db.commit()
    return Redirect(rc.url(f"{BASE}/campaigns/{campaign_id}/vote?objected=1"), status_code=303)


async def raise_objection(request: Request, campaign: Campaign, body: str) -> None:
    """Shared by the page and the API: only while the shortlist is on notice."""
    from core.services import notices
    from core.services.errors import Conflict, lazy

    c = ctx(request)
    assert c.db is not None and c.user is not None
    if campaign.shortlist_notice_id is None or cs.stage(campaign) != Stage.PUBLICITY:
        raise Conflict(lazy("Objections are taken only while the shortlist is on public notice."))
    await notices.object_to(c.db, campaign.shortlist_notice_id, body, user_id=c.user.id)


@get(f"{BASE}/gallery/", guards=[public])
async def gallery(request: Request, db: DbSession, page: FromQuery[int] = 1) -> Any:
    rows = list(
        (
            await db.execute(
                select(Nomination, Campaign, CampaignCategory)
                .join(Campaign, Campaign.id == Nomination.campaign_id)
                .join(CampaignCategory, CampaignCategory.id == Nomination.category_id)
                .where(Nomination.status == WINNER)
                .order_by(Campaign.awarded_at.desc(), CampaignCategory.position, Nomination.number)
                .limit(1000)
            )
        ).all()
    )
    ok = {n.id for n in await nominations.publishable(db, [n for n, _c, _k in rows])}
    shown = [(n, camp, cat) for n, camp, cat in rows if n.id in ok]
    per_page = 24
    pages = max(1, (len(shown) + per_page - 1) // per_page)
    page = min(max(1, page), pages)
    items = shown[(page - 1) * per_page : page * per_page]
    return await render(
        request,
        "civic_virtue/gallery.html",
        {
            "items": items,
            "photos": await photos_of(request, [n.id for n, _c, _k in items]),
            "page": page,
            "pages": pages,
        },
    )


@get(f"{BASE}/gallery/{{nomination_id:int}}", guards=[public])
async def gallery_item(request: Request, nomination_id: FromPath[int], db: DbSession) -> Any:
    try:
        n = await nominations.get(db, nomination_id)
    except ServiceError:
        raise NotFoundException() from None
    if not await nominations.is_public(db, n):  # no consent in force: as if it did not exist
        raise NotFoundException()
    campaign = await cs.get(db, n.campaign_id)
    category = await cs.category(db, campaign.id, n.category_id)
    return await render(
        request,
        "civic_virtue/gallery_item.html",
        {
            "n": n,
            "campaign": campaign,
            "category": category,
            "photos": (await photos_of(request, [n.id])).get(n.id, []),
        },
    )


handlers = [
    take_part,
    nominate_form,
    nominate_submit,
    my_consent,
    vote_page,
    vote_submit,
    object_to,
    gallery,
    gallery_item,
]
