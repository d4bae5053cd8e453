"""Mediation pages: the case list, the case file with its steps, the agreement and case-file PDFs."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, QueryParameter
from sqlalchemy import select

from core.i18n import gettext as _
from core.identity.models import User
from core.rbac.models import RoleAssignment
from core.services import documents as core_documents
from core.services.files.models import StoredFile
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import requires
from core.web.pagination import paginate
from core.web.render import render
from plugins.rule_of_law import cases, mediation
from plugins.rule_of_law import documents as rl_documents
from plugins.rule_of_law.common import ServiceError, local_day
from plugins.rule_of_law.mediation import ROUTES, TransitionError
from plugins.rule_of_law.plugin import CASE_ACCEPT, CASE_READ, NAME, VIEW
from plugins.rule_of_law.routes.web import context, integer, rollback, see_other, text, values
from plugins.rule_of_law.screening import KIND_LABELS

GUARD = [requires(VIEW, CASE_ACCEPT, CASE_READ)]


def _prefixes(c: Any) -> list[str]:
    return sorted({p for a in (VIEW, CASE_ACCEPT, CASE_READ) for p in c.scope_prefixes(a)})


@get("/rule-of-law/cases/", guards=GUARD)
async def case_list(
    request: Request,
    db: DbSession,
    rc: Ctx,
    page: FromQuery[int] = 1,
    case_state: Annotated[str, QueryParameter(name="state")] = "",
    overdue: FromQuery[bool] = False,
) -> Any:
    state = case_state
    state = state if state in {s.value for s in mediation.State} else ""
    stmt = cases.listing(_prefixes(rc), rc.user.id if rc.user else None, state=state or None, overdue=overdue)
    found = await paginate(db, stmt, page)
    return await render(
        request,
        "rule_of_law/cases.html",
        {
            "page": found,
            "state": state,
            "overdue": overdue,
            "states": mediation.STATE_LABELS,
            "kinds": KIND_LABELS,
            "today": local_day(),
        },
    )


async def _load(request: Request, case_id: int) -> tuple[Any, Any, list[int]]:
    c = context(request)
    try:
        case = await cases.get_case(c.db, case_id)  # type: ignore[arg-type]
    except ServiceError:
        raise NotFoundException() from None
    ms = await cases.mediator_ids(c.db, case.id)  # type: ignore[arg-type]
    if not cases.can_see_case(case, c.user.id if c.user else None, ms, c.can):
        raise NotFoundException()
    return c, case, ms


async def _page(request: Request, case_id: int, *, error: str | None = None, status_code: int = 200) -> Any:
    c, case, ms = await _load(request, case_id)
    uid = c.user.id if c.user else None
    readable = cases.can_read_contents(case, uid, ms, c.can)
    limits = cases.Limits.of(c.plugin_settings.get(NAME, {}))
    entries = await cases.entries(c.db, case.id) if readable else []  # type: ignore[arg-type]
    names = dict((await c.db.execute(select(User.id, User.display_name).where(User.id.in_(ms)))).all()) if ms else {}  # type: ignore[union-attr]
    check = rl_documents.checklist(case, entries) if readable else None
    return await render(
        request,
        "rule_of_law/case.html",
        {
            "case": case,
            "readable": readable,
            "entries": entries,
            "mediators": [names.get(m, "") for m in ms],
            "actions": cases.available(case, uid, ms, c.can) if readable else [],
            "colleagues": await _colleagues(c, case, ms) if uid in ms else [],
            "labels": mediation.ACTION_LABELS,
            "entry_labels": mediation.ENTRY_LABELS,
            "states": mediation.STATE_LABELS,
            "origins": mediation.ORIGIN_LABELS,
            "routes": mediation.ROUTE_LABELS,
            "performance": mediation.PERFORMANCE_LABELS,
            "kinds": KIND_LABELS,
            "check": check,
            "confirmation_open": cases.confirmation_open(case, limits, local_day()),
            "today": local_day(),
            "error": error,
        },
        status_code=status_code,
    )


@get("/rule-of-law/cases/{case_id:int}", guards=GUARD)
async def case_page(request: Request, case_id: FromPath[int]) -> Any:
    return await _page(request, case_id)


def _inputs(action: str, form: dict[str, Any]) -> dict[str, Any]:
    if action == "agree":
        parties = []
        for i in range(1, 5):
            p = {
                k: text(form, f"p{i}_{k}")
                for k in ("name", "gender", "age", "ethnicity", "occupation", "employer", "address")
            }
            if any(p.values()):
                parties.append(p)
        out: dict[str, Any] = {k: text(form, k) for k in ("facts", "matters", "terms", "performance")}
        out["parties"] = parties
        raw = text(form, "effective_on")
        if raw:
            try:
                out["effective_on"] = date.fromisoformat(raw)
            except ValueError:
                out["effective_on"] = None
        return out
    if action == "terminate":
        return {
            "note": text(form, "note"),
            "routes": [r for r in values(form, "routes") if r in ROUTES] or values(form, "routes"),
        }
    return {k: text(form, k) for k in ("origin", "note", "attendees", "performance")}


@post("/rule-of-law/cases/{case_id:int}/{action:str}", guards=GUARD)
async def case_step(request: Request, case_id: FromPath[int], action: FromPath[str], data: Form) -> Any:
    c, case, ms = await _load(request, case_id)
    if action == "mediators":
        return await _add_mediator(request, c, case, ms, data)
    if action not in mediation.ACTIONS:
        raise NotFoundException()
    try:
        version = cases.check_version(text(data, "version"))
        await cases.step(
            c.db,  # type: ignore[arg-type]
            case,
            action,
            _inputs(action, data),
            actor=c.actor,
            can=c.can,
            limits=cases.Limits.of(c.plugin_settings.get(NAME, {})),
            version=version,
        )
        await c.db.commit()  # type: ignore[union-attr]
    except (TransitionError, ServiceError) as exc:
        await rollback(c)
        message = exc.translated(_) if isinstance(exc, TransitionError) else exc.translate(_)
        return await _page(request, case_id, error=message, status_code=400)
    return see_other(c, f"/rule-of-law/cases/{case_id}")


async def _colleagues(c: Any, case: Any, exclude: list[int]) -> list[tuple[int, str]]:
    """Mediators whose role covers the case's node: those who may join its file."""
    rows = await c.db.execute(
        select(User.id, User.display_name, RoleAssignment.node_path)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.role_code == "mediator")
        .order_by(User.display_name)
    )
    return list(
        dict.fromkeys((i, n) for i, n, path in rows.all() if case.node_path.startswith(path) and i not in exclude)
    )


