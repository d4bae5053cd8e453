"""The second factor in the browser: enrolment with a QR code, the code step after the password,
enrolment forced at sign-in where it is required, recovery codes. Same pages for district users
(``/account/2fa``, ``/login/code``) and platform operators (``/platform/2fa``, ``/platform/login/code``).

Required for operators when ``LIUZHI_TOTP_OPERATORS`` is set; for district admins when
``LIUZHI_TOTP_DISTRICT_ADMINS`` is set or their district asks for it (admin page). Off in the demo.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect
from sqlalchemy import select

from core.audit import record
from core.crypto import DecryptionError
from core.i18n import gettext as _
from core.identity import totp
from core.identity.models import Operator, User
from core.identity.passwords import verify_password
from core.identity.store import ROTATE
from core.rbac.models import RoleAssignment
from core.web.context import ctx
from core.web.forms import Form
from core.web.guards import operator_only, public, signed_in
from core.web.proxies import client_host
from core.web.render import render

PENDING = "mfa"  # session key while the password is checked and the code is not
PENDING_SECONDS = 300
# The secret being enrolled travels with the form, sealed to the account (not in the session: every
# response writes back the session it loaded, so a request running beside the enrol page — the
# service worker caching pages — could put back a session without it, and the first code failed).
ENROL_FIELD = "enrolling"


@dataclass(frozen=True)
class Realm:
    name: str  # "tenant" | "platform"

    @property
    def platform(self) -> bool:
        return self.name == "platform"

    def url(self, request: Request, path: str) -> str:
        return ("/platform" + path) if self.platform else ctx(request).url(path)

    def brake_realm(self, request: Request) -> str:
        c = ctx(request)
        return "platform:mfa" if self.platform else f"t{c.tenant.id}:mfa"  # type: ignore[union-attr]

    async def load(self, request: Request, account_id: int) -> Any:
        c = ctx(request)
        assert c.db is not None
        if self.platform:
            return await c.db.get(Operator, account_id)
        assert c.tenant is not None
        return await c.db.get(User, (c.tenant.id, account_id))


TENANT, PLATFORM = Realm("tenant"), Realm("platform")


async def required(request: Request, realm: Realm, account: Any) -> bool:
    settings = request.app.state.settings
    if realm.platform:
        return bool(settings.totp_operators)
    c = ctx(request)
    assert c.tenant is not None and c.db is not None
    if not (settings.totp_district_admins or c.tenant.require_second_factor):
        return False
    found = await c.db.execute(
        select(RoleAssignment.id).where(
            RoleAssignment.user_id == account.id, RoleAssignment.role_code == "district_admin"
        )
    )
    return found.first() is not None


async def after_password(request: Request, realm: Realm, account: Any, target: str) -> Any | None:
    """Called once the password is right: None to sign in now, or the next step's redirect."""
    if not totp.enabled(account) and not await required(request, realm, account):
        return None
    # A new session id here too: the half-signed-in state must not ride on a planted cookie.
    request.scope[ROTATE] = True  # type: ignore[literal-required]
    locale = request.session.get("locale") if "session" in request.scope else None
    request.clear_session()
    pending = {"id": account.id, "at": time.time(), "next": target}
    if not realm.platform:
        pending["tid"] = ctx(request).tenant.id  # type: ignore[union-attr]
    request.set_session({PENDING: pending, **({"locale": locale} if locale else {})})
    step = "/login/code" if totp.enabled(account) else "/login/enrol"
    return Redirect(realm.url(request, step), status_code=303)


async def _pending(request: Request, realm: Realm) -> Any | None:
    data = request.session.get(PENDING) if "session" in request.scope else None
    if not isinstance(data, dict) or time.time() - float(data.get("at", 0)) > PENDING_SECONDS:
        return None
    if not realm.platform and data.get("tid") != ctx(request).tenant.id:  # type: ignore[union-attr]
        return None
    account = await realm.load(request, int(data["id"]))
    return account if account is not None and account.is_active else None


async def _finish(request: Request, realm: Realm, account: Any) -> Any:
    target = str((request.session.get(PENDING) or {}).get("next", ""))
    if realm.platform:
        from core.web.routes.platform import finish_operator_login

        return await finish_operator_login(request, account, target)
    from core.web.routes.auth import finish_login

    return await finish_login(request, account, target)


def _back_to_login(request: Request, realm: Realm) -> Redirect:
    return Redirect(realm.url(request, "/login"), status_code=303)


# ---- the code step ----------------------------------------------------------------------------


async def _code_page(request: Request, realm: Realm, error: str | None = None, status: int = 200) -> Any:
    context = {"realm": realm.name, "action": realm.url(request, "/login/code"), "error": error}
    return await render(request, "core/second_factor/code.html", context, status_code=status, block=None)


