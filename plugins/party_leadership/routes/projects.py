"""三项清单 (needs, resources, projects) of a community and a project's page with its steps. Lists are
filtered by scope in SQL; a project outside the user's scope answers 404. Forms re-render with the
refusal on the field."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery
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
from core.web.render import render
from core.web.uploads import save_upload
from plugins.party_leadership import lists, rules
from plugins.party_leadership.models import Need, Project, Resource, Unit
from plugins.party_leadership.plugin import LISTS, VIEW
from plugins.party_leadership.routes._common import (
    Upload,
    communities,
    community_in_scope,
    found_in_scope,
    in_scope_or_404,
    node_names,
    number,
    problem,
    rollback,
    text,
)


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
    project = await found_in_scope(request, VIEW, lists.get_project(c.db, project_id))
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


handlers = [lists_page, lists_add, project_page, project_step]
