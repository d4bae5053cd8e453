"""Residents' phone pages: my votes as an owner (vote on each item, see the participation move),
raise a matter for my estate or community, sign a request for a meeting, check in at a meeting."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select

from core.grids.models import GridNode
from core.i18n import translator
from core.services import accounts, ballots
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import requires, signed_in
from core.web.render import render
from plugins.self_governance import assemblies, matters, meetings, petitions
from plugins.self_governance import procedures as p
from plugins.self_governance.actions import RAISE, SIGN, VOTE
from plugins.self_governance.models import Attendee, Matter, Meeting, Petition
from plugins.self_governance.routes.common import BASE, integer, message, rollback, rules, text

_ = translator("self_governance").gettext

MY = f"{BASE}/my"


async def home_places(request: Request) -> list[GridNode]:
    """The estate and community (and grid) around the signed-in resident's home, nearest first."""
    c = ctx(request)
    assert c.db is not None and c.user is not None
    resident = await accounts.linked_resident(c.db, c.user.id)
    if resident is None or not resident.node_path:
        return []
    ids = [int(x) for x in resident.node_path.strip("/").split("/") if x.isdigit()]
    rows = (await c.db.execute(select(GridNode).where(GridNode.id.in_(ids)))).scalars()
    return sorted((n for n in rows if n.kind in ("estate", "community")), key=lambda n: -len(n.path))


async def my_assemblies(request: Request, assembly_id: int) -> assemblies.Assembly:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    for a in await assemblies.for_voter(c.db, c.user.id):
        if a.id == assembly_id:
            return a
    raise NotFoundException()


@get(f"{MY}/", guards=[signed_in])
async def my_page(request: Request, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    mine = list(
        (
            await db.execute(
                select(Matter).where(Matter.raised_by == rc.user.id).order_by(Matter.updated_at.desc()).limit(20)
            )
        ).scalars()
    )
    places = await home_places(request)
    open_petitions = []
    if places:
        rows = await db.execute(
            select(Petition)
            .where(Petition.node_id.in_([n.id for n in places]))
            .order_by(Petition.created_at.desc())
            .limit(10)
        )
        by_id = {n.id: n for n in places}
        for pet in rows.scalars():
            open_petitions.append((pet, await petitions.count(db, pet, by_id[pet.node_id], rules(request))))
    return await render(
        request,
        "self_governance/my.html",
        {
            "votes": await assemblies.for_voter(db, rc.user.id),
            "phase": assemblies.phase,
            "mine": mine,
            "places": places if rc.can(RAISE) else [],
            "petitions": open_petitions,
            "may_sign": rc.can(SIGN),
            "steps": p.PROCEDURES,
            "error": "",
        },
    )


@get(f"{MY}/assemblies/{{assembly_id:int}}", guards=[requires(VOTE)])
async def vote_page(request: Request, assembly_id: FromPath[int]) -> Any:
    return await _vote_page(request, await my_assemblies(request, assembly_id))


async def _vote_page(request: Request, a: assemblies.Assembly, error: str = "", code: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    views = await assemblies.overview(c.db, a)
    cast = {}
    for v in views:
        row, _chosen = await ballots.my_vote(c.db, await ballots.get(c.db, v.item.ballot_id), c.user.id)
        cast[v.item.id] = row is not None
    return await render(
        request,
        "self_governance/my_assembly.html",
        {
            "a": a,
            "views": views,
            "cast": cast,
            "all_cast": all(cast.values()),
            "phase": assemblies.phase(a),
            "categories": assemblies.CATEGORIES,
            "error": error,
            "live_url": c.url(f"{MY}/assemblies/{a.id}/live"),
        },
        status_code=code,
    )


@get(f"{MY}/assemblies/{{assembly_id:int}}/live", guards=[requires(VOTE)])
async def vote_live(request: Request, assembly_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    a = await my_assemblies(request, assembly_id)
    return await render(
        request,
        "self_governance/_participation.html",
        {
            "a": a,
            "views": await assemblies.overview(db, a),
            "phase": assemblies.phase(a),
            "live_url": rc.url(f"{MY}/assemblies/{a.id}/live"),
        },
        block=None,
    )


@post(f"{MY}/assemblies/{{assembly_id:int}}", guards=[requires(VOTE)])
async def vote(request: Request, assembly_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    a = await my_assemblies(request, assembly_id)
    choices = {k.removeprefix("item_"): str(v) for k, v in data.items() if k.startswith("item_") and v}
    try:
        await assemblies.vote(db, a, rc.user.id, choices)
    except ServiceError as err:
        await rollback(request)
        return await _vote_page(request, await my_assemblies(request, assembly_id), message(err), err.status)
    await db.commit()
    return Redirect(rc.url(f"{MY}/assemblies/{assembly_id}?voted=1"), status_code=303)


@post(f"{MY}/matters", guards=[requires(RAISE)])
async def raise_mine(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    places = {n.id: n for n in await home_places(request)}
    place = places.get(integer(data, "node_id") or 0)
    if place is None:
        return await _error(request, _("Choose your estate or community."))
    try:
        matter = await matters.raise_matter(
            db,
            title=text(data, "title", 300),
            description=text(data, "description", 5000),
            node=place,
            source="resident",
            by_name=rc.user.display_name,
        )
    except ServiceError as err:
        await rollback(request)
        return await _error(request, message(err))
    await db.commit()
    return Redirect(rc.url(f"{BASE}/matters/{matter.id}"), status_code=303)


async def _error(request: Request, error: str) -> Any:
    return await render(request, "self_governance/my_error.html", {"error": error}, status_code=400)


@post(f"{MY}/petitions/{{petition_id:int}}/sign", guards=[requires(SIGN)])
async def sign(request: Request, petition_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    places = {n.id: n for n in await home_places(request)}
    try:
        pet = await petitions.get(db, petition_id)
    except ServiceError:
        raise NotFoundException() from None
    if pet.node_id not in places:
        raise NotFoundException()
    try:
        await petitions.sign(db, pet, places[pet.node_id], rc.user.id)
    except ServiceError as err:
        await rollback(request)
        return await _error(request, message(err))
    await db.commit()
    return Redirect(rc.url(f"{MY}/"), status_code=303)


async def my_meeting_row(request: Request, meeting_id: int) -> tuple[Meeting, Attendee]:
    """The meeting and my line on its list (404 when I am not invited)."""
    c = ctx(request)
    assert c.db is not None and c.user is not None
    resident = await accounts.linked_resident(c.db, c.user.id)
    if resident is None:
        raise NotFoundException()
    row = (
        await c.db.execute(
            select(Attendee).where(Attendee.meeting_id == meeting_id, Attendee.resident_id == resident.id)
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFoundException()
    return await meetings.get(c.db, meeting_id), row


handlers = [my_page, vote_page, vote_live, vote, raise_mine, sign]
