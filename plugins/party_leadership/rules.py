"""The pillar's rules, pure: the project state machine, 五事联办 routing, 评议 scoring, agreement
status and periods. No database here; services call these and tests drive them at their edges.

Local practice (targets, pass marks, point values, categories, terms) comes from the tenant's
``Settings`` (plugin.py), never from constants here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from core.services.errors import lazy

# ---- labels (translated where shown) ----------------------------------------------------------

COMMITTEE_KINDS = {
    "working": lazy("Sub-district working committee (大工委)"),
    "party": lazy("Community party committee (大党委)"),
}
POSITIONS = {
    "secretary": lazy("Secretary"),
    "deputy": lazy("Deputy secretary"),
    "part_time": lazy("Part-time member (兼职委员)"),
    "member": lazy("Member"),
}
RESOURCE_KINDS = {
    "venue": lazy("Venue"),
    "funds": lazy("Funds"),
    "staff": lazy("Staff"),
    "skills": lazy("Skills"),
    "other": lazy("Other"),
}
NEED_SOURCES = {"staff": lazy("Typed in"), "resident": lazy("From a resident"), "event": lazy("From a reported event")}
NEED_STATES = {"open": lazy("Open"), "matched": lazy("Matched"), "closed": lazy("Closed")}
GRADES = {"excellent": lazy("Excellent"), "pass": lazy("Pass"), "fail": lazy("Fail")}


# ---- 项目清单: the project state machine ----------------------------------------------------------


class ProjectState(StrEnum):
    LISTED = "listed"  # on the 项目清单, open for 认领
    CLAIMED = "claimed"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


PROJECT_STATE_LABELS = {
    ProjectState.LISTED: lazy("Open for claiming"),
    ProjectState.CLAIMED: lazy("Claimed"),
    ProjectState.IN_PROGRESS: lazy("In progress"),
    ProjectState.DONE: lazy("Done"),
    ProjectState.CANCELLED: lazy("Cancelled"),
}
OPEN_PROJECT_STATES = (ProjectState.LISTED, ProjectState.CLAIMED, ProjectState.IN_PROGRESS)

# action → (states it may start from, state it leads to); "progress" stays where it is.
PROJECT_TRANSITIONS: dict[str, tuple[frozenset[ProjectState], ProjectState | None]] = {
    "claim": (frozenset({ProjectState.LISTED}), ProjectState.CLAIMED),
    "release": (frozenset({ProjectState.CLAIMED}), ProjectState.LISTED),
    "start": (frozenset({ProjectState.CLAIMED}), ProjectState.IN_PROGRESS),
    "progress": (frozenset({ProjectState.IN_PROGRESS}), None),
    "complete": (frozenset({ProjectState.IN_PROGRESS}), ProjectState.DONE),
    "cancel": (frozenset(OPEN_PROJECT_STATES), ProjectState.CANCELLED),
}
PROJECT_ACTION_LABELS = {
    "create": lazy("Listed"),
    "claim": lazy("Claimed"),
    "release": lazy("Released"),
    "start": lazy("Started"),
    "progress": lazy("Progress"),
    "complete": lazy("Completed"),
    "cancel": lazy("Cancelled"),
}


class IllegalTransition(ValueError):
    """The project cannot take this step from where it is."""


def next_project_state(state: str, action: str, *, progress: int | None = None, summary: str = "") -> ProjectState:
    """Where ``action`` takes a project in ``state``; refuses what the table does not allow and a
    completion without a summary of what was done."""
    if action not in PROJECT_TRANSITIONS:
        raise IllegalTransition(f"unknown action {action}")
    sources, target = PROJECT_TRANSITIONS[action]
    current = ProjectState(state)
    if current not in sources:
        raise IllegalTransition(f"{action} is not possible from {current}")
    if action == "progress" and (progress is None or not 0 <= progress <= 100):
        raise IllegalTransition("progress is a percentage")
    if action == "complete" and not summary.strip():
        raise IllegalTransition("a completed project needs a summary")
    return target or current


# ---- 五事联办 -------------------------------------------------------------------------------------

MATTER_KINDS = {
    "discuss": lazy("大事共议 — major matters discussed together"),
    "do": lazy("实事共办 — practical matters done together"),
    "decide": lazy("要事共决 — important matters decided together"),
    "urgent": lazy("急事共商 — urgent matters consulted together"),
    "solve": lazy("难事共解 — hard matters solved together"),
}
ROUTES = {
    "meeting": lazy("A joint meeting"),
    "project": lazy("A project on the project list"),
    "vote": lazy("A vote at a joint meeting"),
    "consultation": lazy("An urgent consultation"),
}
# Each kind goes to the joint process it needs (the case's 五事联办 practice).
MATTER_ROUTE = {"discuss": "meeting", "do": "project", "decide": "vote", "urgent": "consultation", "solve": "meeting"}


def route_for(kind: str) -> str:
    try:
        return MATTER_ROUTE[kind]
    except KeyError:
        raise ValueError(f"unknown matter kind {kind}") from None


# ---- 评议 ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scoring:
    """The tenant's 评议 practice (from Settings)."""

    hours_target: Decimal  # hours a year
    hours_points: int  # points for reaching the target; fewer hours earn their share
    post_points: int  # for holding at least one post
    report_points: int  # for having reported in
    staff_points_max: int  # the community's own rating, 0 … this
    pass_mark: int
    excellent_mark: int

    @classmethod
    def of(cls, settings: Any) -> Scoring:
        return cls(
            Decimal(str(settings.annual_hours_target)),
            settings.hours_points,
            settings.post_points,
            settings.report_points,
            settings.staff_points_max,
            settings.pass_mark,
            settings.excellent_mark,
        )


