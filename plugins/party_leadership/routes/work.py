"""Staff pages of the pillar's joint work: the overview, 三项清单 and projects, 共建协议, 大工委/大党委
with 联席会议 and decisions, 五事联办, and 网络楼长 coverage. Lists are filtered by scope in SQL; an
object outside the user's scope answers 404. Forms re-render with the refusal on the field."""

from __future__ import annotations

import json
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core.i18n import gettext as _
from core.rbac.scope import in_scope
from core.services.errors import ServiceError
from core.services.files.storage import UploadError
from core.services.files.uploads import IMAGES
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import requires
from core.web.pagination import paginate
from core.web.render import render
from core.web.uploads import save_upload
from plugins.party_leadership import agreements as ag
from plugins.party_leadership import captains, committees, figures, lists, matters, rules
from plugins.party_leadership.models import Agreement, Committee, Matter, Meeting, Need, Project, Resource, Unit
from plugins.party_leadership.plugin import AGREEMENTS, COMMITTEE, LISTS, MATTERS, MEMBERS_VIEW, REVIEW, VIEW
from plugins.party_leadership.routes._common import (
    communities,
    community_in_scope,
    day,
    in_scope_or_404,
    many,
    moment,
    node_names,
    number,
    problem,
    rollback,
    settings,
    text,
    today,
)

Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]

# ---- overview ----------------------------------------------------------------------------------


@get("/party/", guards=[requires(VIEW)])
async def overview(request: Request, db: DbSession, rc: Ctx, year: FromQuery[int | None] = None) -> Any:
    s = settings(request)
    year = year if year and 2000 <= year <= 2100 else today().year
    prefixes = rc.scope_prefixes(VIEW)
    head = await figures.headline(db, prefixes, year)
    rows = await figures.overview(db, prefixes, year, s.annual_hours_target) if rc.can(MEMBERS_VIEW) else []
    chart = {
        "type": "bar",
        "labels": [r.name for r in rows],
        "datasets": [{"label": _("Hours served"), "data": [float(r.hours) for r in rows]}],
        "suffix": " h",
    }
    return await render(
        request,
        "party_leadership/overview.html",
        {
            "h": head,
            "rows": rows,
            "year": year,
            "target": s.annual_hours_target,
            "chart_json": json.dumps(chart, ensure_ascii=False),
            "can_members": rc.can(MEMBERS_VIEW),
            "can_review": rc.can(REVIEW),
        },
    )


# ---- 三项清单 ------------------------------------------------------------------------------------


