"""Per-process caches of what a tenant rarely changes, valid while the tenant's version stands.

One counter carries every such change: the tenant row's ``policy_version``. A flush that writes a
watched model moves it (``watch``, through ``core.db.flush_watch``), a bulk UPDATE moves it with
``expire``; this process drops the tenant's cached entries as the transaction commits, and every
other process sees the new counter within the tenant cache's second. RBAC subjects hang on it
(core/rbac/subjects.py), and so does reference data: a grid's boundaries (core/grids/locate.py), a
pillar's categories, calendar and API keys. The age limit is the backstop should a change ever miss
the counter (a hand-made SQL edit).
"""

from __future__ import annotations

import time
import weakref
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.db.flush_watch import watch_model
from core.tenancy.models import Tenant

MAX_AGE = 300.0  # seconds
_BUMPED = "liuzhi.rbac.bumped"  # session.info: tenants whose version this transaction moved
_WATCHED: set[type[Session]] = set()


class VersionedCache:
    """(tenant, key) → a value as of a tenant version, least recently used out first."""

    def __init__(self, size: int, max_age: float = MAX_AGE) -> None:
        self.size, self.max_age = size, max_age
        self._rows: OrderedDict[tuple[int, Hashable], tuple[int, float, Any]] = OrderedDict()
        _CACHES.add(self)

    def get(self, tenant_id: int, key: Hashable, version: int) -> Any:
        hit = self._rows.get((tenant_id, key))
        if hit is None or hit[0] != version or time.monotonic() - hit[1] > self.max_age:
            return None
        self._rows.move_to_end((tenant_id, key))
        return hit[2]

    def put(self, tenant_id: int, key: Hashable, version: int, value: Any) -> None:
        self._rows[(tenant_id, key)] = (version, time.monotonic(), value)
        self._rows.move_to_end((tenant_id, key))
        while len(self._rows) > self.size:
            self._rows.popitem(last=False)

    def clear(self) -> None:
        self._rows.clear()

    def drop_tenant(self, tenant_id: int) -> None:
        for key in [k for k in self._rows if k[0] == tenant_id]:
            del self._rows[key]


# This process's caches: a commit that moved a version drops the tenant's entries here at once.
_CACHES: weakref.WeakSet[VersionedCache] = weakref.WeakSet()


def version_bump(tenant_id: int) -> Any:
    """The statement that moves a tenant's version (every process reloads what hangs on it)."""
    return update(Tenant).where(Tenant.id == tenant_id).values(policy_version=Tenant.policy_version + 1)


def watch(session_class: type[Session], model: type) -> None:
    """Any flush that adds, changes or deletes a ``model`` row moves its tenant's version, whoever
    wrote it (admin pages, imports, a plugin's own pages), so what is cached from it expires."""
    watch_model(session_class, model, _changed)
    if session_class in _WATCHED:
        return
    _WATCHED.add(session_class)

    @event.listens_for(session_class, "after_commit")
    def _drop(session: Session) -> None:
        for tenant_id in session.info.pop(_BUMPED, ()):
            for cache in list(_CACHES):
                cache.drop_tenant(tenant_id)

    @event.listens_for(session_class, "after_rollback")
    def _forget(session: Session) -> None:
        session.info.pop(_BUMPED, None)


def _changed(session: Session, tenant_id: int) -> None:
    session.connection().execute(version_bump(tenant_id))
    session.info.setdefault(_BUMPED, set()).add(tenant_id)


async def expire(session: AsyncSession, tenant_id: int) -> None:
    """For writes that bypass the flush (bulk UPDATEs, such as a grid move)."""
    await session.execute(version_bump(tenant_id))
    session.sync_session.info.setdefault(_BUMPED, set()).add(tenant_id)
