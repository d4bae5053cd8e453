"""A user's scopes as one SQL predicate: lists are filtered in the database, never row by row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, false, or_


def prefix_range(prefix: str) -> tuple[str, str]:
    """Paths under ``/1/2/`` are exactly those in ``['/1/2/', '/1/20')``: the trailing '/' (0x2F)
    is followed by '0' (0x30). A range, unlike LIKE, narrows a B-tree index on both databases
    (PostgreSQL uses LIKE on an index only under the C collation; SQLite's LIKE ignores case)."""
    if not prefix.endswith("/"):
        raise ValueError("node paths end with '/'")
    return prefix, prefix[:-1] + "0"


def in_scope(path_column: Any, prefixes: list[str]) -> Any:
    """``path ∈ [p, p⁺)`` for each prefix — siblings like ``/1/20/`` never match ``/1/2/``."""
    if not prefixes:
        return false()
    clauses = []
    for p in prefixes:
        lo, hi = prefix_range(p)
        clauses.append(and_(path_column >= lo, path_column < hi))
    return or_(*clauses)
