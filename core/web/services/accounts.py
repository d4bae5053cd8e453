"""Resident accounts on the phone: sign up with a mobile number and a one-time code, sign in with an
outside identity provider, ask to be linked to one's resident record; and the community worker's
queue that confirms or rejects those links (in their part of the tree only)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core.grids.basedata import Resident
from core.i18n import gettext as _
from core.i18n import lazy
from core.identity.models import User
from core.rbac.scope import in_scope
from core.services import accounts
from core.services.accounts.models import LINK_PENDING, AccountLink, ResidentAccount
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.guards import public, requires, signed_in
from core.web.pagination import paginate
from core.web.render import render
from core.web.routes.auth import finish_login
from core.web.services.common import Form, errors_of, rollback, tell, text

LINK = "core.account.link"


def _district(request: Request) -> str:
    tenant = ctx(request).tenant
    return tenant.name_zh if tenant is not None else ""


# ---- sign-up -------------------------------------------------------------------------------


async def _signup_page(
    request: Request, step: str, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> Any:
    return await render(
        request,
        "core/services/signup.html",
        {"step": step, "values": values, "errors": errors},
        status_code=status,
        block=None,
    )


@get("/signup", guards=[public])
async def signup_page(request: Request, rc: Ctx) -> Any:
    if rc.user is not None:
        return Redirect(rc.url("/me/"))
    return await _signup_page(request, "phone", {}, {})


@post("/signup/code", guards=[public], status_code=200)
async def signup_code(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    """Step one: send the code (through the district's SMS adapter) and ask for it."""
    phone = text(data, "phone", 20)
    try:
        await accounts.request_code(
            db,
            request.app.state.plugins,
            request.app.state.vault,
            phone,
            enabled=rc.enabled,
            district=_district(request),
        )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _signup_page(request, "phone", {"phone": phone}, errors_of(err, "phone"), 400)
    return await _signup_page(request, "code", {"phone": phone}, {})


@post("/signup", guards=[public], status_code=200)
async def signup(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    """Step two: the code, the name to show and a password; signed in at once."""
    values = {k: text(data, k, 100) for k in ("phone", "code", "display_name")}
    password, repeat = str(data.get("password", "")), str(data.get("repeat", ""))
    if password != repeat:
        return await _signup_page(request, "code", values, {"repeat": _("The two passwords differ.")}, 400)
    try:
        user, _account = await accounts.sign_up(
            db,
            request.app.state.vault,
            values["phone"],
            values["code"],
            display_name=values["display_name"],
            password=password,
        )
    except ServiceError as err:
        await rollback(request)
        return await _signup_page(request, "code", values, errors_of(err), 400)
    return await finish_login(request, user, rc.url("/me/link"))


@post("/login/provider/{name:str}", guards=[public], status_code=200)
async def provider_login(request: Request, name: FromPath[str], data: Form, db: DbSession, rc: Ctx) -> Any:
    """Sign in through an identity provider that takes its credentials on the login page (the
    development provider; real ones such as a mini-program's login are called by their client)."""
    found = await accounts.providers(request.app.state.plugins, rc.enabled)
    provider = found.get(name)
    if provider is None or not getattr(provider, "form_fields", None):
        raise NotFoundException()
    credentials = {f[0]: text(data, f[0], 200) for f in provider.form_fields}  # type: ignore[attr-defined]
    try:
        user = await accounts.sign_in_external(db, request.app.state.vault, provider, credentials)
    except ServiceError as err:
        await rollback(request)
        from core.web.routes.auth import login_context

        return await render(
            request,
            "core/login.html",
            {**await login_context(request, ""), "error": err.translate(_)},
            status_code=400,
            block=None,
        )
    return await finish_login(request, user, str(data.get("next", "")) or rc.url("/me/"))


# ---- link to the resident record ----------------------------------------------------------------


async def _link_page(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    account = await accounts.account_of(c.db, c.user.id)
    latest = None
    if account is not None:
        latest = (
            await c.db.execute(
                select(AccountLink)
                .where(AccountLink.account_id == account.id)
                .order_by(AccountLink.requested_at.desc(), AccountLink.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
    resident = await accounts.linked_resident(c.db, c.user.id)
    return await render(
        request,
        "core/services/link.html",
        {"account": account, "latest": latest, "resident": resident, "values": values, "errors": errors},
        status_code=status,
    )


@get("/me/link", guards=[signed_in])
async def link_page(request: Request) -> Any:
    return await _link_page(request, {}, {})


@post("/me/link", guards=[signed_in], status_code=200)
async def link_request(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    values = {"name": text(data, "name", 50), "id_number": text(data, "id_number", 30), "note": text(data, "note", 300)}
    try:
        link = await accounts.request_link(
            db,
            request.app.state.vault,
            rc.user.id,
            name=values["name"],
            id_number=values["id_number"],
            note=values["note"],
        )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _link_page(request, values, errors_of(err), 400)
    return Redirect(rc.url(f"/me/link?done={link.status}"), status_code=303)


# ---- the community worker's queue -----------------------------------------------------------------


def _district_level(prefixes: list[str]) -> bool:
    """Whether one of the scopes is the district's root (``/<id>/``): requests naming no place are theirs."""
    return any(p.count("/") == 2 for p in prefixes)


def _queue_filter(prefixes: list[str]) -> Any:
    where = in_scope(AccountLink.node_path, prefixes)
    if _district_level(prefixes):
        where = where | AccountLink.node_path.is_(None)
    return where


async def _link_in_scope(request: Request, link_id: int) -> AccountLink:
    c = ctx(request)
    assert c.db is not None
    prefixes = c.scope_prefixes(LINK)
    stmt = select(AccountLink).where(AccountLink.id == link_id, _queue_filter(prefixes))
    link = (await c.db.execute(stmt)).scalar_one_or_none()
    if link is None:
        raise NotFoundException()
    return link


async def _candidates(request: Request, link: AccountLink) -> list[Resident]:
    """Residents in the worker's scope with the claimed name, for a request that matched no record."""
    c = ctx(request)
    assert c.db is not None
    stmt = (
        select(Resident)
        .where(Resident.name == link.claimed_name, in_scope(Resident.node_path, c.scope_prefixes(LINK)))
        .order_by(Resident.id)
        .limit(20)
    )
    return list((await c.db.execute(stmt)).scalars())


async def _queue_page(
    request: Request, page: int, errors: dict[int, str], message: str | None, status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None
    stmt = (
        select(AccountLink)
        .where(AccountLink.status == LINK_PENDING, _queue_filter(c.scope_prefixes(LINK)))
        .order_by(AccountLink.requested_at, AccountLink.id)
    )
    result = await paginate(c.db, stmt, page, 20)
    rows = []
    for link in result.items:
        who = (
            await c.db.execute(
                select(User.display_name, ResidentAccount.phone_masked)
                .join(ResidentAccount, ResidentAccount.user_id == User.id)
                .where(ResidentAccount.id == link.account_id)
            )
        ).one_or_none()
        matched = None
        if link.resident_id is not None:
            matched = (await c.db.execute(select(Resident).where(Resident.id == link.resident_id))).scalar_one_or_none()
        rows.append(
            {
                "link": link,
                "user_name": who[0] if who else "",
                "phone": who[1] if who else "",
                "matched": matched,
                "candidates": [] if matched else await _candidates(request, link),
                "error": errors.get(link.id),
            }
        )
    return await render(
        request,
        "core/services/link_queue.html",
        {"page": result, "rows": rows, "message": message},
        status_code=status,
    )


@get("/accounts/links", guards=[requires(LINK)])
async def link_queue(request: Request, page: FromQuery[int] = 1, done: FromQuery[str | None] = None) -> Any:
    messages = {"confirmed": _("The link has been confirmed."), "rejected": _("The request has been rejected.")}
    return await _queue_page(request, page, {}, messages.get(done or ""))


@post("/accounts/links/{link_id:int}", guards=[requires(LINK)], status_code=200)
async def decide(request: Request, link_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    assert rc.tenant is not None
    link = await _link_in_scope(request, link_id)
    confirm = data.get("decision") == "confirm"
    resident_id = None
    if confirm and link.resident_id is None:
        try:
            resident_id = int(str(data.get("resident_id", "")))
        except ValueError:
            return await _queue_page(request, 1, {link_id: _("Choose the resident record to link.")}, None, 400)
        allowed = {r.id for r in await _candidates(request, link)}
        if resident_id not in allowed:  # only a record the worker was offered (and may see)
            return await _queue_page(request, 1, {link_id: _("Choose the resident record to link.")}, None, 400)
    try:
        await accounts.decide_link(
            db, link.id, confirm=confirm, resident_id=resident_id, reason=text(data, "reason", 300)
        )
        account = (await db.execute(select(ResidentAccount).where(ResidentAccount.id == link.account_id))).scalar_one()
        if confirm:
            await tell(
                request, account.user_id, lazy("Your account is now linked to your resident record."), rc.url("/me/")
            )
        else:
            await tell(
                request,
                account.user_id,
                lazy("Your link request was not accepted: %(reason)s"),
                rc.url("/me/link"),
                reason=link.reason,
            )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _queue_page(request, 1, {link_id: err.translate(_)}, None, 400)
    return Redirect(rc.url(f"/accounts/links?done={'confirmed' if confirm else 'rejected'}"), status_code=303)


handlers = [signup_page, signup_code, signup, provider_login, link_page, link_request, link_queue, decide]