@dataclass(frozen=True)
class Score:
    score: Decimal
    hours_met: bool
    passed: bool
    grade: str


ONE_PLACE = Decimal("0.1")


def grade_of(score: Decimal, scoring: Scoring) -> str:
    if score >= scoring.excellent_mark:
        return "excellent"
    return "pass" if score >= scoring.pass_mark else "fail"


def score_member(minutes: int, posts: int, reported: bool, staff_points: int, scoring: Scoring) -> Score:
    """One member's 评议: hours against the target (in exact minutes, so 49.5 h < 50 h), a post,
    having reported in, and the community's rating (clamped to its maximum)."""
    target_minutes = scoring.hours_target * 60
    hours_met = Decimal(minutes) >= target_minutes
    share = Decimal(1) if hours_met or target_minutes == 0 else Decimal(minutes) / target_minutes
    score = (
        scoring.hours_points * share
        + (scoring.post_points if posts > 0 else 0)
        + (scoring.report_points if reported else 0)
        + max(0, min(staff_points, scoring.staff_points_max))
    )
    # Rounded down to one place: 59.96 is not 60 — a pass is never a rounding gift.
    score = score.quantize(ONE_PLACE, rounding=ROUND_FLOOR)
    grade = grade_of(score, scoring)
    return Score(score, hours_met, grade != "fail", grade)


def score_unit(member_scores: list[Decimal], scoring: Scoring) -> Score:
    """A unit's 评议: the mean of its reported members' scores; a unit with no members fails."""
    if not member_scores:
        return Score(Decimal("0.0"), False, False, "fail")
    mean = (sum(member_scores, Decimal(0)) / len(member_scores)).quantize(ONE_PLACE, rounding=ROUND_FLOOR)
    grade = grade_of(mean, scoring)
    return Score(mean, False, grade != "fail", grade)


def hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


# ---- periods ------------------------------------------------------------------------------------


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """A calendar year as UTC instants, for comparing activity start times (stored in UTC)."""
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    if quarter not in (1, 2, 3, 4):
        raise ValueError("a quarter is 1–4")
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, end


# ---- 共建协议 --------------------------------------------------------------------------------------

AGREEMENT_STATES = {
    "pending": lazy("Not yet in force"),
    "active": lazy("In force"),
    "expiring": lazy("Expiring soon"),
    "expired": lazy("Expired"),
    "terminated": lazy("Terminated"),
}


def agreement_state(starts_on: date, ends_on: date, terminated_on: date | None, today: date, remind_days: int) -> str:
    if terminated_on is not None and terminated_on <= today:
        return "terminated"
    if today < starts_on:
        return "pending"
    if today > ends_on:
        return "expired"
    if (ends_on - today).days <= remind_days:
        return "expiring"
    return "active"


def term_active(term_start: date, term_end: date, left_on: date | None, today: date) -> bool:
    return term_start <= today <= term_end and (left_on is None or left_on > today)
