"""My account: language, password, API tokens for machine clients."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select

from core import i18n
from core.audit import record
from core.i18n import gettext as _
from core.i18n import lazy
from core.identity.models import ApiToken
from core.identity.passwords import MIN_LENGTH, hash_password, verify_password
from core.identity.sessions import end_sessions, keep_this_session
from core.web.context import ctx, hash_token
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import public, signed_in
from core.web.render import render

# Days an API token stays valid ("" = until revoked).
EXPIRY_CHOICES = {"30": lazy("30 days"), "90": lazy("90 days"), "365": lazy("One year"), "": lazy("Until revoked")}


def _same_site_path(request: Request, target: str) -> str:
    base = ctx(request).url("/")
    return target if target.startswith("/") and not target.startswith("//") else base


@post("/account/locale", guards=[public])
async def switch_locale(request: Request, data: Form, db: DbSession, rc: Ctx) -> Redirect:
    """Anyone may switch language; a signed-in user keeps the choice on their account."""
    locale = i18n.normalise(str(data.get("locale", "")))
    request.session["locale"] = locale  # type: ignore[index]
    request.set_session(dict(request.session))
    if rc.user is not None and db is not None:
        rc.user.locale = locale
        await db.commit()
    return Redirect(_same_site_path(request, str(data.get("next", ""))), status_code=303)


async def _account_page(request: Request, **extra: Any) -> Any:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    tokens = (
        (
            await c.db.execute(
                select(ApiToken)
                .where(ApiToken.user_id == c.user.id, ApiToken.revoked.is_(False))
                .order_by(ApiToken.created_at)
            )
        )
        .scalars()
        .all()
    )
    ctx_vars = {
        "tokens": tokens,
        "errors": {},
        "message": None,
        "new_token": None,
        "now": datetime.now(UTC),
        "expiry_choices": [(k, _(label)) for k, label in EXPIRY_CHOICES.items()],
        **extra,
    }
    return await render(request, "core/account.html", ctx_vars, status_code=400 if ctx_vars["errors"] else 200)


@get("/account/", guards=[signed_in])
async def account(request: Request) -> Any:
    return await _account_page(request)


@post("/account/password", guards=[signed_in], status_code=200)
async def change_password(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    current, new, repeat = (str(data.get(k, "")) for k in ("current", "new", "repeat"))
    errors = {}
    if not verify_password(rc.user.password_hash, current):
        errors["current"] = _("The current password is wrong.")
    if len(new) < MIN_LENGTH:
        errors["new"] = _("The new password must have at least %(n)s characters.", n=MIN_LENGTH)
    elif new != repeat:
        errors["repeat"] = _("The two new passwords differ.")
    if errors:
        return await _account_page(request, errors=errors)
    rc.user.password_hash = hash_password(new)
    end_sessions(rc.user)  # every other session of this account ends …
    record(db, "auth.password_changed", "users", rc.user.id)
    await db.commit()
    keep_this_session(request, rc.user)  # … this one carries on
    return await _account_page(request, message=_("Your password has been changed."))


@post("/account/tokens", guards=[signed_in], status_code=200)
async def create_token(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    name = str(data.get("name", "")).strip()
    days = str(data.get("expires_days", "90")).strip()
    if not name or len(name) > 100:
        return await _account_page(request, errors={"token_name": _("Give the token a name (up to 100 characters).")})
    if days not in EXPIRY_CHOICES:
        return await _account_page(request, errors={"expires_days": _("Choose how long the token is valid.")})
    raw = "lz_" + secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(days=int(days)) if days else None
    db.add(ApiToken(user_id=rc.user.id, name=name, prefix=raw[:10], token_hash=hash_token(raw), expires_at=expires))
    await db.commit()
    return await _account_page(request, new_token=raw, message=_("Copy the token now: it is shown only once."))


@post("/account/tokens/{token_id:int}/revoke", guards=[signed_in], status_code=200)
async def revoke_token(request: Request, token_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    token = (
        await db.execute(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == rc.user.id))
    ).scalar_one_or_none()
    if token is None:
        raise NotFoundException()
    token.revoked = True
    await db.commit()
    return await _account_page(request, message=_("The token has been revoked."))


handlers = [switch_locale, account, change_password, create_token, revoke_token]
