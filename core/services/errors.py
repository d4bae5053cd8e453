"""Errors the shared services raise: an English message id, translated where it is shown.

A service never imports the web layer, so messages are marked with ``lazy`` (extracted into
core's catalogue by Babel, like ``core.i18n.lazy``) and translated by the caller with its
``gettext``: ``err.translate(_)``. ``str(err)`` is the English sentence, for logs and tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def lazy(message: str) -> str:
    """Mark ``message`` for extraction; it is translated when shown."""
    return message


class ServiceError(Exception):
    """Something a user or client asked for that the service refuses; nothing was written."""

    status = 400  # what a JSON API answers for it

    def __init__(self, message: str, **params: Any) -> None:
        self.message = message
        self.params = params
        super().__init__(message % params if params else message)

    def translate(self, gettext: Callable[..., str]) -> str:
        return gettext(self.message, **self.params)


class NotFound(ServiceError):
    """No such record in this tenant (or not one the caller may reach)."""

    status = 404


class Conflict(ServiceError):
    """The record's state forbids the request (full, closed, already done)."""

    status = 409


class InvalidInput(ServiceError):
    """A value is missing or out of range; ``field`` names it when there is one."""

    status = 400

    def __init__(self, message: str, field: str | None = None, **params: Any) -> None:
        super().__init__(message, **params)
        self.field = field
