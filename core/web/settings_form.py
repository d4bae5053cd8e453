"""A plugin's settings form, generated from its ``msgspec.Struct``: field descriptors, coercion of the
submitted strings, and turning msgspec's validation messages into a message on the right field.

Pure functions: no request, no database. The admin page (core/web/routes/admin.py) renders and saves.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from msgspec import inspect as mi

from core.i18n import gettext as _

# "代办时限（工作日） Proxy service days" → zh part, en part: the English starts at the first
# space followed by a Latin letter after some Chinese text.
_BILINGUAL = re.compile(r"^(.*?[^\x00-\x7f].*?)\s+([A-Za-z].*)$")
_PATH = re.compile(r" - at `\$\.([A-Za-z_][A-Za-z0-9_]*)")
_MISSING = re.compile(r"missing required field `([^`]+)`")
_FALSE = ("", "0", "false", "off", "no")


def is_checked(raw: Any) -> bool:
    """A checkbox's submitted value: absent (None) or a false-looking string is off."""
    if isinstance(raw, list):
        raw = raw[-1] if raw else None
    return raw is not None and str(raw).strip().lower() not in _FALSE


INT, FLOAT, STR, BOOL, CHOICE, OTHER = "int", "float", "str", "bool", "choice", "other"


@dataclass(frozen=True)
class FieldSpec:
    """One form field: what the template needs to draw it and coerce() needs to read it back."""

    name: str
    kind: str  # int | float | str | bool | choice | other (shown read-only, never overwritten)
    default: Any = None
    required: bool = False
    nullable: bool = False
    title_zh: str = ""
    title_en: str = ""
    description: str = ""
    choices: tuple[Any, ...] = ()
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None

    def title(self, locale: str) -> str:
        return self.title_en if locale.startswith("en") else self.title_zh

    @property
    def lower(self) -> float | None:
        return self.ge if self.ge is not None else self.gt

    @property
    def upper(self) -> float | None:
        return self.le if self.le is not None else self.lt

    @property
    def input_type(self) -> str:
        return {INT: "number", FLOAT: "number", BOOL: "checkbox"}.get(self.kind, "text")

    def attrs(self) -> dict[str, Any]:
        """HTML attributes that let the browser check what the server checks again."""
        out: dict[str, Any] = {}
        if self.kind in (INT, FLOAT):
            out["step"] = "1" if self.kind == INT else "any"
            if self.ge is not None:
                out["min"] = self.ge
            if self.le is not None:
                out["max"] = self.le
        if self.kind == STR:
            if self.min_length:
                out["minlength"] = self.min_length
            if self.max_length is not None:
                out["maxlength"] = self.max_length
        if self.required or (self.kind in (INT, FLOAT) and not self.nullable):
            out["required"] = True
        return out

    def hint(self) -> str:
        """What a valid value looks like, in the user's language."""
        lo, hi = self.lower, self.upper
        # Whole sentences, not a noun slotted into one: word order differs between languages.
        if self.kind == INT:
            if lo is not None and hi is not None:
                return _("Enter a whole number from %(lo)s to %(hi)s.", lo=_num(lo), hi=_num(hi))
            if lo is not None:
                return _("Enter a whole number of at least %(lo)s.", lo=_num(lo))
            if hi is not None:
                return _("Enter a whole number of at most %(hi)s.", hi=_num(hi))
            return _("Enter a whole number.")
        if self.kind == FLOAT:
            if lo is not None and hi is not None:
                return _("Enter a number from %(lo)s to %(hi)s.", lo=_num(lo), hi=_num(hi))
            if lo is not None:
                return _("Enter a number of at least %(lo)s.", lo=_num(lo))
            if hi is not None:
                return _("Enter a number of at most %(hi)s.", hi=_num(hi))
            return _("Enter a number.")
        if self.kind == STR:
            if self.min_length and self.max_length is not None:
                return _("%(lo)s to %(hi)s characters.", lo=self.min_length, hi=self.max_length)
            if self.max_length is not None:
                return _("At most %(hi)s characters.", hi=self.max_length)
            if self.min_length:
                return _("At least %(lo)s characters.", lo=self.min_length)
        if self.kind == CHOICE:
            return _("Choose one of the options.")
        return ""


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def split_title(title: str) -> tuple[str, str]:
    """Manifest titles are written "中文 English"; a title without Chinese serves both languages."""
    m = _BILINGUAL.match(title.strip())
    if m:
        return m.group(1).strip(), m.group(2).strip()
    return title, title


def _unwrap(t: Any) -> tuple[Any, dict[str, Any]]:
    """Strip Annotated metadata (possibly nested), collecting title and description."""
    extra: dict[str, Any] = {}
    while isinstance(t, mi.Metadata):
        extra = {**(t.extra_json_schema or {}), **extra}
        t = t.type
    return t, extra


