"""Training and employment: courses with trained and employed per course (the district's view),
a course's trainees with attendance, completion and the employment follow-up."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from sqlalchemy import select

from core.i18n import gettext as _
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import DbSession
from core.web.forms import Form
from core.web.guards import check_in_scope, requires
from core.web.render import render
from plugins.co_governance import training as tr
from plugins.co_governance.models import Course, Enrolment
from plugins.co_governance.plugin import TRAINING_MANAGE
from plugins.co_governance.routes.common import (
    LOCAL,
    chart,
    field_errors,
    message,
    node_or_404,
    nodes_in_scope,
    rollback,
    text,
)

GUARD = [requires(TRAINING_MANAGE)]


async def _list(
    request: Request, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None
    rows = await tr.figures(c.db, c.scope_prefixes(TRAINING_MANAGE))
    return await render(
        request,
        "co_governance/training.html",
        {
            "rows": rows,
            "totals": (sum(r.enrolled for r in rows), sum(r.completed for r in rows), sum(r.employed for r in rows)),
            "chart_json": chart(
                list(tr.TRADES),
                [
                    (_("Trained"), [sum(r.completed for r in rows if r.course.trade == t) for t in tr.TRADES]),
                    (_("Employed"), [sum(r.employed for r in rows if r.course.trade == t) for t in tr.TRADES]),
                ],
            ),
            "trades": tr.TRADES,
            "nodes": await nodes_in_scope(
                request, TRAINING_MANAGE, ("district", "subdistrict", "community", "village")
            ),
            "values": values or {},
            "errors": errors or {},
        },
        status_code=status,
    )


@get("/co-governance/training/", guards=GUARD)
async def course_list(request: Request) -> Any:
    return await _list(request)


@post("/co-governance/training/", guards=GUARD)
async def add_course(request: Request, data: Form, db: DbSession) -> Any:
    keys = ("title", "trade", "provider_name", "node_id", "starts_on", "ends_on", "sessions", "required_sessions")
    values = {k: text(data, k) for k in keys}
    try:
        node = await node_or_404(request, values["node_id"], TRAINING_MANAGE)
    except NotFoundException:
        return await _list(request, values, {"node_id": _("Choose a place.")}, 400)
    try:
        sessions, required = int(values["sessions"] or 10), int(values["required_sessions"] or 8)
    except ValueError:
        return await _list(request, values, {"sessions": _("Enter a whole number.")}, 400)
    try:
        course = await tr.add_course(
            db,
            title=values["title"],
            trade=values["trade"],
            provider_name=values["provider_name"],
            node=node,
            starts_on=values["starts_on"],
            ends_on=values["ends_on"],
            sessions=sessions,
            required_sessions=required,
        )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _list(request, values, field_errors(err), err.status)
    return await _course(request, course, notice=_("Course created."))


async def _course_in_scope(request: Request, course_id: int) -> Course:
    c = ctx(request)
    assert c.db is not None
    course = await c.db.scalar(select(Course).where(Course.id == course_id))
    if course is None:
        raise NotFoundException()
    check_in_scope(request, TRAINING_MANAGE, course.node_path)
    return course


async def _course(request: Request, course: Course, *, notice: str = "", error: str = "", status: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None
    rows = list(
        (
            await c.db.execute(select(Enrolment).where(Enrolment.course_id == course.id).order_by(Enrolment.created_at))
        ).scalars()
    )
    return await render(
        request,
        "co_governance/course.html",
        {
            "course": course,
            "rows": rows,
            "states": {k: _(v) for k, v in tr.STATE_LABELS.items()},
            "today": datetime.now(LOCAL).date().isoformat(),
            "notice": notice,
            "error": error,
        },
        status_code=status,
    )


@get("/co-governance/training/{course_id:int}", guards=GUARD)
async def course_page(request: Request, course_id: FromPath[int]) -> Any:
    return await _course(request, await _course_in_scope(request, course_id))


@post("/co-governance/training/{course_id:int}/enrol", guards=GUARD)
async def enrol(request: Request, course_id: FromPath[int], data: Form, db: DbSession) -> Any:
    course = await _course_in_scope(request, course_id)
    try:
        await tr.enrol(db, request.app.state.vault, course, name=text(data, "name"), phone=text(data, "phone"))
        await db.commit()
    except ServiceError as err:
        await rollback(request, course)
        return await _course(request, course, error=message(err), status=err.status)
    return await _course(request, course, notice=_("Enrolled."))


@post("/co-governance/training/{course_id:int}/trainees/{enrolment_id:int}/{step:str}", guards=GUARD)
async def trainee_step(
    request: Request,
    course_id: FromPath[int],
    enrolment_id: FromPath[int],
    step: FromPath[str],
    data: Form,
    db: DbSession,
) -> Any:
    course = await _course_in_scope(request, course_id)
    row = await db.scalar(select(Enrolment).where(Enrolment.id == enrolment_id, Enrolment.course_id == course.id))
    if row is None or step not in ("attend", "complete", "drop", "follow-up"):
        raise NotFoundException()
    today = datetime.now(LOCAL).date()
    try:
        if step == "attend":
            await tr.attend(db, course, row)
        elif step == "complete":
            await tr.complete(db, course, row, text(data, "on") or today)
        elif step == "drop":
            await tr.drop(db, row)
        else:
            await tr.follow_up(
                db,
                row,
                employed=text(data, "employed") == "1",
                employer=text(data, "employer"),
                employed_on=text(data, "employed_on") or None,
                on=today,
            )
        await db.commit()
    except ServiceError as err:
        await rollback(request, course)
        return await _course(request, course, error=message(err), status=err.status)
    return await _course(request, course, notice=_("Saved."))


handlers = [course_list, add_course, course_page, enrol, trainee_step]
