"""Base data pages "人、地、事、物、组织" for community and grid staff: residents (list, search,
details, reveal, forms, move in/out), households (floor area, owners) and organisations.

Scope: every list is filtered in SQL by the user's node prefixes for the action concerned; an
object outside them answers 404. Rows without a node (a resident who moved away) belong to the
district: only users whose scope is a whole tree (a root node) see them.
Masking: HTML and exports carry the stored masks; full values come only from the reveal endpoint
(logged) or from an export by a user holding the reveal action there (audited with its row count).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException, ValidationException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import Select, delete, or_, select
from sqlalchemy.exc import IntegrityError

from core.audit import record
from core.crypto import Vault
from core.grids import people, search_policy
from core.grids import validation as v
from core.grids.basedata import (
    ORG_KINDS,
    RESIDENT_ACTIVE,
    RESIDENT_DECEASED,
    RESIDENT_MOVED_OUT,
    Household,
    Organisation,
    Owner,
    Ownership,
    Residence,
    Resident,
)
from core.grids.models import GridNode
from core.i18n import gettext as _
from core.i18n import lazy
from core.rbac.scope import in_scope
from core.web.context import RequestContext, ctx
from core.web.excel import excel_response
from core.web.forms import Form
from core.web.forms import integer as _int
from core.web.forms import text as _text
from core.web.guards import requires
from core.web.pagination import COUNT_CAP, paginate
from core.web.render import is_htmx, render, render_string

VIEW, EDIT = "core.resident.view", "core.resident.edit"
REVEAL, EXPORT = "core.resident.reveal", "core.resident.export"
HOUSEHOLD_EDIT = "core.household.edit"
ORG_VIEW, ORG_EDIT = "core.org.view", "core.org.edit"
HOUSEHOLD = "household"
PICKER_LIMIT = 200


# The service layer speaks English sentences; listed here so the catalogue carries them.
SERVICE_MESSAGES = (
    lazy("A name is required."),
    lazy("A name has at most 50 characters."),
    lazy("An ID number has 17 digits followed by a digit or X."),
    lazy("The ID number contains an impossible birth date."),
    lazy("The ID number's check digit is wrong: please check it again."),
    lazy("A mobile number has 11 digits and starts with 1."),
    lazy("A unified social credit code has 18 characters (digits and capital letters)."),
    lazy("The unified social credit code's check character is wrong."),
    lazy("At most 20 characters."),
    lazy(
        "Only users who may see full ID numbers and phones can search by them. "
        "Search by name or by the last 4 characters shown."
    ),
    lazy("Search by a name, or by the last 4 characters of an ID number or phone."),
)
GENDERS = {"male": lazy("Male"), "female": lazy("Female")}
STATUSES = {
    RESIDENT_ACTIVE: lazy("Living here"),
    RESIDENT_MOVED_OUT: lazy("Moved out"),
    RESIDENT_DECEASED: lazy("Deceased"),
}
REGISTRATIONS = ("户籍", "流动", "境外")  # stored as written in the registers
RELATIONS = ("户主", "配偶", "子女", "父母", "租户", "其他")
USAGES = {
    "residential": lazy("Residential"),
    "commercial": lazy("Commercial"),
    "office": lazy("Office"),
    "other": lazy("Other"),
}
ORG_KIND_LABELS = {
    "resident_unit": lazy("Resident unit"),  # 驻区单位
    "social_org": lazy("Social organisation"),  # 社会组织
    "property_company": lazy("Property company"),  # 物业企业
    "party_org": lazy("Party organisation"),  # 党组织
}
OWNER_KIND_LABELS = {
    "person": lazy("Resident"),
    "organisation": lazy("Organisation"),
    "developer": lazy("Developer"),
}
MAX_AREA = Decimal("10000")


# ---- small helpers ---------------------------------------------------------------------------


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _vault(request: Request) -> Vault:
    return request.app.state.vault


def searcher(request: Request) -> search_policy.Searcher:
    c = ctx(request)
    assert c.tenant is not None and c.user is not None
    return search_policy.Searcher(
        c.tenant.id, c.user.id, c.scope_prefixes(REVEAL), request.app.state.login_brake.counter
    )


def _db(c: RequestContext) -> Any:
    assert c.db is not None
    return c.db


def _tree_wide(prefixes: list[str]) -> bool:
    """A root node's path (``/id/``): the user's scope is a whole tree, district-wide."""
    return any(p.count("/") == 2 for p in prefixes)


def scoped(column: Any, prefixes: list[str]) -> Any:
    """The scope predicate; rows without a node count as district-wide."""
    cond = in_scope(column, prefixes)
    return or_(cond, column.is_(None)) if _tree_wide(prefixes) else cond


def allowed(c: RequestContext, action: str, path: str | None) -> bool:
    # ``c.can(action, None)`` means "anywhere": a row without a node must not pass that way.
    if path is None:
        return _tree_wide(c.scope_prefixes(action))
    return c.can(action, path)


def visible_or_404(c: RequestContext, action: str, path: str | None) -> None:
    if not allowed(c, action, path):
        raise NotFoundException()


def may_change(c: RequestContext, action: str, path: str | None) -> None:
    """Visible but not the user's to change: 403 (they can see it, so nothing leaks)."""
    if not allowed(c, action, path):
        raise PermissionDeniedException(action)


async def _nodes_by_id(c: RequestContext, paths: list[str | None]) -> dict[int, GridNode]:
    ids = {int(part) for p in paths if p for part in p.strip("/").split("/") if part}
    if not ids:
        return {}
    rows = (await _db(c).execute(select(GridNode).where(GridNode.id.in_(ids)))).scalars()
    return {n.id: n for n in rows}


def chain(path: str | None, nodes: dict[int, GridNode], locale: str, last: int | None = None) -> str:
    """Names along a node path, e.g. ``安顺乐居 › 1号楼 › 1单元 › 101`` (the last few for lists)."""
    if not path:
        return ""
    names = [nodes[int(i)].label(locale) for i in path.strip("/").split("/") if i and int(i) in nodes]
    if last is not None:
        names = names[-last:]
    return " › ".join(names)


