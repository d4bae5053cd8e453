"""Translations with Babel: source strings in English, catalogues per locale (zh_Hans first).

Catalogues (.po) from core and every plugin's ``locale/`` folder are compiled in memory at start-up,
so no compiled .mo files live in the repository.

Each plugin's catalogue is also its own gettext *domain* (named after the plugin), so two plugins
can translate the same English source differently ("Reason"). A plugin's templates are rendered in
its domain (the host sets it from the template's folder, ``<plugin>/…``); its Python code asks for
it with ``translator("<plugin>")``. A message the domain lacks falls back to the merged catalogue
(core's strings and every plugin's).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES = ("zh_Hans", "en")
DEFAULT_LOCALE = "zh_Hans"
LOCALE_NAMES = {"zh_Hans": "简体中文", "en": "English"}

_locale: ContextVar[str] = ContextVar("liuzhi_locale", default=DEFAULT_LOCALE)
_domain: ContextVar[str | None] = ContextVar("liuzhi_i18n_domain", default=None)


class Catalogues:
    def __init__(self) -> None:
        self.by_locale: dict[str, Translations] = {}
        self.domains: dict[str, dict[str, Translations]] = {}  # domain → locale → its own catalogue

    def load_dir(self, locale_dir: Path, domain: str | None = None) -> None:
        for locale in LOCALES:
            po = locale_dir / locale / "LC_MESSAGES" / "messages.po"
            if not po.exists():
                continue
            with po.open("rb") as fh:
                catalog = read_po(fh)
            buf = io.BytesIO()
            write_mo(buf, catalog)
            buf.seek(0)
            trans = Translations(buf)
            if domain is not None:
                own = Translations(io.BytesIO(buf.getvalue()))
                self.domains.setdefault(domain, {})[locale] = own
            if locale in self.by_locale:
                self.by_locale[locale].merge(trans)
            else:
                self.by_locale[locale] = trans

    def get(self, locale: str) -> Translations | None:
        return self.by_locale.get(locale)

    def own(self, domain: str | None, locale: str) -> Translations | None:
        return self.domains.get(domain, {}).get(locale) if domain else None


CATALOGUES = Catalogues()


def normalise(locale: str | None) -> str:
    if not locale:
        return DEFAULT_LOCALE
    low = locale.replace("-", "_").lower()
    if low.startswith("en"):
        return "en"
    if low.startswith("zh"):
        return "zh_Hans"
    return DEFAULT_LOCALE


def set_locale(locale: str) -> None:
    _locale.set(normalise(locale))


def current_locale() -> str:
    return _locale.get()


def _lookup(domain: str | None, message: str) -> str:
    locale = _locale.get()
    own = CATALOGUES.own(domain, locale)
    if own is not None and own._catalog.get(message):  # an empty msgstr is no translation
        return own.gettext(message)
    trans = CATALOGUES.get(locale)
    return trans.gettext(message) if trans is not None else message


def _nlookup(domain: str | None, singular: str, plural: str, n: int) -> str:
    locale = _locale.get()
    own = CATALOGUES.own(domain, locale)
    if own is not None and own._catalog.get((singular, 0)):
        return own.ngettext(singular, plural, n)
    trans = CATALOGUES.get(locale)
    return trans.ngettext(singular, plural, n) if trans is not None else (singular if n == 1 else plural)


def gettext(message: str, **variables: object) -> str:
    """Translate into the current locale, in the current domain (a plugin's template) if any."""
    text = _lookup(_domain.get(), message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = _nlookup(_domain.get(), singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


@dataclass(frozen=True)
class Translator:
    """A plugin's gettext: its own catalogue first, then the merged one."""

    domain: str

    def gettext(self, message: str, **variables: object) -> str:
        text = _lookup(self.domain, message)
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, n: int, **variables: object) -> str:
        variables.setdefault("num", n)
        return _nlookup(self.domain, singular, plural, n) % variables


def translator(domain: str) -> Translator:
    """``_ = translator("my_plugin").gettext`` in a plugin's Python code."""
    return Translator(domain)


@contextmanager
def in_domain(domain: str | None) -> Iterator[None]:
    """Translate in ``domain`` (a plugin's name) while the block runs; None leaves it as it is."""
    if domain is None:
        yield
        return
    token = _domain.set(domain)
    try:
        yield
    finally:
        _domain.reset(token)


_ = gettext


def lazy(message: str) -> str:
    """Mark a string for extraction where it is translated later (at render time)."""
    return message


def from_accept_language(header: str | None) -> str | None:
    if not header:
        return None
    for part in header.split(","):
        tag = part.split(";")[0].strip()
        if tag.lower().startswith(("zh", "en")):
            return normalise(tag)
    return None
