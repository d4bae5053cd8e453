"""Models against migrations: a plugin's next revision written from its models (``liuzhi db
revision --plugin``), and the check that every installed plugin's and core's models and
migrations agree (``liuzhi db check``).

A new tenant-owned table's revision also turns row-level security on (``rls.enable``), and the
names of keys and indexes follow core's naming convention (they come from ``Base.metadata``).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata, renderers
from alembic.migration import MigrationContext
from alembic.operations import ops
from alembic.script import ScriptDirectory
from sqlalchemy import DefaultClause

from core.db.base import Base, is_tenant_scoped
from core.db.engine import make_engine
from core.db.migrate import alembic_config, plugin_version_dirs

CORE = "core"


class EnableRLSOp(ops.MigrateOperation):
    """Rendered as ``rls.enable(op, "<table>")`` (``from liuzhi.api import rls``) after the table's
    creation (no-op on SQLite)."""

    def __init__(self, table: str) -> None:
        self.table = table

    def reverse(self) -> ops.MigrateOperation:  # dropping the table drops its policy
        return ops.ExecuteSQLOp("SELECT 1")


@renderers.dispatch_for(EnableRLSOp)
def _render_rls(autogen_context: Any, op: EnableRLSOp) -> str:
    autogen_context.imports.add("from liuzhi.api import rls")
    return f"rls.enable(op, {op.table!r})"


def package_of(host: Any, name: str) -> str:
    """The package a plugin's entry point lives in (``liuzhi_example.plugin`` → ``liuzhi_example``)."""
    plugin = host.pm.get_plugin(name)
    module = getattr(plugin, "__name__", None) or type(plugin).__module__
    return module.rsplit(".", 1)[0] if "." in module else module


def table_owners(host: Any) -> dict[str, str]:
    """Each mapped table's owner: the plugin whose package defines its model, or core."""
    packages = {package_of(host, name): name for name in host.names}
    owners: dict[str, str] = {}
    for mapper in Base.registry.mappers:
        module = mapper.class_.__module__
        owner = next((p for pkg, p in packages.items() if module == pkg or module.startswith(pkg + ".")), CORE)
        for table in mapper.tables:
            owners.setdefault(table.name, owner)
    for table in Base.metadata.tables.values():
        owners.setdefault(table.name, CORE)
    return owners


def tenant_scoped_tables() -> set[str]:
    return {t.name for m in Base.registry.mappers if is_tenant_scoped(m.class_) for t in m.tables}


def _table_of(obj: Any, name: str | None, type_: str) -> str | None:
    if type_ == "table":
        return name
    table = getattr(obj, "table", None)
    return getattr(table, "name", None)


@dataclass(frozen=True)
class Difference:
    owner: str  # "core" or a plugin's name
    table: str
    what: str


def _describe(diff: Any) -> tuple[str | None, str]:
    """(table, a readable line) for one entry of alembic's compare_metadata."""
    if isinstance(diff, list):  # column modifications come as a list of tuples
        first = diff[0]
        return first[2], f"{first[0]} {first[2]}.{first[3]}: {first[-2]!r} → {first[-1]!r}"
    kind, obj = diff[0], diff[1]
    table = getattr(obj, "name", None) if kind.endswith("_table") else None
    if table is None:
        table = diff[2] if kind.endswith("_column") else getattr(getattr(obj, "table", None), "name", None)
    if kind.endswith("_column"):
        return table, f"{kind} {diff[2]}.{diff[3].name}"
    return table, f"{kind} {getattr(obj, 'name', obj)}"


async def differences(settings: Any, host: Any) -> list[Difference]:
    """What the database at ``settings.owner_url`` (migrated to every head) lacks or has beyond the
    models of core and of every installed plugin. Empty when they agree."""
    owners = table_owners(host)
    engine = make_engine(settings.owner_url)
    try:
        async with engine.connect() as conn:

            def compare(sync_conn: Any) -> list[Any]:
                ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return list(compare_metadata(ctx, Base.metadata))

            found = await conn.run_sync(compare)
    finally:
        await engine.dispose()
    out = []
    for diff in found:
        table, what = _describe(diff)
        out.append(Difference(owners.get(table or "", CORE), table or "?", what))
    return out


