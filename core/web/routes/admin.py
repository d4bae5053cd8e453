"""District admin pages: the district's names, locale, terms and branding (/admin/); plugins on/off
and their settings (/admin/plugins); the tenant's audit log (/admin/audit)."""

from __future__ import annotations

import json
import logging
import re
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core import i18n
from core.audit import AuditEntry, record
from core.i18n import gettext as _
from core.pluginhost.manifest import Manifest
from core.tenancy.models import Tenant, TenantPlugin
from core.tenancy.service import set_plugin, validate_settings
from core.web import settings_form as sf
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.forms import text as _text
from core.web.guards import requires
from core.web.pagination import paginate
from core.web.render import is_htmx, render, render_string

log = logging.getLogger("liuzhi.admin")

VIEW = "core.admin.view"
TENANT = "core.admin.tenant"
PLUGINS = "core.admin.plugins"
AUDIT = "core.admin.audit"

LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # dates typed into the audit filter are the district's dates
TERM_KEY = re.compile(r"^[a-z_]{1,40}$")
TERM_MAX = 20
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
NAME_MAX = 200
MOTTO_MAX = 60


# ---- the district: names, locale, terminology, branding -----------------------------------------


def terminology_text(terms: dict[str, str]) -> str:
    return "\n".join(f"{k} = {v}" for k, v in terms.items())


def parse_terminology(text: str) -> tuple[dict[str, str], str | None]:
    """``key = value`` lines → dict; the first bad line is the error (nothing is half-applied)."""
    terms: dict[str, str] = {}
    for no, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            return {}, _("Line %(n)s: write key = value.", n=no)
        if not TERM_KEY.match(key):
            return {}, _("Line %(n)s: the key may use only the letters a–z and _.", n=no)
        if len(value) > TERM_MAX:
            return {}, _("Line %(n)s: at most %(max)s characters after =.", n=no, max=TERM_MAX)
        if key in terms:
            return {}, _("Line %(n)s: %(key)s is given twice.", n=no, key=key)
        terms[key] = value
    return terms, None


def _tenant_form(tenant: Tenant) -> dict[str, str]:
    return {
        "name_zh": tenant.name_zh,
        "name_en": tenant.name_en,
        "locale": tenant.locale,
        "terminology": terminology_text(tenant.terminology or {}),
        "primary_color": str((tenant.branding or {}).get("primary_color", "")),
        "motto": str((tenant.branding or {}).get("motto", "")),
        "require_second_factor": "1" if tenant.require_second_factor else "",
    }


