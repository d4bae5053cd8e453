"""Districts as code: `tenants plan` shows, `tenants apply` carries out — nodes added, renamed,
moved and removed, plugins, settings and domains switched — and a refused removal applies nothing."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core.cli import cli
from core.db.engine import Database
from core.grids.basedata import Resident
from core.grids.models import GridNode
from core.grids.tree import create_node
from core.tenancy.models import TenantDomain, TenantPlugin
from core.tenancy.plan import apply_plan, make_plan
from core.tenancy.service import NodeDef, TenantDefinition, TenantError, delete_tenant, ensure_user, get_tenant
from tests.ops.test_backup import env_of

KINDS = [
    {"code": "district", "name_zh": "区", "name_en": "District", "level": 0},
    {"code": "street", "name_zh": "街道", "name_en": "Street", "level": 1},
    {"code": "community", "name_zh": "社区", "name_en": "Community", "level": 2},
    {"code": "grid", "name_zh": "网格", "name_en": "Grid", "level": 3},
]


def definition(slug: str, **over: Any) -> TenantDefinition:
    nodes = [
        NodeDef("root", None, "district", "测试区"),
        NodeDef("s1", "root", "street", "东街道"),
        NodeDef("c1", "s1", "community", "东一社区"),
        NodeDef("c2", "s1", "community", "东二社区"),
        NodeDef("g1", "c1", "grid", "第一网格"),
        NodeDef("s2", "root", "street", "西街道"),
    ]
    base = TenantDefinition(
        slug=slug,
        name_zh="测试区",
        kinds=KINDS,
        nodes=nodes,
        plugins={"smart_service": {"enabled": False}},
    )
    return replace(base, **over)


def changed(d: TenantDefinition, *edits: tuple[str, NodeDef | None]) -> list[NodeDef]:
    """The definition's nodes with ``(code, new NodeDef or None to drop)`` edits, plus additions."""
    out = []
    by_code = dict(edits)
    for n in d.nodes:
        if n.code in by_code:
            if by_code[n.code] is not None:
                out.append(by_code.pop(n.code))  # type: ignore[arg-type]
            else:
                by_code.pop(n.code)
        else:
            out.append(n)
    return out + [n for n in by_code.values() if n is not None]


@pytest.fixture
async def slug(app: Any) -> AsyncIterator[str]:
    name = "d-" + secrets.token_hex(4)
    yield name
    owner = Database(app.state.settings.owner_url)
    try:
        await delete_tenant(app.state.db, owner, await get_tenant(app.state.db, name))
    except TenantError:
        pass
    finally:
        await owner.dispose()
    app.state.tenant_cache.clear()


async def tree(db: Database, slug: str) -> dict[str, tuple[str, str | None, str]]:
    """code → (name, parent code, path of codes)."""
    tenant = await get_tenant(db, slug)
    async with db.session(tenant.id) as s:
        nodes = list((await s.execute(select(GridNode))).scalars())
    by_id = {n.id: n for n in nodes}
    out = {}
    for n in nodes:
        codes = [by_id[int(i)].code for i in n.path.strip("/").split("/")]
        out[n.code] = (n.name, by_id[n.parent_id].code if n.parent_id else None, "/".join(codes))
    return out


async def test_apply_adds_renames_moves_and_removes_nodes_and_switches_plugins_and_domains(app: Any, slug: str) -> None:
    db, host = app.state.db, app.state.plugins
    d1 = definition(slug)
    first = await make_plan(db, host, d1)
    assert first.new and any(c.text.startswith("node g1 ") for c in first.changes)
    await apply_plan(db, host, d1)
    assert (await make_plan(db, host, d1)).lines() == [f"{slug}: up to date"]

    d2 = replace(
        d1,
        name_en="Test District",
        domains=[f"{slug}.example.cn"],
        terminology={"grid": "片区"},
        nodes=changed(
            d1,
            ("c1", NodeDef("c1", "s1", "community", "东一新社区")),  # renamed
            ("g1", NodeDef("g1", "c2", "grid", "第一网格")),  # moved to c2
            ("s2", None),  # removed
            ("g3", NodeDef("g3", "c2", "grid", "第三网格")),  # added
        ),
        plugins={"smart_service": {"enabled": True, "settings": {"hotline": "0314-12345"}}},
    )
    plan = await make_plan(db, host, d2)
    text = "\n".join(plan.lines())
    for expected in (
        "~ name_en",
        "~ terminology",
        f"+ domain {slug}.example.cn",
        "~ node c1 renamed 东一社区 → 东一新社区",
        "> node g1 第一网格 moved from c1 to c2",
        "- node s2 西街道",
        "+ node g3 第三网格 under c2",
        "+ plugin smart_service on",
    ):
        assert expected in text, f"{expected!r} not in:\n{text}"
    assert not plan.refusals
    before = await tree(db, slug)
    assert before == await tree(db, slug)  # planning changes nothing

    await apply_plan(db, host, d2)
    after = await tree(db, slug)
    assert after["c1"][0] == "东一新社区"
    assert after["g1"][1:] == ("c2", "root/s1/c2/g1")
    assert after["g3"][1:] == ("c2", "root/s1/c2/g3")
    assert "s2" not in after
    tenant = await get_tenant(db, slug)
    assert tenant.name_en == "Test District" and tenant.terminology == {"grid": "片区"}
    async with db.session(tenant.id) as s:
        row = (await s.execute(select(TenantPlugin).where(TenantPlugin.plugin == "smart_service"))).scalar_one()
        assert row.enabled and row.settings["hotline"] == "0314-12345"
        hosts = list((await s.execute(select(TenantDomain.host).where(TenantDomain.tenant_id == tenant.id))).scalars())
    assert hosts == [f"{slug}.example.cn"]
    assert (await make_plan(db, host, d2)).lines() == [f"{slug}: up to date"]

    d3 = replace(d2, domains=[])
    assert f"- domain {slug}.example.cn" in "\n".join((await make_plan(db, host, d3)).lines())
    await apply_plan(db, host, d3)
    async with db.session(None) as s:
        assert not (await s.execute(select(TenantDomain).where(TenantDomain.tenant_id == tenant.id))).first()


