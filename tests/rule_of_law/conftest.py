"""A small district of its own for the pillar's tests: 区 → 钢城街道 → 行宫社区 (grids g1, g2) and
输送机社区 (grid s1), with a mediator, a second mediator, a grid worker, an officer, a counsellor."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.db.base import new_id
from core.db.context import Actor
from core.grids.models import GridNode
from core.identity.models import User
from core.rbac.defaults import default_rules
from core.rbac.enforcer import Assignment, Subject, TenantPolicy
from core.tenancy.service import all_actions, set_plugin

SH = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 3, 16, 10, 0, tzinfo=SH)


@dataclass
class District:
    tenant: Any
    db: Any
    vault: Any
    storage: Any
    policy: TenantPolicy
    nodes: dict[str, GridNode] = field(default_factory=dict)
    users: dict[str, Actor] = field(default_factory=dict)
    roles: dict[str, tuple[str, str]] = field(default_factory=dict)  # username -> (role, node code)

    def tx(self) -> Any:
        return self.db.transaction(self.tenant.id)

    def session(self) -> Any:
        return self.db.session(self.tenant.id)

    def can(self, username: str) -> Any:
        role, node = self.roles[username]
        subject = Subject(self.users[username].id, (Assignment(role, self.nodes[node].path, self.nodes[node].id),))
        return lambda action, path=None: self.policy.allows(subject, action, path)


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> District:
    db = app.state.db
    await set_plugin(db, app.state.plugins, fresh_tenant, "rule_of_law", True)
    policy = TenantPolicy(default_rules(all_actions(app.state.plugins)), 1)
    d = District(fresh_tenant, db, app.state.vault, app.state.storage, policy)
    async with d.tx() as s:
        tree = [
            ("root", None, "district", "双滦区"),
            ("gc", "root", "subdistrict", "钢城街道"),
            ("xg", "gc", "community", "行宫社区"),
            ("g1", "xg", "grid", "行宫第一网格"),
            ("g2", "xg", "grid", "行宫第二网格"),
            ("ssj", "gc", "community", "输送机社区"),
            ("s1", "ssj", "grid", "输送机第一网格"),
        ]
        for code, parent, kind, name in tree:
            up = d.nodes.get(parent) if parent else None
            node = GridNode(id=new_id(), code=code, kind=kind, name=name, parent_id=up.id if up else None)
            node.depth = up.depth + 1 if up else 0
            node.path = (up.path if up else "/") + f"{node.id}/"
            s.add(node)
            d.nodes[code] = node
        for username, display, role, node in [
            ("mediator", "调解员王芳", "mediator", "gc"),
            ("mediator2", "调解员赵敏", "mediator", "gc"),
            ("worker", "网格员小李", "grid_worker", "g1"),
            ("officer", "街道干部", "subdistrict_officer", "gc"),
            ("counsellor", "咨询师孙宁", "counsellor", "gc"),
            ("keeper", "专管员周强", "register_officer", "gc"),
            ("resident", "居民张三", "resident", "g1"),
        ]:
            user = User(id=new_id(), username=username, display_name=display, password_hash="-")
            s.add(user)
            d.users[username] = Actor("user", user.id, display)
            d.roles[username] = (role, node)
        await s.flush()
    return d
