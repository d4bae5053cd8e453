"""Who the signed-in user is to RBAC: their role assignments (a ``Subject``) and the tenant's role →
action table (a ``TenantPolicy``, cached per process and reloaded when the tenant's policy
version moves). Used by the request context, imports and jobs alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.rbac.enforcer import Assignment, Subject, TenantPolicy
from core.rbac.models import RoleAssignment, RolePermission
from core.tenancy.models import Tenant

POLICY_MAX_AGE = 300.0


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
