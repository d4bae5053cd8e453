"""Organisations (组织): the list with search, the export, the page and its form. An
organisation outside the user's scope answers 404; the queries, the export policy and the form's
checks are core/grids/organisations.py's."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from core.grids import organisations as register
from core.grids import places
from core.grids.access import ORG_EDIT, ORG_VIEW, allowed
from core.grids.basedata import Organisation
from core.grids.routes.common import db as _db
from core.grids.routes.common import form_status, may_change, searcher, vault
from core.i18n import gettext as _
from core.web.context import ctx
from core.web.excel import excel_response
from core.web.forms import Form
from core.web.forms import integer as _int
from core.web.forms import text as _text
from core.web.guards import requires
from core.web.pagination import paginate
from core.web.render import render


async def _listing(request: Request, q: str, kind: str) -> Any:
    c = ctx(request)
    return await register.org_query(_db(c), vault(request), c, searcher(request), q, kind)


@get("/organisations/", guards=[requires(ORG_VIEW)])
async def organisation_list(
    request: Request, q: FromQuery[str | None] = None, kind: FromQuery[str | None] = None, page: FromQuery[int] = 1
) -> Any:
    c = ctx(request)
    listing = await _listing(request, q or "", kind or "")
    filters, errors = listing.filters, listing.errors
    result = await paginate(_db(c), listing.stmt, page)
    nodes = await places.nodes_by_id(_db(c), [o.node_path for o in result.items])
    query = urlencode({k: val for k, val in filters.items() if val})
    context = {
        "rows": [register.org_row(o, nodes, c.locale) for o in result.items],
        "page": result,
        "filters": filters,
        "kinds": {k: _(label) for k, label in register.ORG_KIND_LABELS.items()},
        "base": c.url("/organisations/") + "?" + (query + "&" if query else ""),
        "export_url": c.url("/organisations/export") + ("?" + query if query else ""),
        "filtered": bool(query),
        "can_edit": c.can(ORG_EDIT),
        "errors": errors,
    }
    await _db(c).commit()  # the audit entry of a sensitive search
    return await render(
        request, "core/people/organisations.html", context, status_code=form_status(request, bool(errors))
    )


@get("/organisations/export", guards=[requires(ORG_VIEW)])
async def organisation_export(
    request: Request, q: FromQuery[str | None] = None, kind: FromQuery[str | None] = None
) -> Any:
    c = ctx(request)
    listing = await _listing(request, q or "", kind or "")
    if listing.errors:
        raise ValidationException("; ".join(listing.errors.values()))
    out = await register.export_rows(_db(c), vault(request), c, listing, c.locale)
    await _db(c).commit()
    headers = [_("Kind"), _("Name"), _("Credit code"), _("Contact"), _("Contact phone"), _("Address"), _("Area")]
    title = _("Organisations")
    return excel_response(title + "-" + date.today().isoformat(), title, headers, out)


def _org_form(data: dict[str, Any]) -> dict[str, str]:
    return {k: _text(data, k) for k in register.FORM_FIELDS}


async def _check_org(
    request: Request, form: dict[str, str], own: Organisation | None
) -> tuple[dict[str, Any], dict[str, str]]:
    c = ctx(request)
    return await register.check_org(_db(c), c, form, _int(form["node"]), own)


async def _org_page(request: Request, org: Organisation | None, form: dict[str, str], **extra: Any) -> Any:
    c = ctx(request)
    nodes = await places.nodes_by_id(_db(c), [org.node_path] if org else [])
    can_edit = c.can(ORG_EDIT) if org is None else allowed(c, ORG_EDIT, org.node_path)
    context = {
        "org": org,
        "row": register.org_row(org, nodes, c.locale) if org else None,
        "form": form,
        "errors": {},
        "summary": None,
        "message": None,
        "can_edit": can_edit,
        "kinds": {k: _(label) for k, label in register.ORG_KIND_LABELS.items()},
        "node_options": await places.node_options(_db(c), c, ORG_EDIT, c.locale) if can_edit else [],
        **extra,
    }
    status = form_status(request, bool(context["errors"]))
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
    register.apply_org(org, form, clean, vault(request))
    _db(c).add(org)
    await _db(c).commit()
    return Redirect(c.url(f"/organisations/{org.id}"), status_code=303)


async def _org_or_404(request: Request, org_id: int) -> Organisation:
    c = ctx(request)
    org = await register.find_visible(_db(c), c, org_id)
    if org is None:
        raise NotFoundException()
    return org


@get("/organisations/{org_id:int}", guards=[requires(ORG_VIEW)])
async def organisation_detail(request: Request, org_id: FromPath[int]) -> Any:
    org = await _org_or_404(request, org_id)
    return await _org_page(request, org, register.org_values(org))


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
    register.apply_org(org, form, clean, vault(request))
    await _db(c).commit()
    return await _org_page(request, org, register.org_values(org), message=_("The organisation has been saved."))


handlers = [
    organisation_list,
    organisation_export,
    organisation_new,
    organisation_create,
    organisation_detail,
    organisation_save,
]
