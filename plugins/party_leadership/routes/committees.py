"""大工委/大党委 with their seats, 联席会议 (called, held with attendance and minutes) and their
decisions (voted, done). A committee or meeting outside the user's scope answers 404."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select

from core.i18n import gettext as _
from core.rbac.scope import in_scope
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import requires
from core.web.render import render
from plugins.party_leadership import committees, rules
from plugins.party_leadership.models import Committee, Meeting, Unit
from plugins.party_leadership.plugin import COMMITTEE, VIEW
from plugins.party_leadership.routes._common import (
    day,
    found_in_scope,
    many,
    moment,
    number,
    problem,
    rollback,
    settings,
    text,
    today,
)


async def _committees_page(request: Request, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None
    rows = (
        (
            await c.db.execute(
                select(Committee)
                .where(in_scope(Committee.node_path, c.scope_prefixes(VIEW)))
                .order_by(Committee.node_path)
            )
        )
        .scalars()
        .all()
    )
    from core.grids.models import GridNode

    places = (
        (
            await c.db.execute(
                select(GridNode)
                .where(
                    in_scope(GridNode.path, c.scope_prefixes(COMMITTEE)),
                    GridNode.kind.in_(tuple(committees.KIND_FOR_NODE)),
                )
                .order_by(GridNode.path)
                .limit(500)
            )
        )
        .scalars()
        .all()
    )
    decisions = await committees.open_decisions(c.db, c.scope_prefixes(VIEW), limit=50)
    return await render(
        request,
        "party_leadership/committees.html",
        {
            "rows": rows,
            "kinds": {k: _(v) for k, v in rules.COMMITTEE_KINDS.items()},
            "places": places,
            "decisions": decisions,
            "can_edit": c.can(COMMITTEE),
            "errors": errors or {},
            "today": today(),
        },
        status_code=status,
    )


@get("/party/committees", guards=[requires(VIEW)])
async def committees_page(request: Request) -> Any:
    return await _committees_page(request)


@post("/party/committees", guards=[requires(COMMITTEE)])
async def committee_create(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    from core.grids.models import GridNode

    node_id = number(data, "node_id") if text(data, "node_id").isdigit() else None
    node = await db.scalar(select(GridNode).where(GridNode.id == node_id)) if node_id else None
    if node is None or not rc.can(COMMITTEE, node.path):
        return await _committees_page(request, {"node_id": _("Choose a sub-district or a community.")}, status=400)
    try:
        committee = await committees.create_committee(db, node, text(data, "name"))
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return await _committees_page(request, problem(exc), status=exc.status)
    return Redirect(rc.url(f"/party/committees/{committee.id}"), status_code=303)


async def _committee(request: Request, committee_id: int, action: str = VIEW) -> Committee:
    c = ctx(request)
    assert c.db is not None
    return await found_in_scope(request, action, committees.get_committee(c.db, committee_id))


async def _committee_page(
    request: Request, committee_id: int, errors: dict[str, str] | None = None, status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None
    committee = await _committee(request, committee_id)
    seats = await committees.seats(c.db, committee.id)
    units = (
        (await c.db.execute(select(Unit).where(in_scope(Unit.node_path, [committee.node_path])).order_by(Unit.name)))
        .scalars()
        .all()
    )
    now = today()
    return await render(
        request,
        "party_leadership/committee.html",
        {
            "k": committee,
            "kind": _(rules.COMMITTEE_KINDS[committee.kind]),
            "seats": [(s, rules.term_active(s.term_start, s.term_end, s.left_on, now)) for s in seats],
            "positions": {k: _(v) for k, v in rules.POSITIONS.items()},
            "unit_names": {u.id: u.name for u in units},
            "units": units,
            "meetings": await committees.meetings_of(c.db, committee.id),
            "can_edit": c.can(COMMITTEE, committee.node_path),
            "errors": errors or {},
            "term_years": settings(request).committee_term_years,
        },
        status_code=status,
    )


@get("/party/committees/{committee_id:int}", guards=[requires(VIEW)])
async def committee_page(request: Request, committee_id: FromPath[int]) -> Any:
    return await _committee_page(request, committee_id)


@post("/party/committees/{committee_id:int}/{what:str}", guards=[requires(COMMITTEE)])
async def committee_post(
    request: Request, committee_id: FromPath[int], what: FromPath[str], data: Form, db: DbSession, rc: Ctx
) -> Any:
    committee = await _committee(request, committee_id, COMMITTEE)
    target = f"/party/committees/{committee_id}"
    try:
        if what == "seats":
            await committees.add_member(
                db,
                committee,
                name=text(data, "name"),
                position=text(data, "position"),
                term_start=day(data, "term_start"),
                term_years=settings(request).committee_term_years,  # type: ignore[arg-type]
                unit_id=number(data, "unit_id"),
                term_end=day(data, "term_end", required=False),
            )
        elif what == "meetings":
            meeting = await committees.call_meeting(
                db,
                committee,
                title=text(data, "title"),
                agenda=text(data, "agenda"),
                starts_at=moment(data, "starts_at"),
                place=text(data, "place"),  # type: ignore[arg-type]
            )
            target = f"/party/meetings/{meeting.id}"
        else:
            from litestar.exceptions import NotFoundException

            raise NotFoundException()
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return await _committee_page(request, committee_id, problem(exc), status=exc.status)
    return Redirect(rc.url(target), status_code=303)


async def _meeting_page(
    request: Request, meeting_id: int, errors: dict[str, str] | None = None, status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None
    meeting = await _meeting(request, meeting_id)
    seats = await committees.seats(c.db, meeting.committee_id)
    decisions = await committees.decisions_of(c.db, meeting.id)
    return await render(
        request,
        "party_leadership/meeting.html",
        {
            "m": meeting,
            "seats": seats,
            "decisions": [(d, committees.carried(d)) for d in decisions],
            "can_edit": c.can(COMMITTEE, meeting.node_path),
            "errors": errors or {},
        },
        status_code=status,
    )


async def _meeting(request: Request, meeting_id: int, action: str = VIEW) -> Meeting:
    c = ctx(request)
    assert c.db is not None
    return await found_in_scope(request, action, committees.get_meeting(c.db, meeting_id))


@get("/party/meetings/{meeting_id:int}", guards=[requires(VIEW)])
async def meeting_page(request: Request, meeting_id: FromPath[int]) -> Any:
    return await _meeting_page(request, meeting_id)


@post("/party/meetings/{meeting_id:int}/{what:str}", guards=[requires(COMMITTEE)])
async def meeting_post(
    request: Request, meeting_id: FromPath[int], what: FromPath[str], data: Form, db: DbSession, rc: Ctx
) -> Any:
    meeting = await _meeting(request, meeting_id, COMMITTEE)
    try:
        if what == "hold":
            present = [int(v) for v in many(data, "present") if v.isdigit()]
            await committees.hold(db, meeting, present_ids=present, minutes=text(data, "minutes"))
        elif what == "decisions":
            votes = None
            if text(data, "votes_for"):
                votes = (
                    number(data, "votes_for", required=True) or 0,
                    number(data, "votes_against") or 0,
                    number(data, "votes_abstain") or 0,
                )
            await committees.decide(
                db,
                meeting,
                text=text(data, "text"),
                owner=text(data, "owner"),
                due_on=day(data, "due_on", required=False),
                votes=votes,
            )
        elif what == "done":
            decision_id = number(data, "decision_id", required=True) or 0
            if decision_id not in {d.id for d in await committees.decisions_of(db, meeting.id)}:
                from litestar.exceptions import NotFoundException

                raise NotFoundException()
            await committees.complete_decision(db, decision_id, text(data, "note"))
        else:
            from litestar.exceptions import NotFoundException

            raise NotFoundException()
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return await _meeting_page(request, meeting_id, problem(exc), status=exc.status)
    return Redirect(rc.url(f"/party/meetings/{meeting_id}"), status_code=303)


handlers = [committees_page, committee_create, committee_page, committee_post, meeting_page, meeting_post]
