"""The organisation register (驻区单位, 社会组织, 物业企业, 党组织): the scoped, filtered query, a
row as lists show it, the export policy (contact phones in full only where the user may reveal;
audited), and the checks of the form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.crypto import Vault
from core.grids import people, search_policy
from core.grids import validation as v
from core.grids.access import ORG_EDIT, ORG_VIEW, REVEAL, Viewer, allowed, scoped
from core.grids.basedata import ORG_KINDS, Organisation
from core.grids.models import GridNode
from core.grids.places import HOUSEHOLD, chain, nodes_by_id
from core.grids.residents import Listing
from core.i18n import gettext as _
from core.i18n import lazy

ORG_KIND_LABELS = {
    "resident_unit": lazy("Resident unit"),  # 驻区单位
    "social_org": lazy("Social organisation"),  # 社会组织
    "property_company": lazy("Property company"),  # 物业企业
    "party_org": lazy("Party organisation"),  # 党组织
}
FORM_FIELDS = ("kind", "name", "credit_code", "contact_name", "contact_phone", "address", "node")


def org_row(o: Organisation, nodes: dict[int, GridNode], locale: str) -> dict[str, Any]:
    return {
        "o": o,
        "kind": _(ORG_KIND_LABELS.get(o.kind, o.kind)),
        "node": chain(o.node_path, nodes, locale, last=2),
        "node_full": chain(o.node_path, nodes, locale),
    }


async def org_query(
    session: AsyncSession, vault: Vault, viewer: Viewer, searcher: search_policy.Searcher, q: str, kind: str
) -> Listing:
    filters = {"q": q.strip(), "kind": kind.strip() if kind.strip() in ORG_KINDS else ""}
    stmt = select(Organisation).where(scoped(Organisation.node_path, viewer.scope_prefixes(ORG_VIEW)))
    found = await search_policy.organisation_criteria(session, vault, searcher, filters["q"])
    errors = {"q": _(found.error)} if found.error else {}
    if found.where is not None:
        stmt = stmt.where(found.where)
    if filters["kind"]:
        stmt = stmt.where(Organisation.kind == filters["kind"])
    if errors:
        stmt = stmt.where(Organisation.id.is_(None))  # a refused search shows nothing
    return Listing(stmt.order_by(Organisation.kind, Organisation.name, Organisation.id), filters, errors)


async def export_rows(
    session: AsyncSession, vault: Vault, viewer: Viewer, listing: Listing, locale: str
) -> list[list[Any]]:
    """The export's rows, contact phones in full where the user may reveal; audited."""
    rows = (await session.execute(listing.stmt)).scalars().all()
    nodes = await nodes_by_id(session, [o.node_path for o in rows])
    revealed = 0
    out = []
    for o in rows:
        phone = o.contact_phone_masked or ""
        if o.contact_phone_enc is not None and allowed(viewer, REVEAL, o.node_path):
            phone = vault.decrypt(o.contact_phone_enc, people.PHONE_PURPOSE.encode())
            revealed += 1
        row = org_row(o, nodes, locale)
        out.append([row["kind"], o.name, o.credit_code or "", o.contact_name, phone, o.address, row["node_full"]])
    record(
        session,
        "organisation.export",
        "organisations",
        None,
        {"rows": len(out), "revealed": revealed, **listing.filters},
    )
    return out


async def find_visible(session: AsyncSession, viewer: Viewer, org_id: int) -> Organisation | None:
    """The organisation if the user may see it; None also when it lies outside their scope."""
    org = (await session.execute(select(Organisation).where(Organisation.id == org_id))).scalar_one_or_none()
    if org is None or not allowed(viewer, ORG_VIEW, org.node_path):
        return None
    return org


def _checked(form: dict[str, str], key: str, check: Callable[[str], str], errors: dict[str, str]) -> str | None:
    """A form field through its validator: None when blank; the validator's refusal, translated, is
    the field's problem (and the value None)."""
    if not form[key]:
        return None
    try:
        return check(form[key])
    except v.InvalidValue as exc:
        errors[key] = _(str(exc))
        return None


async def check_org(
    session: AsyncSession, viewer: Viewer, form: dict[str, str], node_id: int | None, own: Organisation | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's values made clean (credit code, phone, node), and its problems (translated)."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if form["kind"] not in ORG_KINDS:
        errors["kind"] = _("Choose a kind from the list.")
    if not form["name"]:
        errors["name"] = _("A name is required.")
    elif len(form["name"]) > 200:
        errors["name"] = _("At most %(n)s characters.", n=200)
    clean["credit_code"] = _checked(form, "credit_code", v.check_credit_code, errors)
    if clean["credit_code"]:
        other = (
            await session.execute(select(Organisation).where(Organisation.credit_code == clean["credit_code"]))
        ).scalar_one_or_none()
        if other is not None and (own is None or other.id != own.id):
            if allowed(viewer, ORG_VIEW, other.node_path):
                errors["credit_code"] = _("%(name)s is already registered with this code.", name=other.name)
            else:
                errors["credit_code"] = _("This code is already registered elsewhere in the district.")
    if len(form["contact_name"]) > 50:
        errors["contact_name"] = _("At most %(n)s characters.", n=50)
    clean["contact_phone"] = _checked(form, "contact_phone", v.check_phone, errors)
    if len(form["address"]) > 300:
        errors["address"] = _("At most %(n)s characters.", n=300)
    node = (await session.execute(select(GridNode).where(GridNode.id == (node_id or 0)))).scalar_one_or_none()
    if node is None or node.kind == HOUSEHOLD or not viewer.can(ORG_EDIT, node.path):
        errors["node"] = _("Choose an area from the list.")
    clean["node"] = node
    return clean, errors


def apply_org(org: Organisation, form: dict[str, str], clean: dict[str, Any], vault: Vault) -> None:
    org.kind, org.name, org.credit_code = form["kind"], form["name"], clean["credit_code"]
    org.contact_name, org.address = form["contact_name"], form["address"]
    org.node_id, org.node_path = clean["node"].id, clean["node"].path
    if clean["contact_phone"]:  # blank on an edit keeps the stored number
        set_contact_phone(org, clean["contact_phone"], vault)


def set_contact_phone(org: Organisation, phone: str, vault: Vault) -> None:
    """Store a checked phone as the register keeps it: encrypted, blind-indexed for search, masked
    for lists (the form and the demo bundle's import both write it so)."""
    org.contact_phone_enc = vault.encrypt(phone, people.PHONE_PURPOSE.encode())
    org.contact_phone_hash = vault.blind_index(phone, people.PHONE_PURPOSE)
    org.contact_phone_masked = v.mask_phone(phone)


def org_values(org: Organisation) -> dict[str, str]:
    """The form as an edit opens it (a stored phone is never put back in a form)."""
    return {
        "kind": org.kind,
        "name": org.name,
        "credit_code": org.credit_code or "",
        "contact_name": org.contact_name,
        "contact_phone": "",
        "address": org.address,
        "node": str(org.node_id or ""),
    }