def fields_of(struct: type[msgspec.Struct] | None) -> list[FieldSpec]:
    """The form fields of a settings struct, in declaration order."""
    if struct is None:
        return []
    info = mi.type_info(struct)
    if not isinstance(info, mi.StructType):
        raise TypeError(f"{struct!r} is not a msgspec.Struct")
    out = []
    for f in info.fields:
        t, extra = _unwrap(f.type)
        nullable = False
        if isinstance(t, mi.UnionType):
            rest = [x for x in t.types if not isinstance(x, mi.NoneType)]
            nullable = len(rest) < len(t.types)
            t, more = _unwrap(rest[0]) if len(rest) == 1 else (t, {})
            extra = {**more, **extra}
        title = str(extra.get("title") or f.name.replace("_", " ").capitalize())
        zh, en = split_title(title)
        default = None
        if f.default is not mi.NODEFAULT:
            default = f.default
        elif f.default_factory is not mi.NODEFAULT:
            default = f.default_factory()
        common: dict[str, Any] = {
            "name": f.name,
            "default": default,
            "required": f.required,
            "nullable": nullable,
            "title_zh": zh,
            "title_en": en,
            "description": str(extra.get("description") or ""),
        }
        if isinstance(t, mi.BoolType):
            out.append(FieldSpec(kind=BOOL, **common))
        elif isinstance(t, mi.IntType | mi.FloatType):
            out.append(
                FieldSpec(
                    kind=INT if isinstance(t, mi.IntType) else FLOAT, ge=t.ge, gt=t.gt, le=t.le, lt=t.lt, **common
                )
            )
        elif isinstance(t, mi.StrType):
            out.append(
                FieldSpec(kind=STR, min_length=t.min_length, max_length=t.max_length, pattern=t.pattern, **common)
            )
        elif isinstance(t, mi.LiteralType):
            out.append(FieldSpec(kind=CHOICE, choices=tuple(t.values), **common))
        else:
            out.append(FieldSpec(kind=OTHER, **common))
    return out


def coerce(form: Mapping[str, Any], fields: list[FieldSpec]) -> tuple[dict[str, Any], dict[str, str]]:
    """Read submitted strings back into typed values. An absent checkbox is False; a field of kind
    "other" is not part of the form and is left out (the caller keeps its saved value)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        if f.kind == OTHER:
            continue
        raw = form.get(f.name)
        if f.kind == BOOL:
            values[f.name] = is_checked(raw)
            continue
        if isinstance(raw, list):  # a repeated key: the last one wins, as in a browser's form
            raw = raw[-1] if raw else None
        text = "" if raw is None else str(raw).strip()
        if text == "" and f.nullable:
            values[f.name] = None
        elif f.kind == INT:
            try:
                values[f.name] = int(text)
            except ValueError:
                errors[f.name] = f.hint()
        elif f.kind == FLOAT:
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if math.isfinite(number):
                values[f.name] = number
            else:
                errors[f.name] = f.hint()
        elif f.kind == CHOICE:
            match = [c for c in f.choices if str(c) == text]
            if match:
                values[f.name] = match[0]
            else:
                errors[f.name] = f.hint()
        else:
            values[f.name] = text
    return values, errors


def display_values(
    fields: list[FieldSpec], settings: Mapping[str, Any] | None = None, form: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What each input shows: the submitted text after an error, else the saved value or default."""
    out: dict[str, Any] = {}
    for f in fields:
        if form is not None and f.kind != OTHER:
            raw = form.get(f.name)
            if f.kind == BOOL:
                out[f.name] = is_checked(raw)
            else:
                out[f.name] = "" if raw is None else str(raw)
            continue
        value = (settings or {}).get(f.name, f.default)
        if f.kind == BOOL:
            out[f.name] = bool(value)
        elif f.kind == OTHER:
            out[f.name] = msgspec.json.encode(value).decode()
        else:
            out[f.name] = "" if value is None else str(value)
    return out


def field_of_error(message: str) -> str | None:
    """The field a msgspec message is about: "Expected `int` >= 1 - at `$.days`" → "days"."""
    m = _PATH.search(message) or _MISSING.search(message)
    return m.group(1) if m else None


def validate(
    values: dict[str, Any],
    fields: list[FieldSpec],
    check: Callable[[dict[str, Any]], dict[str, Any]],
    fallback: Mapping[str, Any],
) -> tuple[dict[str, Any] | None, dict[str, str], str | None]:
    """Run ``check`` (msgspec via the plugin's schema; raises with msgspec's message) until every
    field error is found: msgspec stops at the first one, so a bad field is set back to its
    ``fallback`` value and checked again. Returns (clean or None, field errors, other error)."""
    by_name = {f.name: f for f in fields}
    errors: dict[str, str] = {}
    trial = dict(values)
    for _round in range(len(fields) + 1):
        try:
            clean = check(trial)
        except Exception as exc:
            message = str(exc)
            name = field_of_error(message)
            if name is None or name in errors:
                return None, errors, message
            spec = by_name.get(name)
            if _MISSING.search(message):
                errors[name] = _("This field is required.")
            else:
                errors[name] = (spec.hint() if spec else "") or _PATH.split(message)[0]
            if name in fallback:
                trial[name] = fallback[name]
            else:
                trial.pop(name, None)
            continue
        return (None if errors else clean), errors, None
    return None, errors, None
