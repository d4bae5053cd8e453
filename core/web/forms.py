"""One way to read a posted form: the body type, a few coercers, and decoding into a msgspec Struct
with each field's error ready to show beside its input.

A handler takes ``data: Form`` and either reads single values (``text(data, "name")``) or decodes the
whole body into a Struct::

    class NoteForm(msgspec.Struct):
        title: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
        pinned: bool = False

    note, errors = decode(data, NoteForm)
    if errors:
        return await render(request, "note.html", {"errors": errors, "values": data}, status_code=400)

Browsers post every field as text (and a repeated field as a list); ``decode`` takes the last value
of a single field, strips it, drops empty optional fields so their defaults apply, and converts with
msgspec's lax rules ("3" → 3, "on" → True). ``errors`` maps a field name to its message
(``"_form"`` for a message about the whole form), the shape ``macros.html``'s ``field`` shows.
"""

from __future__ import annotations

import re
import types
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin, get_type_hints

import msgspec
from litestar.enums import RequestEncodingType
from litestar.params import Body

# The body of an HTML form post: field name → value (a list for a repeated field).
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

S = TypeVar("S", bound=msgspec.Struct)
FORM_ERROR = "_form"
_TRUE = frozenset({"1", "on", "true", "yes"})


def text(data: dict[str, Any], key: str, limit: int | None = None) -> str:
    """One field as stripped text ("" when absent); the last value of a repeated field."""
    value = data.get(key, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    out = str(value).strip()
    return out[:limit] if limit is not None else out


def values(data: dict[str, Any], key: str) -> list[str]:
    """Every value of a repeated field (checkboxes, multi-selects), as text."""
    value = data.get(key, [])
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def integer(value: Any) -> int | None:
    """An integer from a form value, or None when it is not one."""
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def checked(data: dict[str, Any], key: str) -> bool:
    """A checkbox: ticked when posted as "1", "on", "true" or "yes"."""
    return text(data, key).lower() in _TRUE


def _is_list(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _is_list(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return any(_is_list(a) for a in get_args(annotation) if a is not type(None))
    return origin in (list, tuple, set, frozenset)


_PATH = re.compile(r"at `\$\.([A-Za-z_][A-Za-z0-9_]*)`")


def decode(data: dict[str, Any], schema: type[S]) -> tuple[S | None, dict[str, str]]:
    """Decode a form body into ``schema``: ``(value, {})`` or ``(None, {field: message})``.

    Fields the Struct does not declare (``_csrf_token``, buttons) are ignored. The message is
    msgspec's, without the JSON path; translate the Struct's ``Meta(description=…)`` in the
    template when a friendlier text is wanted."""
    hints = get_type_hints(schema, include_extras=True)
    clean: dict[str, Any] = {}
    for name in schema.__struct_fields__:
        if name not in data:
            continue
        if _is_list(hints.get(name)):
            clean[name] = [v.strip() for v in values(data, name) if v.strip()]
            continue
        value = text(data, name)
        if value != "":
            clean[name] = value
    try:
        return msgspec.convert(clean, schema, strict=False), {}
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _PATH.search(message)
        if match is None:
            missing = re.search(r"missing required field `([^`]+)`", message)
            field = missing.group(1) if missing else FORM_ERROR
        else:
            field = match.group(1)
        return None, {field: _PATH.sub("", message).rstrip(" -")}
