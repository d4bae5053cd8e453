"""三方联动 / 四议两公开 as a state machine (pure): every sequence of moves keeps the invariants."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.self_governance import procedures as p

MOVES = (p.ADVANCE, p.SEND_BACK, p.RESUBMIT, p.PROGRESS, p.DROP)


def test_three_party_runs_lead_organise_execute_publish_then_done() -> None:
    pos = p.Position(p.THREE_PARTY, 0, p.OPEN)
    seen = []
    while pos.status == p.OPEN:
        move = p.apply(pos, p.ADVANCE, note="同意")
        seen.append((move.acted.key, move.publishes))
        pos = move.position
    assert seen == [("lead", False), ("organise", False), ("execute", False), ("publish", True)]
    assert pos.status == p.DONE


def test_four_two_publishes_the_resolution_and_the_result() -> None:
    keys = [s.key for s in p.PROCEDURES[p.FOUR_TWO]]
    assert keys == ["propose", "consult", "review", "resolve", "publish_resolution", "implement", "publish_result"]
    assert [s.key for s in p.PROCEDURES[p.FOUR_TWO] if s.publishes] == ["publish_resolution", "publish_result"]


def test_only_the_party_step_sends_back_and_only_with_reasons() -> None:
    start = p.Position(p.THREE_PARTY, 0, p.OPEN)
    with pytest.raises(p.TransitionError, match="reasons"):
        p.apply(start, p.SEND_BACK)
    back = p.apply(start, p.SEND_BACK, note="请先征求楼栋意见").position
    assert back.status == p.RETURNED
    with pytest.raises(p.TransitionError, match="party"):
        p.apply(p.Position(p.THREE_PARTY, 1, p.OPEN), p.SEND_BACK, note="x")
    assert p.apply(back, p.RESUBMIT).position == start


def test_progress_is_reported_only_during_execution_and_within_0_to_100() -> None:
    executing = p.Position(p.THREE_PARTY, 2, p.OPEN)
    assert p.apply(executing, p.PROGRESS, progress=40).position == executing
    with pytest.raises(p.TransitionError, match="percentage"):
        p.apply(executing, p.PROGRESS, progress=101)
    with pytest.raises(p.TransitionError, match="carried out"):
        p.apply(p.Position(p.THREE_PARTY, 1, p.OPEN), p.PROGRESS, note="x")


def test_each_step_needs_its_partys_action() -> None:
    assert p.needed_action(p.Position(p.THREE_PARTY, 0, p.OPEN), p.ADVANCE) == p.LEAD
    assert p.needed_action(p.Position(p.THREE_PARTY, 1, p.OPEN), p.ADVANCE) == p.ORGANISE
    assert p.needed_action(p.Position(p.THREE_PARTY, 2, p.OPEN), p.PROGRESS) == p.EXECUTE
    assert p.needed_action(p.Position(p.THREE_PARTY, 0, p.RETURNED), p.RESUBMIT) is None


@settings(max_examples=300, deadline=None)
@given(
    procedure=st.sampled_from(sorted(p.PROCEDURES)),
    moves=st.lists(st.tuples(st.sampled_from(MOVES), st.booleans(), st.integers(-5, 120)), max_size=25),
)
def test_any_sequence_of_moves_keeps_the_invariants(procedure: str, moves: list[tuple[str, bool, int]]) -> None:
    steps = p.PROCEDURES[procedure]
    pos = p.Position(procedure, 0, p.OPEN)
    advanced = 0
    for move, with_note, progress in moves:
        try:
            out = p.apply(
                pos, move, note="理由" if with_note else "", progress=progress if move == p.PROGRESS else None
            )
        except p.TransitionError:
            continue
        if move == p.ADVANCE:
            advanced += 1
        if move == p.RESUBMIT:
            advanced = 0
        assert out.position.status in p.STATUSES
        assert 0 <= out.position.step < len(steps)
        if pos.status in (p.DONE, p.DROPPED):
            raise AssertionError("a finished matter moved")
        if out.position.status == p.RETURNED:
            assert steps[out.position.step].party and with_note
        pos = out.position
    # a matter is done exactly when every step was completed since the last restart
    assert (pos.status == p.DONE) == (advanced == len(steps))
