"""特殊人群 registers (their own actions, every read logged) and the access log for the district admin."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from core.i18n import gettext as _
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import check_in_scope, requires
from core.web.render import render
from plugins.rule_of_law import sensitive
from plugins.rule_of_law.common import ServiceError, local_day
from plugins.rule_of_law.plugin import ACCESS_LOG, SPECIAL_EDIT, SPECIAL_VIEW
from plugins.rule_of_law.routes.web import context, node_in_scope, nodes_in_scope, rollback, see_other, text


@get("/rule-of-law/registers/", guards=[requires(SPECIAL_VIEW)])
async def registers(request: Request) -> Any:
    return await render(request, "rule_of_law/registers.html", {"categories": sensitive.CATEGORY_LABELS})


@get("/rule-of-law/registers/{category:str}", guards=[requires(SPECIAL_VIEW)])
async def register_page(request: Request, category: FromPath[str]) -> Any:
    return await _register_page(request, category)


async def _register_page(request: Request, category: str, error: str | None = None) -> Any:
    c = context(request)
    if category not in sensitive.CATEGORIES:
        raise NotFoundException()
    people = await sensitive.register(c.db, c.scope_prefixes(SPECIAL_VIEW), category)  # type: ignore[arg-type]
    await c.db.commit()  # type: ignore[union-attr]  (the read is logged)
    return await render(
        request,
        "rule_of_law/register.html",
        {
            "category": category,
            "label": sensitive.CATEGORY_LABELS[category],
            "people": people,
            "today": local_day(),
            "nodes": await nodes_in_scope(c, SPECIAL_EDIT) if c.can(SPECIAL_EDIT) else [],
            "error": error,
        },
        status_code=400 if error else 200,
    )


@post("/rule-of-law/registers/{category:str}", guards=[requires(SPECIAL_EDIT)])
async def register_add(request: Request, category: FromPath[str], data: Form, db: DbSession, rc: Ctx) -> Any:
    if category not in sensitive.CATEGORIES:
        raise NotFoundException()
    node = await node_in_scope(rc, SPECIAL_EDIT, text(data, "node"))
    if node is None:
        return await _register_page(request, category, error=_("Choose a grid in your area."))
    try:
        every = int(text(data, "every_days") or "30")
    except ValueError:
        every = 0
    try:
        person = await sensitive.add_person(
            db,
            request.app.state.vault,
            category=category,
            name=text(data, "name"),
            node=node,
            details=text(data, "details"),
            every_days=every,
            today=local_day(),
        )
        await db.commit()
    except ServiceError as exc:
        await rollback(rc)
        return await _register_page(request, category, error=exc.translate(_))
    return see_other(rc, f"/rule-of-law/registers/people/{person.id}")


async def _person_page(request: Request, person_id: int, error: str | None = None) -> Any:
    c = context(request)
    try:
        person, details, visits = await sensitive.open_person(c.db, request.app.state.vault, person_id)  # type: ignore[arg-type]
    except ServiceError:
        raise NotFoundException() from None
    check_in_scope(request, SPECIAL_VIEW, person.node_path)
    sensitive.log_read(c.db, "person", "rl_special_people", person.id, {"category": person.category})  # type: ignore[arg-type]
    await c.db.commit()  # type: ignore[union-attr]
    return await render(
        request,
        "rule_of_law/person.html",
        {
            "person": person,
            "details": details,
            "visits": visits,
            "label": sensitive.CATEGORY_LABELS[person.category],
            "due": sensitive.visit_due(person, local_day()),
            "may_edit": c.can(SPECIAL_EDIT, person.node_path),
            "today": local_day(),
            "error": error,
        },
        status_code=400 if error else 200,
    )


@get("/rule-of-law/registers/people/{person_id:int}", guards=[requires(SPECIAL_VIEW)])
async def person_page(request: Request, person_id: FromPath[int]) -> Any:
    return await _person_page(request, person_id)


@post("/rule-of-law/registers/people/{person_id:int}/visits", guards=[requires(SPECIAL_EDIT)])
async def person_visit(request: Request, person_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    try:
        person, _d, _v = await sensitive.open_person(db, request.app.state.vault, person_id)
    except ServiceError:
        raise NotFoundException() from None
    check_in_scope(request, SPECIAL_EDIT, person.node_path)
    try:
        raw = text(data, "visited_on")
        on = date.fromisoformat(raw) if raw else local_day()
    except ValueError:
        return await _person_page(request, person_id, _("Enter the date as YYYY-MM-DD."))
    if on > local_day():
        return await _person_page(request, person_id, _("A visit cannot be in the future."))
    try:
        await sensitive.record_visit(
            db, request.app.state.vault, person, rc.user.id if rc.user else None, text(data, "note"), on
        )  # type: ignore[arg-type]
        await db.commit()
    except ServiceError as exc:
        await rollback(rc)
        return await _person_page(request, person_id, exc.translate(_))
    return see_other(rc, f"/rule-of-law/registers/people/{person_id}")


@get("/rule-of-law/access-log", guards=[requires(ACCESS_LOG)])
async def access_log(request: Request, db: DbSession) -> Any:
    entries = await sensitive.access_log(db)
    return await render(
        request, "rule_of_law/access_log.html", {"entries": entries, "categories": sensitive.CATEGORY_LABELS}
    )


handlers = [registers, register_page, register_add, person_page, person_visit, access_log]
