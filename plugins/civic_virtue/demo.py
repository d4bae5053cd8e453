"""Demo data."""

from typing import Any


async def seed(session: Any, tenant: Any, nodes: Any, storage: Any = None) -> None:
    return None
