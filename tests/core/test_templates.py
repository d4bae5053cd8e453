"""Template rules that a reviewer would otherwise have to remember."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.config import REPO_ROOT

TEMPLATES = sorted(
    p
    for root in (REPO_ROOT / "templates", REPO_ROOT / "core", REPO_ROOT / "plugins")
    for p in root.rglob("*.html")
    if "templates" in p.parts
)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_macro_imports_sit_inside_the_content_block(path: Path) -> None:
    """An htmx request renders only the content block; imports above it would be missing there."""
    text = path.read_text(encoding="utf-8")
    if '{% extends "layout.html" %}' not in text or "{% block content %}" not in text:
        return
    head = text.split("{% block content %}", 1)[0]
    assert not re.search(r"{%-?\s*(from|import)\s", head), f"{path}: move the import inside {{% block content %}}"


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_no_assets_from_outside(path: Path) -> None:
    """A deployment has no outside network: scripts and styles come from /static/."""
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']https?://""", text), path
