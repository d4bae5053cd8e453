"""JSON API for residents (a WeChat mini-program's back end), bearer tokens only:

    GET  /api/v1/self-governance/votes                       owners' votes open to me (or counted)
    GET  /api/v1/self-governance/votes/{id}                  items, live participation, my vote, results
    POST /api/v1/self-governance/votes/{id}                  {"choices": {"<item id>": "yes|no|abstain"}}
    POST /api/v1/self-governance/matters                     {"title", "description", "node_id"}: raise a matter
    GET  /api/v1/self-governance/matters                     matters I raised
    POST /api/v1/self-governance/petitions/{id}/sign         sign a request to call a meeting
    POST /api/v1/self-governance/meetings/{id}/check-in      check in at a meeting I am invited to

Errors are ``{"status_code": ..., "detail": "<message in the user's language>"}``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from sqlalchemy import select

from core.i18n import translator
from core.services import ballots
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.guards import requires
from core.web.routes.api import api_router
from plugins.self_governance import assemblies, matters, meetings, petitions
from plugins.self_governance import procedures as p
from plugins.self_governance.actions import CHECK_IN, RAISE, SIGN, VOTE
from plugins.self_governance.models import Matter
from plugins.self_governance.routes.common import message, rollback
from plugins.self_governance.routes.owners import home_places, my_assemblies, my_meeting_row

_ = translator("self_governance").gettext

BASE = "/self-governance"


class VoteIn(msgspec.Struct, forbid_unknown_fields=True):
    choices: dict[str, str]


class MatterIn(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    node_id: int
    description: str = ""


def refuse(status: int, detail: str) -> Response[Any]:
    return Response({"status_code": status, "detail": detail}, status_code=status)


async def _body(request: Request, kind: type) -> Any:
    try:
        return msgspec.json.decode(await request.body(), type=kind)
    except msgspec.DecodeError as e:
        raise ValueError(str(e)) from None
    except msgspec.ValidationError as e:
        raise ValueError(str(e)) from None


def _time(v: Any) -> str | None:
    return v.isoformat() if v is not None else None


def _item(v: assemblies.ItemView, mine: bool | None = None) -> dict[str, Any]:
    part = v.participation
    out: dict[str, Any] = {
        "id": v.item.id,
        "position": v.item.position,
        "title": v.item.title,
        "article_278_item": v.item.category,
        "needs_three_quarters": v.special,
        "participation": {
            "area_m2": part.cast_weight / 100,
            "area_total_m2": part.electorate_weight / 100,
            "owners": part.cast_heads,
            "owners_total": part.electorate_heads,
        },
        "result": None,
    }
    if mine is not None:
        out["voted"] = mine
    if v.result:
        outcome = v.result["outcome"]
        out["result"] = {"valid": outcome["valid"], "passed": outcome["passed"], "digest": v.result["digest"]}
    return out


@get(f"{BASE}/votes", guards=[requires(VOTE)], summary="Owners' votes open to me")
async def api_votes(db: DbSession, rc: Ctx) -> dict[str, Any]:
    assert rc.user is not None
    return {
        "votes": [
            {
                "id": a.id,
                "title": a.title,
                "phase": assemblies.phase(a),
                "opens_at": _time(a.opens_at),
                "closes_at": _time(a.closes_at),
            }
            for a in await assemblies.for_voter(db, rc.user.id)
        ]
    }


async def _vote_json(request: Request, a: assemblies.Assembly) -> dict[str, Any]:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    items = []
    for v in await assemblies.overview(c.db, a):
        row, _chosen = await ballots.my_vote(c.db, await ballots.get(c.db, v.item.ballot_id), c.user.id)
        items.append(_item(v, row is not None))
    return {
        "id": a.id,
        "title": a.title,
        "description": a.description,
        "phase": assemblies.phase(a),
        "opens_at": _time(a.opens_at),
        "closes_at": _time(a.closes_at),
        "items": items,
    }


@get(f"{BASE}/votes/{{assembly_id:int}}", guards=[requires(VOTE)], summary="One vote: items, participation, my vote")
async def api_vote_detail(request: Request, assembly_id: FromPath[int]) -> Any:
    try:
        a = await my_assemblies(request, assembly_id)
    except NotFoundException:
        return refuse(404, _("There is no owners' assembly %(id)s.", id=assembly_id))
    return await _vote_json(request, a)


@post(
    f"{BASE}/votes/{{assembly_id:int}}", guards=[requires(VOTE)], status_code=200, summary="Cast my vote on the items"
)
async def api_vote(request: Request, assembly_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    try:
        a = await my_assemblies(request, assembly_id)
    except NotFoundException:
        return refuse(404, _("There is no owners' assembly %(id)s.", id=assembly_id))
    try:
        body = await _body(request, VoteIn)
    except ValueError:
        return refuse(400, _('Send {"choices": {"<item id>": "yes" | "no" | "abstain"}}.'))
    try:
        await assemblies.vote(db, a, rc.user.id, body.choices)
    except ServiceError as err:
        await rollback(request)
        return refuse(err.status, message(err))
    await db.commit()
    return await _vote_json(request, await assemblies.get(db, assembly_id))


def _matter(m: Matter) -> dict[str, Any]:
    steps = p.PROCEDURES[m.procedure]
    return {
        "id": m.id,
        "title": m.title,
        "procedure": m.procedure,
        "status": m.status,
        "step": steps[min(m.step, len(steps) - 1)].key,
        "progress": m.progress,
        "raised_at": _time(m.raised_at),
    }


@post(f"{BASE}/matters", guards=[requires(RAISE)], status_code=201, summary="Raise a matter for my estate or community")
async def api_raise(request: Request, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    try:
        body = await _body(request, MatterIn)
    except ValueError:
        return refuse(400, _('Send {"title": "...", "description": "...", "node_id": <your estate or community>}.'))
    places = {n.id: n for n in await home_places(request)}
    if body.node_id not in places:
        return refuse(400, _("Choose your estate or community."))
    try:
        m = await matters.raise_matter(
            db,
            title=body.title,
            description=body.description,
            node=places[body.node_id],
            source="resident",
            by_name=rc.user.display_name,
        )
    except ServiceError as err:
        await rollback(request)
        return refuse(err.status, message(err))
    await db.commit()
    return _matter(m)


@get(f"{BASE}/matters", guards=[requires(RAISE)], summary="Matters I raised")
async def api_my_matters(request: Request, db: DbSession, rc: Ctx) -> dict[str, Any]:
    assert rc.user is not None
    rows = await db.execute(
        select(Matter).where(Matter.raised_by == rc.user.id).order_by(Matter.raised_at.desc()).limit(100)
    )
    return {
        "matters": [_matter(m) for m in rows.scalars()],
        "places": [{"id": n.id, "name": n.name} for n in await home_places(request)],
    }


@post(
    f"{BASE}/petitions/{{petition_id:int}}/sign",
    guards=[requires(SIGN)],
    status_code=200,
    summary="Sign a request to call a meeting",
)
async def api_sign(request: Request, petition_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    places = {n.id: n for n in await home_places(request)}
    try:
        pet = await petitions.get(db, petition_id)
        if pet.node_id not in places:
            return refuse(404, _("There is no request %(id)s.", id=petition_id))
        await petitions.sign(db, pet, places[pet.node_id], rc.user.id)
        counted = await petitions.count(db, pet, places[pet.node_id], _rules(request))
    except ServiceError as err:
        await rollback(request)
        return refuse(err.status, message(err))
    await db.commit()
    return {
        "signatures": counted.signatures,
        "base": counted.base,
        "percent": counted.percent,
        "reached": counted.reached,
    }


def _rules(request: Request) -> Any:
    from plugins.self_governance.routes.common import rules

    return rules(request)


@post(
    f"{BASE}/meetings/{{meeting_id:int}}/check-in",
    guards=[requires(CHECK_IN)],
    status_code=200,
    summary="Check in at a meeting",
)
async def api_check_in(request: Request, meeting_id: FromPath[int], db: DbSession) -> Any:
    try:
        meeting, row = await my_meeting_row(request, meeting_id)
        await meetings.mark(db, meeting, row.resident_id, True, method="self")
        att = await meetings.attendance(db, meeting, _rules(request))
    except NotFoundException:
        return refuse(404, _("There is no meeting %(id)s.", id=meeting_id))
    except ServiceError as err:
        await rollback(request)
        return refuse(err.status, message(err))
    await db.commit()
    return {"expected": att.expected, "present": att.present, "quorate": att.quorate}


handlers = [api_router(api_votes, api_vote_detail, api_vote, api_raise, api_my_matters, api_sign, api_check_in)]
