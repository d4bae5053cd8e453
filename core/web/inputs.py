"""One input layer for every route: hostile values get a clear 400 before any handler sees them.

Checked here, once, rather than per route: control characters (NUL and the other C0 codes) in the
path, any query parameter or any text field of a form or JSON body; integers beyond 64 bits in path
parameters, ``page``, ``node``, ``id``/``*_id`` and any query parameter a handler declares as
``int``; malformed dates in date-named query parameters of machine routes (``opt["api"]``: the
JSON API and Open311, which have no form to show the error beside; pages say it next to the date
field, and the fuzz test holds them to never answering 500). A route answers in its own error format
when its ``opt`` carries an ``error_responder`` (Open311's XML/JSON errors), otherwise as
core.web.errors does (the styled page, or ``{"status_code", "detail"}`` under /api/).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from litestar import Request
from litestar.datastructures import UploadFile
from litestar.exceptions import ClientException, NotFoundException
from litestar.types import ASGIApp, Receive, Scope, Send

from core.i18n import gettext as _
from core.i18n import lazy

INT64_MAX = 2**63 - 1
MAX_SEGMENT = 255
# C0 controls and DEL. Tab, CR and LF are ordinary in a text area, never in a query parameter.
_CONTROL_BODY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_QUERY = re.compile(r"[\x00-\x1f\x7f]")
_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")
_INT_NAMES = re.compile(r"^(page|node|id|per_page|limit|offset|edit)$|_id$")
_DATE_NAMES = re.compile(r"^(start|end|since|until|day|date|from|to)$|_date$|^date_|_day$|_(from|to|since|until)$")
_YEARS = (1900, 2200)
_MAX_DEPTH = 32

MESSAGES = {
    "control": lazy("%(field)s contains a control character (such as NUL) that is not allowed."),
    "integer": lazy("%(field)s is not a number this system can hold."),
    "date": lazy("%(field)s is not a valid date: use a date like 2024-05-31."),
}


class InputRejected(Exception):
    def __init__(self, kind: str, field: str) -> None:
        super().__init__(f"{kind}: {field}")
        self.kind, self.field = kind, field

    @property
    def message(self) -> str:
        return _(MESSAGES[self.kind], field=self.field)


def too_big(value: int) -> bool:
    return not -INT64_MAX - 1 <= value <= INT64_MAX


def check_text(field: str, value: str, *, query: bool = False) -> None:
    if (_CONTROL_QUERY if query else _CONTROL_BODY).search(value):
        raise InputRejected("control", field)


def check_int_text(field: str, value: str) -> None:
    if _INTEGER.match(value) and too_big(int(value)):
        raise InputRejected("integer", field)


def valid_date_text(value: str) -> bool:
    """ISO dates and date-times (``Z`` allowed), within a sane range of years."""
    text = value.strip()
    if not text:
        return True
    try:
        parsed: date = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            parsed = date.fromisoformat(text)
        except ValueError:
            return False
    return _YEARS[0] <= parsed.year <= _YEARS[1]


@lru_cache(maxsize=2048)
def _declared_ints(handler: Any) -> frozenset[str]:
    """Query parameters a handler declares as ``int``: Litestar parses them unbounded."""
    names = set()
    try:
        params = handler.parsed_fn_signature.parameters
    except Exception:  # not a route handler we can read: the name rules still apply
        return frozenset()
    for name, field in params.items():
        types = [field, *field.inner_types]
        if any(t.annotation is int for t in types):
            names.add(name)
    return frozenset(names)


def check_query(scope: Scope, handler: Any) -> None:
    from urllib.parse import parse_qsl

    raw = scope.get("query_string", b"")
    if not raw:
        return
    try:
        pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise InputRejected("control", _("The query")) from None
    ints = _declared_ints(handler) if handler is not None else frozenset()
    machine = handler is not None and bool(handler.opt.get("api"))
    for key, value in pairs:
        check_text(key, key, query=True)
        check_text(key, value, query=True)
        if key in ints or _INT_NAMES.search(key):
            check_int_text(key, value)
        if machine and _DATE_NAMES.search(key) and not valid_date_text(value):
            raise InputRejected("date", key)


def check_path(scope: Scope) -> None:
    path = scope.get("path", "")
    if _CONTROL_QUERY.search(path):
        raise InputRejected("control", _("The address"))
    if any(len(part.encode()) > MAX_SEGMENT for part in path.split("/")):
        raise NotFoundException()  # no file or object has such a name (and the OS refuses it)
    for name, value in (scope.get("path_params") or {}).items():
        if isinstance(value, int) and not isinstance(value, bool) and too_big(value):
            raise InputRejected("integer", name)
        if isinstance(value, str):
            check_text(name, value, query=True)


def check_value(field: str, value: Any, depth: int = 0) -> None:
    """A decoded JSON or form value, recursively."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, str):
        check_text(field, value)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if too_big(value):
            raise InputRejected("integer", field)
    elif isinstance(value, dict):
        for k, v in value.items():
            check_text(field, str(k))
            check_value(str(k), v, depth + 1)
    elif isinstance(value, list | tuple):
        for v in value:
            check_value(field, v, depth + 1)
    elif isinstance(value, UploadFile):
        check_text(field, value.filename or "")


async def check_body(request: Request) -> None:
    if request.method in ("GET", "HEAD", "OPTIONS", "DELETE"):
        return
    content_type, _params = request.content_type
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.form()  # parsed once: Litestar keeps it for the handler
        except Exception:  # let the handler answer a broken body in its own way
            return
        for key, value in form.multi_items():
            check_text(key, key)
            check_value(key, value)
    elif content_type.endswith("json"):
        try:
            data = await request.json()
        except Exception:
            return
        check_value(_("The body"), data)


class BadInput(ClientException):
    """A 400 with the input layer's message; core.web.errors renders it in the route's format."""

    status_code = 400


class InputGuardMiddleware:
    """Runs after routing and the request context, before guards and handlers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request: Request = Request(scope, receive)
        try:
            check_path(scope)
            check_query(scope, scope.get("route_handler"))
            await check_body(request)
        except InputRejected as exc:
            raise BadInput(exc.message) from None
        await self.app(scope, receive, send)