async def _node_options(c: RequestContext, action: str) -> list[dict[str, Any]]:
    """Nodes in scope for a filter or a picker, top levels first (capped), shown in tree order."""
    stmt = (
        select(GridNode)
        .where(in_scope(GridNode.path, c.scope_prefixes(action)), GridNode.kind != HOUSEHOLD)
        .order_by(GridNode.depth, GridNode.path)
        .limit(PICKER_LIMIT)
    )
    rows = sorted((await _db(c).execute(stmt)).scalars(), key=lambda n: n.path)
    base = min((n.depth for n in rows), default=0)
    return [{"id": n.id, "label": "\u3000" * (n.depth - base) + n.label(c.locale)} for n in rows]


async def _household_options(c: RequestContext, q: str = "") -> list[dict[str, Any]]:
    """Household nodes the user may move people into; ``q`` matches the household or any ancestor."""
    db = _db(c)
    prefixes = c.scope_prefixes(EDIT)
    stmt = select(GridNode).where(GridNode.kind == HOUSEHOLD, in_scope(GridNode.path, prefixes))
    if q:
        matches = (
            (
                await db.execute(
                    select(GridNode.path)
                    .where(GridNode.name.icontains(q, autoescape=True), in_scope(GridNode.path, prefixes))
                    .limit(PICKER_LIMIT)
                )
            )
            .scalars()
            .all()
        )
        if not matches:
            return []
        stmt = stmt.where(in_scope(GridNode.path, list(matches)))
    rows = (await db.execute(stmt.order_by(GridNode.path).limit(PICKER_LIMIT))).scalars().all()
    nodes = await _nodes_by_id(c, [n.path for n in rows])
    return [{"id": n.id, "label": chain(n.path, nodes, c.locale, last=4)} for n in rows]


def _fragment(request: Request, template: str, context: dict[str, Any]) -> Response[str]:
    c = ctx(request)
    html = render_string(request, template, {"c": c, "locale": c.locale, **context})
    return Response(html, media_type="text/html", headers={"Cache-Control": "no-store"})


async def _rolled_back(c: RequestContext, *objs: Any) -> None:
    """Roll back and reload what the page still shows (a rollback expires every loaded row)."""
    db = _db(c)
    await db.rollback()
    for obj in (c.user, *objs):
        await db.refresh(obj)


def _status(request: Request, failed: bool) -> int:
    """htmx does not swap a 4xx body: it gets 200 with the messages; a plain form post gets 400."""
    return 400 if failed and not is_htmx(request) else 200


def _translated(errors: dict[str, str]) -> dict[str, str]:
    return {k: _(msg) for k, msg in errors.items()}


# ---- residents: list, search, export ----------------------------------------------------------


async def _resident_query(
    request: Request, q: str, node: str, status: str, action: str = VIEW
) -> tuple[Select[Any], dict[str, str], dict[str, str]]:
    """The scoped, filtered statement behind the list and the export (same filters for both)."""
    c = ctx(request)
    filters = {"q": q.strip(), "node": node.strip(), "status": status.strip()}
    errors: dict[str, str] = {}
    stmt = select(Resident).where(scoped(Resident.node_path, c.scope_prefixes(VIEW)))
    if action != VIEW:
        stmt = stmt.where(scoped(Resident.node_path, c.scope_prefixes(action)))
    # Exact values of ID numbers and phones only for those who may reveal them (no oracle).
    found = await search_policy.resident_criteria(_db(c), _vault(request), searcher(request), filters["q"])
    if found.error:
        errors["q"] = _(found.error)
    elif found.where is not None:
        stmt = stmt.where(found.where)
    if filters["node"]:
        node_id = _int(filters["node"]) or 0
        node_row = (await _db(c).execute(select(GridNode).where(GridNode.id == node_id))).scalar_one_or_none()
        if node_row is None or not c.can(VIEW, node_row.path):
            errors["node"] = _("Choose an area from the list.")
        else:
            stmt = stmt.where(Resident.node_path.startswith(node_row.path, autoescape=True))
    if filters["status"]:
        if filters["status"] in STATUSES:
            stmt = stmt.where(Resident.status == filters["status"])
        else:
            errors["status"] = _("Choose a status from the list.")
    if errors:
        stmt = stmt.where(Resident.id.is_(None))  # a bad filter shows nothing rather than everything
    return stmt.order_by(Resident.name, Resident.id), filters, errors


def _node_link(node_id: int | None, nodes: dict[int, GridNode]) -> str | None:
    """A household's own page; a resident attached to another kind of node (an import may do
    that) links to that node's grid page."""
    node = nodes.get(node_id) if node_id is not None else None
    if node is None:
        return None
    return f"/households/{node.id}" if node.kind == HOUSEHOLD else f"/grid/{node.id}"


def _resident_row(r: Resident, nodes: dict[int, GridNode], locale: str) -> dict[str, Any]:
    return {
        "r": r,
        "link": _node_link(r.node_id, nodes),
        "gender": _(GENDERS[r.gender]) if r.gender in GENDERS else "",
        "birth_year": r.birth_date.year if r.birth_date else "",
        "household": chain(r.node_path, nodes, locale, last=4),
        "household_full": chain(r.node_path, nodes, locale),
        "status": _(STATUSES.get(r.status, r.status)),
    }


@get("/residents/", guards=[requires(VIEW)])
async def resident_list(
    request: Request,
    q: FromQuery[str | None] = None,
    node: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
    page: FromQuery[int] = 1,
    moved: FromQuery[str | None] = None,
) -> Any:
    c = ctx(request)
    stmt, filters, errors = await _resident_query(request, q or "", node or "", status or "")
    result = await paginate(_db(c), stmt, page, cap=COUNT_CAP)  # a district's count stops at 10,000+
    nodes = await _nodes_by_id(c, [r.node_path for r in result.items])
    query = urlencode({k: val for k, val in filters.items() if val})
    context = {
        "rows": [_resident_row(r, nodes, c.locale) for r in result.items],
        "page": result,
        "filters": filters,
        "errors": errors,
        "base": c.url("/residents/") + "?" + (query + "&" if query else ""),
        "export_url": c.url("/residents/export") + ("?" + query if query else ""),
        "filtered": bool(query),
        "node_options": await _node_options(c, VIEW),
        "statuses": {k: _(label) for k, label in STATUSES.items()},
        "can_edit": c.can(EDIT),
        "can_export": c.can(EXPORT),
        "message": _("The resident has moved out: the record is kept by the district.") if moved else None,
    }
    await _db(c).commit()  # the audit entry of a sensitive search
    return await render(request, "core/people/residents.html", context, status_code=_status(request, bool(errors)))