def _fill_existing_rows(op_: ops.MigrateOperation) -> None:
    """A new NOT NULL column gets its model's scalar default as the server default, so tables
    that already hold rows (every district's) can take it on PostgreSQL as on SQLite."""
    if isinstance(op_, ops.ModifyTableOps):
        for inner in op_.ops:
            _fill_existing_rows(inner)
        return
    if not isinstance(op_, ops.AddColumnOp):
        return
    column = op_.column
    default = getattr(column.default, "arg", None)
    if column.nullable or column.server_default is not None or default is None or callable(default):
        return
    value = str(int(default)) if isinstance(default, bool) else str(default)
    column.server_default = DefaultClause(value)


def next_revision_id(version_dir: Path, name: str) -> str:
    """``<prefix>_0002`` after ``<prefix>_0001`` (the plugin's own numbering), else ``<name>_0001``."""
    numbers: dict[str, int] = {}
    for path in version_dir.glob("*.py"):
        found = re.search(r"^revision(?:: str)? = ['\"]([A-Za-z0-9_]+?)_(\d+)['\"]", path.read_text(), re.M)
        if found:
            numbers[found.group(1)] = max(numbers.get(found.group(1), 0), int(found.group(2)))
    if not numbers:
        return f"{name}_0001"
    prefix, n = max(numbers.items(), key=lambda kv: kv[1])
    return f"{prefix}_{n + 1:04d}"


class RevisionError(RuntimeError):
    pass


async def write_revision(settings: Any, host: Any, plugin: str, message: str) -> Path | None:
    """Autogenerate ``plugin``'s next revision on its branch from its models, against the database
    at ``settings.owner_url`` (which must be at every head). None when nothing changed."""
    if plugin not in host.names:
        raise RevisionError(f"no installed plugin {plugin!r} (installed: {', '.join(host.names)})")
    dirs = dict(host.call_sync("register_migrations"))
    if plugin not in dirs:
        raise RevisionError(f"{plugin} has no register_migrations(): it keeps no tables")
    version_dir = Path(dirs[plugin])
    owners = table_owners(host)
    mine = {t for t, owner in owners.items() if owner == plugin}
    scoped = tenant_scoped_tables()
    cfg = alembic_config(plugin_version_dirs(host))
    script = ScriptDirectory.from_config(cfg)
    has_branch = any(plugin in (r.branch_labels or ()) for r in script.walk_revisions())
    written: list[Path] = []

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        return _table_of(obj, name, type_) in mine

    def directives(context: Any, revision: Any, directives: list[Any]) -> None:
        migration = directives[0]
        upgrade_ops = migration.upgrade_ops
        if upgrade_ops.is_empty():
            directives[:] = []
            return
        added: list[ops.MigrateOperation] = []
        for op_ in upgrade_ops.ops:
            added.append(op_)
            if isinstance(op_, ops.CreateTableOp) and op_.table_name in scoped:
                added.append(EnableRLSOp(op_.table_name))
            _fill_existing_rows(op_)
        upgrade_ops.ops = added

    engine = make_engine(settings.owner_url)
    try:
        async with engine.connect() as conn:

            def run(sync_conn: Any) -> None:
                cfg.attributes["connection"] = sync_conn
                cfg.attributes["configure"] = {
                    "include_object": include_object,
                    "process_revision_directives": directives,
                }
                kwargs: dict[str, Any] = {"version_path": str(version_dir)}
                if has_branch:
                    kwargs["head"] = f"{plugin}@head"
                else:  # the plugin's first revision starts its branch, after core's tables exist
                    kwargs.update(head="base", branch_label=plugin, depends_on="core_0001")
                made = command.revision(
                    cfg,
                    message,
                    autogenerate=True,
                    rev_id=next_revision_id(version_dir, plugin),
                    **kwargs,
                )
                for one in made if isinstance(made, list) else [made]:
                    if one is not None:
                        written.append(Path(one.path))

            await conn.run_sync(run)
    finally:
        await engine.dispose()
    return written[0] if written else None


def echo_differences(found: list[Difference], out: Any = sys.stdout) -> None:
    for d in sorted(found, key=lambda d: (d.owner, d.table, d.what)):
        print(f"  {d.owner}: {d.what}", file=out)
