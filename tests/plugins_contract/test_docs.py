"""Meta-tests that keep the plugin contract honest (Datasette's test_docs/test_plugins idea):
every hookspec is documented in docs/plugins.md with its exact signature, and has a test."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from core.config import REPO_ROOT
from core.pluginhost import hookspecs
from core.pluginhost.markers import PROJECT

DOCS = REPO_ROOT / "docs" / "plugins.md"
HOOK_TESTS = Path(__file__).with_name("test_hooks.py")
HEADING = re.compile(r"^### `(\w+)\((.*)\)`\s*$", re.M)


def specs() -> dict[str, Any]:
    return {name: fn for name, fn in vars(hookspecs).items() if hasattr(fn, f"{PROJECT}_spec")}


def signature(fn: Any) -> str:
    return f"{fn.__name__}({', '.join(inspect.signature(fn).parameters)})"


def documented() -> dict[str, str]:
    """Hook name → the signature in its section heading, e.g. "### `menu_items(request)`"."""
    return {m.group(1): f"{m.group(1)}({m.group(2)})" for m in HEADING.finditer(DOCS.read_text(encoding="utf-8"))}


def hook_test_names() -> list[str]:
    tree = ast.parse(HOOK_TESTS.read_text(encoding="utf-8"))
    return [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_hook_")
    ]


def test_the_contract_has_hooks_to_check() -> None:
    assert len(specs()) >= 20 and "menu_items" in specs()


@pytest.mark.parametrize("hook", sorted(specs()))
def test_every_hook_is_documented_with_its_signature(hook: str) -> None:
    docs = documented()
    assert hook in docs, f"docs/plugins.md has no section '### `{signature(specs()[hook])}`'"
    assert docs[hook] == signature(specs()[hook]), "docs/plugins.md shows another signature than hookspecs.py"


def test_the_docs_describe_no_hook_that_does_not_exist() -> None:
    assert sorted(set(documented()) - set(specs())) == []


@pytest.mark.parametrize("hook", sorted(specs()))
def test_every_hook_has_a_test(hook: str) -> None:
    names = hook_test_names()
    assert any(n == f"test_hook_{hook}" or n.startswith(f"test_hook_{hook}_") for n in names), (
        f"tests/plugins_contract/test_hooks.py has no test named test_hook_{hook}_…"
    )