@get("/residents/export", guards=[requires(EXPORT)])
async def resident_export(
    request: Request,
    q: FromQuery[str | None] = None,
    node: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
) -> Any:
    c = ctx(request)
    stmt, filters, errors = await _resident_query(request, q or "", node or "", status or "", action=EXPORT)
    if errors:
        raise ValidationException("; ".join(errors.values()))
    rows = (await _db(c).execute(stmt)).scalars().all()
    nodes = await _nodes_by_id(c, [r.node_path for r in rows])
    vault = _vault(request)
    reveal_prefixes = c.scope_prefixes(REVEAL)
    tree_wide = _tree_wide(reveal_prefixes)
    revealed = 0

    def full(r: Resident) -> bool:
        path = r.node_path
        return tree_wide if path is None else any(path.startswith(p) for p in reveal_prefixes)

    out = []
    for r in rows:
        id_number, phone = r.id_number_masked or "", r.phone_masked or ""
        if reveal_prefixes and full(r):
            if r.id_number_enc is not None:
                id_number = vault.decrypt(r.id_number_enc, people.ID_PURPOSE.encode())
            if r.phone_enc is not None:
                phone = vault.decrypt(r.phone_enc, people.PHONE_PURPOSE.encode())
            revealed += 1
        row = _resident_row(r, nodes, c.locale)
        out.append(
            [
                r.name,
                row["gender"],
                row["birth_year"],
                id_number,
                phone,
                row["household_full"],
                r.registration,
                row["status"],
            ]
        )
    record(
        _db(c),
        "resident.export",
        "residents",
        None,
        {"rows": len(out), "revealed": revealed, **{k: val for k, val in filters.items() if val}},
    )
    await _db(c).commit()
    headers = [
        _("Name"),
        _("Gender"),
        _("Birth year"),
        _("ID number"),
        _("Phone"),
        _("Household"),
        _("Registration"),
        _("Status"),
    ]
    return excel_response(_("Residents") + "-" + date.today().isoformat(), _("Residents"), headers, out)


@get("/residents/households", guards=[requires(EDIT)])
async def household_picker(request: Request, q: FromQuery[str | None] = None) -> Any:
    """htmx: the household select's options for a search."""
    c = ctx(request)
    options = await _household_options(c, (q or "").strip())
    return _fragment(request, "core/people/_options.html", {"options": options, "selected": None})


# ---- one resident -----------------------------------------------------------------------------


async def _resident_or_404(request: Request, resident_id: int, action: str = VIEW) -> Resident:
    c = ctx(request)
    resident = (await _db(c).execute(select(Resident).where(Resident.id == resident_id))).scalar_one_or_none()
    if resident is None:
        raise NotFoundException()
    visible_or_404(c, VIEW, resident.node_path)
    if action != VIEW:
        visible_or_404(c, action, resident.node_path)
    return resident


async def _resident_page(request: Request, resident: Resident, **extra: Any) -> Any:
    c = ctx(request)
    db = _db(c)
    stays = (
        (
            await db.execute(
                select(Residence)
                .where(Residence.resident_id == resident.id)
                .order_by(Residence.moved_in.desc(), Residence.id.desc())
            )
        )
        .scalars()
        .all()
    )
    household = await db.get(GridNode, (resident.tenant_id, resident.node_id)) if resident.node_id is not None else None
    stay_nodes: dict[int, GridNode] = {}
    if stays:
        found = await db.execute(select(GridNode).where(GridNode.id.in_({s.node_id for s in stays})))
        stay_nodes = {n.id: n for n in found.scalars()}
    nodes = await _nodes_by_id(c, [resident.node_path, *[n.path for n in stay_nodes.values()]])
    history = [
        {
            "stay": s,
            "label": chain(stay_nodes[s.node_id].path, nodes, c.locale, last=4) if s.node_id in stay_nodes else "",
            "full": chain(stay_nodes[s.node_id].path, nodes, c.locale) if s.node_id in stay_nodes else "",
            "link": _node_link(s.node_id, stay_nodes)
            if s.node_id in stay_nodes and c.can(VIEW, stay_nodes[s.node_id].path)
            else None,
        }
        for s in stays
    ]
    can_edit = allowed(c, EDIT, resident.node_path)
    context = {
        "r": resident,
        "row": _resident_row(resident, nodes, c.locale),
        "household": household,
        "household_label": chain(resident.node_path, nodes, c.locale, last=5),
        "history": history,
        "can_edit": can_edit,
        "can_reveal": allowed(c, REVEAL, resident.node_path),
        "household_options": await _household_options(c) if can_edit else [],
        "relations": RELATIONS,
        "today": date.today().isoformat(),
        "errors": {},
        "form": {},
        "message": None,
        **extra,
    }
    return await render(
        request, "core/people/resident.html", context, status_code=_status(request, bool(context["errors"]))
    )


@get("/residents/{resident_id:int}", guards=[requires(VIEW)])
async def resident_detail(request: Request, resident_id: FromPath[int]) -> Any:
    resident = await _resident_or_404(request, resident_id)
    people.log_view(_db(ctx(request)), resident)  # access log of the register (个人信息保护法)
    await _db(ctx(request)).commit()
    return await _resident_page(request, resident)


