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


# No rule about where macro imports sit: a block rendered alone for htmx sees the template's
# top-level imports too (core.web.render.render_block; tests/core/test_plugin_api.py).


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_no_assets_from_outside(path: Path) -> None:
    """A deployment has no outside network: scripts and styles come from /static/."""
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']https?://""", text), path
