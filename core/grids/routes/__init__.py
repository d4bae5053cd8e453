"""The grid's pages, one module per feature: the tree and a node's page (nodes), node kinds
(kinds), the tree editor (editor), boundaries and the map (boundaries), residents, households and
organisations. The rules and queries are the grid services' (core/grids/*.py); these modules turn
requests into calls and results into pages."""

from __future__ import annotations

from typing import Any


def grid_route_handlers() -> list[Any]:
    from core.grids.routes import boundaries, editor, households, kinds, nodes, organisations, residents

    return [
        *nodes.handlers,
        *kinds.handlers,
        *editor.handlers,
        *boundaries.handlers,
        *residents.handlers,
        *households.handlers,
        *organisations.handlers,
    ]
