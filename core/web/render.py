"""Jinja2 rendering: the whole page normally, only the ``content`` block for htmx requests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Request, Response
from litestar.middleware.csrf import ScopeState
from markupsafe import Markup

from core import i18n
from core.config import REPO_ROOT
from core.web.headers import nonce

CORE_TEMPLATES = Path(__file__).parent / "templates"
SHARED_TEMPLATES = REPO_ROOT / "templates"


def build_environment(plugin_template_dirs: list[Path], auto_reload: bool = False) -> Environment:
    loaders = [FileSystemLoader(str(SHARED_TEMPLATES)), FileSystemLoader(str(CORE_TEMPLATES))]
    loaders += [FileSystemLoader(str(d)) for d in plugin_template_dirs]
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        enable_async=False,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        auto_reload=auto_reload,  # a stat() per template per render otherwise
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["locale_names"] = i18n.LOCALE_NAMES
    # The app replaces it with the hashed URLs of core.web.assets; a bare environment links plainly.
    env.globals["static_url"] = lambda rel: "/static/" + rel.lstrip("/")
    env.filters["tojson_attr"] = lambda v: Markup(json.dumps(v, ensure_ascii=False)).replace('"', "&quot;")
    env.filters["datetime"] = _format_datetime
    return env


def _format_datetime(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo("Asia/Shanghai")).strftime(fmt)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"


def csrf_token(request: Request) -> str:
    return ScopeState.from_scope(request.scope).csrf_token or ""


def render_string(request: Request, template: str, context: dict[str, Any], block: str | None = None) -> str:
    env: Environment = request.app.state.jinja
    tpl = env.get_template(template)
    ctx = {**request.state.get("template_base", {}), **context}
    ctx.setdefault("request", request)
    ctx.setdefault("csrf_token", csrf_token(request))
    ctx.setdefault("csp_nonce", nonce(request.scope))
    # A plugin's templates live under "<plugin>/": they translate in the plugin's own domain.
    folder = template.split("/", 1)[0] if "/" in template else None
    with i18n.in_domain(folder if folder in i18n.CATALOGUES.domains else None):
        if block is None:
            html = tpl.render(ctx)
        elif block not in tpl.blocks:
            raise KeyError(f"{template} has no block {block!r}")
        else:
            html = "".join(tpl.blocks[block](tpl.new_context(ctx)))
    assets = getattr(request.app.state, "assets", None)
    if assets is not None:
        html = assets.rewrite(html)
    c = request.state.get("ctx") if hasattr(request, "state") else None
    if c is not None and c.tenant is not None and c.tenant.terminology and c.locale == "zh_Hans":
        from core.web.terminology import apply

        html = apply(html, c.tenant.terminology)
    return html


async def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | None = "content",
    headers: dict[str, str] | None = None,
) -> Response[str]:
    """Render ``template``; an htmx request gets only ``block`` (unless ``block`` is None)."""
    from core.web.shell import page_context  # late: the shell's menu is built by plugins that render

    context = dict(context or {})
    partial = block is not None and is_htmx(request)
    if not partial:
        context = {**await page_context(request, template), **context}
    else:
        # A content block needs the basics the page gets (c.url, locale …), not the menu or bell.
        from core.web.context import ctx

        c = ctx(request)
        context = {"c": c, "tenant": c.tenant, "user": c.user, "locale": c.locale, **context}
    html = render_string(request, template, context, block if partial else None)
    return Response(html, status_code=status_code, media_type="text/html", headers=headers)
