"""A throwaway district with a root node and accounts holding roles there (tests that change
accounts, sessions or second factors never touch the demo's)."""

from __future__ import annotations

from typing import Any

from core.db.base import new_id
from core.grids.models import GridNode
from core.identity.models import User
from core.identity.passwords import hash_password
from core.rbac.models import RoleAssignment


async def accounts_at_root(app: Any, tenant: Any, roles: dict[str, str], password: str) -> dict[str, int]:
    """``{"chief": "district_admin"}`` → ``{"chief": <user id>}``, each assigned at the district's root."""
    ids = {}
    async with app.state.db.transaction(tenant.id) as s:
        root = GridNode(id=new_id(), code="root", kind="district", name="测试区", depth=0)
        root.path = f"/{root.id}/"
        s.add(root)
        for username, role in roles.items():
            user = User(id=new_id(), username=username, display_name=username, password_hash=hash_password(password))
            s.add(user)
            await s.flush()
            s.add(RoleAssignment(user_id=user.id, role_code=role, node_id=root.id, node_path=root.path))
            ids[username] = user.id
    return ids
