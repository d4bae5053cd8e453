"""``liuzhi plugins new NAME``: write a working plugin distribution from ``scaffold_template/``.

Files ending ``-tpl`` are copied without the suffix, with ``__PLUGIN__`` (the plugin's name),
``__PACKAGE__``, ``__DIST__``, ``__TABLE__``, ``__URL__``, ``__TITLE_ZH__``, ``__TITLE_EN__``,
``__CORE_API__`` and ``__DATE__`` replaced in names and contents.
"""

from __future__ import annotations

import keyword
import re
from datetime import UTC, datetime
from pathlib import Path

from core import CORE_API_VERSION

TEMPLATE = Path(__file__).parent / "scaffold_template"
SUFFIX = "-tpl"
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


class ScaffoldError(ValueError):
    pass


def tokens(name: str, title_zh: str | None = None, title_en: str | None = None) -> dict[str, str]:
    if not NAME_RE.match(name) or name.endswith("_") or "__" in name or keyword.iskeyword(name):
        raise ScaffoldError(
            f"{name!r} cannot name a plugin: use 2–40 lower-case letters, digits and single underscores, "
            "starting with a letter (e.g. harbour_watch)"
        )
    if name in ("core", "liuzhi", "plugins", "tests"):
        raise ScaffoldError(f"{name!r} is taken by Liuzhi itself")
    return {
        "__PLUGIN__": name,
        "__PACKAGE__": f"liuzhi_{name}",
        "__DIST__": "liuzhi-" + name.replace("_", "-"),
        "__TABLE__": f"{name}_records",
        "__URL__": name.replace("_", "-"),
        "__TITLE_ZH__": title_zh or name.replace("_", " "),
        "__TITLE_EN__": title_en or name.replace("_", " ").capitalize(),
        "__CORE_API__": str(CORE_API_VERSION),
        "__DATE__": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
    }


def _fill(text: str, values: dict[str, str]) -> str:
    for token, value in values.items():
        text = text.replace(token, value)
    return text


def scaffold(name: str, folder: Path, title_zh: str | None = None, title_en: str | None = None) -> Path:
    """Write the distribution into ``folder/liuzhi-<name>/`` and return that folder."""
    values = tokens(name, title_zh, title_en)
    target = Path(folder) / values["__DIST__"]
    if target.exists() and any(target.iterdir()):
        raise ScaffoldError(f"{target} exists and is not empty: choose another --dir")
    for source in sorted(TEMPLATE.rglob(f"*{SUFFIX}")):
        rel = _fill(str(source.relative_to(TEMPLATE)), values)[: -len(SUFFIX)]
        out = target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(_fill(source.read_text(encoding="utf-8"), values), encoding="utf-8")
    return target
