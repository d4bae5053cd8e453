"""Host side of the pillars-at-a-glance hooks: collect each enabled plugin's part of a resident's
"我的" page and of a node's headline figures, and the counting rules plugins add to ballots.
The pages that render them are phase 2's; these return plain, ordered data."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from core.pluginhost.manifest import Figure, MySection, WorkItem

log = logging.getLogger("liuzhi.plugins")


@dataclass(frozen=True)
class Part:
    plugin: str  # who contributed it ("core.services" for core's own section)
    item: Any  # a MySection or a Figure


def _flatten(results: list[tuple[str, Any]], kind: type) -> list[Part]:
    parts = []
    for plugin, result in results:
        for item in result if isinstance(result, list | tuple) else [result]:
            if isinstance(item, kind):
                parts.append(Part(plugin, item))
            else:
                log.warning("plugin %s returned %r where a %s was expected; skipped", plugin, item, kind.__name__)
    return sorted(parts, key=lambda p: (p.item.order, p.plugin))


async def my_page(host: Any, enabled: Iterable[str] | None, request: Any, user_id: int, session: Any) -> list[Part]:
    """Every enabled plugin's ``MySection`` for ``user_id``, ordered; a failing plugin is skipped."""
    results = await host.run("my_page", enabled, request=request, user_id=user_id, session=session)
    return _flatten(results, MySection)


async def node_figures(host: Any, enabled: Iterable[str] | None, request: Any, node: Any, session: Any) -> list[Part]:
    """Every enabled plugin's ``Figure`` s for ``node``, ordered; a failing plugin is skipped."""
    results = await host.run("node_figures", enabled, request=request, node=node, session=session)
    return _flatten(results, Figure)


async def worklist(host: Any, enabled: Iterable[str] | None, request: Any, session: Any) -> list[Part]:
    """Every enabled plugin's ``WorkItem`` s for the current user that count something: overdue
    first, then work, then news; a failing plugin is skipped."""
    results = await host.run("worklist_items", enabled, request=request, session=session)
    parts = [p for p in _flatten(results, WorkItem) if p.item.count]
    rank = {k: i for i, k in enumerate(WorkItem.KINDS)}
    return sorted(parts, key=lambda p: (rank.get(p.item.kind, len(rank)), p.item.order, p.plugin))


def ballot_rules(host: Any) -> dict[str, Any]:
    """The built-in counting rules plus those plugins add (a plugin cannot replace a built-in)."""
    from core.services.ballots.rules import BUILTIN_RULES

    rules: dict[str, Any] = dict(BUILTIN_RULES)
    for plugin, result in host.call_sync("ballot_rules"):
        for name, rule in dict(result).items():
            if name in rules:
                log.error("plugin %s: ballot rule %r is already defined; ignored", plugin, name)
            elif callable(rule):
                rules[name] = rule
    return rules