async def test_a_removal_something_hangs_on_is_refused_with_the_reason_and_nothing_is_applied(
    app: Any, slug: str
) -> None:
    db, host = app.state.db, app.state.plugins
    d1 = definition(slug)
    await apply_plan(db, host, d1)
    tenant = await get_tenant(db, slug)
    async with db.transaction(tenant.id) as s:
        c2 = (await s.execute(select(GridNode).where(GridNode.code == "c2"))).scalar_one()
        s.add(Resident(name="王芳", node_id=c2.id, node_path=c2.path))
        c1 = (await s.execute(select(GridNode).where(GridNode.code == "c1"))).scalar_one()
        await create_node(s, c1, code="c1-app", kind="grid", name="社区自建网格")  # made in the app
    d2 = replace(
        d1,
        name_zh="改名测试区",  # would apply, were it not for the refusals
        nodes=changed(d1, ("c2", None), ("c1", None), ("g1", None)),
    )
    plan = await make_plan(db, host, d2)
    refused = {c.text.split()[1]: c.refused for c in plan.refusals}
    assert set(refused) == {"c1", "c2"}
    assert "1 residents live here" in refused["c2"]
    assert "sub-areas the definition does not list (c1-app)" in refused["c1"]
    snapshot = await tree(db, slug)
    with pytest.raises(TenantError, match="nothing applied") as caught:
        await apply_plan(db, host, d2)
    assert "residents live here" in str(caught.value)
    assert await tree(db, slug) == snapshot  # g1 (removable on its own) is still there
    assert (await get_tenant(db, slug)).name_zh == "测试区"
    # The node made in the app is never the definition's to remove.
    assert "c1-app" in snapshot
    assert not any("c1-app" in c.text for c in (await make_plan(db, host, d1)).changes)


def test_tenants_plan_and_apply_on_the_command_line(migrated: Any, app: Any, slug: str, tmp_path: Path) -> None:
    db = Database(migrated.database_url)
    loop = asyncio.new_event_loop()  # one loop for the engine's connections (the command runs its own)
    run = loop.run_until_complete

    folder = tmp_path / "tenants" / slug
    folder.mkdir(parents=True)
    (folder / "tenant.toml").write_text(
        f'slug = "{slug}"\nname_zh = "命令行区"\n'
        + "".join(
            f'[[kinds]]\ncode = "{k["code"]}"\nname_zh = "{k["name_zh"]}"\nlevel = {k["level"]}\n' for k in KINDS
        ),
        encoding="utf-8",
    )
    grid = "code,parent,kind,name\nroot,,district,命令行区\ns1,root,street,东街道\nc1,s1,community,东一社区\n"
    (folder / "grid.csv").write_text(grid, encoding="utf-8")
    env = env_of(migrated)
    runner = CliRunner()
    planned = runner.invoke(cli, ["tenants", "plan", "--dir", str(tmp_path / "tenants")], env=env)
    assert planned.exit_code == 0, planned.output
    assert f"{slug}: new tenant" in planned.output and "+ node c1 东一社区 under s1" in planned.output
    with pytest.raises(TenantError):
        run(get_tenant(db, slug))  # plan wrote nothing
    applied = runner.invoke(cli, ["tenants", "apply", "--dir", str(tmp_path / "tenants")], env=env)
    assert applied.exit_code == 0, applied.output
    (folder / "grid.csv").write_text(
        grid.replace("东一社区", "东一新社区").replace("c1,s1", "c1,root"), encoding="utf-8"
    )
    planned = runner.invoke(cli, ["tenants", "plan", "--dir", str(tmp_path / "tenants")], env=env)
    assert "~ node c1 renamed 东一社区 → 东一新社区" in planned.output
    assert "> node c1 东一新社区 moved from s1 to root" in planned.output
    # A district admin assigned at s1 hangs on it: removing s1 is refused, nothing applied, exit 1.
    tenant = run(get_tenant(db, slug))

    async def assign() -> None:
        async with db.transaction(tenant.id) as s:
            s1 = (await s.execute(select(GridNode).where(GridNode.code == "s1"))).scalar_one()
            await ensure_user(s, "chief", "chief", "pass-word-123", "district_admin", s1)

    run(assign())
    (folder / "grid.csv").write_text("code,parent,kind,name\nroot,,district,命令行区\nc1,root,community,东一新社区\n")
    refused = runner.invoke(cli, ["tenants", "apply", "--dir", str(tmp_path / "tenants")], env=env)
    assert refused.exit_code == 1
    assert "staff role assignments are made here" in refused.output
    assert run(tree(db, slug))["c1"][0] == "东一社区"
    run(db.dispose())
    loop.close()