@post("/residents/{resident_id:int}/reveal", guards=[requires(REVEAL)], status_code=200)
async def resident_reveal(request: Request, resident_id: FromPath[int], field: FromQuery[str] = "id_number") -> Any:
    """htmx: the full ID number or phone in place of the mask; every reveal is logged."""
    if field not in ("id_number", "phone"):
        raise ValidationException(_("Unknown field."))
    c = ctx(request)
    resident = await _resident_or_404(request, resident_id, REVEAL)
    value = await people.reveal(_db(c), _vault(request), resident, field)
    await _db(c).commit()
    return _fragment(request, "core/people/_revealed.html", {"value": value})


# ---- resident forms ---------------------------------------------------------------------------


def _resident_form(data: dict[str, Any]) -> dict[str, str]:
    keys = ("name", "id_number", "phone", "gender", "birth_date", "ethnicity", "registration", "note")
    return {k: _text(data, k) for k in (*keys, "household", "relation", "moved_in")}


def _check_extra(form: dict[str, str], clean: people.ResidentInput, errors: dict[str, str]) -> None:
    """Gender and birth date typed in when there is no ID number to take them from."""
    if clean.id_number is None:
        if form["gender"] and form["gender"] not in GENDERS:
            errors["gender"] = _("Choose a gender from the list.")
        elif form["gender"]:
            clean.gender = form["gender"]
        if form["birth_date"]:
            born = _day(form["birth_date"])
            if born is None or born > date.today():
                errors["birth_date"] = _("Use a date like 1980-01-31, not in the future.")
            else:
                clean.birth_date = born


async def _duplicate(request: Request, id_number: str, own_id: int | None = None) -> tuple[Resident | None, str | None]:
    """Who already holds this ID number: (the resident if the user may see them, a message)."""
    c = ctx(request)
    await search_policy.duplicate_check(searcher(request), _db(c))
    await _db(c).commit()  # the check is logged whether or not the form saves
    existing = await people.find_by_id_number(_db(c), _vault(request), id_number)
    if existing is None or existing.id == own_id:
        return None, None
    if allowed(c, REVEAL, existing.node_path):
        return existing, _("This ID number is already registered:")
    # Somewhere the user may not look: say so without saying where.
    return None, _("This ID number is already registered elsewhere in the district.")


async def _form_page(request: Request, resident: Resident | None, form: dict[str, str], **extra: Any) -> Any:
    c = ctx(request)
    context = {
        "r": resident,
        "form": form,
        "errors": {},
        "duplicate": None,
        "summary": None,
        "household_options": await _household_options(c) if resident is None else [],
        "genders": {k: _(label) for k, label in GENDERS.items()},
        "registrations": REGISTRATIONS,
        "relations": RELATIONS,
        "today": date.today().isoformat(),
        **extra,
    }
    status = _status(request, bool(context["errors"] or context["summary"]))
    return await render(request, "core/people/resident_form.html", context, status_code=status)


@get("/residents/new", guards=[requires(EDIT)])
async def resident_new(request: Request) -> Any:
    return await _form_page(request, None, _resident_form({}))


@post("/residents/new", guards=[requires(EDIT)], status_code=200)
async def resident_create(request: Request, data: Form) -> Any:
    c = ctx(request)
    db = _db(c)
    form = _resident_form(data)
    clean = people.clean_resident(form)
    errors = _translated(clean.errors)
    _check_extra(form, clean, errors)
    node = None
    node_id = _int(form["household"])
    if node_id is not None:
        node = (
            await db.execute(select(GridNode).where(GridNode.id == node_id, GridNode.kind == HOUSEHOLD))
        ).scalar_one_or_none()
    if node is None or not c.can(EDIT, node.path):
        errors["household"] = _("Choose a household in your area.")
    if len(form["relation"]) > 20:
        errors["relation"] = _("At most %(n)s characters.", n=20)
    moved_in = _day(form["moved_in"]) if form["moved_in"] else date.today()
    if moved_in is None:
        errors["moved_in"] = _("Use a date like 2024-05-01.")
    duplicate = None
    existing = None
    if clean.id_number and "id_number" not in errors:
        existing = await people.find_by_id_number(db, _vault(request), clean.id_number)
        # Someone who moved away (no household) may be registered again wherever they now live.
        if existing is not None and existing.node_path is not None:
            duplicate, message = await _duplicate(request, clean.id_number)
            errors["id_number"] = message or ""
    if errors:
        summary = _("Nothing was saved: please correct the marked fields.")
        return await _form_page(request, None, form, errors=errors, duplicate=duplicate, summary=summary)
    assert node is not None and moved_in is not None
    resident, _outcome = await people.upsert_resident(db, _vault(request), clean, node, form["relation"], moved_in)
    resident.status = RESIDENT_ACTIVE
    for key in ("gender", "birth_date", "note"):
        if getattr(clean, key):
            setattr(resident, key, getattr(clean, key))
    try:
        await db.commit()
    except IntegrityError:  # the same ID number saved a moment ago by someone else
        await _rolled_back(c)
        errors = {"id_number": _("This ID number is already registered elsewhere in the district.")}
        return await _form_page(request, None, form, errors=errors, summary=_("Nothing was saved."))
    return Redirect(c.url(f"/residents/{resident.id}"), status_code=303)


@get("/residents/{resident_id:int}/edit", guards=[requires(EDIT)])
async def resident_edit(request: Request, resident_id: FromPath[int]) -> Any:
    resident = await _resident_or_404(request, resident_id)
    may_change(ctx(request), EDIT, resident.node_path)
    form = {
        "name": resident.name,
        "id_number": "",
        "phone": "",
        "gender": resident.gender or "",
        "birth_date": resident.birth_date.isoformat() if resident.birth_date else "",
        "ethnicity": resident.ethnicity,
        "registration": resident.registration,
        "note": resident.note,
    }
    return await _form_page(request, resident, form)


