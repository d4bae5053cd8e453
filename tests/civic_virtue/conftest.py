"""A fresh district for 文化德治: 区 → 街道 → 双安社区 → grid → a household, the plugin on, an
organiser (community secretary), a grid worker, a sibling community's secretary, and residents
with phone accounts (``accounts.create_account``: each holds the resident role at the root).

``Town.shift(campaign, stage)`` moves a campaign's periods (and its ballots' windows) so that now
falls in ``stage``: the tests walk a campaign through its stages without waiting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from core.db.base import new_id
from core.db.context import Actor
from core.grids.basedata import Resident
from core.grids.models import GridNode
from core.identity.models import User
from core.identity.passwords import hash_password
from core.rbac.models import RoleAssignment
from core.services import accounts
from core.services.accounts.models import ResidentAccount
from core.services.ballots.models import Ballot
from core.services.notices.models import Notice
from core.tenancy.service import set_plugin
from plugins.civic_virtue import campaigns
from plugins.civic_virtue.models import Campaign, CampaignCategory
from plugins.civic_virtue.stages import Periods, Stage
from tests.conftest import csrf_of, make_client

PASSWORD = "virtue-pass-123"
DAY = timedelta(days=1)
# username → (display name, role, node code)
STAFF = {
    "organiser": ("社区书记老周", "community_secretary", "c1"),
    "worker": ("网格员小刘", "grid_worker", "g1"),
    "other": ("隔壁社区书记", "community_secretary", "c2"),
}
RESIDENTS = {  # username → (display name, phone)
    "ann": ("居民安安", "13900000001"),
    "bob": ("邻居老白", "13900000002"),
    "cat": ("居民小蔡", "13900000003"),
    "dan": ("居民丹丹", "13900000004"),
}


def periods_for(stage: Stage, at: datetime | None = None, publicity_days: int = 7) -> Periods:
    """Periods such that ``at`` (now) lies in ``stage``, each period a few days long."""
    t = at or datetime.now(UTC)
    p = timedelta(days=publicity_days)
    starts = {
        Stage.UPCOMING: t + DAY,
        Stage.NOMINATION: t - DAY,
        Stage.REVIEW: t - 3 * DAY,
        Stage.PUBLICITY: t - 5 * DAY,
        Stage.VOTING: t - 5 * DAY - p,
        Stage.COUNTING: t - 7 * DAY - p,
    }
    s = starts[stage]
    return Periods(s, s + 2 * DAY, s + 4 * DAY, s + 4 * DAY + p, s + 6 * DAY + p)


@dataclass
class Town:
    app: Any
    tenant: Any
    nodes: dict[str, GridNode] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return str(self.tenant.slug)

    def url(self, path: str) -> str:
        return f"/t/{self.slug}{path}"

    def tx(self, as_user: str | None = None) -> Any:
        actor = Actor("user", self.users[as_user], as_user) if as_user else None
        return self.app.state.db.transaction(self.tenant.id, actor)

    def session(self) -> Any:
        return self.app.state.db.session(self.tenant.id)

    @property
    def vault(self) -> Any:
        return self.app.state.vault

    async def client(self, key: str) -> httpx.AsyncClient:
        username = await self.username(key)
        c = make_client(self.app)
        self.clients.append(c)
        await c.get(self.url("/login"))
        r = await c.post(
            self.url("/login"),
            data={"username": username, "password": PASSWORD, "_csrf_token": csrf_of(c), "next": ""},
        )
        assert r.status_code == 303, r.text[:300]
        return c

    async def username(self, key: str) -> str:
        async with self.session() as s:
            return str(await s.scalar(select(User.username).where(User.id == self.users[key])))

    async def campaign(self, stage: Stage = Stage.NOMINATION, **kw: Any) -> Campaign:
        data = {
            "title": "2026年“身边的榜样”评选",
            "kind": "moral_model",
            "node": self.nodes["c1"],
            "periods": periods_for(stage),
            "voter_rule": "everyone",
            **kw,
        }
        async with self.tx("organiser") as s:
            return await campaigns.create(s, campaigns.CampaignInput(**data))

    async def shift(self, campaign_id: int, stage: Stage) -> None:
        """Move the campaign's periods (and its ballots' windows) so that now is in ``stage``."""
        p = periods_for(stage)
        async with self.tx() as s:
            await s.execute(
                update(Campaign)
                .where(Campaign.id == campaign_id)
                .values(
                    nomination_opens_at=p.nomination_opens_at,
                    nomination_closes_at=p.nomination_closes_at,
                    review_closes_at=p.review_closes_at,
                    publicity_closes_at=p.publicity_closes_at,
                    vote_closes_at=p.vote_closes_at,
                )
            )
            ballot_ids = (
                await s.execute(
                    select(CampaignCategory.ballot_id).where(
                        CampaignCategory.campaign_id == campaign_id, CampaignCategory.ballot_id.is_not(None)
                    )
                )
            ).scalars()
            notice_id = await s.scalar(select(Campaign.shortlist_notice_id).where(Campaign.id == campaign_id))
            if notice_id is not None:
                await s.execute(
                    update(Notice)
                    .where(Notice.id == notice_id)
                    .values(starts_at=p.review_closes_at, ends_at=p.publicity_closes_at)
                )
            ids = list(ballot_ids)
            if ids:
                await s.execute(
                    update(Ballot)
                    .where(Ballot.id.in_(ids))
                    .values(opens_at=p.publicity_closes_at, closes_at=p.vote_closes_at)
                )

    async def close(self) -> None:
        for c in self.clients:
            await c.aclose()


async def _node(s: Any, parent: GridNode | None, code: str, kind: str, name: str) -> GridNode:
    node = GridNode(id=new_id(), code=code, kind=kind, name=name, parent_id=parent.id if parent else None)
    node.depth = parent.depth + 1 if parent else 0
    node.path = f"{parent.path if parent else '/'}{node.id}/"
    s.add(node)
    await s.flush()
    return node


async def build(app: Any, tenant: Any) -> Town:
    await set_plugin(app.state.db, app.state.plugins, tenant, "civic_virtue", True)
    app.state.tenant_cache.clear()
    town = Town(app, tenant)
    async with app.state.db.transaction(tenant.id) as s:
        n = town.nodes
        n["root"] = await _node(s, None, "root", "district", "测试区")
        n["s1"] = await _node(s, n["root"], "s1", "subdistrict", "元宝山街道")
        n["c1"] = await _node(s, n["s1"], "c1", "community", "双安社区")
        n["c2"] = await _node(s, n["s1"], "c2", "community", "御祥园社区")
        n["g1"] = await _node(s, n["c1"], "g1", "grid", "双安社区第一网格")
        n["h1"] = await _node(s, n["g1"], "h1", "household", "1号楼1单元101")
        hashed = hash_password(PASSWORD)
        for username, (display, role, code) in STAFF.items():
            user = User(id=new_id(), username=username, display_name=display, password_hash=hashed, locale="en")
            s.add(user)
            await s.flush()
            node = n[code]
            s.add(RoleAssignment(user_id=user.id, role_code=role, node_id=node.id, node_path=node.path))
            town.users[username] = user.id
        for key, (display, phone) in RESIDENTS.items():
            user, _account = await accounts.create_account(
                s, app.state.vault, phone, display_name=display, password=PASSWORD
            )
            user.locale = "en"
            town.users[key] = user.id
        await s.flush()
        # ann and bob live in the same household (the anomaly view counts households).
        for key in ("ann", "bob"):
            r = Resident(name=RESIDENTS[key][0], node_id=n["h1"].id, node_path=n["h1"].path)
            s.add(r)
            await s.flush()
            await s.execute(
                update(ResidentAccount).where(ResidentAccount.user_id == town.users[key]).values(resident_id=r.id)
            )
    return town


@pytest.fixture
async def town(app: Any, fresh_tenant: Any) -> AsyncIterator[Town]:
    t = await build(app, fresh_tenant)
    yield t
    await t.close()
