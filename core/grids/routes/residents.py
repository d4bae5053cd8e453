"""Residents (人): the list with search and filters, the export, one resident's page with the
reveal of a masked value, the forms, moving in and out.

Scope: the list is filtered in SQL by the user's node prefixes; a resident outside them answers
404. Masking: HTML and exports carry the stored masks; full values come only from the reveal
endpoint (logged) or from an export by a user holding the reveal action there (audited). The
queries and that policy are the grid services' (core/grids/residents.py, people.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy.exc import IntegrityError

from core.grids import people, places
from core.grids import residents as register
from core.grids.access import EDIT, EXPORT, REVEAL, VIEW, allowed
from core.grids.basedata import RESIDENT_DECEASED, RESIDENT_MOVED_OUT, Resident
from core.grids.models import GridNode
from core.grids.routes.common import db as _db
from core.grids.routes.common import (
    form_status,
    fragment,
    may_change,
    rolled_back,
    searcher,
    translated,
    vault,
)
from core.i18n import gettext as _
from core.i18n import lazy
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.excel import excel_response
from core.web.forms import Form
from core.web.forms import integer as _int
from core.web.forms import text as _text
from core.web.guards import requires
from core.web.pagination import COUNT_CAP, paginate
from core.web.render import render

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


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


async def _listing(request: Request, q: str, node: str, status: str, action: str = VIEW) -> register.Listing:
    c = ctx(request)
    return await register.resident_query(_db(c), vault(request), c, searcher(request), q, node, status, action)


# ---- list, search, export ---------------------------------------------------------------------


@get("/residents/", guards=[requires(VIEW)])
async def resident_list(
    request: Request,
    db: DbSession,
    rc: Ctx,
    q: FromQuery[str | None] = None,
    node: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
    page: FromQuery[int] = 1,
    moved: FromQuery[str | None] = None,
) -> Any:
    listing = await _listing(request, q or "", node or "", status or "")
    filters, errors = listing.filters, listing.errors
    result = await paginate(db, listing.stmt, page, cap=COUNT_CAP)  # a district's count stops at 10,000+
    nodes = await places.nodes_by_id(db, [r.node_path for r in result.items])
    query = urlencode({k: val for k, val in filters.items() if val})
    context = {
        "rows": [register.resident_row(r, nodes, rc.locale) for r in result.items],
        "page": result,
        "filters": filters,
        "errors": errors,
        "base": rc.url("/residents/") + "?" + (query + "&" if query else ""),
        "export_url": rc.url("/residents/export") + ("?" + query if query else ""),
        "filtered": bool(query),
        "node_options": await places.node_options(db, rc, VIEW, rc.locale),
        "statuses": {k: _(label) for k, label in register.STATUSES.items()},
        "can_edit": rc.can(EDIT),
        "can_export": rc.can(EXPORT),
        "message": _("The resident has moved out: the record is kept by the district.") if moved else None,
    }
    await db.commit()  # the audit entry of a sensitive search
    return await render(request, "core/people/residents.html", context, status_code=form_status(request, bool(errors)))


@get("/residents/export", guards=[requires(EXPORT)])
async def resident_export(
    request: Request,
    db: DbSession,
    rc: Ctx,
    q: FromQuery[str | None] = None,
    node: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
) -> Any:
    listing = await _listing(request, q or "", node or "", status or "", action=EXPORT)
    if listing.errors:
        raise ValidationException("; ".join(listing.errors.values()))
    out = await register.export_rows(db, vault(request), rc, listing, rc.locale)
    await db.commit()
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
async def household_picker(request: Request, db: DbSession, rc: Ctx, q: FromQuery[str | None] = None) -> Any:
    """htmx: the household select's options for a search."""
    options = await places.household_options(db, rc, rc.locale, (q or "").strip())
    return fragment(request, "core/people/_options.html", {"options": options, "selected": None})


# ---- one resident -----------------------------------------------------------------------------


async def _resident_or_404(request: Request, resident_id: int, action: str = VIEW) -> Resident:
    c = ctx(request)
    resident = await register.find_visible(_db(c), c, resident_id, action)
    if resident is None:
        raise NotFoundException()
    return resident