async def _lists_page(
    request: Request,
    node_id: int | None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Any:
    c = ctx(request)
    assert c.db is not None
    nodes = await communities(request, VIEW)
    current = next((n for n in nodes if n.id == node_id), nodes[0] if len(nodes) == 1 else None)
    prefixes = [current.path] if current else c.scope_prefixes(VIEW)
    needs = (
        (
            await c.db.execute(
                select(Need)
                .where(in_scope(Need.node_path, prefixes))
                .order_by(Need.status, Need.created_at.desc())
                .limit(100)
            )
        )
        .scalars()
        .all()
    )
    resources = (
        (
            await c.db.execute(
                select(Resource).where(in_scope(Resource.node_path, prefixes), Resource.active.is_(True)).limit(100)
            )
        )
        .scalars()
        .all()
    )
    projects = (
        (
            await c.db.execute(
                select(Project)
                .where(in_scope(Project.node_path, prefixes))
                .order_by(Project.created_at.desc())
                .limit(100)
            )
        )
        .scalars()
        .all()
    )
    units = (
        (await c.db.execute(select(Unit).where(in_scope(Unit.node_path, prefixes)).order_by(Unit.name))).scalars().all()
    )
    return await render(
        request,
        "party_leadership/lists.html",
        {
            "nodes": nodes,
            "current": current,
            "needs": needs,
            "resources": resources,
            "projects": projects,
            "units": units,
            "names": node_names(nodes),
            "need_states": {k: _(v) for k, v in rules.NEED_STATES.items()},
            "need_sources": {k: _(v) for k, v in rules.NEED_SOURCES.items()},
            "resource_kinds": {k: _(v) for k, v in rules.RESOURCE_KINDS.items()},
            "project_states": {str(k): _(v) for k, v in rules.PROJECT_STATE_LABELS.items()},
            "can_edit": c.can(LISTS),
            "events_on": "smart_service" in c.enabled,
            "errors": errors or {},
            "values": values or {},
        },
        status_code=status,
    )


@get("/party/lists", guards=[requires(VIEW)])
async def lists_page(request: Request, node: FromQuery[int | None] = None) -> Any:
    return await _lists_page(request, node)


@post("/party/lists/{what:str}", guards=[requires(LISTS)])
async def lists_add(request: Request, what: FromPath[str], data: Form, db: DbSession, rc: Ctx) -> Any:
    node_id = number(data, "node_id") if text(data, "node_id").isdigit() else None
    try:
        node = await community_in_scope(request, LISTS, node_id)
        if what == "need":
            ref = text(data, "event_number")
            await lists.add_need(
                db,
                node,
                title=text(data, "title"),
                description=text(data, "description"),
                source="event" if ref else text(data, "source") or "staff",
                source_ref=f"smart_service.event:{ref}" if ref else None,
            )
        elif what == "resource":
            await lists.add_resource(
                db,
                node,
                kind=text(data, "kind"),
                title=text(data, "title"),
                description=text(data, "description"),
                unit_id=number(data, "unit_id"),
            )
        elif what == "project":
            await lists.create_project(
                db,
                node,
                title=text(data, "title"),
                description=text(data, "description"),
                need_id=number(data, "need_id"),
                resource_id=number(data, "resource_id"),
            )
        elif what == "publish":
            await lists.publish_lists(db, node)
        else:
            return await _lists_page(request, node_id, {"_": _("Unknown list.")}, status=404)
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return await _lists_page(request, node_id, problem(exc), data, status=exc.status)
    return Redirect(rc.url(f"/party/lists?node={node.id}"), status_code=303)


async def _project_page(
    request: Request, project_id: int, errors: dict[str, str] | None = None, status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None
    try:
        project = await lists.get_project(c.db, project_id)
    except ServiceError:
        from litestar.exceptions import NotFoundException

        raise NotFoundException() from None
    in_scope_or_404(request, VIEW, project.node_path)
    units = (
        (await c.db.execute(select(Unit).where(Unit.node_path == project.node_path).order_by(Unit.name)))
        .scalars()
        .all()
    )
    unit_names = {u.id: u.name for u in units}
    member_name = ""
    if project.member_id:
        from plugins.party_leadership.models import Member

        member_name = await c.db.scalar(select(Member.name).where(Member.id == project.member_id)) or ""
    return await render(
        request,
        "party_leadership/project.html",
        {
            "p": project,
            "history": await lists.history(c.db, project.id),
            "units": units,
            "claimant": unit_names.get(project.unit_id or 0) or member_name,
            "state_label": _(rules.PROJECT_STATE_LABELS[rules.ProjectState(project.state)]),
            "action_labels": {k: _(v) for k, v in rules.PROJECT_ACTION_LABELS.items()},
            "can_edit": c.can(LISTS, project.node_path),
            "errors": errors or {},
        },
        status_code=status,
    )


@get("/party/projects/{project_id:int}", guards=[requires(VIEW)])
async def project_page(request: Request, project_id: FromPath[int]) -> Any:
    return await _project_page(request, project_id)


@post("/party/projects/{project_id:int}/{action:str}", guards=[requires(LISTS)], request_max_body_size=12 * 1024 * 1024)
async def project_step(
    request: Request,
    project_id: FromPath[int],
    action: FromPath[str],
    data: Upload,
    db: DbSession,
    rc: Ctx,
) -> Any:
    project = await lists.get_project(db, project_id) if project_id else None
    if project is None:
        from litestar.exceptions import NotFoundException

        raise NotFoundException()
    in_scope_or_404(request, LISTS, project.node_path)
    form = {k: v for k, v in dict(data or {}).items() if not isinstance(v, UploadFile)}
    photo = data.get("photo") if isinstance(data, dict) else None
    try:
        photo_id = None
        if isinstance(photo, UploadFile) and photo.filename:
            stored = await save_upload(request, photo, f"{lists.NAME}.project", project.id, allowed_types=IMAGES)
            photo_id = stored.id
        await lists.step(
            db,
            project,
            action,
            note=text(form, "note"),
            progress=number(form, "progress", lo=0, hi=100),
            summary=text(form, "summary"),
            unit_id=number(form, "unit_id"),
            photo_file_id=photo_id,
        )
        await db.commit()
    except (ServiceError, UploadError) as exc:
        await rollback(request)
        errors = problem(exc) if isinstance(exc, ServiceError) else {"photo": str(exc)}
        return await _project_page(request, project_id, errors, status=getattr(exc, "status", 400))
    return Redirect(rc.url(f"/party/projects/{project_id}"), status_code=303)


# ---- 共建协议 ------------------------------------------------------------------------------------


async def _agreements_page(
    request: Request,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
    page: int = 1,
) -> Any:
    c = ctx(request)
    assert c.db is not None
    s = settings(request)
    nodes = await communities(request, VIEW)
    stmt = (
        select(Agreement)
        .where(in_scope(Agreement.node_path, c.scope_prefixes(VIEW)))
        .order_by(Agreement.ends_on, Agreement.id)
    )
    result = await paginate(c.db, stmt, page)
    unit_ids = {a.unit_id for a in result.items}
    units = (
        dict((await c.db.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids)))).all()) if unit_ids else {}
    )
    edit_units = (
        (
            await c.db.execute(
                select(Unit).where(in_scope(Unit.node_path, c.scope_prefixes(AGREEMENTS))).order_by(Unit.name)
            )
        )
        .scalars()
        .all()
    )
    now = today()
    return await render(
        request,
        "party_leadership/agreements.html",
        {
            "page": result,
            "rows": [(a, units.get(a.unit_id, ""), ag.state_of(a, now, s.agreement_remind_days)) for a in result.items],
            "states": {k: _(v) for k, v in rules.AGREEMENT_STATES.items()},
            "names": node_names(nodes),
            "nodes": await communities(request, AGREEMENTS),
            "units": edit_units,
            "can_edit": c.can(AGREEMENTS),
            "errors": errors or {},
            "values": values or {},
            "base": c.url("/party/agreements?"),
        },
        status_code=status,
    )


