"""The bare root ``/`` of a deployment, where no tenant answers: an operator goes to the tenant
list, a single-tenant deployment to its only district, anyone else gets a plain landing page."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.response import Redirect
from sqlalchemy import select

from core import i18n
from core.tenancy.models import ACTIVE, Tenant
from core.web.context import STATE_KEY, RequestContext


async def bare_root(request: Request) -> Response[Any]:
    from core.web.render import render_string

    state = request.app.state
    session_data = request.session if "session" in request.scope else {}
    if session_data.get("op"):
        return Redirect("/platform/")
    async with state.db.session(None) as s:
        slugs = list((await s.execute(select(Tenant.slug).where(Tenant.status == ACTIVE).limit(2))).scalars())
    if len(slugs) == 1:
        return Redirect(f"/t/{slugs[0]}/")
    c = RequestContext(
        locale=i18n.normalise(
            session_data.get("locale") or i18n.from_accept_language(request.headers.get("accept-language"))
        )
    )
    request.scope.setdefault("state", {})[STATE_KEY] = c
    i18n.set_locale(c.locale)
    html = render_string(
        request,
        "core/landing.html",
        {"c": c, "tenant": None, "user": None, "locale": c.locale, "menu": [], "unread": 0},
    )
    return Response(html, media_type="text/html")
