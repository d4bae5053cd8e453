"""共建协议: the list with the form for a new one (signed PDF optional), an agreement's page with the
actions each side took, and termination. An agreement outside the user's scope answers 404."""

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
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import requires
from core.web.pagination import paginate
from core.web.render import render
from core.web.uploads import save_upload
from plugins.party_leadership import agreements as ag
from plugins.party_leadership import rules
from plugins.party_leadership.models import Agreement, Unit
from plugins.party_leadership.plugin import AGREEMENTS, VIEW
from plugins.party_leadership.routes._common import (
    Upload,
    communities,
    community_in_scope,
    day,
    found_in_scope,
    node_names,
    number,
    problem,
    rollback,
    settings,
    text,
    today,
)


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
    agreement = await found_in_scope(request, VIEW, ag.get(c.db, agreement_id))
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
    agreement = await found_in_scope(request, AGREEMENTS, ag.get(db, agreement_id))
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


handlers = [agreements_page, agreement_create, agreement_page, agreement_action]
