"""Keeping the translation catalogues in step with the code: extract, update, check.

Core's catalogue covers core/ and the shared templates/; each plugin package keeps its own in
``<package>/locale`` so a third-party plugin ships its translations with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from core.config import REPO_ROOT

METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy": None}
TARGET_LOCALE = "zh_Hans"


def extract(dirs: Iterable[Path]) -> Catalog:
    catalog = Catalog(project="liuzhi", charset="utf-8")
    for d in dirs:
        for filename, lineno, message, comments, context in extract_from_dir(
            str(d), METHODS, options_map=OPTIONS, keywords=KEYWORDS
        ):
            if "/tests/" in f"/{filename}" or filename.startswith(("locale", "migrations")):
                continue
            catalog.add(
                message, None, [(str(Path(d.name) / filename), lineno)], auto_comments=comments, context=context
            )
    return catalog


def units() -> list[tuple[str, list[Path], Path]]:
    """(name, source folders, locale folder) for core and each built-in plugin."""
    out = [("core", [REPO_ROOT / "core", REPO_ROOT / "templates"], REPO_ROOT / "core" / "locale")]
    for pkg in sorted((REPO_ROOT / "plugins").iterdir()):
        if (pkg / "plugin.py").exists():
            out.append((pkg.name, [pkg], pkg / "locale"))
    return out


def po_path(locale_dir: Path, locale: str = TARGET_LOCALE) -> Path:
    return locale_dir / locale / "LC_MESSAGES" / "messages.po"


def update(locale_dir: Path, template: Catalog) -> tuple[int, int]:
    """Merge new strings into the .po (keeping translations); returns (messages, untranslated)."""
    path = po_path(locale_dir)
    if path.exists():
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=TARGET_LOCALE.replace("_Hans", "_Hans_CN"))
        catalog.update(template, no_fuzzy_matching=True)
    else:
        catalog = Catalog(locale="zh_Hans_CN", project="liuzhi", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=0, omit_header=False, sort_output=True, ignore_obsolete=True)
    missing = [m for m in catalog if m.id and not m.string]
    return len([m for m in catalog if m.id]), len(missing)


def untranslated(locale_dir: Path, template: Catalog) -> list[str]:
    path = po_path(locale_dir)
    if not path.exists():
        return [m.id for m in template if m.id]  # type: ignore[misc]
    with path.open("rb") as fh:
        catalog = read_po(fh)
    out = []
    for m in template:
        if not m.id:
            continue
        have = catalog.get(m.id, context=m.context)
        if have is None or not have.string or (isinstance(have.string, tuple) and not all(have.string)) or have.fuzzy:
            out.append(m.id if isinstance(m.id, str) else m.id[0])
    return out
