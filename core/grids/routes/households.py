"""Households (户): the page with floor area, usage, owners and residents; saving it; owners
added and removed. A household outside the user's scope answers 404; the rules are
core/grids/households.py's."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery

from core.grids import households as register
from core.grids import people, places
from core.grids import residents as resident_register
from core.grids.access import HOUSEHOLD_EDIT, VIEW
from core.grids.models import GridNode
from core.grids.routes.common import db as _db
from core.grids.routes.common import form_status, fragment, may_change, visible_or_404
from core.i18n import gettext as _
from core.web.context import ctx
from core.web.forms import Form
from core.web.forms import integer as _int
from core.web.forms import text as _text
from core.web.guards import requires
from core.web.render import render


async def _household_node(request: Request, node_id: int) -> GridNode:
    c = ctx(request)
    node = await places.household_node(_db(c), node_id)
    if node is None:
        raise NotFoundException()
    visible_or_404(c, VIEW, node.path)
    return node


async def _household_page(request: Request, node: GridNode, **extra: Any) -> Any:
    c = ctx(request)
    db = _db(c)
    household = await register.household_of(db, node)
    owners = await register.owners(db, c, household, node, c.locale) if household is not None else []
    residents = await register.residents_of(db, node)
    nodes = await places.nodes_by_id(db, [node.path])
    can_edit = c.can(HOUSEHOLD_EDIT, node.path)
    orgs, developers = await register.owner_choices(db, c) if can_edit else ([], [])
    context = {
        "node": node,
        "label": places.chain(node.path.removesuffix(f"{node.id}/"), nodes, c.locale, last=4),  # where it is
        "household": household,
        "owners": owners,
        "residents": [resident_register.resident_row(r, nodes, c.locale) for r in residents],
        "can_edit": can_edit,
        "usages": {k: _(label) for k, label in register.USAGES.items()},
        "owner_kinds": {k: _(label) for k, label in register.OWNER_KIND_LABELS.items()},
        "organisations": orgs,
        "developers": developers,
        "errors": {},
        "form": {},
        "message": None,
        **extra,
    }
    return await render(
        request, "core/people/household.html", context, status_code=form_status(request, bool(context["errors"]))
    )


@get("/households/{node_id:int}", guards=[requires(VIEW)])
async def household_detail(request: Request, node_id: FromPath[int]) -> Any:
    return await _household_page(request, await _household_node(request, node_id))


@post("/households/{node_id:int}", guards=[requires(HOUSEHOLD_EDIT)], status_code=200)
async def household_save(request: Request, node_id: FromPath[int], data: Form) -> Any:
    c = ctx(request)
    node = await _household_node(request, node_id)
    may_change(c, HOUSEHOLD_EDIT, node.path)
    form = {k: _text(data, k) for k in ("floor_area", "usage", "note")}
    errors: dict[str, str] = {}
    area, problem = register.parse_area(form["floor_area"])
    if problem:
        errors["floor_area"] = problem
    if form["usage"] not in register.USAGES:
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
    options = await register.owner_candidates(_db(c), c, (q or "").strip())
    return fragment(request, "core/people/_options.html", {"options": options, "selected": None})


@post("/households/{node_id:int}/owners", guards=[requires(HOUSEHOLD_EDIT)], status_code=200)
async def household_add_owner(request: Request, node_id: FromPath[int], data: Form) -> Any:
    c = ctx(request)
    db = _db(c)
    node = await _household_node(request, node_id)
    may_change(c, HOUSEHOLD_EDIT, node.path)
    form = {k: _text(data, k) for k in ("owner_kind", "resident_id", "organisation_id", "developer")}
    choice = await register.choose_owner(
        db, c, form["owner_kind"], _int(form["resident_id"]), _int(form["organisation_id"]), form["developer"]
    )
    if choice.errors:
        return await _household_page(request, node, errors=choice.errors, form=form)
    if not await register.add_owner(db, node, choice):  # both rows existed before: nothing was added
        return await _household_page(
            request,
            node,
            errors={"owner_kind": _("%(name)s already owns this household.", name=choice.name)},
            form=form,
        )
    await db.commit()
    return await _household_page(request, node, message=_("%(name)s has been added as an owner.", name=choice.name))


@post("/households/{node_id:int}/owners/{ownership_id:int}/remove", guards=[requires(HOUSEHOLD_EDIT)], status_code=200)
async def household_remove_owner(request: Request, node_id: FromPath[int], ownership_id: FromPath[int]) -> Any:
    c = ctx(request)
    db = _db(c)
    node = await _household_node(request, node_id)
    may_change(c, HOUSEHOLD_EDIT, node.path)
    if not await register.remove_owner(db, node, ownership_id):
        raise NotFoundException()
    await db.commit()
    return await _household_page(request, node, message=_("The ownership has been removed."))


handlers = [household_detail, household_save, owner_candidates, household_add_owner, household_remove_owner]