@post("/residents/{resident_id:int}/edit", guards=[requires(EDIT)], status_code=200)
async def resident_save(request: Request, resident_id: FromPath[int], data: Form) -> Any:
    c = ctx(request)
    db = _db(c)
    resident = await _resident_or_404(request, resident_id)
    may_change(c, EDIT, resident.node_path)
    form = _resident_form(data)
    clean = people.clean_resident(form)  # blank ID number / phone: keep what is stored
    errors = _translated(clean.errors)
    _check_extra(form, clean, errors)
    duplicate = None
    if clean.id_number and "id_number" not in errors:
        duplicate, message = await _duplicate(request, clean.id_number, own_id=resident.id)
        if message:
            errors["id_number"] = message
    if errors:
        summary = _("Nothing was saved: please correct the marked fields.")
        return await _form_page(request, resident, form, errors=errors, duplicate=duplicate, summary=summary)
    resident.name = clean.name
    for key in ("ethnicity", "registration", "note"):
        setattr(resident, key, getattr(clean, key))
    if clean.id_number or not resident.id_number_hash:  # otherwise the stored number decided them
        resident.gender, resident.birth_date = clean.gender, clean.birth_date
    people.apply_sensitive(resident, _vault(request), clean)
    try:
        await db.commit()
    except IntegrityError:
        await _rolled_back(c, resident)
        errors = {"id_number": _("This ID number is already registered elsewhere in the district.")}
        return await _form_page(request, resident, form, errors=errors, summary=_("Nothing was saved."))
    return Redirect(c.url(f"/residents/{resident.id}"), status_code=303)


@post("/residents/{resident_id:int}/move-in", guards=[requires(EDIT)], status_code=200)
async def resident_move_in(request: Request, resident_id: FromPath[int], data: Form) -> Any:
    c = ctx(request)
    db = _db(c)
    resident = await _resident_or_404(request, resident_id)
    may_change(c, EDIT, resident.node_path)
    form = {k: _text(data, k) for k in ("household", "relation", "moved_in")}
    errors: dict[str, str] = {}
    node = (
        await db.execute(
            select(GridNode).where(GridNode.id == (_int(form["household"]) or 0), GridNode.kind == HOUSEHOLD)
        )
    ).scalar_one_or_none()
    if node is None or not c.can(EDIT, node.path):
        errors["household"] = _("Choose a household in your area.")
    elif node.id == resident.node_id:
        errors["household"] = _("%(name)s already lives there.", name=resident.name)
    on = _day(form["moved_in"]) if form["moved_in"] else date.today()
    current = (
        await db.execute(
            select(Residence.moved_in).where(Residence.resident_id == resident.id, Residence.moved_out.is_(None))
        )
    ).scalar()
    if on is None:
        errors["moved_in"] = _("Use a date like 2024-05-01.")
    elif current is not None and on < current:
        errors["moved_in"] = _("The date is before the current residence began (%(day)s).", day=current.isoformat())
    if len(form["relation"]) > 20:
        errors["relation"] = _("At most %(n)s characters.", n=20)
    if errors:
        return await _resident_page(request, resident, errors=errors, form=form)
    assert node is not None and on is not None
    await people.move_in(db, resident, node, form["relation"], on)
    resident.status = RESIDENT_ACTIVE
    await db.commit()
    return Redirect(c.url(f"/residents/{resident.id}"), status_code=303)


@post("/residents/{resident_id:int}/move-out", guards=[requires(EDIT)], status_code=200)
async def resident_move_out(request: Request, resident_id: FromPath[int], data: Form) -> Any:
    c = ctx(request)
    db = _db(c)
    resident = await _resident_or_404(request, resident_id)
    may_change(c, EDIT, resident.node_path)
    form = {k: _text(data, k) for k in ("moved_out", "reason")}
    errors: dict[str, str] = {}
    on = _day(form["moved_out"]) if form["moved_out"] else date.today()
    current = (
        await db.execute(
            select(Residence.moved_in).where(Residence.resident_id == resident.id, Residence.moved_out.is_(None))
        )
    ).scalar()
    if resident.node_id is None:
        errors["moved_out"] = _("%(name)s has no current household.", name=resident.name)
    elif on is None:
        errors["moved_out"] = _("Use a date like 2024-05-01.")
    elif current is not None and on < current:
        errors["moved_out"] = _("The date is before the current residence began (%(day)s).", day=current.isoformat())
    reason = form["reason"] or RESIDENT_MOVED_OUT
    if reason not in (RESIDENT_MOVED_OUT, RESIDENT_DECEASED):
        errors["reason"] = _("Choose a reason from the list.")
    if errors:
        return await _resident_page(request, resident, errors=errors, form=form)
    assert on is not None
    await people.move_out(db, resident, on, status=reason)
    await db.commit()
    if allowed(c, VIEW, resident.node_path):
        return Redirect(c.url(f"/residents/{resident.id}"), status_code=303)
    # Without a household the record is the district's: this user's list no longer shows it.
    return Redirect(c.url("/residents/") + "?" + "moved=1", status_code=303)


# ---- households -------------------------------------------------------------------------------


async def _household_node(request: Request, node_id: int) -> GridNode:
    c = ctx(request)
    node = (
        await _db(c).execute(select(GridNode).where(GridNode.id == node_id, GridNode.kind == HOUSEHOLD))
    ).scalar_one_or_none()
    if node is None:
        raise NotFoundException()
    visible_or_404(c, VIEW, node.path)
    return node


