"""Translations with Babel: source strings in English, catalogues per locale (zh_Hans first).

Catalogues (.po) from core and every plugin's ``locale/`` folder are compiled in memory at start-up,
so no compiled .mo files live in the repository.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES = ("zh_Hans", "en")
DEFAULT_LOCALE = "zh_Hans"
LOCALE_NAMES = {"zh_Hans": "简体中文", "en": "English"}

_locale: ContextVar[str] = ContextVar("liuzhi_locale", default=DEFAULT_LOCALE)


class Catalogues:
    def __init__(self) -> None:
        self.by_locale: dict[str, Translations] = {}

    def load_dir(self, locale_dir: Path) -> None:
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
            if locale in self.by_locale:
                self.by_locale[locale].merge(trans)
            else:
                self.by_locale[locale] = trans

    def get(self, locale: str) -> Translations | None:
        return self.by_locale.get(locale)


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


def gettext(message: str, **variables: object) -> str:
    trans = CATALOGUES.get(_locale.get())
    text = trans.gettext(message) if trans is not None else message
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    trans = CATALOGUES.get(_locale.get())
    text = trans.ngettext(singular, plural, n) if trans is not None else (singular if n == 1 else plural)
    variables.setdefault("num", n)
    return text % variables


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
