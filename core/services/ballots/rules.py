"""Counting rules: pure functions from the counts of a ballot to its outcome.

Each rule is encoded once, here, and tested at its edges. Figures are integers (weights in
hundredths), so every threshold is an exact integer comparison — "exactly 2/3 passes, one square
metre less fails" holds with no rounding. A plugin adds a rule through the ``ballot_rules`` hook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.services.ballots.models import YES
from core.services.errors import InvalidInput, lazy


@dataclass(frozen=True)
class OptionCount:
    option_id: int
    label: str
    meaning: str
    weight: int  # hundredths
    heads: int


@dataclass(frozen=True)
class Counts:
    """What a rule sees: the electorate's totals, the participation, and each option's share."""

    electorate_weight: int
    electorate_heads: int
    cast_weight: int
    cast_heads: int
    options: tuple[OptionCount, ...]

    def yes(self) -> OptionCount:
        found = [o for o in self.options if o.meaning == YES]
        if len(found) != 1:
            raise InvalidInput(lazy("A yes/no ballot needs exactly one option meaning yes."))
        return found[0]


@dataclass(frozen=True)
class Outcome:
    """``valid``: the ballot counts (quorum or participation met). ``passed``: the question
    carried (None for an election). ``elected``: the options elected, best first."""

    rule: str
    valid: bool
    passed: bool | None
    elected: tuple[int, ...] = ()
    tied: tuple[int, ...] = ()
    reason: str = ""  # an English message id (``lazy``) saying why, for the result page
    figures: dict[str, Any] = field(default_factory=dict)


Rule = Callable[[Counts, Mapping[str, Any]], Outcome]


def _share(part: int, whole: int) -> str:
    """A display percentage; decisions never use it."""
    return "—" if whole == 0 else f"{100 * part / whole:.2f}%"


def plurality(counts: Counts, params: Mapping[str, Any]) -> Outcome:
    """Elections: the ``seats`` (default 1) options with the most votes; a tie at the last seat
    elects none of the tied (staff decide by the procedure the campaign names)."""
    seats = int(params.get("seats", 1))
    ranked = sorted(counts.options, key=lambda o: (-o.heads, o.option_id))
    ranked = [o for o in ranked if o.heads > 0]
    if len(ranked) <= seats:
        return Outcome(
            "plurality", True, None, tuple(o.option_id for o in ranked), reason=lazy("Elected by most votes.")
        )
    cut = ranked[seats - 1].heads
    above = tuple(o.option_id for o in ranked if o.heads > cut)
    at_cut = tuple(o.option_id for o in ranked if o.heads == cut)
    if len(above) + len(at_cut) == seats:
        return Outcome("plurality", True, None, above + at_cut, reason=lazy("Elected by most votes."))
    return Outcome(
        "plurality", True, None, above, tied=at_cut, reason=lazy("A tie for the last seat: decide it by the procedure.")
    )


def simple_majority(counts: Counts, params: Mapping[str, Any]) -> Outcome:
    """A question carries with more than half of the votes cast (abstentions count as cast)."""
    yes = counts.yes()
    passed = yes.heads * 2 > counts.cast_heads
    figures = {"yes": yes.heads, "cast": counts.cast_heads, "yes_share": _share(yes.heads, counts.cast_heads)}
    reason = (
        lazy("More than half of the votes cast said yes.")
        if passed
        else lazy("Not more than half of the votes cast said yes.")
    )
    return Outcome("simple_majority", True, passed, reason=reason, figures=figures)


def majority_present(counts: Counts, params: Mapping[str, Any]) -> Outcome:
    """A meeting's rule (城市居民委员会组织法 第十条 defaults): valid when more than ``quorum``
    (default 1/2) of the electorate took part; carries with more than half of those present."""
    num, den = (int(x) for x in str(params.get("quorum", "1/2")).split("/"))
    quorate = counts.cast_heads * den > counts.electorate_heads * num
    yes = counts.yes()
    figures = {
        "present": counts.cast_heads,
        "electorate": counts.electorate_heads,
        "present_share": _share(counts.cast_heads, counts.electorate_heads),
        "yes": yes.heads,
        "yes_share": _share(yes.heads, counts.cast_heads),
    }
    if not quorate:
        return Outcome(
            "majority_present", False, False, reason=lazy("Not quorate: too few took part."), figures=figures
        )
    passed = yes.heads * 2 > counts.cast_heads
    reason = (
        lazy("More than half of those present said yes.")
        if passed
        else lazy("Not more than half of those present said yes.")
    )
    return Outcome("majority_present", True, passed, reason=reason, figures=figures)


# 民法典 第二百七十八条第一款: items (6) 筹集维修资金, (7) 改建、重建建筑物及其附属设施,
# (8) 改变共有部分的用途或者利用共有部分从事经营活动 need 3/4; the others more than 1/2.
OWNERS_ITEMS = range(1, 10)
OWNERS_SPECIAL_ITEMS = frozenset({6, 7, 8})


def owners_278(counts: Counts, params: Mapping[str, Any]) -> Outcome:
    """Civil Code art. 278 (owners' assembly): owners holding at least 2/3 of the exclusive area
    AND at least 2/3 of the owners by headcount take part; item (6)–(8) carries with at least
    3/4 of the participating area AND of the participating owners, any other item with more
    than 1/2 of both. ``params["item"]`` is the item number of art. 278 para. 1 (1–9)."""
    item = int(params.get("item", 0))
    if item not in OWNERS_ITEMS:
        raise InvalidInput(lazy("Name the item of Civil Code art. 278 (1 to 9) the vote decides."), field="item")
    yes = counts.yes()
    figures = {
        "item": item,
        "area_share": _share(counts.cast_weight, counts.electorate_weight),
        "owner_share": _share(counts.cast_heads, counts.electorate_heads),
        "yes_area_share": _share(yes.weight, counts.cast_weight),
        "yes_owner_share": _share(yes.heads, counts.cast_heads),
    }
    took_part = (
        counts.cast_weight * 3 >= counts.electorate_weight * 2 and counts.cast_heads * 3 >= counts.electorate_heads * 2
    )
    if not took_part or counts.cast_heads == 0:
        return Outcome(
            "owners_278",
            False,
            False,
            reason=lazy("Fewer than 2/3 of the area or of the owners took part."),
            figures=figures,
        )
    if item in OWNERS_SPECIAL_ITEMS:
        passed = yes.weight * 4 >= counts.cast_weight * 3 and yes.heads * 4 >= counts.cast_heads * 3
        reason = (
            lazy("At least 3/4 of the participating area and owners said yes.")
            if passed
            else lazy("Fewer than 3/4 of the participating area or owners said yes.")
        )
    else:
        passed = yes.weight * 2 > counts.cast_weight and yes.heads * 2 > counts.cast_heads
        reason = (
            lazy("More than 1/2 of the participating area and owners said yes.")
            if passed
            else lazy("Not more than 1/2 of the participating area or owners said yes.")
        )
    return Outcome("owners_278", True, passed, reason=reason, figures=figures)


BUILTIN_RULES: dict[str, Rule] = {
    "plurality": plurality,
    "simple_majority": simple_majority,
    "majority_present": majority_present,
    "owners_278": owners_278,
}