async def code_form(request: Request, realm: Realm) -> Any:
    if await _pending(request, realm) is None:
        return _back_to_login(request, realm)
    return await _code_page(request, realm)


async def code_submit(request: Request, realm: Realm, data: dict[str, Any]) -> Any:
    from core.web.routes.auth import too_many

    account = await _pending(request, realm)
    if account is None or not totp.enabled(account):
        return _back_to_login(request, realm)
    c = ctx(request)
    brake = request.app.state.login_brake
    limits = brake.limits(realm.brake_realm(request), str(account.id), client_host(request.scope))
    wait = await brake.wait(limits)
    if wait > 0:
        message, status, headers = too_many(wait)
        response = await _code_page(request, realm, message, status)
        response.headers.update(headers)
        return response
    code = str(data.get("code", "")).strip()
    vault = request.app.state.vault
    by_recovery = not code.replace(" ", "").isdigit()
    ok = totp.use_recovery_code(account, code) if by_recovery else totp.verify_code(account, vault, code)
    if not ok:
        await brake.failed(limits)
        return await _code_page(request, realm, _("That code is not right (or was used already)."), 400)
    await brake.succeeded(limits)
    if by_recovery and not realm.platform:
        record(c.db, "auth.recovery_code_used", "users", account.id, {"left": len(totp.recovery_left(account))})
    return await _finish(request, realm, account)


# ---- enrolment ----------------------------------------------------------------------------------


def _label(request: Request, realm: Realm, account: Any) -> str:
    c = ctx(request)
    where = "platform" if realm.platform else c.tenant.slug  # type: ignore[union-attr]
    return f"{account.username}@{where}"


async def _enrol_page(
    request: Request,
    realm: Realm,
    account: Any,
    action: str,
    error: str | None = None,
    status: int = 200,
    secret: str | None = None,
) -> Any:
    """The QR page; a wrong first code shows the same ``secret`` again (it is in the app already)."""
    secret = secret or totp.new_secret()
    uri = totp.provisioning_uri(secret, _label(request, realm, account))
    context = {
        "realm": realm.name,
        "action": action,
        "qr": totp.qr_data_uri(uri),
        "secret": secret,
        "enrolling": _seal(request, realm, account, secret),
        "error": error,
        "account": account,
        "codes": None,
    }
    return await render(request, "core/second_factor/enrol.html", context, status_code=status, block=None)


def _enrol_context(realm: Realm, account: Any) -> bytes:
    # Bound to the account: a sealed secret from another account's page does not open here.
    return f"totp-enrol:{realm.name}:{account.id}".encode()


def _seal(request: Request, realm: Realm, account: Any, secret: str) -> str:
    blob = request.app.state.vault.encrypt(secret, _enrol_context(realm, account))
    return base64.urlsafe_b64encode(blob).decode()


def enrolling(request: Request, realm: Realm, account: Any, data: dict[str, Any]) -> str | None:
    """The secret the form's page showed, if the form carries one sealed to this account."""
    try:
        blob = base64.urlsafe_b64decode(str(data.get(ENROL_FIELD, "")).encode())
        return request.app.state.vault.decrypt(blob, _enrol_context(realm, account))
    except (ValueError, DecryptionError):  # missing, cut short or tampered: the page starts again
        return None


async def _enable(request: Request, realm: Realm, account: Any, secret: str | None, code: str) -> list[str] | None:
    if not secret:
        return None
    codes = totp.enable(account, request.app.state.vault, secret, code)
    if codes is not None and not realm.platform:
        record(ctx(request).db, "auth.second_factor_on", "users", account.id)
    return codes


async def _codes_page(request: Request, realm: Realm, codes: list[str], next_url: str) -> Any:
    context = {"realm": realm.name, "codes": codes, "next_url": next_url}
    return await render(request, "core/second_factor/codes.html", context, block=None)


async def enrol_form(request: Request, realm: Realm) -> Any:
    account = await _pending(request, realm)
    if account is None:
        return _back_to_login(request, realm)
    return await _enrol_page(request, realm, account, realm.url(request, "/login/enrol"))


async def enrol_submit(request: Request, realm: Realm, data: dict[str, Any]) -> Any:
    account = await _pending(request, realm)
    if account is None:
        return _back_to_login(request, realm)
    secret = enrolling(request, realm, account, data)
    codes = await _enable(request, realm, account, secret, str(data.get("code", "")))
    if codes is None:
        message = _("That code is not right: check the time on your phone and try the next one.")
        url = realm.url(request, "/login/enrol")
        return await _enrol_page(request, realm, account, url, message, 400, secret)
    response = await _finish(request, realm, account)
    # Signed in now; the recovery codes are shown once, before going on.
    return await _codes_page(request, realm, codes, response.headers.get("location", realm.url(request, "/")))


