"""全科网格 teams: the list with incomplete teams marked, one team's members, forming a team."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery

from core.i18n import gettext as _
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import check_in_scope, requires
from core.web.render import render
from plugins.rule_of_law import teams
from plugins.rule_of_law.common import ServiceError
from plugins.rule_of_law.plugin import NAME, TEAM_EDIT, VIEW
from plugins.rule_of_law.routes.web import context, node_in_scope, nodes_in_scope, rollback, see_other, text


@get("/rule-of-law/teams/", guards=[requires(VIEW, TEAM_EDIT)])
async def team_list(request: Request, incomplete: FromQuery[bool] = False) -> Any:
    return await _team_list(request, incomplete)


async def _team_list(request: Request, incomplete: bool = False, error: str | None = None) -> Any:
    c = context(request)
    prefixes = sorted(set(c.scope_prefixes(VIEW)) | set(c.scope_prefixes(TEAM_EDIT)))
    rule = teams.composition(c.plugin_settings.get(NAME, {}))
    views = await teams.overview(c.db, prefixes, rule)  # type: ignore[arg-type]
    shown = [v for v in views if not v.complete] if incomplete else views
    have = {v.team.node_id for v in views}
    free = [n for n in await nodes_in_scope(c, TEAM_EDIT) if n.id not in have] if c.can(TEAM_EDIT) else []
    return await render(
        request,
        "rule_of_law/teams.html",
        {
            "views": shown,
            "total": len(views),
            "incomplete_count": sum(1 for v in views if not v.complete),
            "incomplete": incomplete,
            "rule": rule,
            "labels": teams.POSITION_LABELS,
            "free": free,
            "error": error,
        },
        status_code=400 if error else 200,
    )


@post("/rule-of-law/teams/", guards=[requires(TEAM_EDIT)])
async def team_create(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    node = await node_in_scope(rc, TEAM_EDIT, text(data, "node"))
    if node is None:
        return await _team_list(request, error=_("Choose a grid in your area."))
    try:
        team = await teams.create_team(db, node, text(data, "name"))
        await db.commit()
    except ServiceError as exc:
        await rollback(rc)
        return await _team_list(request, error=exc.translate(_))
    return see_other(rc, f"/rule-of-law/teams/{team.id}")


async def _team(request: Request, team_id: int) -> Any:
    c = context(request)
    try:
        team = await teams.get_team(c.db, team_id)  # type: ignore[arg-type]
    except ServiceError:
        raise NotFoundException() from None
    if not (c.can(VIEW, team.node_path) or c.can(TEAM_EDIT, team.node_path)):
        raise NotFoundException()
    return team


async def _team_page(request: Request, team: Any, error: str | None = None, status_code: int = 200) -> Any:
    c = context(request)
    members = await teams.members(c.db, team)  # type: ignore[arg-type]
    rule = teams.composition(c.plugin_settings.get(NAME, {}))
    counts: dict[str, int] = {}
    for m in members:
        counts[m.position] = counts.get(m.position, 0) + 1
    from plugins.rule_of_law.rules import team_gaps

    return await render(
        request,
        "rule_of_law/team.html",
        {
            "team": team,
            "members": members,
            "gaps": team_gaps(counts, rule),
            "labels": teams.POSITION_LABELS,
            "may_edit": c.can(TEAM_EDIT, team.node_path),
            "error": error,
        },
        status_code=status_code,
    )


@get("/rule-of-law/teams/{team_id:int}", guards=[requires(VIEW, TEAM_EDIT)])
async def team_page(request: Request, team_id: FromPath[int]) -> Any:
    return await _team_page(request, await _team(request, team_id))


@post("/rule-of-law/teams/{team_id:int}/members", guards=[requires(TEAM_EDIT)])
async def member_add(request: Request, team_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    team = await _team(request, team_id)
    check_in_scope(request, TEAM_EDIT, team.node_path)
    try:
        await teams.add_member(
            db,
            team,
            position=text(data, "position"),
            name=text(data, "name"),
            duty=text(data, "duty"),
            party_member=text(data, "party_member") == "on",
        )
        await db.commit()
    except ServiceError as exc:
        await rollback(rc)
        return await _team_page(request, await _team(request, team_id), exc.translate(_), 400)
    return see_other(rc, f"/rule-of-law/teams/{team_id}")


@post("/rule-of-law/teams/{team_id:int}/members/{member_id:int}/remove", guards=[requires(TEAM_EDIT)])
async def member_remove(
    request: Request, team_id: FromPath[int], member_id: FromPath[int], db: DbSession, rc: Ctx
) -> Any:
    team = await _team(request, team_id)
    check_in_scope(request, TEAM_EDIT, team.node_path)
    try:
        await teams.remove_member(db, team, member_id)
        await db.commit()
    except ServiceError:
        raise NotFoundException() from None
    return see_other(rc, f"/rule-of-law/teams/{team_id}")


handlers = [team_list, team_create, team_page, member_add, member_remove]
