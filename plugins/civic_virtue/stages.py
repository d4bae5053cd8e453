"""The stages of a 评选 campaign and the one rule that places a moment in them. Pure: no database.

nomination → review → 公示 (the shortlist on public notice, objections taken) → public vote →
counting → awarded. Each period is half-open, ``[start, end)``: at the very second a period
ends, the next one has begun. Periods follow each other without gaps, so a campaign is five
instants (``Periods``); the organiser sets them, the lengths are local practice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from core.services.errors import lazy


class Stage(StrEnum):
    UPCOMING = "upcoming"  # before nomination opens
    NOMINATION = "nomination"
    REVIEW = "review"
    PUBLICITY = "publicity"  # 公示
    VOTING = "voting"
    COUNTING = "counting"  # the vote has closed; awards not yet announced
    AWARDED = "awarded"
    CANCELLED = "cancelled"


STAGE_LABELS = {
    Stage.UPCOMING: lazy("Not yet open"),
    Stage.NOMINATION: lazy("Nomination"),
    Stage.REVIEW: lazy("Panel review"),
    Stage.PUBLICITY: lazy("Public notice"),
    Stage.VOTING: lazy("Public vote"),
    Stage.COUNTING: lazy("Counting"),
    Stage.AWARDED: lazy("Awarded"),
    Stage.CANCELLED: lazy("Cancelled"),
}
ORDER = tuple(Stage)


class PeriodError(ValueError):
    """The periods are out of order; ``field`` names the first instant that is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Periods:
    nomination_opens_at: datetime
    nomination_closes_at: datetime
    review_closes_at: datetime
    publicity_closes_at: datetime
    vote_closes_at: datetime

    def check(self, *, min_publicity_days: int = 5) -> None:
        """Refuse periods out of order, and a 公示 shorter than ``min_publicity_days`` (a tenant
        setting: 5 working days is common practice, 7 calendar days for 道德模范)."""
        a = [_aware(t) for t in self.instants()]
        if not a[0] < a[1]:
            raise PeriodError("nomination_closes_at", lazy("Nomination closes after it opens."))
        if not a[1] <= a[2]:
            raise PeriodError("review_closes_at", lazy("Review ends after nomination closes."))
        if not a[2] < a[3]:
            raise PeriodError("publicity_closes_at", lazy("The public notice ends after the review."))
        if (a[3] - a[2]).total_seconds() < min_publicity_days * 86400:
            raise PeriodError("publicity_closes_at", lazy("The public notice lasts at least %(days)s days."))
        if not a[3] < a[4]:
            raise PeriodError("vote_closes_at", lazy("The public vote ends after the public notice."))

    def instants(self) -> tuple[datetime, ...]:
        return (
            self.nomination_opens_at,
            self.nomination_closes_at,
            self.review_closes_at,
            self.publicity_closes_at,
            self.vote_closes_at,
        )

    @property
    def vote_opens_at(self) -> datetime:
        return self.publicity_closes_at


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def stage_at(periods: Periods, moment: datetime, *, awarded: bool = False, cancelled: bool = False) -> Stage:
    """Where a campaign stands at ``moment`` — the single rule every check uses."""
    if cancelled:
        return Stage.CANCELLED
    if awarded:
        return Stage.AWARDED
    m = _aware(moment)
    n_open, n_close, r_close, p_close, v_close = (_aware(t) for t in periods.instants())
    if m < n_open:
        return Stage.UPCOMING
    if m < n_close:
        return Stage.NOMINATION
    if m < r_close:
        return Stage.REVIEW
    if m < p_close:
        return Stage.PUBLICITY
    if m < v_close:
        return Stage.VOTING
    return Stage.COUNTING


# What may be done in which stage. Shortlisting is the panel's work (review); publishing the
# shortlist puts it on notice for the 公示 period, so it happens before that period ends.
ALLOWED: dict[str, frozenset[Stage]] = {
    "nominate": frozenset({Stage.NOMINATION}),
    "score": frozenset({Stage.REVIEW}),
    "shortlist": frozenset({Stage.REVIEW}),
    "publish_shortlist": frozenset({Stage.REVIEW, Stage.PUBLICITY}),
    "object": frozenset({Stage.PUBLICITY}),
    "vote": frozenset({Stage.VOTING}),
    "award": frozenset({Stage.COUNTING}),
}


def allowed(step: str, stage: Stage) -> bool:
    return stage in ALLOWED[step]
