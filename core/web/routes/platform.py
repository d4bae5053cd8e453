"""The platform operator area (/platform): sign-in, the tenant list and every tenant lifecycle action.

Operators stand above tenants: their pages run with no tenant bound (``opt={"area": "platform"}``),
per-tenant numbers are read through a session bound to that tenant, and the tenancy services do
the work (and write the tenants' own audit rows). Each operator action is also logged on the
``liuzhi.platform`` logger, since the platform itself has no audit table.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import func, select

from core import i18n
from core.db.base import new_id
from core.db.engine import Database
from core.grids.models import GridNode, NodeKind
from core.i18n import gettext as _
from core.identity.models import Operator
from core.identity.passwords import DUMMY_HASH, MIN_LENGTH, hash_password, needs_rehash, verify_password
from core.identity.sessions import EPOCH_KEY
from core.identity.store import ROTATE
from core.tenancy.models import ACTIVE, SUSPENDED, Tenant, TenantPlugin
from core.tenancy.service import SLUG, TenantError, create_tenant, delete_tenant, ensure_user, set_status
from core.tenancy.transfer import export_tenant, import_tenant
from core.web.context import ctx
from core.web.csrf import mark_signed_in
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import operator_only, public
from core.web.pagination import paginate
from core.web.proxies import client_host
from core.web.render import render
from core.web.routes import second_factor
from core.web.routes.auth import too_many

log = logging.getLogger("liuzhi.platform")

AREA = {"area": "platform"}
HOME = "/platform/"
PER_PAGE = 50
# An export carries every row and file of a district: allow far more than the default 10 MB body.
MAX_IMPORT_BYTES = 512 * 1024 * 1024
USERNAME_MAX = 64


def _safe_next(target: str | None) -> str:
    """Only back into the platform area (no open redirect)."""
    if target and target.startswith("/platform/") and not target.startswith("//"):
        return target
    return HOME


def _who(request: Request) -> str:
    op = ctx(request).operator
    return op.username if op is not None else "-"


def _flash(request: Request, message: str) -> None:
    """A one-time message shown on the next page (post → redirect → get)."""
    data = dict(request.session) if "session" in request.scope else {}
    data["flash"] = message
    request.set_session(data)


def _take_flash(request: Request) -> str | None:
    if "session" not in request.scope or "flash" not in request.session:
        return None
    data = dict(request.session)
    message = data.pop("flash")
    request.set_session(data)
    return str(message)


def _done(request: Request, message: str) -> Redirect:
    _flash(request, message)
    headers = {"HX-Redirect": HOME} if request.headers.get("hx-request") else None
    return Redirect(HOME, status_code=303, headers=headers)


async def _tenant_or_404(request: Request, slug: str) -> Tenant:
    c = ctx(request)
    assert c.db is not None
    tenant = (await c.db.execute(select(Tenant).where(Tenant.slug == slug))).scalar_one_or_none()
    if tenant is None:
        raise NotFoundException()
    return tenant


def _forget_tenant(request: Request, tenant_id: int | None = None) -> None:
    """Every process re-reads a tenant within a second; this one at once."""
    request.app.state.tenant_cache.clear()
    if tenant_id is not None:
        request.app.state.policies.pop(tenant_id, None)


# ---- sign in / out, language -----------------------------------------------------------------


async def _login_page(request: Request, *, error: str | None, username: str, next_: str, status: int) -> Any:
    ctx_vars = {"error": error, "username": username, "next": next_}
    return await render(request, "core/platform/login.html", ctx_vars, status_code=status, block=None)


@get("/platform/login", guards=[public], opt=AREA)
async def login_page(request: Request, rc: Ctx, next: FromQuery[str | None] = None) -> Any:
    if rc.operator is not None:
        return Redirect(_safe_next(next))
    return await _login_page(request, error=None, username="", next_=next or "", status=200)


@post("/platform/login", guards=[public], opt=AREA, status_code=200)
async def login(request: Request, data: Form, db: DbSession) -> Any:
    username = str(data.get("username", "")).strip()
    password = str(data.get("password", ""))
    target = str(data.get("next", ""))
    brake = request.app.state.login_brake
    address = client_host(request.scope)
    # No account-wide counter: the platform's operator cannot be locked out from outside.
    limits = brake.limits("platform", username, address, account_wide=False)
    wait = await brake.wait(limits)
    if wait > 0:
        log.warning("operator sign-in braked: %r from %s", username, address)
        message, status, headers = too_many(wait)
        response = await _login_page(request, error=message, username=username, next_=target, status=status)
        response.headers.update(headers)
        return response
    op = (await db.execute(select(Operator).where(Operator.username == username))).scalar_one_or_none()
    ok = verify_password(op.password_hash if op else DUMMY_HASH, password) and op is not None
    if not ok or op is None or not op.is_active:
        await brake.failed(limits)
        log.warning("operator sign-in failed: %r from %s", username, address)
        message = _("Wrong username or password.")
        return await _login_page(request, error=message, username=username, next_=target, status=400)
    await brake.succeeded(limits)
    if needs_rehash(op.password_hash):
        op.password_hash = hash_password(password)
        await db.commit()
    step = await second_factor.after_password(request, second_factor.PLATFORM, op, target)
    if step is not None:
        return step
    return await finish_operator_login(request, op, target)


async def finish_operator_login(request: Request, op: Operator, target: str) -> Redirect:
    c = ctx(request)
    assert c.db is not None
    await c.db.commit()
    log.info("operator %s signed in from %s", op.username, client_host(request.scope))
    locale = request.session.get("locale") if "session" in request.scope else None
    # A fresh session id at sign-in defeats session fixation; a tenant session is dropped with it.
    request.scope[ROTATE] = True  # type: ignore[literal-required]
    mark_signed_in(request.scope)
    request.clear_session()
    request.set_session({"op": op.id, EPOCH_KEY: op.session_epoch, **({"locale": locale} if locale else {})})
    dest = _safe_next(target)
    headers = {"HX-Redirect": dest} if request.headers.get("hx-request") else None
    return Redirect(dest, status_code=303, headers=headers)


@post("/platform/logout", guards=[operator_only], opt=AREA)
async def logout(request: Request) -> Redirect:
    log.info("operator %s signed out", _who(request))
    locale = request.session.get("locale")
    request.clear_session()
    if locale:
        request.set_session({"locale": locale})  # signing out keeps the chosen language
    return Redirect("/platform/login", status_code=303)


@post("/platform/locale", guards=[public], opt=AREA)
async def switch_locale(request: Request, data: Form) -> Redirect:
    """Operators have no account row for a language: the choice lives in the session."""
    session = dict(request.session) if "session" in request.scope else {}
    session["locale"] = i18n.normalise(str(data.get("locale", "")))
    request.set_session(session)
    return Redirect(_safe_next(str(data.get("next", ""))), status_code=303)


# ---- the tenant list -------------------------------------------------------------------------


async def _tenant_rows(request: Request, tenants: list[Tenant]) -> list[dict[str, Any]]:
    """Counts need a session bound to each tenant (the filter and RLS hide everything otherwise)."""
    from core.ops.usage import summary

    db: Database = request.app.state.db
    rows = []
    for t in tenants:
        async with db.session(t.id) as s:
            plugins = await s.scalar(select(func.count(TenantPlugin.id)).where(TenantPlugin.enabled.is_(True)))
        usage = await summary(db, t.id)
        rows.append({"tenant": t, "users": usage.users, "plugins": int(plugins or 0), "usage": usage})
    return rows


async def _index(
    request: Request,
    *,
    page: int = 1,
    status: int = 200,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    import_error: str | None = None,
    import_slug: str = "",
) -> Any:
    c = ctx(request)
    assert c.db is not None
    stmt = select(Tenant).order_by(Tenant.slug)
    result = await paginate(c.db, stmt, page, PER_PAGE)
    if result.number > result.pages:  # a page that emptied (e.g. after a delete): show the last one
        result = await paginate(c.db, stmt, result.pages, PER_PAGE)
    ctx_vars = {
        "page": result,
        "rows": await _tenant_rows(request, result.items),
        "form": form or {"locale": "zh_Hans"},
        "errors": errors or {},
        "error": error,
        "import_error": import_error,
        "import_slug": import_slug,
        "message": _take_flash(request) if status == 200 else None,
        "operator": c.operator,
        "locales": i18n.LOCALE_NAMES,
        "min_password": MIN_LENGTH,
        "ACTIVE": ACTIVE,
    }
    return await render(request, "core/platform/index.html", ctx_vars, status_code=status)


@get("/platform/", guards=[operator_only], opt=AREA)
async def index(request: Request, page: FromQuery[int] = 1) -> Any:
    return await _index(request, page=page)


# ---- create ----------------------------------------------------------------------------------


def _check_new_tenant(form: dict[str, str]) -> dict[str, str]:
    errors = {}
    if not SLUG.match(form["slug"]):
        errors["slug"] = _("2–63 characters: lower-case letters, digits and '-', starting with a letter or digit.")
    if not form["name_zh"]:
        errors["name_zh"] = _("The Chinese name is required.")
    if form["locale"] not in i18n.LOCALES:
        errors["locale"] = _("Choose a language from the list.")
    if not form["admin_username"] or len(form["admin_username"]) > USERNAME_MAX or " " in form["admin_username"]:
        errors["admin_username"] = _("1–%(n)s characters, no spaces.", n=USERNAME_MAX)
    if len(form["admin_password"]) < MIN_LENGTH:
        errors["admin_password"] = _("The password must have at least %(n)s characters.", n=MIN_LENGTH)
    return errors


async def _first_admin(db: Database, tenant: Tenant, username: str, password: str, actor: Any) -> None:
    """The district's root node and its first admin, who can then build the rest in the UI."""
    async with db.transaction(tenant.id, actor) as s:
        if not (await s.execute(select(NodeKind.id).where(NodeKind.code == "district"))).first():
            s.add(NodeKind(code="district", name_zh="区", name_en="District", level=0))
        root = GridNode(code=tenant.slug, kind="district", name=tenant.name_zh, name_en=tenant.name_en, depth=0)
        root.id = new_id()
        root.path = f"/{root.id}/"  # materialised path with a trailing slash, as in _apply_tree
        s.add(root)
        await s.flush()
        await ensure_user(s, username, username, password, "district_admin", root)


