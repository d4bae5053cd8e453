"""JSON API for a resident's phone client (a WeChat mini-program's back end): sign up with a code,
sign in for a bearer token, outside identity providers, my page and the link to my record.

    POST /api/v1/accounts/code                 {"phone", "purpose": "sign_up" | "sign_in"}
    POST /api/v1/accounts/sign-up              {"phone", "code", "display_name", "password"?} → token
    POST /api/v1/accounts/sign-in              {"phone", "password"} or {"phone", "code"} → token
    POST /api/v1/accounts/sign-in/{provider}   the provider's credentials → token
    GET  /api/v1/me/page                       我的: account, link, every enabled pillar's section
    GET  /api/v1/me/link                       my latest link request
    POST /api/v1/me/link                       {"name", "id_number", "note"?}

Errors are ``{"status_code", "detail", "field"?}`` in the user's language.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from sqlalchemy import select

from core.audit import record
from core.i18n import gettext as _
from core.identity.models import User
from core.services import accounts
from core.services.accounts.models import AccountLink
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.guards import public, signed_in
from core.web.proxies import client_host
from core.web.routes.api import api_router
from core.web.routes.auth import too_many
from core.web.services.common import BadBody, iso, json_object, new_api_token, refuse, refuse_error, text
from core.web.services.me import account_summary, sections


async def _token_answer(request: Request, user: User, status: int = 200) -> Response[Any]:
    c = ctx(request)
    assert c.db is not None
    raw, expires = await new_api_token(request, user, "resident app")
    record(c.db, "auth.login", "users", user.id, {"channel": "api"})
    await c.db.commit()
    return Response(
        {"token": raw, "expires_at": iso(expires), "user": {"id": user.id, "display_name": user.display_name}},
        status_code=status,
    )


@post("/accounts/code", guards=[public], status_code=200, summary="Send a one-time code to a mobile number")
async def api_code(request: Request, db: DbSession, rc: Ctx) -> Any:
    assert rc.tenant is not None
    try:
        body = await json_object(request)
        expires = await accounts.request_code(
            db,
            request.app.state.plugins,
            request.app.state.vault,
            text(body, "phone", 20),
            purpose=text(body, "purpose", 16) or accounts.SIGN_UP,
            enabled=rc.enabled,
            district=rc.tenant.name_zh,
        )
        await db.commit()
    except BadBody as exc:
        return refuse(400, str(exc))
    except ServiceError as err:
        return refuse_error(err)
    return {"expires_at": iso(expires)}


@post("/accounts/sign-up", guards=[public], status_code=201, summary="Create a resident account from a code")
async def api_sign_up(request: Request, db: DbSession) -> Any:
    try:
        body = await json_object(request)
        password = body.get("password")
        user, _account = await accounts.sign_up(
            db,
            request.app.state.vault,
            text(body, "phone", 20),
            text(body, "code", 10),
            display_name=text(body, "display_name", 200),
            password=str(password) if password else None,
        )
    except BadBody as exc:
        return refuse(400, str(exc))
    except ServiceError as err:
        return refuse_error(err)
    return await _token_answer(request, user, 201)


@post("/accounts/sign-in", guards=[public], status_code=200, summary="Sign in with mobile number and password or code")
async def api_sign_in(request: Request, db: DbSession, rc: Ctx) -> Any:
    assert rc.tenant is not None
    try:
        body = await json_object(request)
    except BadBody as exc:
        return refuse(400, str(exc))
    phone = text(body, "phone", 20)
    if body.get("code"):
        try:
            user = await accounts.sign_in_with_code(db, request.app.state.vault, phone, text(body, "code", 10))
        except ServiceError as err:
            return refuse_error(err)
        return await _token_answer(request, user)
    brake = request.app.state.login_brake
    limits = brake.limits(f"t{rc.tenant.id}", phone, client_host(request.scope))
    wait = await brake.wait(limits)
    if wait > 0:
        detail, status, headers = too_many(wait)
        return Response({"status_code": status, "detail": detail}, status_code=status, headers=headers)
    user = await accounts.authenticate(db, request.app.state.vault, phone, str(body.get("password") or ""))
    if user is None:
        await brake.failed(limits)
        return refuse(401, _("Wrong mobile number or password."))
    await brake.succeeded(limits)
    return await _token_answer(request, user)


@post(
    "/accounts/sign-in/{provider:str}",
    guards=[public],
    status_code=200,
    summary="Sign in through an identity provider (mini-program, unified identity)",
)
async def api_sign_in_external(request: Request, provider: FromPath[str], db: DbSession, rc: Ctx) -> Any:
    found = (await accounts.providers(request.app.state.plugins, rc.enabled)).get(provider)
    if found is None:
        return refuse(404, _("There is no sign-in provider %(name)s here.", name=provider))
    try:
        body = await json_object(request)
        user = await accounts.sign_in_external(
            db, request.app.state.vault, found, {k: str(v) for k, v in body.items() if v is not None}
        )
    except BadBody as exc:
        return refuse(400, str(exc))
    except ServiceError as err:
        return refuse_error(err)
    return await _token_answer(request, user)


def _link_out(link: AccountLink | None) -> dict[str, Any] | None:
    if link is None:
        return None
    return {
        "id": link.id,
        "status": link.status,
        "method": link.method,
        "requested_at": iso(link.requested_at),
        "decided_at": iso(link.decided_at),
        "reason": link.reason,
    }


async def _latest_link(request: Request) -> AccountLink | None:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    account = await accounts.account_of(c.db, c.user.id)
    if account is None:
        return None
    stmt = (
        select(AccountLink)
        .where(AccountLink.account_id == account.id)
        .order_by(AccountLink.requested_at.desc(), AccountLink.id.desc())
        .limit(1)
    )
    return (await c.db.execute(stmt)).scalar_one_or_none()


@get("/me/page", guards=[signed_in], summary="我的: my account and every enabled pillar's part")
async def api_my_page(request: Request, rc: Ctx) -> dict[str, Any]:
    assert rc.user is not None
    summary = await account_summary(request)
    account, resident = summary["account"], summary["resident"]
    return {
        "user": {"id": rc.user.id, "display_name": rc.user.display_name},
        "phone": account.phone_masked if account else None,
        "linked": resident is not None,
        "resident_name": resident.name if resident else None,
        "link": _link_out(await _latest_link(request)),
        "sections": [
            {
                "plugin": s["plugin"],
                "title": s["title"],
                "href": s["href"],
                "figures": s["figures"],
            }
            for s in await sections(request)
        ],
    }


@get("/me/link", guards=[signed_in], summary="My latest request to be linked to my resident record")
async def api_link_status(request: Request) -> dict[str, Any]:
    return {"link": _link_out(await _latest_link(request))}


@post("/me/link", guards=[signed_in], status_code=201, summary="Ask to be linked to my resident record")
async def api_request_link(request: Request, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    try:
        body = await json_object(request)
        link = await accounts.request_link(
            db,
            request.app.state.vault,
            rc.user.id,
            name=text(body, "name", 50),
            id_number=text(body, "id_number", 30),
            note=text(body, "note", 300),
        )
        await db.commit()
    except BadBody as exc:
        return refuse(400, str(exc))
    except ServiceError as err:
        return refuse_error(err)
    return Response({"link": _link_out(link)}, status_code=201)


handlers = [
    api_router(api_code, api_sign_up, api_sign_in, api_sign_in_external, api_my_page, api_link_status, api_request_link)
]
