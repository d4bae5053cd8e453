"""我的 — a resident's own page, assembled from every enabled plugin's ``my_page`` section (core's
own "my participation" first: activities, hours, points, votes, consents), and the password a
resident who signed in through an outside provider may set."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect
from markupsafe import Markup

from core.pluginhost import glance
from core.pluginhost.manifest import MySection
from core.services import accounts
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.guards import signed_in
from core.web.render import render
from core.web.services.common import Form, errors_of, rollback


async def sections(request: Request) -> list[dict[str, Any]]:
    """The 我的 sections, ready for a template or the JSON API (titles in the user's language)."""
    c = ctx(request)
    assert c.db is not None and c.user is not None
    out = []
    for part in await glance.my_page(request.app.state.plugins, c.enabled, request, c.user.id, c.db):
        section: MySection = part.item
        out.append(
            {
                "plugin": part.plugin,
                "title": section.title(c.locale),
                "href": c.url(section.href) if section.href else None,
                "html": Markup(section.html),
                "figures": [
                    {
                        "label": f.label(c.locale),
                        "value": f.value,
                        "unit": f.unit(c.locale),
                        "href": c.url(f.href) if f.href else None,
                    }
                    for f in sorted(section.figures, key=lambda f: f.order)
                ],
            }
        )
    return out


async def account_summary(request: Request) -> dict[str, Any]:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    account = await accounts.account_of(c.db, c.user.id)
    resident = await accounts.linked_resident(c.db, c.user.id)
    return {
        "account": account,
        "resident": resident,
        "needs_password": c.user.password_hash == "!",
    }


async def _me_page(request: Request, errors: dict[str, str] | None = None, message: str | None = None) -> Any:
    return await render(
        request,
        "core/services/me.html",
        {
            **await account_summary(request),
            "sections": await sections(request),
            "errors": errors or {},
            "message": message,
        },
        status_code=400 if errors else 200,
    )


@get("/me/", guards=[signed_in])
async def me(request: Request) -> Any:
    return await _me_page(request)


@post("/me/password", guards=[signed_in], status_code=200)
async def set_password(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    """A first password for an account made without one (an outside sign-in); changing an existing
    one is on the account page, which asks for the current password."""
    from core.i18n import gettext as _

    assert rc.user is not None
    if rc.user.password_hash != "!":
        return Redirect(rc.url("/account/"), status_code=303)
    password = str(data.get("password", ""))
    if password != str(data.get("repeat", "")):
        return await _me_page(request, {"repeat": _("The two passwords differ.")})
    try:
        await accounts.set_password(db, rc.user, password)
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _me_page(request, errors_of(err, "password"))
    return await _me_page(request, message=_("Your password has been set."))


handlers = [me, set_password]
