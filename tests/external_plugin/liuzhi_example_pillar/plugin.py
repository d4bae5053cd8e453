"""示例支柱 — example pillar. The table of contents of the plugin: manifest and hook implementations."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import click
import msgspec
from litestar import Request

from liuzhi.api import Action, Manifest, MenuItem, RequestContext, Widget, hookimpl, render_string
from liuzhi_example_pillar import notes, routes
from liuzhi_example_pillar.routes import NAME, VIEW

log = logging.getLogger(__name__)


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    """Per-tenant settings, validated by msgspec; the admin form is generated from them."""

    greeting: Annotated[str, msgspec.Meta(max_length=50, title="页面问候语 Page greeting")] = "欢迎记录社区小事"


MANIFEST = Manifest(
    name=NAME,
    pillar="other",
    title_zh="示例支柱",
    title_en="Example pillar",
    version="0.1.0",
    core_api=1,  # the Liuzhi plugin API it was written for (liuzhi.api.API_VERSION)
    description_zh="第三方插件示例：社区笔记",
    description_en="An example third-party plugin: community notes",
    settings=Settings,
    icon="✎",
    actions=(Action(VIEW, "查看示例支柱", "Use the example pillar", ("community_secretary", "community_worker")),),
    # Declared: the host shows the menu item (a static landing page or card could be declared too,
    # with ``landing=Page(…)`` and ``widget=CardSpec(…)``; this plugin's card counts notes, so it
    # keeps its dashboard_widgets hook).
    menu=(MenuItem("示例支柱", "Example pillar", "/example/", VIEW, "✎", 200),),
)


@hookimpl
def plugin_manifest() -> Manifest:
    return MANIFEST


@hookimpl
def register_models() -> list[Any]:
    from liuzhi_example_pillar.models import ExampleNote

    return [ExampleNote]


@hookimpl
def register_migrations() -> Path:
    return Path(__file__).parent / "migrations"


@hookimpl
def register_routes() -> list[Any]:
    return routes.handlers


@hookimpl
def register_commands(cli: click.Group) -> None:
    @cli.command("example-hello")
    def example_hello() -> None:
        """Say hello from the example pillar (a plugin's own CLI command)."""
        click.echo("你好 / hello from example_pillar")


@hookimpl
def on_tenant_created(tenant: Any, session: Any) -> None:
    # Nothing to prepare: the plugin is off until the district switches it on.
    log.info("example_pillar: tenant %s created", tenant.slug)


@hookimpl
async def demo_data(tenant: Any, session: Any, nodes: Any) -> None:
    await notes.add_demo_notes(session)


@hookimpl
async def dashboard_widgets(request: Request) -> list[Widget]:
    c = RequestContext.of(request)  # a hook is given the request: nothing is injected here
    if not c.can(VIEW) or c.db is None:
        return []
    html = render_string(request, "example_pillar/widget.html", {"count": await notes.count_notes(c.db)})
    return [Widget("示例支柱", "Example pillar", html, 200, "/example/")]