async def _household_page(request: Request, node: GridNode, **extra: Any) -> Any:
    c = ctx(request)
    db = _db(c)
    household = (await db.execute(select(Household).where(Household.node_id == node.id))).scalar_one_or_none()
    owners: list[dict[str, Any]] = []
    if household is not None:
        held = (
            await db.execute(
                select(Ownership, Owner)
                .join(Owner, Owner.id == Ownership.owner_id)
                .where(Ownership.household_id == household.id)
                .order_by(Owner.name)
            )
        ).all()
        owner_ids = [o.id for _own, o in held]
        # Every household each owner holds, as far as the user may see: one owner, listed once.
        others = (
            (
                await db.execute(
                    select(Ownership.owner_id, Household.node_id, Household.node_path)
                    .join(Household, Household.id == Ownership.household_id)
                    .where(Ownership.owner_id.in_(owner_ids), in_scope(Household.node_path, c.scope_prefixes(VIEW)))
                    .order_by(Household.node_path)
                )
            ).all()
            if owner_ids
            else []
        )
        nodes = await _nodes_by_id(c, [row[2] for row in others])
        for own, owner in held:
            owners.append(
                {
                    "ownership": own,
                    "owner": owner,
                    "kind": _(OWNER_KIND_LABELS.get(owner.kind, owner.kind)),
                    "households": [
                        {"id": nid, "label": chain(path, nodes, c.locale, last=4), "here": nid == node.id}
                        for oid, nid, path in others
                        if oid == owner.id
                    ],
                }
            )
    residents = (
        (await db.execute(select(Resident).where(Resident.node_id == node.id).order_by(Resident.name))).scalars().all()
    )
    nodes = await _nodes_by_id(c, [node.path])
    can_edit = c.can(HOUSEHOLD_EDIT, node.path)
    orgs = []
    developers: list[str] = []
    if can_edit:
        orgs = (
            (
                await db.execute(
                    select(Organisation)
                    .where(in_scope(Organisation.node_path, c.scope_prefixes(ORG_VIEW)))
                    .order_by(Organisation.name)
                    .limit(PICKER_LIMIT)
                )
            )
            .scalars()
            .all()
        )
        developers = list(
            (await db.execute(select(Owner.name).where(Owner.kind == "developer").order_by(Owner.name))).scalars()
        )
    context = {
        "node": node,
        "label": chain(node.path.removesuffix(f"{node.id}/"), nodes, c.locale, last=4),  # where it is
        "household": household,
        "owners": owners,
        "residents": [_resident_row(r, nodes, c.locale) for r in residents],
        "can_edit": can_edit,
        "usages": {k: _(label) for k, label in USAGES.items()},
        "owner_kinds": {k: _(label) for k, label in OWNER_KIND_LABELS.items()},
        "organisations": orgs,
        "developers": developers,
        "errors": {},
        "form": {},
        "message": None,
        **extra,
    }
    return await render(
        request, "core/people/household.html", context, status_code=_status(request, bool(context["errors"]))
    )


@get("/households/{node_id:int}", guards=[requires(VIEW)])
async def household_detail(request: Request, node_id: FromPath[int]) -> Any:
    return await _household_page(request, await _household_node(request, node_id))


def parse_area(raw: str) -> tuple[Decimal | None, str | None]:
    """Floor area in m²: blank, or > 0 and ≤ 10000 with at most two decimals."""
    if not raw:
        return None, None
    try:
        area = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        return None, _("Write the area as a number of square metres, e.g. 89.5.")
    if not area.is_finite() or area <= 0 or area > MAX_AREA:
        return None, _("The area must be more than 0 and at most %(max)s m².", max=MAX_AREA)
    if area != area.quantize(Decimal("0.01")):
        return None, _("At most two decimals.")
    return area.quantize(Decimal("0.01")), None


@post("/households/{node_id:int}", guards=[requires(HOUSEHOLD_EDIT)], status_code=200)
async def household_save(request: Request, node_id: FromPath[int], data: Form) -> Any:
    c = ctx(request)
    node = await _household_node(request, node_id)
    may_change(c, HOUSEHOLD_EDIT, node.path)
    form = {k: _text(data, k) for k in ("floor_area", "usage", "note")}
    errors: dict[str, str] = {}
    area, problem = parse_area(form["floor_area"])
    if problem:
        errors["floor_area"] = problem
    if form["usage"] not in USAGES:
        errors["usage"] = _("Choose a usage from the list.")
    if errors:
        return await _household_page(request, node, errors=errors, form=form)
    household = await people.ensure_household(_db(c), node)
    household.floor_area, household.usage, household.note = area, form["usage"], form["note"][:2000]
    await _db(c).commit()
    return await _household_page(request, node, message=_("The household has been saved."))


@get("/households/{node_id:int}/owner-candidates", guards=[requires(HOUSEHOLD_EDIT)])
async def owner_candidates(request: Request, node_id: FromPath[int], q: FromQuery[str | None] = None) -> Any:
    """htmx: residents in the user's scope matching a name, for the owner picker."""
    c = ctx(request)
    await _household_node(request, node_id)
    term = (q or "").strip()
    rows = []
    if term:
        rows = (
            (
                await _db(c).execute(
                    select(Resident)
                    .where(in_scope(Resident.node_path, c.scope_prefixes(VIEW)))
                    .where(Resident.name.icontains(term, autoescape=True))
                    .order_by(Resident.name)
                    .limit(50)
                )
            )
            .scalars()
            .all()
        )
    options = [{"id": r.id, "label": f"{r.name} {r.id_number_masked or ''}".strip()} for r in rows]
    return _fragment(request, "core/people/_options.html", {"options": options, "selected": None})


@post("/households/{node_id:int}/owners", guards=[requires(HOUSEHOLD_EDIT)], status_code=200)
async def household_add_owner(request: Request, node_id: FromPath[int], data: Form) -> Any:
    c = ctx(request)
    db = _db(c)
    node = await _household_node(request, node_id)
    may_change(c, HOUSEHOLD_EDIT, node.path)
    form = {k: _text(data, k) for k in ("owner_kind", "resident_id", "organisation_id", "developer")}
    errors: dict[str, str] = {}
    kind = form["owner_kind"]
    resident = organisation = None
    name = ""
    if kind == "person":
        resident = (
            await db.execute(select(Resident).where(Resident.id == (_int(form["resident_id"]) or 0)))
        ).scalar_one_or_none()
        if resident is None or not allowed(c, VIEW, resident.node_path):
            errors["resident_id"] = _("Choose a resident from the list.")
        else:
            name = resident.name
    elif kind == "organisation":
        organisation = (
            await db.execute(select(Organisation).where(Organisation.id == (_int(form["organisation_id"]) or 0)))
        ).scalar_one_or_none()
        if organisation is None or not allowed(c, ORG_VIEW, organisation.node_path):
            errors["organisation_id"] = _("Choose an organisation from the list.")
        else:
            name = organisation.name
    elif kind == "developer":
        name = form["developer"]
        if not name or len(name) > 200:
            errors["developer"] = _("Write the developer's name (up to 200 characters).")
    else:
        errors["owner_kind"] = _("Choose who the owner is.")
    if errors:
        return await _household_page(request, node, errors=errors, form=form)
    household = await people.ensure_household(db, node)
    owner = await people.owner_for(
        db, kind, name, resident=resident, organisation_id=organisation.id if organisation else None
    )
    exists = (
        await db.execute(
            select(Ownership.id).where(Ownership.household_id == household.id, Ownership.owner_id == owner.id)
        )
    ).first()
    if exists:  # both rows existed before: nothing was added
        return await _household_page(
            request, node, errors={"owner_kind": _("%(name)s already owns this household.", name=name)}, form=form
        )
    db.add(Ownership(household_id=household.id, owner_id=owner.id))
    await db.commit()
    return await _household_page(request, node, message=_("%(name)s has been added as an owner.", name=name))


