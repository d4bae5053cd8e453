"""Domain events: a plugin emits one, every enabled plugin's ``on_event`` hears it.

Audit is written by core on flush regardless; events are for notifications and live updates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.db.context import Actor


@dataclass(frozen=True)
class Event:
    name: str  # "<plugin>.<thing>.<what happened>", e.g. "smart_service.event.dispatched"
    payload: dict[str, Any] = field(default_factory=dict)
    actor: Actor | None = None


async def emit(app_state: Any, tenant_id: int, enabled: Any, event: Event) -> list[tuple[str, Any]]:
    """Deliver ``event`` to the tenant's enabled plugins; one failing listener does not stop the rest."""
    return await app_state.plugins.call_safely(
        "on_event", enabled, tenant_id=tenant_id, event=event, app_state=app_state
    )
