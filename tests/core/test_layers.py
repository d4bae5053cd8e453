"""Layers point one way: the lower layers of core (db, tenancy, identity, rbac, grids, services,
imports, audit, pluginhost, ops, i18n) never import the web layer (``core.web``), and the import cycles
issue 8 named stay broken. Read from the source (imports at any depth, also inside functions), so a
late ``from core.web …`` inside a function counts too — except in a module's ``__getattr__``,
where a deprecated name is looked up lazily in its new home."""

from __future__ import annotations

import ast
from pathlib import Path

from core.config import REPO_ROOT

CORE = REPO_ROOT / "core"
LOWER = ("db", "tenancy", "identity", "rbac", "grids", "services", "imports", "audit", "pluginhost", "ops")
LOWER_FILES = ("i18n.py", "crypto.py", "config.py", "models.py")


def _nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node, leaving out the bodies of module-level ``__getattr__`` (deprecated aliases)."""
    out: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            continue
        out.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return out


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    out: set[str] = set()
    for node in _nodes(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def is_web_code(path: Path) -> bool:
    """Handlers live beside their feature (core/grids/routes/residents.py): web code by nature."""
    rel = path.relative_to(CORE).parts
    return any(part == "routes" or part.startswith("routes") or part.endswith("_routes.py") for part in rel)


def lower_files() -> list[Path]:
    files = [CORE / name for name in LOWER_FILES if (CORE / name).exists()]
    for package in LOWER:
        files += [
            p for p in sorted((CORE / package).rglob("*.py")) if not is_web_code(p) and "migrations" not in p.parts
        ]
    return files


def test_there_are_lower_layer_modules_to_check() -> None:
    assert len(lower_files()) > 50


def test_lower_layers_never_import_the_web_layer() -> None:
    offenders = {
        str(path.relative_to(REPO_ROOT)): sorted(
            m for m in imports_of(path) if m == "core.web" or m.startswith("core.web.")
        )
        for path in lower_files()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_meta_test_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f():\n    from core.web.context import ctx\n\ndef __getattr__(name):\n    import core.web.shell\n"
    )
    assert imports_of(sample) == {"core.web.context", "core.web.context.ctx"}


def test_the_engine_does_not_import_audit() -> None:
    assert not any(m.startswith("core.audit") for m in imports_of(CORE / "db" / "engine.py"))


def test_the_request_context_does_not_import_the_shell() -> None:
    assert not any(m.startswith("core.web.shell") for m in imports_of(CORE / "web" / "context.py"))


def test_smart_service_models_do_not_import_the_sla_clock() -> None:
    models = REPO_ROOT / "plugins" / "smart_service" / "models.py"
    assert not any(m.startswith("plugins.smart_service.sla") for m in imports_of(models))
