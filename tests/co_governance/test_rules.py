"""The pillar's rules at their edges: star levels by hours, points with coefficients and caps,
volunteer numbers in the tenant's format."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.co_governance import rules

D = Decimal


@pytest.mark.parametrize(
    ("hours", "star"),
    [
        (D("99.5"), 0),
        (100, 1),
        (D("299.99"), 1),
        (300, 2),
        (D("599.5"), 2),
        (600, 3),
        (D("999.5"), 3),
        (1000, 4),
        (D("1499.5"), 4),
        (1500, 5),
        (5000, 5),
        (0, 0),
    ],
)
def test_star_level_at_each_national_threshold(hours: Decimal, star: int) -> None:
    assert rules.star_level(int(D(hours) * 60)) == star


def test_next_star_says_what_is_still_needed() -> None:
    assert rules.next_star(int(D("99.5") * 60)) == (1, 100)
    assert rules.next_star(100 * 60) == (2, 300)
    assert rules.next_star(1500 * 60) is None


@given(st.integers(min_value=0, max_value=200_000), st.integers(min_value=0, max_value=200_000))
def test_more_hours_never_lower_the_star(a: int, b: int) -> None:
    assert rules.star_level(min(a, b)) <= rules.star_level(max(a, b))


def test_one_hour_is_one_point_by_default_and_coefficients_multiply() -> None:
    rule = rules.PointsRule.of({"points_per_hour": 1, "category_coefficients": "助老助残:1.5，应急救援:2"})
    assert rule.raw(120, "环境保护") == D("2.00")
    assert rule.raw(120, "助老助残") == D("3.00")
    assert rule.raw(90, "应急救援") == D("3.00")
    assert rule.raw(1, "环境保护") == D("0.01")  # one minute, rounded down


def test_yearly_caps_overall_and_per_category() -> None:
    rule = rules.PointsRule.of({"yearly_points_cap": 100, "category_yearly_caps": "文明劝导:10"})
    assert rule.award(600, "环境保护", earned_year=D(95), earned_year_category=D(0)) == D(5)
    assert rule.award(600, "环境保护", earned_year=D(100), earned_year_category=D(0)) == D(0)
    assert rule.award(600, "文明劝导", earned_year=D(0), earned_year_category=D(8)) == D(2)
    assert rule.award(600, "文明劝导", earned_year=D(0), earned_year_category=D(12)) == D(0)


@given(
    st.integers(min_value=0, max_value=1440),
    st.decimals(min_value=0, max_value=500, places=2),
    st.decimals(min_value=0, max_value=500, places=2),
)
def test_an_award_never_goes_past_a_cap(minutes: int, earned: Decimal, earned_cat: Decimal) -> None:
    rule = rules.PointsRule.of({"yearly_points_cap": 300, "category_yearly_caps": "环境保护:50"})
    award = rule.award(minutes, "环境保护", earned_year=earned, earned_year_category=earned_cat)
    assert award >= 0
    assert earned + award <= max(D(300), earned)
    assert earned_cat + award <= max(D(50), earned_cat)


def test_bad_rule_text_is_named() -> None:
    with pytest.raises(ValueError, match="助老"):
        rules.parse_pairs("助老 1.5")


def test_volunteer_numbers_follow_the_tenants_format() -> None:
    assert rules.volunteer_number("SL{year}{seq:6}", 2026, 42) == "SL2026000042"
    assert rules.volunteer_number("LZ-{seq:8}", 2026, 7) == "LZ-00000007"
    with pytest.raises(ValueError):
        rules.volunteer_number("{idcard}", 2026, 1)