@post("/households/{node_id:int}/owners/{ownership_id:int}/remove", guards=[requires(HOUSEHOLD_EDIT)], status_code=200)
async def household_remove_owner(request: Request, node_id: FromPath[int], ownership_id: FromPath[int]) -> Any:
    c = ctx(request)
    db = _db(c)
    node = await _household_node(request, node_id)
    may_change(c, HOUSEHOLD_EDIT, node.path)
    household = (await db.execute(select(Household).where(Household.node_id == node.id))).scalar_one_or_none()
    if household is None:
        raise NotFoundException()
    gone = await db.execute(
        delete(Ownership).where(Ownership.id == ownership_id, Ownership.household_id == household.id)
    )
    if not gone.rowcount:
        raise NotFoundException()
    await db.commit()
    return await _household_page(request, node, message=_("The ownership has been removed."))


# ---- organisations ----------------------------------------------------------------------------


def _org_row(o: Organisation, nodes: dict[int, GridNode], locale: str) -> dict[str, Any]:
    return {
        "o": o,
        "kind": _(ORG_KIND_LABELS.get(o.kind, o.kind)),
        "node": chain(o.node_path, nodes, locale, last=2),
        "node_full": chain(o.node_path, nodes, locale),
    }


async def _org_query(request: Request, q: str, kind: str) -> tuple[Select[Any], dict[str, str], dict[str, str]]:
    c = ctx(request)
    filters = {"q": q.strip(), "kind": kind.strip() if kind.strip() in ORG_KINDS else ""}
    stmt = select(Organisation).where(scoped(Organisation.node_path, c.scope_prefixes(ORG_VIEW)))
    found = await search_policy.organisation_criteria(_db(c), _vault(request), searcher(request), filters["q"])
    errors = {"q": _(found.error)} if found.error else {}
    if found.where is not None:
        stmt = stmt.where(found.where)
    if filters["kind"]:
        stmt = stmt.where(Organisation.kind == filters["kind"])
    if errors:
        stmt = stmt.where(Organisation.id.is_(None))  # a refused search shows nothing
    return stmt.order_by(Organisation.kind, Organisation.name, Organisation.id), filters, errors


@get("/organisations/", guards=[requires(ORG_VIEW)])
async def organisation_list(
    request: Request, q: FromQuery[str | None] = None, kind: FromQuery[str | None] = None, page: FromQuery[int] = 1
) -> Any:
    c = ctx(request)
    stmt, filters, errors = await _org_query(request, q or "", kind or "")
    result = await paginate(_db(c), stmt, page)
    nodes = await _nodes_by_id(c, [o.node_path for o in result.items])
    query = urlencode({k: val for k, val in filters.items() if val})
    context = {
        "rows": [_org_row(o, nodes, c.locale) for o in result.items],
        "page": result,
        "filters": filters,
        "kinds": {k: _(label) for k, label in ORG_KIND_LABELS.items()},
        "base": c.url("/organisations/") + "?" + (query + "&" if query else ""),
        "export_url": c.url("/organisations/export") + ("?" + query if query else ""),
        "filtered": bool(query),
        "can_edit": c.can(ORG_EDIT),
        "errors": errors,
    }
    await _db(c).commit()  # the audit entry of a sensitive search
    return await render(request, "core/people/organisations.html", context, status_code=_status(request, bool(errors)))


@get("/organisations/export", guards=[requires(ORG_VIEW)])
async def organisation_export(
    request: Request, q: FromQuery[str | None] = None, kind: FromQuery[str | None] = None
) -> Any:
    c = ctx(request)
    stmt, filters, errors = await _org_query(request, q or "", kind or "")
    if errors:
        raise ValidationException("; ".join(errors.values()))
    rows = (await _db(c).execute(stmt)).scalars().all()
    nodes = await _nodes_by_id(c, [o.node_path for o in rows])
    vault = _vault(request)
    revealed = 0
    out = []
    for o in rows:
        phone = o.contact_phone_masked or ""
        if o.contact_phone_enc is not None and allowed(c, REVEAL, o.node_path):
            phone = vault.decrypt(o.contact_phone_enc, people.PHONE_PURPOSE.encode())
            revealed += 1
        row = _org_row(o, nodes, c.locale)
        out.append([row["kind"], o.name, o.credit_code or "", o.contact_name, phone, o.address, row["node_full"]])
    record(_db(c), "organisation.export", "organisations", None, {"rows": len(out), "revealed": revealed, **filters})
    await _db(c).commit()
    headers = [_("Kind"), _("Name"), _("Credit code"), _("Contact"), _("Contact phone"), _("Address"), _("Area")]
    title = _("Organisations")
    return excel_response(title + "-" + date.today().isoformat(), title, headers, out)


def _org_form(data: dict[str, Any]) -> dict[str, str]:
    return {
        k: _text(data, k) for k in ("kind", "name", "credit_code", "contact_name", "contact_phone", "address", "node")
    }


