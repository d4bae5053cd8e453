"""Pages and the JSON API of the pillar."""

from __future__ import annotations

from typing import Any


def handlers() -> list[Any]:
    from plugins.rule_of_law.routes import overview

    return [*overview.handlers]
