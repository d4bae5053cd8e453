"""District admin pages: district settings, plugins on/off with generated settings forms, audit log.

Tests that change state work in a fresh district with its own admin; the demo districts are only read.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any, Literal

import msgspec
import pytest
from sqlalchemy import select

from core.audit import AuditEntry, record
from core.db.base import new_id
from core.db.context import Actor
from core.grids.models import GridNode
from core.tenancy.models import Tenant, TenantPlugin
from core.tenancy.service import PLATFORM, ensure_user
from core.web import settings_form as sf
from tests.conftest import DEMO_PASSWORD, form_post, login, make_client, nav_links

ADMIN = "boss"
BUILTIN = ("civic_virtue", "co_governance", "party_leadership", "rule_of_law", "self_governance", "smart_service")


# ---- helpers ------------------------------------------------------------------------------------


async def grid_with_admin(db: Any, tenant: Tenant, username: str = ADMIN) -> None:
    """A one-node grid and a district admin at its root (English UI, so messages read as written)."""
    async with db.transaction(tenant.id, PLATFORM) as s:
        root = GridNode(code="root", kind="district", name=tenant.name_zh, name_en=tenant.name_en, depth=0)
        root.id = new_id()
        root.path = f"/{root.id}/"
        s.add(root)
        await s.flush()
        user, _ = await ensure_user(s, username, "测试管理员", DEMO_PASSWORD, "district_admin", root)
        user.locale = "en"


@pytest.fixture
async def district(app: Any, db: Any, fresh_tenant: Tenant) -> AsyncIterator[SimpleNamespace]:
    await grid_with_admin(db, fresh_tenant)
    async with make_client(app) as client:
        r = await login(client, fresh_tenant.slug, ADMIN)
        assert r.status_code == 303, r.text[:300]
        yield SimpleNamespace(tenant=fresh_tenant, client=client, base=f"/t/{fresh_tenant.slug}")


async def toggle(d: SimpleNamespace, plugin: str, on: bool, **kw: Any) -> Any:
    return await form_post(d.client, f"{d.base}/admin/plugins/{plugin}/toggle", {"enabled": "1"} if on else {}, **kw)


async def plugin_row(db: Any, tenant: Tenant, plugin: str) -> TenantPlugin | None:
    async with db.session(tenant.id) as s:
        return (await s.execute(select(TenantPlugin).where(TenantPlugin.plugin == plugin))).scalar_one_or_none()


async def tenant_row(db: Any, tenant: Tenant) -> Tenant:
    async with db.session(None) as s:
        row = await s.get(Tenant, tenant.id)
        assert row is not None
        return row


def field_error(html: str, plugin: str, field: str) -> str | None:
    m = re.search(rf'<small id="e-f-{plugin}-{field}" class="lz-error"[^>]*>([^<]*)</small>', html)
    return m.group(1).strip() if m else None


def audit_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-testid="audit-row".*?</tr>', html, re.S)


def who(row: str) -> str:
    """The "Who" cell of an audit row."""
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    return re.sub(r"<[^>]+>", "", cells[1]).strip()


# ---- plugins on/off -----------------------------------------------------------------------------


async def test_a_plugin_switched_off_disappears_in_that_district_only(district: Any, as_admin: Any) -> None:
    d = district
    assert (await toggle(d, "smart_service", True)).status_code == 303
    assert (await d.client.get(f"{d.base}/smart-service/")).status_code == 200
    assert f"{d.base}/smart-service/" in nav_links((await d.client.get(f"{d.base}/")).text)

    assert (await toggle(d, "smart_service", False)).status_code == 303
    assert (await d.client.get(f"{d.base}/smart-service/")).status_code == 404
    assert f"{d.base}/smart-service/" not in nav_links((await d.client.get(f"{d.base}/")).text)

    assert (await as_admin.get("/t/shuangluan/smart-service/")).status_code == 200
    assert "/t/shuangluan/smart-service/" in nav_links((await as_admin.get("/t/shuangluan/")).text)


async def test_switching_a_plugin_back_on_shows_it_again_with_its_settings_kept(district: Any, db: Any) -> None:
    d = district
    await toggle(d, "smart_service", True)
    r = await form_post(
        d.client,
        f"{d.base}/admin/plugins/smart_service/settings",
        {"hotline": "0314-7654321", "proxy_service_days": "5"},
    )
    assert r.status_code == 200
    await toggle(d, "smart_service", False)
    assert (await d.client.get(f"{d.base}/smart-service/")).status_code == 404

    await toggle(d, "smart_service", True)
    page = await d.client.get(f"{d.base}/smart-service/")
    assert page.status_code == 200 and "0314-7654321" in page.text
    assert f"{d.base}/smart-service/" in nav_links(page.text)


async def test_the_plugins_page_shows_each_plugin_with_its_state(district: Any) -> None:
    d = district
    await toggle(d, "rule_of_law", True)
    html = (await d.client.get(f"{d.base}/admin/plugins")).text
    for name in BUILTIN:
        assert f'id="plugin-{name}"' in html
    assert re.search(r'id="plugin-rule_of_law"[^>]*data-enabled="on"', html)
    assert re.search(r'id="plugin-smart_service"[^>]*data-enabled="off"', html)
    assert "Safety and rule of law" in html and "0.1.0" in html  # English title for an English-speaking admin


async def test_an_htmx_toggle_answers_with_only_the_plugins_card(district: Any) -> None:
    d = district
    r = await toggle(d, "civic_virtue", True, headers={"HX-Request": "true"})
    assert r.status_code == 200
    body = r.text.strip()
    assert body.startswith('<article class="lz-card" id="plugin-civic_virtue"') and body.endswith("</article>")
    assert 'data-enabled="on"' in body
    assert "<html" not in body and 'id="lz-nav"' not in body and 'id="plugin-smart_service"' not in body
    assert 'name="_csrf_token"' in body  # the swapped card's forms still post


async def test_an_unknown_plugin_is_not_found(district: Any) -> None:
    d = district
    assert (await toggle(d, "no_such_plugin", True)).status_code == 404
    r = await form_post(d.client, f"{d.base}/admin/plugins/no_such_plugin/settings", {"x": "1"})
    assert r.status_code == 404


# ---- plugin settings ----------------------------------------------------------------------------


@pytest.mark.parametrize("days", ["0", "31", "abc", ""])
async def test_invalid_settings_are_marked_on_the_field_and_nothing_is_saved(district: Any, db: Any, days: str) -> None:
    d = district
    await toggle(d, "smart_service", True)
    before = (await plugin_row(db, d.tenant, "smart_service")).settings  # type: ignore[union-attr]
    r = await form_post(
        d.client,
        f"{d.base}/admin/plugins/smart_service/settings",
        {"hotline": "0314-1111111", "proxy_service_days": days, "allow_anonymous_reports": "1"},
    )
    assert r.status_code == 400
    assert field_error(r.text, "smart_service", "proxy_service_days") == "Enter a whole number from 1 to 30."
    assert field_error(r.text, "smart_service", "hotline") is None
    assert "Nothing was saved" in r.text
    assert 'value="0314-1111111"' in r.text and f'name="proxy_service_days" type="number" value="{days}"' in r.text
    assert (await plugin_row(db, d.tenant, "smart_service")).settings == before  # type: ignore[union-attr]
    assert "0314-1111111" not in (await d.client.get(f"{d.base}/smart-service/")).text


async def test_every_invalid_setting_is_marked_at_once(district: Any, db: Any) -> None:
    d = district
    r = await form_post(
        d.client,
        f"{d.base}/admin/plugins/smart_service/settings",
        {"hotline": "1" * 21, "proxy_service_days": "0"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200  # htmx swaps only 2xx answers; the card carries the errors
    assert r.text.strip().startswith("<article")
    assert field_error(r.text, "smart_service", "hotline") == "At most 20 characters."
    assert field_error(r.text, "smart_service", "proxy_service_days") == "Enter a whole number from 1 to 30."
    assert await plugin_row(db, d.tenant, "smart_service") is None


async def test_valid_settings_are_saved_and_used_by_the_plugin(district: Any, db: Any) -> None:
    d = district
    await toggle(d, "smart_service", True)
    url = f"{d.base}/admin/plugins/smart_service/settings"
    r = await form_post(
        d.client, url, {"hotline": " 0314-2345678 ", "proxy_service_days": "7", "allow_anonymous_reports": "1"}
    )
    assert r.status_code == 200 and "The settings have been saved." in r.text
    row = await plugin_row(db, d.tenant, "smart_service")
    assert row is not None and row.enabled
    sent = {"hotline": "0314-2345678", "proxy_service_days": 7, "allow_anonymous_reports": True}
    assert {k: row.settings.get(k) for k in sent} == sent  # the fields not on the form keep their defaults
    assert "0314-2345678" in (await d.client.get(f"{d.base}/smart-service/")).text

    # An unticked checkbox is not sent by the browser: it means "off".
    await form_post(d.client, url, {"hotline": "0314-2345678", "proxy_service_days": "7"})
    row = await plugin_row(db, d.tenant, "smart_service")
    assert row is not None and row.settings["allow_anonymous_reports"] is False


# ---- who may ------------------------------------------------------------------------------------


async def test_a_community_secretary_cannot_open_the_admin_pages(signed_in: Any, as_admin: Any) -> None:
    secretary = await signed_in("shuangluan", "community")
    for path in ("/admin/", "/admin/plugins", "/admin/audit"):
        assert (await secretary.get(f"/t/shuangluan{path}")).status_code == 403
    r = await form_post(secretary, "/t/shuangluan/admin/plugins/smart_service/toggle", {"enabled": "1"})
    assert r.status_code == 403
    assert "/t/shuangluan/admin/" not in nav_links((await secretary.get("/t/shuangluan/")).text)
    assert "/t/shuangluan/admin/" in nav_links((await as_admin.get("/t/shuangluan/")).text)


# ---- audit log ----------------------------------------------------------------------------------


async def test_the_audit_log_shows_a_plugin_switch_with_the_admins_name(district: Any) -> None:
    d = district
    await toggle(d, "smart_service", True)
    rows = audit_rows((await d.client.get(f"{d.base}/admin/audit")).text)
    switch = [r for r in rows if 'data-action="plugin.enable"' in r]
    assert len(switch) == 1 and who(switch[0]) == ADMIN and "smart_service" in switch[0]
    assert 'data-action="plugin.enable"' in rows[0]  # newest first


async def test_the_audit_log_filters_by_action_and_actor(district: Any) -> None:
    d = district
    await toggle(d, "smart_service", True)
    await toggle(d, "smart_service", False)
    rows = audit_rows((await d.client.get(f"{d.base}/admin/audit", params={"action": "plugin."})).text)
    assert [re.search(r'data-action="([^"]+)"', r).group(1) for r in rows] == ["plugin.disable", "plugin.enable"]  # type: ignore[union-attr]

    by_platform = audit_rows((await d.client.get(f"{d.base}/admin/audit", params={"actor": "platf"})).text)
    assert by_platform and {who(row) for row in by_platform} == {"platform (system)"}
    by_admin = audit_rows((await d.client.get(f"{d.base}/admin/audit", params={"actor": ADMIN})).text)
    assert by_admin and {who(row) for row in by_admin} == {ADMIN}

    r = await d.client.get(f"{d.base}/admin/audit", params={"action": "no.such.action"})
    assert audit_rows(r.text) == [] and "No entries match these filters." in r.text

    r = await d.client.get(
        f"{d.base}/admin/audit", params={"action": "plugin.", "date_from": "2000-01-01", "date_to": "2000-12-31"}
    )
    assert audit_rows(r.text) == []


async def test_the_audit_filter_answers_htmx_with_the_main_content_only(district: Any) -> None:
    d = district
    await toggle(d, "smart_service", True)
    r = await d.client.get(f"{d.base}/admin/audit", params={"action": "plugin."}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.text and len(audit_rows(r.text)) == 1


async def test_the_audit_log_pages_fifty_entries_at_a_time(district: Any, db: Any) -> None:
    d = district
    async with db.transaction(d.tenant.id, Actor("user", None, "bulk")) as s:
        for n in range(60):
            record(s, "test.bulk", "things", n, {"n": n})
    url = f"{d.base}/admin/audit"
    first = await d.client.get(url, params={"action": "test.bulk"})
    rows = audit_rows(first.text)
    assert len(rows) == 50
    assert "<code>59</code>" in rows[0] and "<code>10</code>" in rows[-1]  # newest first
    assert f'href="{url}?action=test.bulk&amp;page=2"' in first.text
    second = audit_rows((await d.client.get(url, params={"action": "test.bulk", "page": "2"})).text)
    assert len(second) == 10 and "<code>0</code>" in second[-1]
    async with db.session(d.tenant.id) as s:
        total = len((await s.execute(select(AuditEntry.id))).all())
    assert total > 60
    everything = await d.client.get(url)
    assert len(audit_rows(everything.text)) == 50 and f"Page 1 of {-(-total // 50)}" in everything.text


# ---- the district's own settings ----------------------------------------------------------------


async def test_the_overview_shows_the_district_and_links_its_sections(district: Any) -> None:
    d = district
    r = await d.client.get(f"{d.base}/admin/")
    assert r.status_code == 200
    assert "测试区" in r.text and "Test District" in r.text
    assert f'href="{d.base}/admin/plugins"' in r.text and f'href="{d.base}/admin/audit"' in r.text


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"primary_color": "#12345g"}, "primary_color"),
        ({"primary_color": "red"}, "primary_color"),
        ({"name_zh": "  "}, "name_zh"),
        ({"terminology": "grid = 片区\nGrid Worker = 网格员"}, "terminology"),
        ({"terminology": "grid: 片区"}, "terminology"),
        ({"terminology": "grid = " + "长" * 21}, "terminology"),
        ({"motto": "长" * 61}, "motto"),
        ({"locale": "fr"}, "locale"),
    ],
)
async def test_a_bad_district_setting_is_marked_and_nothing_is_saved(
    district: Any, db: Any, form: dict[str, str], field: str
) -> None:
    d = district
    before = await tenant_row(db, d.tenant)
    good = {"name_zh": "新名区", "name_en": "Renamed", "locale": "zh_Hans", "terminology": "grid = 片区"}
    r = await form_post(d.client, f"{d.base}/admin/tenant", {**good, "primary_color": "#123456", **form})
    assert r.status_code == 400
    assert re.search(rf'<small id="e-{field}" class="lz-error">[^<]+</small>', r.text)
    after = await tenant_row(db, d.tenant)
    assert (after.name_zh, after.name_en, after.terminology, after.branding) == (
        before.name_zh,
        before.name_en,
        before.terminology,
        before.branding,
    )


async def test_district_settings_are_saved_shown_and_audited(district: Any, db: Any) -> None:
    d = district
    r = await form_post(
        d.client,
        f"{d.base}/admin/tenant",
        {
            "name_zh": "新名区",
            "name_en": "Renamed District",
            "locale": "zh_Hans",
            "terminology": "grid = 片区\n\ngrid_worker = 片区员 ",
            "primary_color": "#1B5E20",
            "motto": "共建共治",
        },
    )
    assert r.status_code == 303
    row = await tenant_row(db, d.tenant)
    assert (row.name_zh, row.name_en) == ("新名区", "Renamed District")
    assert row.terminology == {"grid": "片区", "grid_worker": "片区员"}
    assert row.branding == {"primary_color": "#1b5e20", "motto": "共建共治"}
    page = await d.client.get(r.headers["location"])
    assert "The district settings have been saved." in page.text and "Renamed District" in page.text
    assert "--lz-primary: #1b5e20" in page.text
    audit = audit_rows((await d.client.get(f"{d.base}/admin/audit", params={"action": "tenant.settings"})).text)
    assert len(audit) == 1 and who(audit[0]) == ADMIN and "Renamed District" in audit[0]


# ---- settings_form (pure) -----------------------------------------------------------------------


def _settings_of(plugin: str) -> type[msgspec.Struct]:
    return importlib.import_module(f"plugins.{plugin}.plugin").Settings  # type: ignore[no-any-return]


@pytest.mark.parametrize("plugin", BUILTIN)
def test_fields_of_reads_every_builtin_plugins_settings(plugin: str) -> None:
    struct = _settings_of(plugin)
    fields = sf.fields_of(struct)
    defaults = struct()
    assert [f.name for f in fields] == list(struct.__struct_fields__)
    for f in fields:
        assert f.default == getattr(defaults, f.name)
        assert re.search(r"[\u4e00-\u9fff]", f.title_zh), f.title_zh
        assert f.title_en and f.title_en.isascii() and f.title_en[0].isupper(), f.title_en
        if f.kind == sf.INT:
            assert f.ge is not None and f.le is not None and f.ge <= f.default <= f.le
    # A form submitted as first shown reads back as the defaults.
    values, errors = sf.coerce(sf.display_values(fields), fields)
    assert errors == {} and msgspec.convert(values, struct) == defaults


def test_fields_of_smart_service_in_detail() -> None:
    by_name = {f.name: f for f in sf.fields_of(_settings_of("smart_service"))}
    hotline, days, anonymous = by_name["hotline"], by_name["proxy_service_days"], by_name["allow_anonymous_reports"]
    assert (hotline.kind, hotline.max_length, hotline.default) == (sf.STR, 20, "12345")
    assert (days.kind, days.ge, days.le, days.title_zh, days.title_en) == (
        sf.INT,
        1,
        30,
        "代办时限（工作日）",
        "Proxy service days",
    )
    assert days.attrs() == {"step": "1", "min": 1, "max": 30, "required": True}
    assert anonymous.kind == sf.BOOL and anonymous.title("en") == "Allow anonymous reports"


class Sample(msgspec.Struct, forbid_unknown_fields=True):
    mode: Literal["fast", "slow"] = "fast"
    ratio: float = 0.5
    limit: int | None = None
    tags: list[str] = msgspec.field(default_factory=list)
    plain_name: str = ""
    flag: bool = True


def test_fields_of_handles_choices_floats_optionals_and_others() -> None:
    mode, ratio, limit, tags, plain, flag = sf.fields_of(Sample)
    assert (mode.kind, mode.choices) == (sf.CHOICE, ("fast", "slow"))
    assert ratio.kind == sf.FLOAT and limit.kind == sf.INT and limit.nullable
    assert tags.kind == sf.OTHER and tags.default == []
    assert plain.title_zh == plain.title_en == "Plain name"
    assert flag.kind == sf.BOOL


def test_coerce_reads_strings_and_an_absent_checkbox_as_false() -> None:
    fields = sf.fields_of(Sample)
    values, errors = sf.coerce({"mode": "slow", "ratio": "0.25", "limit": "", "plain_name": " x "}, fields)
    assert errors == {}
    assert values == {"mode": "slow", "ratio": 0.25, "limit": None, "plain_name": "x", "flag": False}
    values, errors = sf.coerce({"flag": "1", "limit": "7", "mode": "fast"}, fields)
    assert values["flag"] is True and values["limit"] == 7
    _values, errors = sf.coerce({"mode": "medium", "ratio": "nan", "limit": "7.5"}, fields)
    assert set(errors) == {"mode", "ratio", "limit"}


def test_validate_finds_every_bad_field_and_keeps_msgspecs_reason_for_the_rest() -> None:
    struct = _settings_of("smart_service")
    fields = sf.fields_of(struct)

    def check(d: dict[str, Any]) -> dict[str, Any]:
        return msgspec.to_builtins(msgspec.convert(d, struct))

    fallback = {f.name: f.default for f in fields}
    clean, errors, other = sf.validate({"hotline": "1" * 21, "proxy_service_days": 99}, fields, check, fallback)
    assert clean is None and other is None and set(errors) == {"hotline", "proxy_service_days"}
    clean, errors, other = sf.validate({"hotline": "1", "unknown": 1}, fields, check, fallback)
    assert clean is None and errors == {} and other is not None and "unknown" in other
    clean, errors, _other = sf.validate({"proxy_service_days": 3}, fields, check, fallback)
    defaults = {"hotline": "12345", "proxy_service_days": 3, "allow_anonymous_reports": False}
    assert errors == {} and clean is not None and {k: clean[k] for k in defaults} == defaults
    assert sf.field_of_error("Expected `int` >= 1 - at `$.proxy_service_days`") == "proxy_service_days"