async def _check_org(
    request: Request, form: dict[str, str], own: Organisation | None
) -> tuple[dict[str, Any], dict[str, str]]:
    c = ctx(request)
    db = _db(c)
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if form["kind"] not in ORG_KINDS:
        errors["kind"] = _("Choose a kind from the list.")
    if not form["name"]:
        errors["name"] = _("A name is required.")
    elif len(form["name"]) > 200:
        errors["name"] = _("At most %(n)s characters.", n=200)
    clean["credit_code"] = None
    if form["credit_code"]:
        try:
            clean["credit_code"] = v.check_credit_code(form["credit_code"])
        except v.InvalidValue as exc:
            errors["credit_code"] = _(str(exc))
        else:
            other = (
                await db.execute(select(Organisation).where(Organisation.credit_code == clean["credit_code"]))
            ).scalar_one_or_none()
            if other is not None and (own is None or other.id != own.id):
                if allowed(c, ORG_VIEW, other.node_path):
                    errors["credit_code"] = _("%(name)s is already registered with this code.", name=other.name)
                else:
                    errors["credit_code"] = _("This code is already registered elsewhere in the district.")
    if len(form["contact_name"]) > 50:
        errors["contact_name"] = _("At most %(n)s characters.", n=50)
    clean["contact_phone"] = None
    if form["contact_phone"]:
        try:
            clean["contact_phone"] = v.check_phone(form["contact_phone"])
        except v.InvalidValue as exc:
            errors["contact_phone"] = _(str(exc))
    if len(form["address"]) > 300:
        errors["address"] = _("At most %(n)s characters.", n=300)
    node = (await db.execute(select(GridNode).where(GridNode.id == (_int(form["node"]) or 0)))).scalar_one_or_none()
    if node is None or node.kind == HOUSEHOLD or not c.can(ORG_EDIT, node.path):
        errors["node"] = _("Choose an area from the list.")
    clean["node"] = node
    return clean, errors


def _apply_org(org: Organisation, form: dict[str, str], clean: dict[str, Any], vault: Vault) -> None:
    org.kind, org.name, org.credit_code = form["kind"], form["name"], clean["credit_code"]
    org.contact_name, org.address = form["contact_name"], form["address"]
    org.node_id, org.node_path = clean["node"].id, clean["node"].path
    if clean["contact_phone"]:  # blank on an edit keeps the stored number
        org.contact_phone_enc = vault.encrypt(clean["contact_phone"], people.PHONE_PURPOSE.encode())
        org.contact_phone_hash = vault.blind_index(clean["contact_phone"], people.PHONE_PURPOSE)
        org.contact_phone_masked = v.mask_phone(clean["contact_phone"])


async def _org_page(request: Request, org: Organisation | None, form: dict[str, str], **extra: Any) -> Any:
    c = ctx(request)
    nodes = await _nodes_by_id(c, [org.node_path] if org else [])
    can_edit = c.can(ORG_EDIT) if org is None else allowed(c, ORG_EDIT, org.node_path)
    context = {
        "org": org,
        "row": _org_row(org, nodes, c.locale) if org else None,
        "form": form,
        "errors": {},
        "summary": None,
        "message": None,
        "can_edit": can_edit,
        "kinds": {k: _(label) for k, label in ORG_KIND_LABELS.items()},
        "node_options": await _node_options(c, ORG_EDIT) if can_edit else [],
        **extra,
    }
    status = _status(request, bool(context["errors"]))
    return await render(request, "core/people/organisation.html", context, status_code=status)


@get("/organisations/new", guards=[requires(ORG_EDIT)])
async def organisation_new(request: Request) -> Any:
    return await _org_page(request, None, _org_form({}))


@post("/organisations/new", guards=[requires(ORG_EDIT)], status_code=200)
async def organisation_create(request: Request, data: Form) -> Any:
    c = ctx(request)
    form = _org_form(data)
    clean, errors = await _check_org(request, form, None)
    if errors:
        summary = _("Nothing was saved: please correct the marked fields.")
        return await _org_page(request, None, form, errors=errors, summary=summary)
    org = Organisation(kind=form["kind"], name=form["name"])
    _apply_org(org, form, clean, _vault(request))
    _db(c).add(org)
    await _db(c).commit()
    return Redirect(c.url(f"/organisations/{org.id}"), status_code=303)


async def _org_or_404(request: Request, org_id: int) -> Organisation:
    c = ctx(request)
    org = (await _db(c).execute(select(Organisation).where(Organisation.id == org_id))).scalar_one_or_none()
    if org is None:
        raise NotFoundException()
    visible_or_404(c, ORG_VIEW, org.node_path)
    return org


def _org_values(org: Organisation) -> dict[str, str]:
    return {
        "kind": org.kind,
        "name": org.name,
        "credit_code": org.credit_code or "",
        "contact_name": org.contact_name,
        "contact_phone": "",
        "address": org.address,
        "node": str(org.node_id or ""),
    }


@get("/organisations/{org_id:int}", guards=[requires(ORG_VIEW)])
async def organisation_detail(request: Request, org_id: FromPath[int]) -> Any:
    org = await _org_or_404(request, org_id)
    return await _org_page(request, org, _org_values(org))


@post("/organisations/{org_id:int}", guards=[requires(ORG_EDIT)], status_code=200)
async def organisation_save(request: Request, org_id: FromPath[int], data: Form) -> Any:
    c = ctx(request)
    org = await _org_or_404(request, org_id)
    may_change(c, ORG_EDIT, org.node_path)
    form = _org_form(data)
    clean, errors = await _check_org(request, form, org)
    if errors:
        summary = _("Nothing was saved: please correct the marked fields.")
        return await _org_page(request, org, form, errors=errors, summary=summary)
    _apply_org(org, form, clean, _vault(request))
    await _db(c).commit()
    return await _org_page(request, org, _org_values(org), message=_("The organisation has been saved."))


handlers = [
    resident_list,
    resident_export,
    household_picker,
    resident_detail,
    resident_reveal,
    resident_new,
    resident_create,
    resident_edit,
    resident_save,
    resident_move_in,
    resident_move_out,
    household_detail,
    household_save,
    owner_candidates,
    household_add_owner,
    household_remove_owner,
    organisation_list,
    organisation_export,
    organisation_new,
    organisation_create,
    organisation_detail,
    organisation_save,
]