async def _resident_page(request: Request, resident: Resident, **extra: Any) -> Any:
    c = ctx(request)
    db = _db(c)
    household = await db.get(GridNode, (resident.tenant_id, resident.node_id)) if resident.node_id is not None else None
    history, nodes = await register.history(db, c, resident, c.locale)
    can_edit = allowed(c, EDIT, resident.node_path)
    context = {
        "r": resident,
        "row": register.resident_row(resident, nodes, c.locale),
        "household": household,
        "household_label": places.chain(resident.node_path, nodes, c.locale, last=5),
        "history": history,
        "can_edit": can_edit,
        "can_reveal": allowed(c, REVEAL, resident.node_path),
        "household_options": await places.household_options(db, c, c.locale) if can_edit else [],
        "relations": register.RELATIONS,
        "today": date.today().isoformat(),
        "errors": {},
        "form": {},
        "message": None,
        **extra,
    }
    return await render(
        request, "core/people/resident.html", context, status_code=form_status(request, bool(context["errors"]))
    )


@get("/residents/{resident_id:int}", guards=[requires(VIEW)])
async def resident_detail(request: Request, resident_id: FromPath[int], rc: Ctx, db: DbSession) -> Any:
    resident = await _resident_or_404(request, resident_id)
    people.log_view(db, resident)  # access log of the register (个人信息保护法)
    await db.commit()
    return await _resident_page(request, resident)


@post("/residents/{resident_id:int}/reveal", guards=[requires(REVEAL)], status_code=200)
async def resident_reveal(
    request: Request, resident_id: FromPath[int], db: DbSession, field: FromQuery[str] = "id_number"
) -> Any:
    """htmx: the full ID number or phone in place of the mask; every reveal is logged."""
    if field not in ("id_number", "phone"):
        raise ValidationException(_("Unknown field."))
    resident = await _resident_or_404(request, resident_id, REVEAL)
    value = await people.reveal(db, vault(request), resident, field)
    await db.commit()
    return fragment(request, "core/people/_revealed.html", {"value": value})


# ---- forms ------------------------------------------------------------------------------------


def _resident_form(data: dict[str, Any]) -> dict[str, str]:
    keys = ("name", "id_number", "phone", "gender", "birth_date", "ethnicity", "registration", "note")
    return {k: _text(data, k) for k in (*keys, "household", "relation", "moved_in")}


def _check_extra(form: dict[str, str], clean: people.ResidentInput, errors: dict[str, str]) -> None:
    """Gender and birth date typed in when there is no ID number to take them from."""
    if clean.id_number is None:
        if form["gender"] and form["gender"] not in register.GENDERS:
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
    c = ctx(request)
    return await register.duplicate_holder(_db(c), vault(request), c, searcher(request), id_number, own_id)


async def _form_page(request: Request, resident: Resident | None, form: dict[str, str], **extra: Any) -> Any:
    c = ctx(request)
    context = {
        "r": resident,
        "form": form,
        "errors": {},
        "duplicate": None,
        "summary": None,
        "household_options": await places.household_options(_db(c), c, c.locale) if resident is None else [],
        "genders": {k: _(label) for k, label in register.GENDERS.items()},
        "registrations": register.REGISTRATIONS,
        "relations": register.RELATIONS,
        "today": date.today().isoformat(),
        **extra,
    }
    status = form_status(request, bool(context["errors"] or context["summary"]))
    return await render(request, "core/people/resident_form.html", context, status_code=status)


@get("/residents/new", guards=[requires(EDIT)])
async def resident_new(request: Request) -> Any:
    return await _form_page(request, None, _resident_form({}))