@post("/platform/tenants", guards=[operator_only], opt=AREA, status_code=200)
async def create(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    keys = ("slug", "name_zh", "name_en", "locale", "admin_username", "admin_password")
    form = {k: str(data.get(k, "")).strip() for k in keys}
    form["admin_password"] = str(data.get("admin_password", ""))  # spaces are part of a password
    form["slug"] = form["slug"].lower()
    errors = _check_new_tenant(form)
    if not errors and (await db.execute(select(Tenant.id).where(Tenant.slug == form["slug"]))).first():
        errors["slug"] = _("A district with this slug exists already.")
    if errors:
        return await _index(request, status=400, form=form, errors=errors)
    database: Database = request.app.state.db
    try:
        tenant = await create_tenant(
            database,
            request.app.state.plugins,
            form["slug"],
            form["name_zh"],
            form["name_en"],
            form["locale"],
            rc.actor,
        )
    except TenantError as exc:  # e.g. another operator took the slug a moment ago
        return await _index(request, status=400, form=form, errors={"slug": str(exc)})
    try:
        await _first_admin(database, tenant, form["admin_username"], form["admin_password"], rc.actor)
    except Exception:
        # All or nothing: a district without its admin would be unreachable, so take it away again.
        log.exception("operator %s: first admin of %s failed; removing the tenant", _who(request), tenant.slug)
        await _delete(request, tenant)
        return await _index(
            request, status=500, form=form, error=_("The district could not be created. Nothing was saved.")
        )
    _forget_tenant(request)
    log.info("operator %s created tenant %s with admin %s", _who(request), tenant.slug, form["admin_username"])
    return _done(request, _("District %(slug)s created; its admin can sign in now.", slug=tenant.slug))


# ---- suspend / resume, export, import, delete ------------------------------------------------


async def _set_status(request: Request, slug: str, status: str) -> Redirect:
    tenant = await _tenant_or_404(request, slug)
    await set_status(request.app.state.db, tenant, status, ctx(request).actor)
    _forget_tenant(request, tenant.id)
    log.info("operator %s set tenant %s %s", _who(request), slug, status)
    if status == SUSPENDED:
        return _done(request, _("District %(slug)s is suspended: nobody can sign in there.", slug=slug))
    return _done(request, _("District %(slug)s is active again.", slug=slug))


@post("/platform/tenants/{slug:str}/suspend", guards=[operator_only], opt=AREA)
async def suspend(request: Request, slug: FromPath[str]) -> Redirect:
    return await _set_status(request, slug, SUSPENDED)


@post("/platform/tenants/{slug:str}/resume", guards=[operator_only], opt=AREA)
async def resume(request: Request, slug: FromPath[str]) -> Redirect:
    return await _set_status(request, slug, ACTIVE)


@get("/platform/tenants/{slug:str}/export", guards=[operator_only], opt=AREA)
async def export(request: Request, slug: FromPath[str]) -> Response[bytes]:
    tenant = await _tenant_or_404(request, slug)
    data = await export_tenant(request.app.state.db, tenant.slug, request.app.state.storage)
    filename = f"{tenant.slug}-{datetime.now(UTC):%Y-%m-%d}.json.gz"
    log.info("operator %s exported tenant %s (%s bytes)", _who(request), slug, len(data))
    return Response(
        data,
        media_type="application/gzip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@post("/platform/import", guards=[operator_only], opt=AREA, status_code=200, request_max_body_size=MAX_IMPORT_BYTES)
async def import_(request: Request) -> Any:
    form = await request.form()
    upload = form.get("file")
    new_slug = str(form.get("new_slug") or "").strip().lower()

    async def refuse(message: str) -> Any:
        return await _index(request, status=400, import_error=message, import_slug=new_slug)

    if not isinstance(upload, UploadFile) or not upload.filename:
        return await refuse(_("Choose an export file (.json.gz) to import."))
    if new_slug and not SLUG.match(new_slug):
        return await refuse(_("The new slug: 2–63 characters, lower-case letters, digits and '-'."))
    raw = await upload.read()
    try:
        tenant = await import_tenant(request.app.state.db, raw, request.app.state.storage, new_slug or None)
    except TenantError as exc:
        log.warning("operator %s: import of %s refused: %s", _who(request), upload.filename, exc)
        return await refuse(_("The file was not imported: %(reason)s", reason=str(exc)))
    except (KeyError, TypeError, AttributeError, ValueError) as exc:  # a .json.gz of some other shape
        log.warning("operator %s: import of %s failed: %r", _who(request), upload.filename, exc)
        return await refuse(_("The file was not imported: it is not a Liuzhi district export."))
    _forget_tenant(request, tenant.id)
    log.info("operator %s imported tenant %s from %s", _who(request), tenant.slug, upload.filename)
    return _done(request, _("District %(slug)s imported.", slug=tenant.slug))


async def _delete(request: Request, tenant: Tenant) -> dict[str, int]:
    settings = request.app.state.settings
    # Deleting goes through the owner role: the app role may not delete audit rows.
    owner = Database(settings.owner_url)
    try:
        counts = await delete_tenant(request.app.state.db, owner, tenant, request.app.state.storage)
    finally:
        await owner.dispose()
    _forget_tenant(request, tenant.id)
    return counts


@post("/platform/tenants/{slug:str}/delete", guards=[operator_only], opt=AREA, status_code=200)
async def delete(request: Request, slug: FromPath[str], data: Form) -> Any:
    tenant = await _tenant_or_404(request, slug)
    if str(data.get("confirm", "")).strip() != tenant.slug:
        message = _("Not deleted: type the slug %(slug)s to confirm.", slug=tenant.slug)
        return await _index(request, status=400, error=message)
    counts = await _delete(request, tenant)
    log.info("operator %s deleted tenant %s (%s rows)", _who(request), slug, sum(counts.values()))
    return _done(request, _("District %(slug)s and all its data have been deleted.", slug=slug))


handlers: list[Any] = [
    login_page,
    login,
    logout,
    switch_locale,
    index,
    create,
    suspend,
    resume,
    export,
    import_,
    delete,
]