def check_tenant_form(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Submitted strings → (clean values, errors by field)."""
    errors: dict[str, str] = {}
    if not form["name_zh"]:
        errors["name_zh"] = _("The Chinese name is required.")
    elif len(form["name_zh"]) > NAME_MAX:
        errors["name_zh"] = _("At most %(hi)s characters.", hi=NAME_MAX)
    if len(form["name_en"]) > NAME_MAX:
        errors["name_en"] = _("At most %(hi)s characters.", hi=NAME_MAX)
    if form["locale"] not in i18n.LOCALES:
        errors["locale"] = _("Choose a language from the list.")
    terms, term_error = parse_terminology(form["terminology"])
    if term_error:
        errors["terminology"] = term_error
    if form["primary_color"] and not COLOR.match(form["primary_color"]):
        errors["primary_color"] = _("Write the colour as # and six hex digits, e.g. #b3261e.")
    if len(form["motto"]) > MOTTO_MAX:
        errors["motto"] = _("At most %(hi)s characters.", hi=MOTTO_MAX)
    clean = {
        "name_zh": form["name_zh"],
        "name_en": form["name_en"],
        "locale": form["locale"],
        "terminology": terms,
        "primary_color": form["primary_color"].lower(),
        "motto": form["motto"],
        "require_second_factor": form.get("require_second_factor") == "1",
    }
    return clean, errors


async def _overview(
    request: Request, form: dict[str, str] | None = None, errors: dict[str, str] | None = None, saved: bool = False
) -> Any:
    c = ctx(request)
    assert c.tenant is not None
    host = request.app.state.plugins
    context = {
        "t": c.tenant,
        "form": form or _tenant_form(c.tenant),
        "errors": errors or {},
        "message": _("The district settings have been saved.") if saved else None,
        "locales": i18n.LOCALE_NAMES,
        "plugins_on": len(c.enabled),
        "plugins_installed": len(host.manifests),
        "term_max": TERM_MAX,
        "motto_max": MOTTO_MAX,
    }
    return await render(request, "core/admin/index.html", context, status_code=400 if errors else 200)


@get("/admin/", guards=[requires(VIEW, "core.admin.users", "core.admin.roles", AUDIT, PLUGINS)])
async def admin_index(request: Request, saved: FromQuery[str | None] = None) -> Any:
    return await _overview(request, saved=bool(saved))


@post("/admin/tenant", guards=[requires(TENANT)], status_code=200)
async def save_tenant(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    assert rc.tenant is not None
    form = {
        k: _text(data, k) for k in ("name_zh", "name_en", "locale", "primary_color", "motto", "require_second_factor")
    }
    form["terminology"] = str(data.get("terminology", ""))
    clean, errors = check_tenant_form(form)
    if errors:
        return await _overview(request, form=form, errors=errors)
    # The tenant row is platform-owned (no tenant filter); the audit entry is the tenant's and
    # goes in the same transaction, so both are saved or neither.
    row = await db.get(Tenant, rc.tenant.id)
    assert row is not None
    branding = dict(row.branding or {})
    for key in ("primary_color", "motto"):
        if clean[key]:
            branding[key] = clean[key]
        else:
            branding.pop(key, None)
    kept = ("name_zh", "name_en", "locale", "terminology", "require_second_factor")
    new = {**{k: clean[k] for k in kept}, "branding": branding}
    changes = {k: [getattr(row, k), v] for k, v in new.items() if getattr(row, k) != v}
    if changes:
        for key, (_old, value) in changes.items():
            setattr(row, key, value)
        record(db, "tenant.settings", "tenants", row.id, changes)
        await db.commit()
        request.app.state.tenant_cache.clear()
    return Redirect(rc.url("/admin/?saved=1"), status_code=303)


# ---- plugins ------------------------------------------------------------------------------------


def _manifest_or_404(request: Request, name: str) -> Manifest:
    manifest = request.app.state.plugins.manifests.get(name)
    if manifest is None:
        raise NotFoundException()
    return manifest


async def _plugin_rows(request: Request) -> dict[str, TenantPlugin]:
    c = ctx(request)
    assert c.db is not None
    stmt = select(TenantPlugin).execution_options(populate_existing=True)  # fresh after set_plugin
    return {r.plugin: r for r in (await c.db.execute(stmt)).scalars()}


def _card(
    request: Request,
    manifest: Manifest,
    row: TenantPlugin | None,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    summary: str | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    c = ctx(request)
    fields = sf.fields_of(manifest.settings)
    en = c.locale.startswith("en")
    return {
        "name": manifest.name,
        "title": manifest.title(c.locale),
        "pillar": manifest.pillar,
        "version": manifest.version,
        "icon": manifest.icon,
        "description": (manifest.description_en if en else manifest.description_zh) or manifest.description_zh,
        "enabled": bool(row and row.enabled),
        "fields": fields,
        "values": sf.display_values(fields, (row.settings if row else None) or {}, form),
        "errors": errors or {},
        "summary": summary,
        "message": message,
        "open": bool(errors or summary or message),
        "toggle_url": c.url(f"/admin/plugins/{manifest.name}/toggle"),
        "settings_url": c.url(f"/admin/plugins/{manifest.name}/settings"),
    }


async def _plugins_page(request: Request, override: dict[str, Any] | None = None, status: int = 200) -> Any:
    host = request.app.state.plugins
    rows = await _plugin_rows(request)
    cards = [
        override if override and override["name"] == name else _card(request, host.manifests[name], rows.get(name))
        for name in host.names
    ]
    return await render(request, "core/admin/plugins.html", {"cards": cards, "broken": host.broken}, status_code=status)


def _card_fragment(request: Request, card: dict[str, Any]) -> Response[str]:
    c = ctx(request)
    html = render_string(request, "core/admin/plugin_card.html", {"card": card, "c": c, "locale": c.locale})
    return Response(html, media_type="text/html")


async def _answer(request: Request, card: dict[str, Any], status: int = 200) -> Any:
    """htmx swaps the card (htmx does not swap 4xx bodies, so always 200); a browser gets the page."""
    if is_htmx(request):
        return _card_fragment(request, card)
    if status == 200 and not card["open"]:
        return Redirect(ctx(request).url(f"/admin/plugins#plugin-{card['name']}"), status_code=303)
    return await _plugins_page(request, card, status)


@get("/admin/plugins", guards=[requires(PLUGINS)])
async def plugins_page(request: Request) -> Any:
    return await _plugins_page(request)


@post("/admin/plugins/{name:str}/toggle", guards=[requires(PLUGINS)], status_code=200)
async def toggle_plugin(request: Request, name: FromPath[str], data: Form, db: DbSession, rc: Ctx) -> Any:
    assert rc.tenant is not None
    manifest = _manifest_or_404(request, name)
    wanted = sf.is_checked(data.get("enabled"))
    row = (await _plugin_rows(request)).get(name)
    was = bool(row and row.enabled)
    if wanted != was:
        await db.commit()  # end the request session's transaction: set_plugin opens its own
        try:
            await set_plugin(request.app.state.db, request.app.state.plugins, rc.tenant, name, wanted, actor=rc.actor)
        except Exception:
            log.exception("switching plugin %s for tenant %s failed", name, rc.tenant.slug)
            card = _card(request, manifest, row, summary=_("The plugin could not be switched; nothing was changed."))
            return await _answer(request, card, 500)
        # The row-level entry only says "enabled false → true" on a row id: name the plugin too.
        record(db, "plugin.enable" if wanted else "plugin.disable", "plugins", name, {"plugin": name})
        await db.commit()
        request.app.state.tenant_cache.clear()
        row = (await _plugin_rows(request)).get(name)
    return await _answer(request, _card(request, manifest, row))


@post("/admin/plugins/{name:str}/settings", guards=[requires(PLUGINS)], status_code=200)
async def save_plugin_settings(request: Request, name: FromPath[str], data: Form, db: DbSession, rc: Ctx) -> Any:
    assert rc.tenant is not None
    manifest = _manifest_or_404(request, name)
    host = request.app.state.plugins
    fields = sf.fields_of(manifest.settings)
    row = (await _plugin_rows(request)).get(name)
    known = {f.name for f in fields}
    saved = {k: v for k, v in ((row.settings if row else None) or {}).items() if k in known}
    fallback = {**{f.name: f.default for f in fields if not f.required}, **saved}
    values, errors = sf.coerce(data, fields)
    clean, more, other = sf.validate(
        {**saved, **{k: v for k, v in values.items() if k not in errors}},
        fields,
        lambda d: validate_settings(host, name, d),
        fallback,
    )
    errors = {**more, **errors}
    if errors or other is not None or clean is None:
        summary = _("Nothing was saved: please correct the marked fields.") if errors else None
        if other is not None:
            summary = _("Nothing was saved: %(reason)s", reason=other)
        card = _card(request, manifest, row, form=data, errors=errors, summary=summary)
        return await _answer(request, card, 400)
    before = {f.name: saved.get(f.name, f.default) for f in fields}
    enabled = bool(row and row.enabled)
    await db.commit()  # end the request session's transaction: set_plugin opens its own
    await set_plugin(request.app.state.db, host, rc.tenant, name, enabled, clean, actor=rc.actor)
    diff = {k: [before.get(k), v] for k, v in clean.items() if before.get(k) != v}
    if diff:
        record(db, "plugin.settings", "plugins", name, {"plugin": name, **diff})
        await db.commit()
        request.app.state.tenant_cache.clear()
    row = (await _plugin_rows(request)).get(name)
    return await _answer(request, _card(request, manifest, row, message=_("The settings have been saved.")))


# ---- audit log ----------------------------------------------------------------------------------

CHANGES_KEYS = 8
CHANGES_WIDTH = 80


def compact_changes(changes: Any) -> list[tuple[str, str]]:
    """A few short ``key: json`` lines (values already masked where sensitive)."""

    def short(value: Any) -> str:
        text = json.dumps(value, ensure_ascii=False, default=str)
        return text if len(text) <= CHANGES_WIDTH else text[: CHANGES_WIDTH - 1] + "…"

    if not isinstance(changes, dict):
        return [("", short(changes))] if changes else []
    items = list(changes.items())
    lines = [(str(k), short(v)) for k, v in items[:CHANGES_KEYS]]
    if len(items) > CHANGES_KEYS:
        lines.append(("…", _("%(n)s more", n=len(items) - CHANGES_KEYS)))
    return lines


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def audit_terms(request: Request) -> dict[str, Any]:
    from core.audit.wording import collect_terms

    return collect_terms(request.app.state.plugins.call_sync("audit_terms"))


def _audit_filters(
    action: str | None,
    actor: str | None,
    what: str | None,
    object_type: str | None,
    date_from: str | None,
    date_to: str | None,
) -> dict[str, str]:
    return {
        "action": (action or "").strip()[:120],
        "actor": (actor or "").strip()[:100],
        "what": (what or "").strip()[:120],
        "object_type": (object_type or "").strip()[:120],
        "date_from": (date_from or "").strip(),
        "date_to": (date_to or "").strip(),
    }


def _audit_statement(filters: dict[str, str], errors: dict[str, str]) -> Any:
    from sqlalchemy import or_

    from core.identity.models import User

    stmt = select(AuditEntry)
    if filters["action"]:
        stmt = stmt.where(AuditEntry.action.startswith(filters["action"], autoescape=True))
    if filters["actor"]:
        # By the name people know (display name) or the sign-in name the entry keeps.
        named = select(User.id).where(User.display_name.icontains(filters["actor"], autoescape=True))
        stmt = stmt.where(
            or_(AuditEntry.actor_name.icontains(filters["actor"], autoescape=True), AuditEntry.actor_id.in_(named))
        )
    if filters["what"]:  # a kind of object (its table) or a named action
        stmt = stmt.where(or_(AuditEntry.object_type == filters["what"], AuditEntry.action == filters["what"]))
    if filters["object_type"]:
        stmt = stmt.where(AuditEntry.object_type == filters["object_type"])
    for key in ("date_from", "date_to"):
        if not filters[key]:
            continue
        day = _day(filters[key])
        if day is None:
            errors[key] = _("Use a date like 2025-01-31.")
            continue
        if key == "date_from":
            stmt = stmt.where(AuditEntry.at >= datetime.combine(day, time.min, LOCAL_TZ))
        else:
            stmt = stmt.where(AuditEntry.at < datetime.combine(day + timedelta(days=1), time.min, LOCAL_TZ))
    return stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


@get("/admin/audit", guards=[requires(AUDIT)])
async def audit_page(
    request: Request,
    db: DbSession,
    rc: Ctx,
    action: FromQuery[str | None] = None,
    actor: FromQuery[str | None] = None,
    what: FromQuery[str | None] = None,
    object_type: FromQuery[str | None] = None,
    date_from: FromQuery[str | None] = None,
    date_to: FromQuery[str | None] = None,
    page: FromQuery[int] = 1,
) -> Any:
    from core.audit.wording import describe

    assert rc.tenant is not None
    filters = _audit_filters(action, actor, what, object_type, date_from, date_to)
    errors: dict[str, str] = {}
    result = await paginate(db, _audit_statement(filters, errors), page)
    query = urlencode({k: v for k, v in filters.items() if v})
    base = rc.url("/admin/audit") + "?" + (query + "&" if query else "")
    terms = audit_terms(request)
    described = await describe(db, rc.tenant.id, result.items, terms, rc.locale)
    rows = [
        {"entry": d.entry, "who": d.who, "role": d.role, "what": d.what, "changes": compact_changes(d.entry.changes)}
        for d in described
    ]
    kinds = sorted(((k, t.title(rc.locale)) for k, t in terms.items()), key=lambda kv: kv[1])
    context = {
        "rows": rows,
        "page": result,
        "filters": filters,
        "errors": errors,
        "base": base,
        "filtered": bool(query),
        "kinds": kinds,
        "export": rc.url("/admin/audit.xlsx") + ("?" + query if query else ""),
    }
    return await render(request, "core/admin/audit.html", context)


AUDIT_EXPORT_MAX = 10_000


@get("/admin/audit.xlsx", guards=[requires(AUDIT)])
async def audit_export(
    request: Request,
    db: DbSession,
    rc: Ctx,
    action: FromQuery[str | None] = None,
    actor: FromQuery[str | None] = None,
    what: FromQuery[str | None] = None,
    object_type: FromQuery[str | None] = None,
    date_from: FromQuery[str | None] = None,
    date_to: FromQuery[str | None] = None,
) -> Any:
    """The filtered log as a spreadsheet, newest first, at most ``AUDIT_EXPORT_MAX`` rows."""
    from core.audit.wording import describe
    from core.web.excel import excel_response

    assert rc.tenant is not None
    filters = _audit_filters(action, actor, what, object_type, date_from, date_to)
    errors: dict[str, str] = {}
    stmt = _audit_statement(filters, errors)
    if errors:
        from litestar.exceptions import ValidationException

        raise ValidationException(next(iter(errors.values())))
    entries = list((await db.execute(stmt.limit(AUDIT_EXPORT_MAX))).scalars())
    described = await describe(db, rc.tenant.id, entries, audit_terms(request), rc.locale)
    record(db, "audit.export", "audit_log", None, {"rows": len(entries), **{k: v for k, v in filters.items() if v}})
    await db.commit()
    rows = [
        (
            d.entry.at.astimezone(LOCAL_TZ).replace(tzinfo=None),
            d.who,
            d.role,
            d.what,
            "; ".join(f"{k}: {v}" if k else v for k, v in compact_changes(d.entry.changes)),
        )
        for d in described
    ]
    headers = [_("Time"), _("Who"), _("Role"), _("What"), _("Changes")]
    return excel_response(_("Audit log"), _("Audit log"), headers, rows)


handlers = [admin_index, save_tenant, plugins_page, toggle_plugin, save_plugin_settings, audit_page, audit_export]