@get("/party/agreements", guards=[requires(VIEW)])
async def agreements_page(request: Request, page: FromQuery[int] = 1) -> Any:
    return await _agreements_page(request, page=page)


@post("/party/agreements", guards=[requires(AGREEMENTS)], request_max_body_size=12 * 1024 * 1024)
async def agreement_create(request: Request, data: Upload, db: DbSession, rc: Ctx) -> Any:
    form = {k: v for k, v in dict(data or {}).items() if not isinstance(v, UploadFile)}
    signed = data.get("signed") if isinstance(data, dict) else None
    try:
        node = await community_in_scope(request, AGREEMENTS, number(form, "node_id"))
        unit_id = number(form, "unit_id", required=True)
        assert unit_id is not None
        agreement = await ag.create(
            db,
            node,
            unit_id=unit_id,
            title=text(form, "title"),
            terms=text(form, "terms"),
            starts_on=day(form, "starts_on"),
            ends_on=day(form, "ends_on"),  # type: ignore[arg-type]
        )
        if isinstance(signed, UploadFile) and signed.filename:
            stored = await save_upload(
                request, signed, f"{ag.NAME}.agreement", agreement.id, allowed_types=("application/pdf",)
            )
            agreement.signed_file_id = stored.id
        await db.commit()
    except (ServiceError, UploadError) as exc:
        await rollback(request)
        errors = problem(exc) if isinstance(exc, ServiceError) else {"signed": str(exc)}
        return await _agreements_page(request, errors, form, status=getattr(exc, "status", 400))
    return Redirect(rc.url(f"/party/agreements/{agreement.id}"), status_code=303)


