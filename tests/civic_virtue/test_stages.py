"""The one rule placing a moment in a campaign's stages, at the edges of every period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugins.civic_virtue.stages import ORDER, PeriodError, Periods, Stage, allowed, stage_at

T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
P = Periods(T0, T0 + timedelta(days=10), T0 + timedelta(days=15), T0 + timedelta(days=22), T0 + timedelta(days=29))
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    "instant,before,at",
    [
        (P.nomination_opens_at, Stage.UPCOMING, Stage.NOMINATION),
        (P.nomination_closes_at, Stage.NOMINATION, Stage.REVIEW),
        (P.review_closes_at, Stage.REVIEW, Stage.PUBLICITY),
        (P.publicity_closes_at, Stage.PUBLICITY, Stage.VOTING),
        (P.vote_closes_at, Stage.VOTING, Stage.COUNTING),
    ],
)
def test_each_period_ends_at_its_instant_and_the_next_begins(instant: datetime, before: Stage, at: Stage) -> None:
    assert stage_at(P, instant - SECOND) == before
    assert stage_at(P, instant) == at


def test_nominations_are_taken_from_the_first_second_to_the_last() -> None:
    assert allowed("nominate", stage_at(P, P.nomination_opens_at))
    assert allowed("nominate", stage_at(P, P.nomination_closes_at - SECOND))
    assert not allowed("nominate", stage_at(P, P.nomination_closes_at))
    assert not allowed("nominate", stage_at(P, P.nomination_opens_at - SECOND))


def test_votes_are_taken_only_in_the_vote_period() -> None:
    assert not allowed("vote", stage_at(P, P.publicity_closes_at - SECOND))  # still 公示
    assert allowed("vote", stage_at(P, P.publicity_closes_at))
    assert allowed("vote", stage_at(P, P.vote_closes_at - SECOND))
    assert not allowed("vote", stage_at(P, P.vote_closes_at))


def test_objections_only_during_the_public_notice() -> None:
    assert not allowed("object", stage_at(P, P.review_closes_at - SECOND))
    assert allowed("object", stage_at(P, P.review_closes_at))
    assert not allowed("object", stage_at(P, P.publicity_closes_at))


def test_an_awarded_or_cancelled_campaign_stays_so_whatever_the_clock_says() -> None:
    assert stage_at(P, P.nomination_opens_at, awarded=True) == Stage.AWARDED
    assert stage_at(P, P.nomination_opens_at, cancelled=True) == Stage.CANCELLED


def test_periods_out_of_order_are_refused_naming_the_wrong_instant() -> None:
    bad = Periods(T0, T0, T0 + timedelta(days=1), T0 + timedelta(days=9), T0 + timedelta(days=10))
    with pytest.raises(PeriodError) as e:
        bad.check()
    assert e.value.field == "nomination_closes_at"
    short = Periods(T0, T0 + timedelta(days=1), T0 + timedelta(days=2), T0 + timedelta(days=6), T0 + timedelta(days=9))
    with pytest.raises(PeriodError) as e:
        short.check(min_publicity_days=5)
    assert e.value.field == "publicity_closes_at"
    exactly = Periods(
        T0, T0 + timedelta(days=1), T0 + timedelta(days=2), T0 + timedelta(days=7), T0 + timedelta(days=9)
    )
    exactly.check(min_publicity_days=5)  # exactly five days is enough


# A loaded test machine can be slow to draw: no deadline, no slowness check (the property is what counts).
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=0, max_value=60 * 24 * 40), min_size=2, max_size=20))
def test_the_stage_never_goes_backwards_as_time_passes(minutes: list[int]) -> None:
    stages = [stage_at(P, T0 - timedelta(days=1) + timedelta(minutes=m)) for m in sorted(minutes)]
    positions = [ORDER.index(s) for s in stages]
    assert positions == sorted(positions)