async def _add_mediator(request: Request, c: Any, case: Any, ms: list[int], data: dict[str, Any]) -> Any:
    """A case's mediator brings a colleague onto the case (人民调解法 第19条: one or more mediators)."""
    if c.user is None or c.user.id not in ms:
        raise NotFoundException()
    chosen = integer(text(data, "user"))
    if chosen is None or chosen not in {i for i, _n in await _colleagues(c, case, ms)}:
        return await _page(request, case.id, error=_("Choose a mediator who works in this area."), status_code=400)
    await cases.add_mediator(c.db, case, chosen)
    await c.db.commit()
    return see_other(c, f"/rule-of-law/cases/{case.id}")


async def _pdf(request: Request, doc: Any, filename: str) -> Response[bytes]:
    c = context(request)
    stored = (await c.db.execute(select(StoredFile).where(StoredFile.id == doc.file_id))).scalar_one()  # type: ignore[union-attr]
    data = request.app.state.storage.read(stored)
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{filename}"},
    )


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@get("/rule-of-law/cases/{case_id:int}/agreement.pdf", guards=GUARD)
async def agreement_pdf(request: Request, case_id: FromPath[int]) -> Any:
    """The signed-copy PDF of the agreement (issued once; later downloads are the same document)."""
    c, case, ms = await _load(request, case_id)
    if not cases.can_read_contents(case, c.user.id if c.user else None, ms, c.can):
        raise NotFoundException()
    if case.agreement_document_id is not None:
        doc = await core_documents.get(c.db, case.agreement_document_id)  # type: ignore[arg-type]
    else:
        try:
            doc = await rl_documents.issue_agreement(
                c.db,
                request.app.state.storage,
                tenant=c.tenant,
                case=case,
                base_url=_base_url(request),  # type: ignore[arg-type]
            )
        except ServiceError:
            raise NotFoundException() from None
        await c.db.commit()  # type: ignore[union-attr]
    return await _pdf(request, doc, f"agreement-{case.number}.pdf")


@get("/rule-of-law/cases/{case_id:int}/file.pdf", guards=GUARD)
async def case_file_pdf(request: Request, case_id: FromPath[int]) -> Any:
    """The whole case file (卷宗) as one PDF, as it stands now."""
    c, case, ms = await _load(request, case_id)
    if not cases.can_read_contents(case, c.user.id if c.user else None, ms, c.can):
        raise NotFoundException()
    entries = await cases.entries(c.db, case.id)  # type: ignore[arg-type]
    names = list((await c.db.execute(select(User.display_name).where(User.id.in_(ms)))).scalars()) if ms else []  # type: ignore[union-attr]
    doc = await rl_documents.issue_case_file(
        c.db,  # type: ignore[arg-type]
        request.app.state.storage,
        tenant=c.tenant,
        case=case,
        entries=entries,
        mediator_names=names,
        base_url=_base_url(request),
    )
    await c.db.commit()  # type: ignore[union-attr]
    return await _pdf(request, doc, f"case-file-{case.number}.pdf")


handlers = [case_list, case_page, agreement_pdf, case_file_pdf, case_step]