# ---- managing one's own second factor ---------------------------------------------------------


def _me(request: Request, realm: Realm) -> Any:
    c = ctx(request)
    return c.operator if realm.platform else c.user


async def manage_page(
    request: Request, realm: Realm, error: str | None = None, status: int = 200, secret: str | None = None
) -> Any:
    account = _me(request, realm)
    action = realm.url(request, "/2fa" if realm.platform else "/account/2fa")
    if not totp.enabled(account):
        return await _enrol_page(request, realm, account, action, error, status, secret)
    context = {
        "realm": realm.name,
        "action": action,
        "account": account,
        "left": len(totp.recovery_left(account)),
        "required": await required(request, realm, account),
        "error": error,
    }
    return await render(request, "core/second_factor/manage.html", context, status_code=status)


async def manage_submit(request: Request, realm: Realm, data: dict[str, Any]) -> Any:
    c = ctx(request)
    assert c.db is not None
    account = _me(request, realm)
    what = str(data.get("do", "enable"))
    if what == "enable" and not totp.enabled(account):
        secret = enrolling(request, realm, account, data)
        codes = await _enable(request, realm, account, secret, str(data.get("code", "")))
        if codes is None:
            message = _("That code is not right: check the time on your phone and try the next one.")
            return await manage_page(request, realm, message, 400, secret)
        await c.db.commit()
        return await _codes_page(request, realm, codes, realm.url(request, "/2fa" if realm.platform else "/account/"))
    if not totp.enabled(account):
        return await manage_page(request, realm)
    if not verify_password(account.password_hash, str(data.get("password", ""))) or not totp.verify_code(
        account, request.app.state.vault, str(data.get("code", ""))
    ):
        return await manage_page(request, realm, _("The password or the code is not right."), 400)
    if what == "disable":
        if await required(request, realm, account):
            return await manage_page(
                request, realm, _("Your role requires a second factor: it cannot be switched off."), 400
            )
        totp.disable(account)
        if not realm.platform:
            record(c.db, "auth.second_factor_off", "users", account.id)
        await c.db.commit()
        return await manage_page(request, realm)
    codes, digests = totp.new_recovery_codes()
    totp.set_recovery(account, digests)
    await c.db.commit()
    return await _codes_page(request, realm, codes, realm.url(request, "/2fa" if realm.platform else "/account/"))


# ---- routes -----------------------------------------------------------------------------------

P = {"area": "platform"}


@get("/login/code", guards=[public])
async def tenant_code_form(request: Request) -> Any:
    return await code_form(request, TENANT)


@post("/login/code", guards=[public], status_code=200)
async def tenant_code_submit(request: Request, data: Form) -> Any:
    return await code_submit(request, TENANT, data)


@get("/login/enrol", guards=[public])
async def tenant_enrol_form(request: Request) -> Any:
    return await enrol_form(request, TENANT)


@post("/login/enrol", guards=[public], status_code=200)
async def tenant_enrol_submit(request: Request, data: Form) -> Any:
    return await enrol_submit(request, TENANT, data)


@get("/account/2fa", guards=[signed_in])
async def tenant_manage(request: Request) -> Any:
    return await manage_page(request, TENANT)


@post("/account/2fa", guards=[signed_in], status_code=200)
async def tenant_manage_submit(request: Request, data: Form) -> Any:
    return await manage_submit(request, TENANT, data)


@get("/platform/login/code", guards=[public], opt=P)
async def platform_code_form(request: Request) -> Any:
    return await code_form(request, PLATFORM)


@post("/platform/login/code", guards=[public], opt=P, status_code=200)
async def platform_code_submit(request: Request, data: Form) -> Any:
    return await code_submit(request, PLATFORM, data)


@get("/platform/login/enrol", guards=[public], opt=P)
async def platform_enrol_form(request: Request) -> Any:
    return await enrol_form(request, PLATFORM)


@post("/platform/login/enrol", guards=[public], opt=P, status_code=200)
async def platform_enrol_submit(request: Request, data: Form) -> Any:
    return await enrol_submit(request, PLATFORM, data)


@get("/platform/2fa", guards=[operator_only], opt=P)
async def platform_manage(request: Request) -> Any:
    return await manage_page(request, PLATFORM)


@post("/platform/2fa", guards=[operator_only], opt=P, status_code=200)
async def platform_manage_submit(request: Request, data: Form) -> Any:
    return await manage_submit(request, PLATFORM, data)


handlers = [
    tenant_code_form,
    tenant_code_submit,
    tenant_enrol_form,
    tenant_enrol_submit,
    tenant_manage,
    tenant_manage_submit,
    platform_code_form,
    platform_code_submit,
    platform_enrol_form,
    platform_enrol_submit,
    platform_manage,
    platform_manage_submit,
]