async def _agreement_page(
    request: Request, agreement_id: int, errors: dict[str, str] | None = None, status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None
    try:
        agreement = await ag.get(c.db, agreement_id)
    except ServiceError:
        from litestar.exceptions import NotFoundException

        raise NotFoundException() from None
    in_scope_or_404(request, VIEW, agreement.node_path)
    unit = await c.db.scalar(select(Unit).where(Unit.id == agreement.unit_id))
    return await render(
        request,
        "party_leadership/agreement.html",
        {
            "a": agreement,
            "unit": unit,
            "actions": await ag.actions(c.db, agreement.id),
            "state": _(
                rules.AGREEMENT_STATES[ag.state_of(agreement, today(), settings(request).agreement_remind_days)]
            ),
            "can_edit": c.can(AGREEMENTS, agreement.node_path),
            "errors": errors or {},
        },
        status_code=status,
    )


@get("/party/agreements/{agreement_id:int}", guards=[requires(VIEW)])
async def agreement_page(request: Request, agreement_id: FromPath[int]) -> Any:
    return await _agreement_page(request, agreement_id)


@post("/party/agreements/{agreement_id:int}/actions", guards=[requires(AGREEMENTS)])
async def agreement_action(request: Request, agreement_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    try:
        agreement = await ag.get(db, agreement_id)
    except ServiceError:
        from litestar.exceptions import NotFoundException

        raise NotFoundException() from None
    in_scope_or_404(request, AGREEMENTS, agreement.node_path)
    try:
        if text(data, "terminate"):
            await ag.terminate(db, agreement, day(data, "terminated_on"))
        else:
            await ag.record_action(
                db,
                agreement,
                side=text(data, "side"),
                done_on=day(data, "done_on"),  # type: ignore[arg-type]
                description=text(data, "description"),
            )
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return await _agreement_page(request, agreement_id, problem(exc), status=exc.status)
    return Redirect(rc.url(f"/party/agreements/{agreement_id}"), status_code=303)


# ---- 大工委 / 大党委, 联席会议, decisions ----------------------------------------------------------------


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
    try:
        committee = await committees.get_committee(c.db, committee_id)
    except ServiceError:
        from litestar.exceptions import NotFoundException

        raise NotFoundException() from None
    in_scope_or_404(request, action, committee.node_path)
    return committee


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
    try:
        meeting = await committees.get_meeting(c.db, meeting_id)
    except ServiceError:
        from litestar.exceptions import NotFoundException

        raise NotFoundException() from None
    in_scope_or_404(request, action, meeting.node_path)
    return meeting


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


# ---- 五事联办 ------------------------------------------------------------------------------------


async def _matters_page(
    request: Request,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
    page: int = 1,
) -> Any:
    c = ctx(request)
    assert c.db is not None
    stmt = select(Matter).where(in_scope(Matter.node_path, c.scope_prefixes(VIEW))).order_by(Matter.created_at.desc())
    result = await paginate(c.db, stmt, page)
    nodes = await communities(request, VIEW)
    return await render(
        request,
        "party_leadership/matters.html",
        {
            "page": result,
            "kinds": {k: _(v) for k, v in rules.MATTER_KINDS.items()},
            "routes": {k: _(v) for k, v in rules.ROUTES.items()},
            "route_of": rules.MATTER_ROUTE,
            "names": node_names(nodes),
            "nodes": await communities(request, MATTERS),
            "can_file": c.can(MATTERS),
            "errors": errors or {},
            "values": values or {},
            "base": c.url("/party/matters?"),
        },
        status_code=status,
    )


@get("/party/matters", guards=[requires(VIEW)])
async def matters_page(request: Request, page: FromQuery[int] = 1) -> Any:
    return await _matters_page(request, page=page)


@post("/party/matters", guards=[requires(MATTERS)])
async def matter_file(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    try:
        node = await community_in_scope(request, MATTERS, number(data, "node_id"))
        await matters.file(
            db,
            node,
            kind=text(data, "kind"),
            title=text(data, "title"),
            description=text(data, "description"),
            meeting_at=moment(data, "meeting_at", required=False),
            urgent_hours=settings(request).urgent_consultation_hours,
        )
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return await _matters_page(request, problem(exc), data, status=exc.status)
    return Redirect(rc.url("/party/matters"), status_code=303)


@post("/party/matters/{matter_id:int}/resolve", guards=[requires(MATTERS)])
async def matter_resolve(request: Request, matter_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    try:
        matter = await matters.get(db, matter_id)
    except ServiceError:
        from litestar.exceptions import NotFoundException

        raise NotFoundException() from None
    in_scope_or_404(request, MATTERS, matter.node_path)
    try:
        await matters.resolve(db, matter, text(data, "resolution"))
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return await _matters_page(request, problem(exc), status=exc.status)
    return Redirect(rc.url("/party/matters"), status_code=303)


# ---- 网络楼长 ------------------------------------------------------------------------------------


@get("/party/buildings", guards=[requires(VIEW)])
async def buildings_page(
    request: Request, db: DbSession, rc: Ctx, without: FromQuery[int | None] = None, page: FromQuery[int] = 1
) -> Any:
    per_page = 50
    page = max(1, min(page, 10_000))
    prefixes = rc.scope_prefixes(VIEW)
    rows, total = await captains.buildings(
        db, prefixes, without_captain=bool(without), limit=per_page, offset=(page - 1) * per_page
    )
    with_captain, without_captain = await captains.counts(db, prefixes)
    from core.web.pagination import Page

    return await render(
        request,
        "party_leadership/buildings.html",
        {
            "rows": rows,
            "page": Page(rows, page, per_page, total),
            "with_captain": with_captain,
            "without_captain": without_captain,
            "without": bool(without),
            "show_names": rc.can(MEMBERS_VIEW),
            "base": rc.url("/party/buildings?" + ("without=1&" if without else "")),
        },
    )


handlers = [
    overview,
    lists_page,
    lists_add,
    project_page,
    project_step,
    agreements_page,
    agreement_create,
    agreement_page,
    agreement_action,
    committees_page,
    committee_create,
    committee_page,
    committee_post,
    meeting_page,
    meeting_post,
    matters_page,
    matter_file,
    matter_resolve,
    buildings_page,
]
