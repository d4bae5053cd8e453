"""Who may see and change base data where: the actions on residents, households and
organisations, and the scope rules every list, page and export applies.

A row without a node (a resident who moved away) belongs to the district: only users whose scope
is a whole tree (a root node) see it. ``Viewer`` is anything that answers ``can`` and
``scope_prefixes`` — the request context in the web layer, a subject's policy elsewhere.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import or_

from core.rbac.scope import in_scope

VIEW, EDIT = "core.resident.view", "core.resident.edit"
REVEAL, EXPORT = "core.resident.reveal", "core.resident.export"
HOUSEHOLD_EDIT = "core.household.edit"
ORG_VIEW, ORG_EDIT = "core.org.view", "core.org.edit"


class Viewer(Protocol):
    def can(self, action: str, path: str | None = None) -> bool: ...

    def scope_prefixes(self, action: str) -> list[str]: ...


def tree_wide(prefixes: list[str]) -> bool:
    """A root node's path (``/id/``): the user's scope is a whole tree, district-wide."""
    return any(p.count("/") == 2 for p in prefixes)


def scoped(column: Any, prefixes: list[str]) -> Any:
    """The scope predicate; rows without a node count as district-wide."""
    cond = in_scope(column, prefixes)
    return or_(cond, column.is_(None)) if tree_wide(prefixes) else cond


def allowed(viewer: Viewer, action: str, path: str | None) -> bool:
    # ``can(action, None)`` means "anywhere": a row without a node must not pass that way.
    if path is None:
        return tree_wide(viewer.scope_prefixes(action))
    return viewer.can(action, path)


def within(path: str | None, prefixes: list[str]) -> bool:
    """``allowed`` for a list of prefixes already fetched (exports check it row by row)."""
    return tree_wide(prefixes) if path is None else any(path.startswith(p) for p in prefixes)
