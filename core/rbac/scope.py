"""A user's scopes as one SQL predicate: lists are filtered in the database, never row by row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, or_


def in_scope(path_column: Any, prefixes: list[str]) -> Any:
    """``path LIKE '/1/2/%' OR path LIKE '/1/7/%' …`` — prefixes end in '/', so siblings never match."""
    if not prefixes:
        return false()
    return or_(*[path_column.startswith(p, autoescape=True) for p in prefixes])
