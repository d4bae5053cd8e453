"""Time limits and composition rules, each encoded once. Pure functions over dates and counts.

- Mediation closes within a period that is local practice (a tenant setting, default one calendar
  month from acceptance: 人民调解 practice and the 司法部 卷宗 rules); a case is overdue the day after.
- 人民调解法 第33条: the parties may jointly apply for 司法确认 within 30 days of the agreement taking
  effect (a tenant setting with the law's 30 as default); the last day counts.
- 信访工作条例 第24条/第33条: decide on acceptance within 15 days, conclude within 60 days, extendable
  once by up to 30 days — statute, so data here, not settings.
- 全科网格 teams "1+1+X+Y": the minimum of each position is a tenant setting.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

PETITION_ACCEPT_DAYS = 15
PETITION_CONCLUDE_DAYS = 60
PETITION_EXTENSION_DAYS = 30

# Team positions: 指导员 (1 sub-district leader), 网格长 (1 community cadre), X part-time members,
# Y other forces.
INSTRUCTOR, LEADER, PART_TIME, OTHER = "instructor", "leader", "part_time", "other"
POSITIONS = (INSTRUCTOR, LEADER, PART_TIME, OTHER)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has no such day (1月31日 → 2月28/29日)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def mediation_due(accepted_on: date, months: int) -> date:
    """The last day of the mediation period."""
    return add_months(accepted_on, months)


def is_overdue(due_on: date | None, today: date) -> bool:
    return due_on is not None and today > due_on


def confirmation_deadline(effective_on: date, days: int) -> date:
    """The last day the parties may jointly apply for 司法确认 (第33条: within 30 days)."""
    return effective_on + timedelta(days=days)


def confirmation_open(effective_on: date, days: int, today: date) -> bool:
    return effective_on <= today <= confirmation_deadline(effective_on, days)


def petition_accept_due(received_on: date) -> date:
    return received_on + timedelta(days=PETITION_ACCEPT_DAYS)


def petition_conclude_due(accepted_on: date, extended: bool = False) -> date:
    return accepted_on + timedelta(days=PETITION_CONCLUDE_DAYS + (PETITION_EXTENSION_DAYS if extended else 0))


@dataclass(frozen=True)
class Composition:
    """The minimum number of members in each position of a grid team."""

    instructor: int = 1
    leader: int = 1
    part_time: int = 1
    other: int = 1

    def minimum(self, position: str) -> int:
        return int(getattr(self, position))


def team_gaps(counts: Mapping[str, int], rule: Composition) -> dict[str, int]:
    """How many members each position still lacks (empty when the team is complete)."""
    gaps = {p: rule.minimum(p) - int(counts.get(p, 0)) for p in POSITIONS}
    return {p: n for p, n in gaps.items() if n > 0}
