"""Who the signed-in user is to RBAC: their role assignments (a ``Subject``) and the tenant's role →
action table (a ``TenantPolicy``). Both are cached per process and valid while the tenant's
``policy_version`` stands: a change to a role's actions *or to anyone's assignments* moves that
counter (``bump_policy``; assignments through the flush watch below, a grid move explicitly), and
every process sees the new counter within the tenant cache's 1 s. So a warm request pays no
database trip for authorization. Used by the request context, imports and jobs alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.rbac.enforcer import Assignment, Subject, TenantPolicy
from core.rbac.models import RoleAssignment, RolePermission
from core.tenancy import versioned
from core.tenancy.models import Tenant

POLICY_MAX_AGE = versioned.MAX_AGE
SUBJECTS_KEPT = 50_000  # per process; the least recently used go first
_BUMPED = versioned._BUMPED  # session.info: tenants whose version this transaction moved
_CACHES = versioned._CACHES  # this process's caches (core/tenancy/versioned.py)


class SubjectCache(versioned.VersionedCache):
    """(tenant, user) → the user's assignments as of a policy version, least recently used out first."""

    def __init__(self, size: int = SUBJECTS_KEPT) -> None:
        super().__init__(size, POLICY_MAX_AGE)

    def get(self, tenant_id: int, user_id: int, version: int) -> Subject | None:  # type: ignore[override]
        return super().get(tenant_id, user_id, version)  # type: ignore[no-any-return]


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
    versioned.watch(session_class, RoleAssignment)


version_bump = versioned.version_bump  # the statement that moves a tenant's version


async def expire_subjects(session: AsyncSession, tenant_id: int) -> None:
    """For writes that bypass the flush (bulk UPDATEs of assignments, such as a grid move)."""
    await versioned.expire(session, tenant_id)
