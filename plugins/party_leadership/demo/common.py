"""What the demo's sections share: the district, the seed's sizes, working-hours moments and days,
and ``Demo`` — one random draw in a fixed order and the rows earlier sections made."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.grids.models import GridNode
from core.identity.models import User
from plugins.party_leadership.models import Committee, CommitteeMember, Meeting, Member, Project, Unit

SH = ZoneInfo("Asia/Shanghai")
DISTRICT_ROOT = "sl"
DEMO_COMMUNITY = "sl-ybs-sa"
UNITS, MEMBERS, PROJECTS, DONE = 52, 1580, 75, 42
SUBDISTRICT_AGREEMENTS, COMMUNITY_AGREEMENTS = 25, 53
CAPTAINS, BUILDINGS = 1188, 1320
PART_TIME = 21  # 兼职委员 of the 街道大工委
ACCOUNTS = 40  # members of 双安社区 with an account (the rest reported on paper)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A working-hours moment in 承德, stored in UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH).astimezone(UTC)


def workday(rng: random.Random, start: date, end: date) -> date:
    span = max((end - start).days, 1)
    for _ in range(20):
        day = start + timedelta(days=rng.randrange(span))
        if day.weekday() < 5:
            return day
    return start


@dataclass
class Demo:
    """What the seed's sections share: one random draw (in a fixed order, so the data stays the
    same), the day, the district's nodes and the rows the earlier sections made."""

    rng: random.Random
    today: date
    root: GridNode
    communities: list[GridNode]
    subdistricts: list[GridNode]
    by_path: dict[str, GridNode]
    demo: GridNode  # 双安社区: the members with an account and the activities
    units: list[Unit] = field(default_factory=list)
    units_at: dict[str, list[Unit]] = field(default_factory=dict)
    account_users: list[User] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    by_community: dict[str, list[Member]] = field(default_factory=dict)
    projects: list[Project] = field(default_factory=list)
    committees: list[Committee] = field(default_factory=list)
    seats: list[CommitteeMember] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)

    @classmethod
    def of(cls, nodes: Mapping[str, GridNode]) -> Demo:
        communities = sorted((n for n in nodes.values() if n.kind == "community"), key=lambda n: n.code)
        return cls(
            rng=random.Random(20261207),
            today=datetime.now(SH).date(),
            root=nodes[DISTRICT_ROOT],
            communities=communities,
            subdistricts=sorted((n for n in nodes.values() if n.kind in ("subdistrict", "town")), key=lambda n: n.code),
            by_path={n.path: n for n in nodes.values()},
            demo=nodes.get(DEMO_COMMUNITY, communities[0]),
        )

    @property
    def year(self) -> int:
        return self.today.year
