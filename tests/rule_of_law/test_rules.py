"""The time limits and the team rule at their edges."""

from __future__ import annotations

from datetime import date

from plugins.rule_of_law import rules
from plugins.rule_of_law.rules import Composition


def test_one_month_from_the_31st_of_january_ends_on_the_last_day_of_february() -> None:
    assert rules.mediation_due(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert rules.mediation_due(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert rules.mediation_due(date(2026, 3, 15), 1) == date(2026, 4, 15)
    assert rules.mediation_due(date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert rules.mediation_due(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_a_case_is_overdue_the_day_after_its_last_day_not_on_it() -> None:
    due = rules.mediation_due(date(2026, 3, 15), 1)
    assert not rules.is_overdue(due, date(2026, 4, 15))
    assert rules.is_overdue(due, date(2026, 4, 16))
    assert not rules.is_overdue(None, date(2030, 1, 1))


def test_judicial_confirmation_is_open_for_30_days_after_the_agreement_takes_effect() -> None:
    effective = date(2026, 5, 1)
    assert rules.confirmation_deadline(effective, 30) == date(2026, 5, 31)
    assert rules.confirmation_open(effective, 30, date(2026, 5, 1))
    assert rules.confirmation_open(effective, 30, date(2026, 5, 31))  # the 30th day counts
    assert not rules.confirmation_open(effective, 30, date(2026, 6, 1))
    assert not rules.confirmation_open(effective, 30, date(2026, 4, 30))
    assert rules.confirmation_deadline(effective, 45) == date(2026, 6, 15)  # a district's own setting


def test_petition_limits_follow_the_regulation() -> None:
    assert rules.petition_accept_due(date(2026, 1, 1)) == date(2026, 1, 16)
    assert rules.petition_conclude_due(date(2026, 1, 1)) == date(2026, 3, 2)
    assert rules.petition_conclude_due(date(2026, 1, 1), extended=True) == date(2026, 4, 1)


def test_a_team_lacking_one_position_is_incomplete_and_the_rule_is_the_districts() -> None:
    rule = Composition(instructor=1, leader=1, part_time=2, other=1)
    full = {"instructor": 1, "leader": 1, "part_time": 2, "other": 1}
    assert rules.team_gaps(full, rule) == {}
    assert rules.team_gaps({**full, "part_time": 1}, rule) == {"part_time": 1}
    assert rules.team_gaps({}, rule) == {"instructor": 1, "leader": 1, "part_time": 2, "other": 1}
    assert rules.team_gaps({**full, "part_time": 1}, Composition(part_time=1)) == {}
