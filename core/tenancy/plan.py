"""Districts as code: what `liuzhi tenants apply` would change for a definition (the plan), and
carrying out exactly that in one transaction.

A plan compares a definition (tenants/<slug>/) with the database: the tenant's names, language,
terminology and branding; its domains (added and removed); node kinds (added, renamed); grid nodes
by code (added, renamed, given another kind, moved under another parent, removed); plugins switched
on or off and their settings. Nodes the definition ever listed are marked ``defined``; only those
can be removed by leaving them out — nodes made in the app or by an import are the app's.

A removal something still hangs on (sub-areas the definition does not list, residents, households,
organisations, staff assignments, a plugin's records such as events) is refused with the reason,
and then nothing of the plan is applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.db.base import Base, new_id
from core.db.context import Actor
from core.db.engine import Database
from core.grids.models import GridNode, NodeKind
from core.grids.tree import TreeError, move_subtree
from core.pluginhost.manager import PluginHost
from core.rbac.provisioning import ensure_roles
from core.tenancy.models import Tenant, TenantDomain, TenantPlugin
from core.tenancy.service import (
    PLATFORM,
    TenantDefinition,
    TenantError,
    _check_slug,
    create_tenant,
    switch_plugin,
    validate_settings,
)

ATTRS = ("name_zh", "name_en", "locale", "terminology", "branding")
# What a row pointing at a node is, in a refusal (other tables by name: a plugin's records).
WHAT = {
    "residents": "residents live here",
    "residences": "residence records (人房关系) point here",
    "households": "households are recorded here",
    "organisations": "organisations belong here",
    "role_assignments": "staff role assignments are made here",
}


@dataclass
class Change:
    sign: str  # "+" add, "~" change, ">" move, "-" remove
    text: str
    refused: str | None = None

    def line(self) -> str:
        out = f"  {self.sign} {self.text}"
        return out + (f"   REFUSED: {self.refused}" if self.refused else "")


@dataclass
class Plan:
    slug: str
    new: bool = False
    changes: list[Change] = field(default_factory=list)
    # What apply needs, worked out once.
    tenant: Tenant | None = None
    adds: list[Any] = field(default_factory=list)  # NodeDef
    updates: list[tuple[GridNode, Any]] = field(default_factory=list)  # (node, NodeDef)
    moves: list[tuple[GridNode, str]] = field(default_factory=list)  # (node, new parent code)
    removals: list[GridNode] = field(default_factory=list)  # deepest first
    adopt: list[int] = field(default_factory=list)  # node ids to mark as defined
    plugins: list[tuple[str, bool, dict[str, Any] | None]] = field(default_factory=list)

    @property
    def refusals(self) -> list[Change]:
        return [c for c in self.changes if c.refused]

    def add(self, sign: str, text: str, refused: str | None = None) -> None:
        self.changes.append(Change(sign, text, refused))

    def lines(self) -> list[str]:
        if not self.changes:
            return [f"{self.slug}: up to date"]
        head = f"{self.slug}: " + ("new tenant, " if self.new else "") + f"{len(self.changes)} change(s)"
        return [head, *(c.line() for c in self.changes)]


# ---- planning ----------------------------------------------------------------------------------


async def make_plan(db: Database, host: PluginHost, d: TenantDefinition) -> Plan:
    _check_slug(d.slug)
    async with db.session(None) as s:
        tenant = (await s.execute(select(Tenant).where(Tenant.slug == d.slug))).scalar_one_or_none()
        domains = set()
        if tenant is not None:
            rows = await s.execute(select(TenantDomain.host).where(TenantDomain.tenant_id == tenant.id))
            domains = set(rows.scalars())
        taken = {
            h: t
            for h, t in (await s.execute(select(TenantDomain.host, TenantDomain.tenant_id))).all()
            if h in d.domains
        }
    plan = Plan(d.slug, new=tenant is None, tenant=tenant)
    if tenant is None:
        plan.add("+", f"tenant {d.slug} {d.name_zh}")
    else:
        for attr in ATTRS:
            if getattr(tenant, attr) != getattr(d, attr):
                plan.add("~", f"{attr}: {getattr(tenant, attr)!r} → {getattr(d, attr)!r}")
    wanted = {h.lower() for h in d.domains}
    for host_name in sorted(wanted - domains):
        owner = taken.get(host_name)
        busy = owner is not None and (tenant is None or owner != tenant.id)
        plan.add("+", f"domain {host_name}", "another tenant answers at this domain" if busy else None)
    for host_name in sorted(domains - wanted):
        plan.add("-", f"domain {host_name}")
    if tenant is None:
        _plan_tree(plan, d, {}, {}, {})
    else:
        async with db.session(tenant.id) as s:
            kinds = {k.code: k for k in (await s.execute(select(NodeKind))).scalars()}
            nodes = {n.code: n for n in (await s.execute(select(GridNode))).scalars()}
            by_id = {n.id: n for n in nodes.values()}
            _plan_tree(plan, d, kinds, nodes, by_id)
            for node in plan.removals:
                reason = await _removal_blockers(s, node, {n.id for n in plan.removals})
                if reason:
                    next(
                        c for c in plan.changes if c.sign == "-" and c.text.startswith(f"node {node.code} ")
                    ).refused = reason
            rows = {r.plugin: r for r in (await s.execute(select(TenantPlugin))).scalars()}
        _plan_plugins(plan, host, d, rows)
        return plan
    _plan_plugins(plan, host, d, {})
    return plan


def _plan_tree(
    plan: Plan, d: TenantDefinition, kinds: dict[str, NodeKind], nodes: dict[str, GridNode], by_id: dict[int, GridNode]
) -> None:
    kind_codes = set(kinds)
    for k in d.kinds:
        have = kinds.get(k["code"])
        if have is None:
            plan.add("+", f"node kind {k['code']} {k['name_zh']} (level {k['level']})")
        elif (have.name_zh, have.name_en or "", have.level) != (k["name_zh"], k.get("name_en", ""), int(k["level"])):
            plan.add("~", f"node kind {k['code']}: {have.name_zh} → {k['name_zh']}, level {have.level} → {k['level']}")
        kind_codes.add(k["code"])
    listed = {n.code for n in d.nodes}
    for nd in d.nodes:
        have = nodes.get(nd.code)
        parent_known = nd.parent is None or nd.parent in listed or nd.parent in nodes
        problem = None
        if nd.kind not in kind_codes:
            problem = f"unknown node kind {nd.kind!r}"
        elif not parent_known:
            problem = f"parent {nd.parent} is neither in the definition nor in the database"
        if have is None:
            where = f" under {nd.parent}" if nd.parent else " (top of the tree)"
            plan.add("+", f"node {nd.code} {nd.name}{where}", problem)
            plan.adds.append(nd)
            continue
        if not have.defined:
            plan.adopt.append(have.id)
        if (have.name, have.name_en or "", have.kind) != (nd.name, nd.name_en or "", nd.kind):
            what = []
            if have.name != nd.name or (have.name_en or "") != (nd.name_en or ""):
                what.append(f"renamed {have.name} → {nd.name}")
            if have.kind != nd.kind:
                what.append(f"kind {have.kind} → {nd.kind}")
            plan.add("~", f"node {nd.code} " + ", ".join(what), problem)
            plan.updates.append((have, nd))
        current_parent = by_id[have.parent_id].code if have.parent_id in by_id else None
        if current_parent != nd.parent:
            if nd.parent is None:
                problem = problem or "a node cannot become the top of the tree"
            plan.add(">", f"node {nd.code} {nd.name} moved from {current_parent} to {nd.parent}", problem)
            plan.moves.append((have, nd.parent or ""))
    gone = [n for n in nodes.values() if n.defined and n.code not in listed]
    for node in sorted(gone, key=lambda n: -n.depth):  # deepest first: children go before parents
        plan.add("-", f"node {node.code} {node.name}")
        plan.removals.append(node)


async def _removal_blockers(s: Any, node: GridNode, removing: set[int]) -> str | None:
    if node.parent_id is None:
        return "it is the top of the tree"
    reasons = []
    children = (await s.execute(select(GridNode.id, GridNode.code).where(GridNode.parent_id == node.id))).all()
    kept = [code for cid, code in children if cid not in removing]
    if kept:
        reasons.append(f"{len(kept)} sub-areas the definition does not list ({', '.join(sorted(kept)[:5])})")
    for table in Base.metadata.sorted_tables:
        if table.name == GridNode.__tablename__:
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name == GridNode.__tablename__ and fk.column.name == "id":
                column = fk.parent
                n = await s.scalar(select(func.count()).select_from(table).where(column == node.id))
                if n:
                    reasons.append(f"{n} {WHAT.get(table.name, 'rows of ' + table.name)}")
    return "; ".join(reasons) or None


def _plan_plugins(plan: Plan, host: PluginHost, d: TenantDefinition, rows: dict[str, TenantPlugin]) -> None:
    for plugin, conf in d.plugins.items():
        if plugin not in host.manifests:
            plan.add("~", f"plugin {plugin}", "not installed here")
            continue
        enabled = bool(conf.get("enabled"))
        settings = conf.get("settings")
        try:
            clean = validate_settings(host, plugin, settings) if settings is not None else None
        except TenantError as exc:
            plan.add("~", f"plugin {plugin} settings", f"invalid: {exc}")
            continue
        row = rows.get(plugin)
        was = bool(row and row.enabled)
        if row is None or was != enabled:
            plan.add("+" if enabled else "-", f"plugin {plugin} {'on' if enabled else 'off'}")
        if clean is not None and row is not None and clean != row.settings:
            changed = sorted(
                k for k in set(clean) | set(row.settings or {}) if clean.get(k) != (row.settings or {}).get(k)
            )
            plan.add("~", f"plugin {plugin} settings: {', '.join(changed)}")
        if row is None or was != enabled or (clean is not None and clean != (row.settings if row else None)):
            plan.plugins.append((plugin, enabled, settings))


# ---- applying ----------------------------------------------------------------------------------


async def apply_plan(db: Database, host: PluginHost, d: TenantDefinition, actor: Actor = PLATFORM) -> Plan:
    """Make the plan and carry it out; refuses (TenantError, nothing written) if any part is refused."""
    plan = await make_plan(db, host, d)
    if plan.refusals:
        reasons = "; ".join(f"{c.text}: {c.refused}" for c in plan.refusals)
        raise TenantError(f"{d.slug}: nothing applied, because {reasons}")
    if not plan.changes and not plan.adopt:
        return plan
    tenant = plan.tenant
    if tenant is None:
        tenant = await create_tenant(db, host, d.slug, d.name_zh, d.name_en, d.locale, actor)
    try:
        async with db.transaction(tenant.id, actor) as s:
            await _apply(s, host, d, plan, tenant)
    except TreeError as exc:
        raise TenantError(f"{d.slug}: nothing applied, because {exc}") from exc
    except IntegrityError as exc:  # something came to hang on a node between plan and apply
        raise TenantError(f"{d.slug}: nothing applied, because the database refused: {exc.orig}") from exc
    return plan


async def _apply(s: Any, host: PluginHost, d: TenantDefinition, plan: Plan, tenant: Tenant) -> None:
    row = await s.get(Tenant, tenant.id)
    for attr in ATTRS:
        if getattr(row, attr) != getattr(d, attr):
            setattr(row, attr, getattr(d, attr))
    wanted = {h.lower() for h in d.domains}
    have = {
        r.host: r for r in (await s.execute(select(TenantDomain).where(TenantDomain.tenant_id == tenant.id))).scalars()
    }
    for host_name in wanted - set(have):
        s.add(TenantDomain(host=host_name, tenant_id=tenant.id))
    for host_name in set(have) - wanted:
        await s.delete(have[host_name])
    await ensure_roles(s, host)
    kinds = {k.code: k for k in (await s.execute(select(NodeKind))).scalars()}
    for k in d.kinds:
        kind = kinds.get(k["code"])
        if kind is None:
            s.add(NodeKind(code=k["code"], name_zh=k["name_zh"], name_en=k.get("name_en", ""), level=int(k["level"])))
        else:
            kind.name_zh, kind.name_en, kind.level = k["name_zh"], k.get("name_en", ""), int(k["level"])
    await s.flush()
    nodes = {n.code: n for n in (await s.execute(select(GridNode))).scalars()}
    pending = list(plan.adds)
    while pending:  # parents first, whatever the order of grid.csv
        placed = [nd for nd in pending if nd.parent is None or nd.parent in nodes]
        if not placed:
            raise TenantError(f"nodes without a parent: {', '.join(nd.code for nd in pending)}")
        for nd in placed:
            parent = nodes.get(nd.parent) if nd.parent else None
            node = GridNode(code=nd.code, kind=nd.kind, name=nd.name, name_en=nd.name_en, defined=True)
            node.id = new_id()
            node.parent_id = parent.id if parent else None
            node.depth = parent.depth + 1 if parent else 0
            node.path = (parent.path if parent else "/") + f"{node.id}/"
            s.add(node)
            nodes[nd.code] = node
        pending = [nd for nd in pending if nd not in placed]
    await s.flush()
    for old, nd in plan.updates:
        node = await s.get(GridNode, (tenant.id, old.id))
        node.name, node.name_en, node.kind = nd.name, nd.name_en, nd.kind
    for node, parent_code in plan.moves:
        await move_subtree(s, await s.get(GridNode, (tenant.id, node.id)), nodes[parent_code])
    for node in plan.removals:
        await s.delete(await s.get(GridNode, (tenant.id, node.id)))
        await s.flush()
    for node_id in plan.adopt:
        (await s.get(GridNode, (tenant.id, node_id))).defined = True
    for plugin, enabled, settings in plan.plugins:
        await switch_plugin(s, host, row, plugin, enabled, settings)
