"""Who the signed-in user is to RBAC: their role assignments (a ``Subject``) and the tenant's role →
action table (a ``TenantPolicy``). Both are cached per process and valid while the tenant's
``policy_version`` stands: a change to a role's actions *or to anyone's assignments* moves that
counter (``bump_policy``; assignments through the flush watch below, a grid move explicitly), and
every process sees the new counter within the tenant cache's 1 s. So a warm request pays no
database trip for authorization. Used by the request context, imports and jobs alike."""

from __future__ import annotations

import time
import weakref
from collections import OrderedDict
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.db.flush_watch import watch_model
from core.rbac.enforcer import Assignment, Subject, TenantPolicy
from core.rbac.models import RoleAssignment, RolePermission
from core.tenancy.models import Tenant

POLICY_MAX_AGE = 300.0
SUBJECTS_KEPT = 50_000  # per process; the least recently used go first
_BUMPED = "liuzhi.rbac.bumped"  # session.info: tenants whose version this transaction moved
_WATCHED: set[type[Session]] = set()


class SubjectCache:
    """(tenant, user) → the user's assignments as of a policy version, least recently used out first."""

    def __init__(self, size: int = SUBJECTS_KEPT) -> None:
        self.size = size
        self._rows: OrderedDict[tuple[int, int], tuple[int, float, Subject]] = OrderedDict()
        _CACHES.add(self)

    def get(self, tenant_id: int, user_id: int, version: int) -> Subject | None:
        key = (tenant_id, user_id)
        hit = self._rows.get(key)
        if hit is None or hit[0] != version or time.monotonic() - hit[1] > POLICY_MAX_AGE:
            return None
        self._rows.move_to_end(key)
        return hit[2]

    def put(self, tenant_id: int, user_id: int, version: int, subject: Subject) -> None:
        self._rows[(tenant_id, user_id)] = (version, time.monotonic(), subject)
        self._rows.move_to_end((tenant_id, user_id))
        while len(self._rows) > self.size:
            self._rows.popitem(last=False)

    def clear(self) -> None:
        self._rows.clear()

    def drop_tenant(self, tenant_id: int) -> None:
        for key in [k for k in self._rows if k[0] == tenant_id]:
            del self._rows[key]


# This process's caches: a commit that moved a version drops the tenant's subjects here at once
# (the tenant row itself is cached for up to a second; other processes wait out that second).
_CACHES: weakref.WeakSet[SubjectCache] = weakref.WeakSet()


async def policy_for(app_state: Any, tenant: Tenant, session: AsyncSession) -> TenantPolicy:
    policies: dict[int, TenantPolicy] = app_state.policies
    current = policies.get(tenant.id)
    # The version counter carries changes within the tenant cache's TTL; the age limit is the
    # backstop should a change ever miss the counter.
    if current is not None and current.version == tenant.policy_version and current.age() < POLICY_MAX_AGE:
        return current
    rows = (await session.execute(select(RolePermission.role_code, RolePermission.action))).all()
    policy = TenantPolicy([(r[0], r[1]) for r in rows], tenant.policy_version)
    policies[tenant.id] = policy
    return policy


async def load_subject(session: AsyncSession, user_id: int) -> Subject:
    rows = (
        await session.execute(
            select(RoleAssignment.role_code, RoleAssignment.node_path, RoleAssignment.node_id).where(
                RoleAssignment.user_id == user_id
            )
        )
    ).all()
    return Subject(user_id, tuple(Assignment(r[0], r[1], r[2]) for r in rows))


async def subject_for(app_state: Any, tenant: Tenant, session: AsyncSession, user_id: int) -> Subject:
    """The user's subject from the process cache while the tenant's policy version stands."""
    cache: SubjectCache | None = getattr(app_state, "subjects", None)
    if cache is None:
        return await load_subject(session, user_id)
    version = tenant.policy_version or 0
    subject = cache.get(tenant.id, user_id, version)
    if subject is None:
        subject = await load_subject(session, user_id)
        cache.put(tenant.id, user_id, version, subject)
    return subject


def watch_assignments(session_class: type[Session]) -> None:
    """Any flush that adds, changes or deletes a role assignment moves its tenant's policy version,
    whoever wrote it (admin pages, imports, a plugin making members), so cached subjects expire."""
    watch_model(session_class, RoleAssignment, _assignments_changed)
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


def _assignments_changed(session: Session, tenant_id: int) -> None:
    session.connection().execute(version_bump(tenant_id))
    session.info.setdefault(_BUMPED, set()).add(tenant_id)


def version_bump(tenant_id: int) -> Any:
    """The statement that moves a tenant's policy version (every process reloads what hangs on it)."""
    return update(Tenant).where(Tenant.id == tenant_id).values(policy_version=Tenant.policy_version + 1)


async def expire_subjects(session: AsyncSession, tenant_id: int) -> None:
    """For writes that bypass the flush (bulk UPDATEs of assignments, such as a grid move)."""
    await session.execute(version_bump(tenant_id))
    session.sync_session.info.setdefault(_BUMPED, set()).add(tenant_id)