@post("/residents/new", guards=[requires(EDIT)], status_code=200)
async def resident_create(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    form = _resident_form(data)
    clean = people.clean_resident(form)
    errors = translated(clean.errors)
    _check_extra(form, clean, errors)
    node = await places.household_node(db, _int(form["household"]))
    if node is None or not rc.can(EDIT, node.path):
        errors["household"] = _("Choose a household in your area.")
    if len(form["relation"]) > 20:
        errors["relation"] = _("At most %(n)s characters.", n=20)
    moved_in = _day(form["moved_in"]) if form["moved_in"] else date.today()
    if moved_in is None:
        errors["moved_in"] = _("Use a date like 2024-05-01.")
    duplicate = None
    existing = None
    if clean.id_number and "id_number" not in errors:
        existing = await people.find_by_id_number(db, vault(request), clean.id_number)
        # Someone who moved away (no household) may be registered again wherever they now live.
        if existing is not None and existing.node_path is not None:
            duplicate, message = await _duplicate(request, clean.id_number)
            errors["id_number"] = message or ""
    if errors:
        summary = _("Nothing was saved: please correct the marked fields.")
        return await _form_page(request, None, form, errors=errors, duplicate=duplicate, summary=summary)
    assert node is not None and moved_in is not None
    # The register's write path: a new person, or one who had moved away moving in here (active).
    resident, _outcome = await people.upsert_resident(db, vault(request), clean, node, form["relation"], moved_in)
    for key in ("gender", "birth_date", "note"):
        if getattr(clean, key):
            setattr(resident, key, getattr(clean, key))
    try:
        await db.commit()
    except IntegrityError:  # the same ID number saved a moment ago by someone else
        await rolled_back(rc)
        errors = {"id_number": _("This ID number is already registered elsewhere in the district.")}
        return await _form_page(request, None, form, errors=errors, summary=_("Nothing was saved."))
    return Redirect(rc.url(f"/residents/{resident.id}"), status_code=303)


@get("/residents/{resident_id:int}/edit", guards=[requires(EDIT)])
async def resident_edit(request: Request, resident_id: FromPath[int], rc: Ctx) -> Any:
    resident = await _resident_or_404(request, resident_id)
    may_change(rc, EDIT, resident.node_path)
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
async def resident_save(request: Request, resident_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    resident = await _resident_or_404(request, resident_id)
    may_change(rc, EDIT, resident.node_path)
    form = _resident_form(data)
    clean = people.clean_resident(form)  # blank ID number / phone: keep what is stored
    errors = translated(clean.errors)
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
    people.apply_sensitive(resident, vault(request), clean)
    try:
        await db.commit()
    except IntegrityError:
        await rolled_back(rc, resident)
        errors = {"id_number": _("This ID number is already registered elsewhere in the district.")}
        return await _form_page(request, resident, form, errors=errors, summary=_("Nothing was saved."))
    return Redirect(rc.url(f"/residents/{resident.id}"), status_code=303)


# ---- moving in and out ------------------------------------------------------------------------


@post("/residents/{resident_id:int}/move-in", guards=[requires(EDIT)], status_code=200)
async def resident_move_in(request: Request, resident_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    resident = await _resident_or_404(request, resident_id)
    may_change(rc, EDIT, resident.node_path)
    form = {k: _text(data, k) for k in ("household", "relation", "moved_in")}
    errors: dict[str, str] = {}
    node = await places.household_node(db, _int(form["household"]) or 0)
    if node is None or not rc.can(EDIT, node.path):
        errors["household"] = _("Choose a household in your area.")
    elif node.id == resident.node_id:
        errors["household"] = _("%(name)s already lives there.", name=resident.name)
    on = _day(form["moved_in"]) if form["moved_in"] else date.today()
    current = await register.current_since(db, resident)
    if on is None:
        errors["moved_in"] = _("Use a date like 2024-05-01.")
    elif current is not None and on < current:
        errors["moved_in"] = _("The date is before the current residence began (%(day)s).", day=current.isoformat())
    if len(form["relation"]) > 20:
        errors["relation"] = _("At most %(n)s characters.", n=20)
    if errors:
        return await _resident_page(request, resident, errors=errors, form=form)
    assert node is not None and on is not None
    await people.move_in(db, resident, node, form["relation"], on)  # active again if they had moved out
    await db.commit()
    return Redirect(rc.url(f"/residents/{resident.id}"), status_code=303)


@post("/residents/{resident_id:int}/move-out", guards=[requires(EDIT)], status_code=200)
async def resident_move_out(request: Request, resident_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    resident = await _resident_or_404(request, resident_id)
    may_change(rc, EDIT, resident.node_path)
    form = {k: _text(data, k) for k in ("moved_out", "reason")}
    errors: dict[str, str] = {}
    on = _day(form["moved_out"]) if form["moved_out"] else date.today()
    current = await register.current_since(db, resident)
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
    if allowed(rc, VIEW, resident.node_path):
        return Redirect(rc.url(f"/residents/{resident.id}"), status_code=303)
    # Without a household the record is the district's: this user's list no longer shows it.
    return Redirect(rc.url("/residents/") + "?" + "moved=1", status_code=303)


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
]
