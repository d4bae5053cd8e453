"""Jinja2 rendering: the whole page normally, only the ``content`` block for htmx requests."""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    Undefined,
    make_logging_undefined,
    select_autoescape,
)
from jinja2.runtime import Context
from litestar import Request, Response
from litestar.middleware.csrf import ScopeState
from markupsafe import Markup

from core import i18n
from core.config import REPO_ROOT
from core.web.headers import nonce

CORE_TEMPLATES = Path(__file__).parent / "templates"
SHARED_TEMPLATES = REPO_ROOT / "templates"
# Production: a variable a template lacks is logged (with its name) and renders empty, rather than
# turning a page into a 500. Tests render strictly (StrictUndefined), so the mistake still fails there.
LoggingUndefined = make_logging_undefined(logging.getLogger("liuzhi.templates"), Undefined)


def build_environment(plugin_template_dirs: list[Path], auto_reload: bool = False, strict: bool = True) -> Environment:
    loaders = [FileSystemLoader(str(SHARED_TEMPLATES)), FileSystemLoader(str(CORE_TEMPLATES))]
    loaders += [FileSystemLoader(str(d)) for d in plugin_template_dirs]
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined if strict else LoggingUndefined,
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
        html = tpl.render(ctx) if block is None else render_block(tpl, block, ctx)
    return _finish(request, html)


def _finish(request: Request, html: str) -> str:
    """What every rendered page and block gets: hashed static URLs, the district's own words."""
    assets = getattr(request.app.state, "assets", None)
    if assets is not None:
        html = assets.rewrite(assets.on_demand(html))
    c = request.state.get("ctx") if hasattr(request, "state") else None
    if c is not None and c.tenant is not None and c.tenant.terminology and c.locale == "zh_Hans":
        from core.web.terminology import apply

        html = apply(html, c.tenant.terminology)
    return html


def render_block(tpl: Template, block: str, variables: dict[str, Any]) -> str:
    """One block of ``tpl``, seeing what the whole page would: the top-level ``{% from … import %}``
    and ``{% set %}`` of the template and of every template it extends run first, so a partial
    needs no import inside its block."""
    if block not in tpl.blocks:
        raise KeyError(f"{tpl.name} has no block {block!r}")
    context = tpl.new_context(variables)
    _run_top_level(tpl, context)
    return "".join(context.blocks[block][0](context))


def _run_top_level(tpl: Template, context: Context) -> None:
    # A template's root function runs its top-level statements, then hands over to its parent's
    # (which does the same) before the first byte of output: step it to that byte and stop, so the
    # layout itself is never rendered. Its first output may need page-only variables; not our concern.
    gen = tpl.root_render_func(context)
    try:
        with contextlib.suppress(Exception):  # the page's own output failing is not the partial's business
            next(gen, None)
    finally:
        gen.close()


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
    from core.web.shell import page_context, partial_context  # late: plugins that render build the menu

    context = dict(context or {})
    partial = block is not None and is_htmx(request)
    # A partial gets what the page gets (c, tenant, user, locale, plugins' extra_template_vars) but
    # the layout's menu and bell; the template's top-level imports run for it too (render_block).
    base = await (partial_context if partial else page_context)(request, template)
    context = {**base, **context}
    html = render_string(request, template, context, block if partial else None)
    return Response(html, status_code=status_code, media_type="text/html", headers=headers)
