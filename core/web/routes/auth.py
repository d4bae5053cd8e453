"""Sign in and out of a tenant, with throttling, session rotation and an audit entry."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core.audit import record
from core.i18n import gettext as _
from core.identity.models import User
from core.identity.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password
from core.identity.sessions import EPOCH_KEY
from core.identity.store import ROTATE
from core.web.context import ctx
from core.web.csrf import mark_signed_in
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import public
from core.web.proxies import client_host
from core.web.render import render
from core.web.routes import second_factor


def safe_next(request: Request, target: str | None) -> str:
    """Only redirect inside this tenant (no open redirect)."""
    base = ctx(request).url("/")
    if target and target.startswith(base.rstrip("/") + "/") and not target.startswith("//"):
        return target
    return base


def too_many(wait: float) -> tuple[str, int, dict[str, str]]:
    """The brake's answer: how long to wait, in words and in Retry-After."""
    seconds = max(1, math.ceil(wait))
    if seconds >= 120:
        message = _("Too many failed attempts. Try again in %(n)s minutes.", n=math.ceil(seconds / 60))
    else:
        message = _("Too many failed attempts. Try again in %(n)s seconds.", n=seconds)
    return message, 429, {"Retry-After": str(seconds)}


async def login_context(request: Request, target: str, username: str = "") -> dict[str, Any]:
    """What the login page shows besides the form: resident sign-up and the identity providers
    that take their credentials on the page (the development one in the demo)."""
    from core.services.accounts import providers

    c = ctx(request)
    found = await providers(request.app.state.plugins, c.enabled)
    return {
        "next": target,
        "error": None,
        "username": username,
        "providers": [p for p in found.values() if getattr(p, "form_fields", None)],
    }


@get("/login", guards=[public])
async def login_page(request: Request, rc: Ctx, next: FromQuery[str | None] = None) -> Any:
    if rc.user is not None:
        return Redirect(safe_next(request, next))
    return await render(request, "core/login.html", await login_context(request, next or ""), block=None)


@post("/login", guards=[public], status_code=200)
async def login(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    assert rc.tenant is not None
    username = str(data.get("username", "")).strip()
    password = str(data.get("password", ""))
    target = str(data.get("next", ""))
    brake = request.app.state.login_brake
    limits = brake.limits(f"t{rc.tenant.id}", username, client_host(request.scope))

    async def fail(message: str, status: int = 400, headers: dict[str, str] | None = None) -> Any:
        return await render(
            request,
            "core/login.html",
            {**await login_context(request, target, username), "error": message},
            status_code=status,
            block=None,
            headers=headers,
        )

    if not rc.tenant.active:
        return await fail(_("This district is suspended. Please contact the platform operator."), 503)
    wait = await brake.wait(limits)
    if wait > 0:
        return await fail(*too_many(wait))
    user = (await db.execute(select(User).where(User.username == username))).scalar_one_or_none()
    if user is None and username.isdigit():  # a resident signs in with the mobile number they signed up with
        user = await _by_phone(request, username)
    ok = verify_password(user.password_hash if user else DUMMY_HASH, password) and user is not None
    if not ok or user is None or not user.is_active:
        await brake.failed(limits)
        async with request.app.state.db.transaction(rc.tenant.id) as s:
            record(s, "auth.login_failed", "users", user.id if user else None, {"username": username})
        return await fail(_("Wrong username or password."))
    await brake.succeeded(limits)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    step = await second_factor.after_password(request, second_factor.TENANT, user, target)
    if step is not None:
        await db.commit()
        return step
    return await finish_login(request, user, target)


async def _by_phone(request: Request, phone: str) -> User | None:
    from core.services.accounts import account_by_phone
    from core.services.errors import ServiceError

    c = ctx(request)
    assert c.db is not None
    try:
        account = await account_by_phone(c.db, request.app.state.vault, phone)
    except ServiceError:
        return None
    if account is None:
        return None
    return (await c.db.execute(select(User).where(User.id == account.user_id))).scalar_one_or_none()


async def finish_login(request: Request, user: User, target: str) -> Redirect:
    """Password (and second factor, where there is one) checked: open the session."""
    c = ctx(request)
    assert c.tenant is not None and c.db is not None
    user.last_login_at = datetime.now(UTC)
    record(c.db, "auth.login", "users", user.id, {"username": user.username})
    await c.db.commit()
    # A fresh session id at login defeats session fixation; a CSRF token is minted for it.
    request.scope[ROTATE] = True  # type: ignore[literal-required]
    mark_signed_in(request.scope)
    request.clear_session()
    request.set_session(
        {"tid": c.tenant.id, "uid": user.id, "locale": user.locale or c.tenant.locale, EPOCH_KEY: user.session_epoch}
    )
    dest = safe_next(request, target)
    if request.headers.get("hx-request"):
        return Redirect(dest, headers={"HX-Redirect": dest}, status_code=303)
    return Redirect(dest, status_code=303)


@post("/logout", guards=[public])
async def logout(request: Request, db: DbSession, rc: Ctx) -> Redirect:
    if rc.user is not None and db is not None:
        record(db, "auth.logout", "users", rc.user.id)
        await db.commit()
    request.clear_session()
    return Redirect(rc.url("/login"), status_code=303)


handlers = [login_page, login, logout]
