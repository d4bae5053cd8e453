"""The counting rules at their edges (pure: no database). Civil Code art. 278 exactly as issue #11
states it: 2/3 participation by area and headcount, 3/4 for items (6)–(8), more than 1/2 otherwise."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.services.ballots.rules import Counts, OptionCount, majority_present, owners_278, plurality, simple_majority
from core.services.errors import InvalidInput

M2 = 100  # weights are hundredths: one square metre


def counts(ew: int, eh: int, cw: int, ch: int, yw: int, yh: int) -> Counts:
    """Electorate, participation and yes-votes as (area m² × 100, heads)."""
    return Counts(
        ew, eh, cw, ch, (OptionCount(1, "同意", "yes", yw, yh), OptionCount(2, "反对", "no", cw - yw, ch - yh))
    )


def test_participation_of_exactly_two_thirds_by_area_and_owners_passes() -> None:
    # 300 m² and 3 owners; 200 m² and 2 owners take part, all say yes
    out = owners_278(counts(300 * M2, 3, 200 * M2, 2, 200 * M2, 2), {"item": 1})
    assert out.valid and out.passed


def test_one_square_metre_below_two_thirds_fails() -> None:
    out = owners_278(counts(300 * M2, 3, 199 * M2, 2, 199 * M2, 2), {"item": 1})
    assert not out.valid and out.passed is False
    assert "2/3" in out.reason


def test_one_owner_below_two_thirds_fails_even_with_the_area() -> None:
    # 9 owners: 6 is exactly 2/3, 5 is one owner below
    assert owners_278(counts(900 * M2, 9, 800 * M2, 6, 800 * M2, 6), {"item": 1}).valid
    assert not owners_278(counts(900 * M2, 9, 800 * M2, 5, 800 * M2, 5), {"item": 1}).valid


@pytest.mark.parametrize("item", [6, 7, 8])
def test_special_items_pass_at_exactly_three_quarters_of_area_and_owners(item: int) -> None:
    # all 8 owners (800 m²) take part; 600 m² and 6 owners say yes: exactly 3/4 of both
    assert owners_278(counts(800 * M2, 8, 800 * M2, 8, 600 * M2, 6), {"item": item}).passed is True
    # one square metre less, or one owner less: fails
    assert owners_278(counts(800 * M2, 8, 800 * M2, 8, 599 * M2, 6), {"item": item}).passed is False
    assert owners_278(counts(800 * M2, 8, 800 * M2, 8, 600 * M2, 5), {"item": item}).passed is False


def test_special_items_count_against_the_participating_not_the_whole_estate() -> None:
    # 900 m² / 9 owners; 6 owners with 600 m² take part (2/3); 450 m² and... 4.5 owners is not
    # possible: 5 of 6 owners with 450 m² → area exactly 3/4, owners 5/6 → passes
    out = owners_278(counts(900 * M2, 9, 600 * M2, 6, 450 * M2, 5), {"item": 6})
    assert out.valid and out.passed is True


def test_ordinary_items_need_more_than_half_of_both_and_exactly_half_fails() -> None:
    base = (400 * M2, 4, 400 * M2, 4)
    assert owners_278(counts(*base, 201 * M2, 3), {"item": 3}).passed is True
    assert owners_278(counts(*base, 200 * M2, 3), {"item": 3}).passed is False  # exactly half the area
    assert owners_278(counts(*base, 300 * M2, 2), {"item": 3}).passed is False  # exactly half the owners


def test_the_owners_rule_needs_the_item_of_article_278() -> None:
    with pytest.raises(InvalidInput, match=r"art\. 278"):
        owners_278(counts(1, 1, 1, 1, 1, 1), {})


def test_simple_majority_is_more_than_half_of_votes_cast_abstentions_included() -> None:
    c = Counts(0, 0, 0, 10, (OptionCount(1, "同意", "yes", 0, 5), OptionCount(2, "弃权", "abstain", 0, 5)))
    assert simple_majority(c, {}).passed is False
    c = Counts(0, 0, 0, 9, (OptionCount(1, "同意", "yes", 0, 5), OptionCount(2, "弃权", "abstain", 0, 4)))
    assert simple_majority(c, {}).passed is True


def test_a_meeting_needs_more_than_half_present_then_more_than_half_of_them() -> None:
    def c(present: int, yes: int) -> Counts:
        return Counts(
            0, 100, 0, present, (OptionCount(1, "同意", "yes", 0, yes), OptionCount(2, "反对", "no", 0, present - yes))
        )

    assert not majority_present(c(50, 50), {}).valid  # exactly half the residents: not quorate
    assert majority_present(c(51, 26), {}).passed is True
    assert majority_present(c(51, 25), {}).passed is False
    assert majority_present(c(67, 34), {"quorum": "2/3"}).passed is True  # 村民会议: households' representatives
    assert not majority_present(c(66, 66), {"quorum": "2/3"}).valid


def test_plurality_elects_the_most_voted_and_reports_a_tie_for_the_last_seat() -> None:
    opts = (OptionCount(1, "甲", "", 0, 7), OptionCount(2, "乙", "", 0, 5), OptionCount(3, "丙", "", 0, 5))
    assert plurality(Counts(0, 0, 0, 17, opts), {"seats": 1}).elected == (1,)
    out = plurality(Counts(0, 0, 0, 17, opts), {"seats": 2})
    assert out.elected == (1,) and out.tied == (2, 3)
    assert plurality(Counts(0, 0, 0, 17, opts), {"seats": 3}).elected == (1, 2, 3)


@settings(max_examples=400, deadline=None)
@given(
    ew=st.integers(1, 10**7),
    eh=st.integers(1, 500),
    data=st.data(),
    item=st.integers(1, 9),
)
def test_the_owners_rule_agrees_with_exact_fractions(ew: int, eh: int, data: st.DataObject, item: int) -> None:
    cw = data.draw(st.integers(0, ew))
    ch = data.draw(st.integers(0, eh))
    yw = data.draw(st.integers(0, cw))
    yh = data.draw(st.integers(0, ch))
    out = owners_278(counts(ew, eh, cw, ch, yw, yh), {"item": item})
    took_part = ch > 0 and Fraction(cw, ew) >= Fraction(2, 3) and Fraction(ch, eh) >= Fraction(2, 3)
    assert out.valid == took_part
    if not took_part:
        assert out.passed is False
    elif item in (6, 7, 8):
        assert out.passed == (Fraction(yw, cw or 1) >= Fraction(3, 4) and Fraction(yh, ch) >= Fraction(3, 4))
    else:
        assert out.passed == (Fraction(yw, cw or 1) > Fraction(1, 2) and Fraction(yh, ch) > Fraction(1, 2))
