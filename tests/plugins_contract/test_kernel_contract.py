"""The kernel contract issue 8 added: hooks called the way their spec says, roles declared by
plugins, pages declared in the manifest, a gettext domain per plugin, the after-commit outbox with
its typed context, and one way to read a form."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated, Any

import msgspec
import pytest

from core import hookimpl, i18n
from core.pluginhost.manager import PluginHost
from core.pluginhost.manifest import Action, CardSpec, Manifest, MenuItem, Page
from core.services import events
from core.services.events import Event, EventContext
from core.web.forms import FORM_ERROR, checked, decode, integer, text, values
from tests.conftest import main_text, nav_links
from tests.plugins_contract.conftest import running
from tests.plugins_contract.test_hooks import signed_in_client

# ---- hooks follow their spec -------------------------------------------------------------------


class Broken:
    __liuzhi_name__ = "kc_broken"

    @hookimpl
    def file_access(self, request: Any, file: Any) -> bool:
        raise RuntimeError("exploded")

    @hookimpl
    def menu_items(self, request: Any) -> Any:
        raise RuntimeError("exploded")

    @hookimpl
    def resolve_tenant(self, host: str, path: str) -> str:
        raise RuntimeError("exploded")


class Answers:
    __liuzhi_name__ = "kc_answers"

    @hookimpl
    def file_access(self, request: Any, file: Any) -> bool:
        return True

    @hookimpl
    def menu_items(self, request: Any) -> Any:
        return MenuItem("甲", "A", "/a/")


async def test_the_hookspec_decides_first_result_and_fault_containment() -> None:
    host = PluginHost([Answers(), Broken()], load_entry_points=False)
    # file_access is firstresult and contained: the broken plugin is skipped, the next one answers.
    assert await host.run("file_access", request=None, file=None) is True
    # menu_items collects every answer; the failing plugin is left out.
    assert await host.run("menu_items", request=None) == [("kc_answers", MenuItem("甲", "A", "/a/"))]
    # resolve_tenant is not contained: the error reaches the caller.
    with pytest.raises(RuntimeError, match="exploded"):
        await host.run("resolve_tenant", host="x", path="/")


async def test_the_older_call_forms_still_work_and_warn() -> None:
    host = PluginHost([Answers(), Broken()], load_entry_points=False)
    with pytest.warns(DeprecationWarning, match="PluginHost.run"):
        assert await host.call_first("file_access", request=None, file=None) is True  # contained now
    with pytest.warns(DeprecationWarning):
        assert await host.call_safely("menu_items", request=None) == [("kc_answers", MenuItem("甲", "A", "/a/"))]


def test_the_old_i18n_path_is_the_same_module_with_a_warning() -> None:
    import importlib
    import sys

    import core.web

    sys.modules.pop("core.web.i18n", None)
    vars(core.web).pop("i18n", None)  # as in a fresh process, where nothing imported it yet
    with pytest.warns(DeprecationWarning, match="core.i18n"):
        old = importlib.import_module("core.web.i18n")
    assert old is i18n


# ---- roles declared by plugins -----------------------------------------------------------------


async def test_pillar_roles_come_from_their_plugins_with_the_grants_core_used_to_give(app: Any) -> None:
    from core.tenancy.service import declared_roles

    roles = {r.code: r for r in declared_roles(app.state.plugins)}
    assert {"party_admin", "mediator", "volunteer"} <= set(roles)
    assert set(roles["mediator"].grants) == {"core.grid.view", "core.org.view", "core.files.upload"}
    # a volunteer also joins activities and votes (core's participants before the role moved out)
    assert set(roles["volunteer"].grants) == {"core.files.upload", "core.activity.join", "core.ballot.vote"}


# ---- pages declared in the manifest ------------------------------------------------------------


TEMPLATES = Path(__file__).parent / "templates"


class Declared:
    """A pillar shell written as data: no route, no menu or widget hook."""

    __liuzhi_name__ = "kc_declared"

    @hookimpl
    def plugin_manifest(self) -> Manifest:
        return Manifest(
            "kc_declared",
            "other",
            "声明页",
            "Declared page",
            "0.1",
            actions=(Action("kc_declared.view", "查看", "View", ("community_worker",)),),
            landing=Page("/kc-declared/", "kc_declared/overview.html", "kc_declared.view"),
            menu=(MenuItem("声明页", "Declared page", "/kc-declared/", "kc_declared.view", "声", 70),),
            widget=CardSpec("kc_declared/widget.html", 70, "kc_declared.view"),
        )

    @hookimpl
    def prepare_jinja2_environment(self, env: Any) -> None:
        from jinja2 import ChoiceLoader, DictLoader

        env.loader = ChoiceLoader(
            [
                env.loader,
                DictLoader(
                    {
                        "kc_declared/overview.html": '{% extends "layout.html" %}{% block content %}'
                        "<h1>declared landing</h1>{% endblock %}",
                        "kc_declared/widget.html": "<p>declared card</p>",
                    }
                ),
            ]
        )


async def test_declared_landing_menu_and_card_are_mounted_where_switched_on(migrated: Any, districts: Any) -> None:
    async with running(migrated, Declared()) as app:
        d = await districts(app, enable=["kc_declared"], users=[("admin", "district_admin"), ("resident", "resident")])
        async with signed_in_client(app, d.slug) as admin:
            page = await admin.get(f"/t/{d.slug}/kc-declared/")
            home = await admin.get(f"/t/{d.slug}/")
        async with signed_in_client(app, d.slug, "resident") as resident:
            refused = await resident.get(f"/t/{d.slug}/kc-declared/")
        async with signed_in_client(app, "shuangluan") as other:
            elsewhere = await other.get("/t/shuangluan/kc-declared/")
    assert page.status_code == 200 and "declared landing" in main_text(page.text)
    assert f"/t/{d.slug}/kc-declared/" in nav_links(home.text)
    assert "declared card" in home.text
    assert refused.status_code == 403
    assert elsewhere.status_code == 404


# ---- a gettext domain per plugin ---------------------------------------------------------------


def _po(folder: Path, pairs: dict[str, str]) -> None:
    target = folder / "zh_Hans" / "LC_MESSAGES"
    target.mkdir(parents=True)
    body = "".join(f'msgid "{k}"\nmsgstr "{v}"\n\n' for k, v in pairs.items())
    (target / "messages.po").write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n' + body)


def test_two_plugins_translate_the_same_source_each_their_own_way(tmp_path: Path) -> None:
    _po(tmp_path / "a", {"Reason for the test": "调解事由"})
    _po(tmp_path / "b", {"Reason for the test": "退回原因"})
    i18n.CATALOGUES.load_dir(tmp_path / "a", domain="kc_a")
    i18n.CATALOGUES.load_dir(tmp_path / "b", domain="kc_b")
    i18n.set_locale("zh_Hans")
    assert i18n.translator("kc_a").gettext("Reason for the test") == "调解事由"
    assert i18n.translator("kc_b").gettext("Reason for the test") == "退回原因"
    with i18n.in_domain("kc_a"):
        assert i18n.gettext("Reason for the test") == "调解事由"
        assert i18n.gettext("Save") == i18n.translator("core").gettext("Save")  # falls back to the merged one
    with i18n.in_domain("kc_b"):
        assert i18n.gettext("Reason for the test") == "退回原因"


# ---- the outbox delivers after commit with a typed context ------------------------------------


class Ear:
    __liuzhi_name__ = "kc_ear"

    def __init__(self) -> None:
        self.heard: list[tuple[str, EventContext]] = []

    @hookimpl
    def on_event(self, tenant_id: int, event: Event, context: EventContext) -> None:
        self.heard.append((event.name, context))


async def test_sessions_of_the_app_deliver_their_events_after_commit(migrated: Any, districts: Any) -> None:
    ear = Ear()
    async with running(migrated, ear) as app:
        d = await districts(app, users=())
        async with app.state.db.transaction(d.tenant.id) as s:  # no app_state passed by hand
            events.emit(s, Event("kc.saved"))
        try:
            async with app.state.db.transaction(d.tenant.id) as s:
                events.emit(s, Event("kc.rolled_back"))
                raise RuntimeError("undo")
        except RuntimeError:
            pass
        await events.delivered()
    heard = [(name, c) for name, c in ear.heard if name.startswith("kc.")]
    assert [name for name, _c in heard] == ["kc.saved"]
    context = heard[0][1]
    assert context.tenant_id == d.tenant.id and context.plugins is app.state.plugins
    assert context.channels is app.state.channels


# ---- one way to read a form --------------------------------------------------------------------


class NoteForm(msgspec.Struct):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=10)]
    count: int = 1
    pinned: bool = False
    tags: list[str] = []


def test_a_form_decodes_into_a_struct_with_lax_values() -> None:
    note, errors = decode(
        {"title": [" 旧 ", " 新 "], "count": "3", "pinned": "true", "tags": ["a", " ", "b"], "_csrf_token": "x"},
        NoteForm,
    )
    assert errors == {} and note == NoteForm("新", 3, True, ["a", "b"])
    empty, errors = decode({"title": "ok", "count": ""}, NoteForm)
    assert empty == NoteForm("ok")  # an empty optional field takes its default


def test_a_bad_form_names_the_field_at_fault() -> None:
    assert decode({"title": "x", "count": "three"}, NoteForm)[1].keys() == {"count"}
    assert decode({"title": "x" * 11}, NoteForm)[1].keys() == {"title"}
    assert decode({}, NoteForm) == (None, {"title": "Object missing required field `title`"})
    assert FORM_ERROR == "_form"


def test_the_single_value_readers() -> None:
    data = {"a": [" 1 ", " 2 "], "b": "on", "c": "x"}
    assert text(data, "a") == "2" and text(data, "missing") == "" and text({"t": "abcdef"}, "t", 3) == "abc"
    assert values(data, "a") == [" 1 ", " 2 "] and values(data, "c") == ["x"]
    assert integer(" 7 ") == 7 and integer("x") is None and integer(None) is None
    assert checked(data, "b") and not checked(data, "c")


def test_no_warning_on_the_new_paths() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        import core.i18n
        import core.web.forms  # noqa: F401
