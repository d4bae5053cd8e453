"""The event lifecycle as a pure state machine: the table, its refusals, and random walks through it."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, initialize, invariant, rule

from plugins.smart_service import lifecycle as lc
from plugins.smart_service.lifecycle import (
    FINAL,
    Case,
    IllegalTransition,
    MissingInput,
    State,
    TransitionError,
    apply,
)
from plugins.smart_service.plugin import MANIFEST

MAIN_LINE = [
    ("accept", {}),
    ("register", {}),
    ("dispatch", {}),
    ("sign", {}),
    ("handle", {}),
    ("feedback", {"photos": [1]}),
    ("inspect", {}),
    ("pass", {}),
    ("close", {}),
]


def walk(steps: list[tuple[str, dict[str, Any]]], case: Case | None = None) -> Case:
    case = case or Case(State.REPORTED)
    for action, inputs in steps:
        case = apply(case, action, **inputs).after
    return case


def test_the_main_line_runs_from_report_to_closed_and_then_takes_a_rating() -> None:
    case = walk(MAIN_LINE)
    assert case.state is State.CLOSED
    rated = apply(case, "rate", rating=5).after
    assert rated.state is State.CLOSED and rated.rated
    with pytest.raises(IllegalTransition, match="rated already"):
        apply(rated, "rate", rating=4)


def test_every_state_is_reachable_and_every_open_state_has_a_way_on() -> None:
    assert lc.reachable() == set(State)
    for state in lc.OPEN:
        assert any(rule.changes_state for (source, _a), rule in lc.TABLE.items() if source is state), state


def test_closing_a_closed_event_is_refused_with_a_message_naming_the_action_and_the_state() -> None:
    with pytest.raises(IllegalTransition) as refused:
        apply(Case(State.CLOSED), "dispatch")
    assert str(refused.value) == '"Dispatch" is not possible while the event is "Closed"'
    # The template and the labels go through the catalogue one by one.
    seen: list[str] = []

    def gettext(message: str, **params: Any) -> str:
        seen.append(message)
        return f"<{message % params if params else message}>"

    assert refused.value.translated(gettext) == '<"<Dispatch>" is not possible while the event is "<Closed>">'
    assert refused.value.template in seen


def test_an_unknown_action_is_refused_by_name() -> None:
    with pytest.raises(IllegalTransition, match="Unknown action fly"):
        apply(Case(State.REPORTED), "fly")


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (State.REPORTED, "reject"),
        (State.ACCEPTED, "reject"),
        (State.DISPATCHED, "return"),
        (State.INSPECTING, "rework"),
        (State.HANDLING, "request_park"),
        (State.HANDLING, "request_extension"),
        (State.DISPATCHED, "supervise"),
    ],
)
def test_refusing_returning_reworking_and_asking_need_a_note(state: State, action: str) -> None:
    with pytest.raises(MissingInput, match="A note is required"):
        apply(Case(state), action, hours=4)
    assert apply(Case(state), action, note="理由", hours=4).action == action


def test_a_result_is_reported_with_after_photos() -> None:
    with pytest.raises(MissingInput, match="At least one photo"):
        apply(Case(State.HANDLING), "feedback", note="已清理")
    assert apply(Case(State.HANDLING), "feedback", photos=[7]).to_state is State.FEEDBACK


def test_an_extension_needs_hours_and_only_one_request_waits_at_a_time() -> None:
    with pytest.raises(MissingInput, match="extra working hours"):
        apply(Case(State.HANDLING), "request_extension", note="缺材料")
    asked = apply(Case(State.HANDLING), "request_extension", note="缺材料", hours=8).after
    assert asked.pending == lc.EXTENSION and asked.state is State.HANDLING
    with pytest.raises(IllegalTransition, match="already waiting"):
        apply(asked, "request_park", note="资金未到位")
    with pytest.raises(IllegalTransition, match="nothing is waiting"):
        apply(asked, "approve_park")
    assert apply(asked, "approve_extension").after.pending is None
    assert apply(asked, "reject_extension", note="时限足够").after.pending is None


def test_parking_stops_the_clock_and_resuming_returns_to_where_it_was() -> None:
    asked = apply(Case(State.SIGNED), "request_park", note="等待资金").after
    parked = apply(asked, "approve_park")
    assert parked.to_state is State.PARKED and parked.clock is lc.Clock.PAUSE
    assert not lc.clock_running(parked.to_state)
    resumed = apply(parked.after, "resume")
    assert resumed.to_state is State.SIGNED and resumed.clock is lc.Clock.RESUME
    assert lc.clock_running(resumed.to_state)


def test_a_change_of_state_drops_a_waiting_request() -> None:
    asked = apply(Case(State.HANDLING), "request_extension", note="缺材料", hours=8).after
    assert apply(asked, "feedback", photos=[1]).after.pending is None


def test_merging_needs_an_open_target_other_than_itself() -> None:
    with pytest.raises(MissingInput, match="Choose the event"):
        apply(Case(State.REPORTED, id=1), "merge")
    with pytest.raises(IllegalTransition, match="into itself"):
        apply(Case(State.REPORTED, id=1), "merge", target=Case(State.REPORTED, id=1))
    with pytest.raises(IllegalTransition, match='not one that is "Merged"'):
        apply(Case(State.REPORTED, id=1), "merge", target=Case(State.MERGED, id=2))
    step = apply(Case(State.REPORTED, id=1), "merge", target=Case(State.HANDLING, id=2))
    assert step.to_state is State.MERGED


def test_ratings_are_one_to_five() -> None:
    for bad in (0, 6, None):
        with pytest.raises(MissingInput, match="rating from 1 to 5"):
            apply(Case(State.CLOSED), "rate", rating=bad)


def test_every_permission_the_machine_asks_for_is_declared_with_default_roles() -> None:
    declared = {a.name: a.default_roles for a in MANIFEST.actions}
    for permission in lc.PERMISSIONS:
        assert permission in declared, permission
        assert declared[permission], f"{permission} has no default role"


def test_every_action_and_state_has_a_label_for_buttons_and_timelines() -> None:
    assert set(lc.ACTIONS) <= set(lc.ACTION_LABELS)
    assert set(State) == set(lc.STATE_LABELS)


# ---- random walks ------------------------------------------------------------------------------

INPUTS = {
    "note": st.sampled_from(["", "现场核实", "x" * 10]),
    "photos": st.sampled_from([(), (1,), (1, 2)]),
    "hours": st.sampled_from([None, 0, 4, 8.5]),
    "rating": st.sampled_from([None, 0, 3, 5]),
}


SIDE_TRACKS = {"merge", "reject", "me_too", "supervise", "revisit", "return", "redispatch", "reopen"} | {
    a for a in lc.ACTIONS if a.startswith(("request_", "reject_"))
}


class Lifecycle(RuleBasedStateMachine):
    """Random sequences of actions — allowed ones and any at all — on a few events at once."""

    events = Bundle("events")

    def __init__(self) -> None:
        super().__init__()
        self.cases: dict[int, Case] = {}
        self.history: dict[int, list[tuple[str, State, State]]] = {}
        self.merged_into: dict[int, int] = {}
        self.next_id = 1

    @initialize(target=events)
    def first(self) -> int:
        return self._new()

    @rule(target=events)
    def report(self) -> int:
        return self._new()

    def _new(self) -> int:
        eid = self.next_id
        self.next_id += 1
        self.cases[eid] = Case(State.REPORTED, id=eid)
        self.history[eid] = [("report", State.REPORTED, State.REPORTED)]
        return eid

    def _record(self, eid: int, step: lc.Step) -> None:
        before = self.cases[eid]
        assert step.before == before
        assert step.from_state is before.state and step.to_state is step.after.state
        if before.state in FINAL and step.action != "reopen":
            assert step.after.state is before.state, "a final state was left"
        if step.action == "reopen":  # 重办: only a closed case, back to handling, one more rework
            assert before.state is State.CLOSED and step.to_state is State.HANDLING
        if step.action in ("rework", "reopen"):
            assert step.to_state is State.HANDLING
            assert step.after.rework_count == before.rework_count + 1
        else:
            assert step.after.rework_count == before.rework_count
        self.cases[eid] = step.after
        self.history[eid].append((step.action, step.from_state, step.to_state))

    @rule(eid=events, data=st.data())
    def do_an_allowed_action(self, eid: int, data: st.DataObject) -> None:
        self._allowed(eid, data, exclude={"merge"})

    @rule(eid=events, data=st.data())
    def move_the_case_on(self, eid: int, data: st.DataObject) -> None:
        # Biased towards the far end of the loop (inspection, rework, closing), which ending
        # early (不予立案, 并单) would otherwise rarely leave time for.
        self._allowed(eid, data, exclude=SIDE_TRACKS)

    def _allowed(self, eid: int, data: st.DataObject, exclude: set[str]) -> None:
        case = self.cases[eid]
        choices = [a for a in lc.allowed(case) if a not in exclude]
        if not choices:
            assert case.state in FINAL
            return
        action = data.draw(st.sampled_from(choices))
        rule_ = lc.TABLE[(case.state, action)]
        inputs = {
            "note": "理由" if lc.NOTE in rule_.needs else None,
            "photos": (1,) if lc.PHOTOS in rule_.needs else (),
            "hours": 4 if lc.HOURS in rule_.needs else None,
            "rating": 4 if lc.RATING in rule_.needs else None,
        }
        self._record(eid, apply(case, action, **inputs))

    @rule(eid=events, action=st.sampled_from(lc.ACTIONS), data=st.data())
    def try_any_action(self, eid: int, action: str, data: st.DataObject) -> None:
        case = self.cases[eid]
        inputs = {k: data.draw(v) for k, v in INPUTS.items()}
        try:
            step = apply(case, action, **inputs)
        except TransitionError:
            if (case.state, action) in lc.TABLE and action != "merge" and action in lc.allowed(case):
                # Refused although possible here: it must be for a missing input.
                rule_ = lc.TABLE[(case.state, action)]
                assert rule_.needs, f"{action} in {case.state} refused without needing anything"
            return
        assert action in lc.allowed(case)
        if case.state in FINAL and action != "reopen":
            assert not step.rule.changes_state
        self._record(eid, step)

    @rule(source=consumes(events), into=events)
    def merge(self, source: int, into: int) -> None:
        src, tgt = self.cases[source], self.cases[into]
        try:
            step = apply(src, "merge", target=tgt)
        except TransitionError:
            assert (src.state, "merge") not in lc.TABLE or tgt.state in FINAL or source == into
            return
        assert tgt.state not in FINAL and source != into
        self._record(source, step)
        # services.merge re-points earlier duplicates of the source at the new target.
        self.merged_into = {k: (into if v == source else v) for k, v in self.merged_into.items()}
        self.merged_into[source] = into

    @invariant()
    def closed_events_passed_an_inspection_after_their_last_rework(self) -> None:
        """Or were handled on the spot (自处置) by their reporter, straight from the report."""
        for eid, case in self.cases.items():
            if case.state is not State.CLOSED:
                continue
            actions = [a for a, _f, _t in self.history[eid]]
            if "handle_on_spot" in actions:
                spot = [f for a, f, _t in self.history[eid] if a == "handle_on_spot"]
                assert spot == [State.REPORTED]
                continue
            last_rework = max((i for i, a in enumerate(actions) if a in ("rework", "reopen")), default=-1)
            passes = [i for i, a in enumerate(actions) if a == "pass" and i > last_rework]
            closes = [i for i, a in enumerate(actions) if a == "close" and i > last_rework]
            assert passes and closes and passes[-1] < closes[-1]

    @invariant()
    def the_clock_runs_exactly_in_open_unparked_states(self) -> None:
        for case in self.cases.values():
            expected = case.state not in FINAL and case.state is not State.PARKED
            assert lc.clock_running(case.state) == expected

    @invariant()
    def merged_events_point_at_events_that_are_not_merged(self) -> None:
        for source, target in self.merged_into.items():
            assert self.cases[source].state is State.MERGED
            assert self.cases[target].state is not State.MERGED

    @invariant()
    def every_change_is_recorded_with_its_from_and_to(self) -> None:
        for eid, case in self.cases.items():
            hist = self.history[eid]
            assert hist[-1][2] is case.state
            for (_a, _f, to), (_a2, frm, _t2) in itertools.pairwise(hist):
                assert to is frm


TestLifecycle = Lifecycle.TestCase
TestLifecycle.settings = settings(
    max_examples=150, stateful_step_count=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def test_a_case_handled_on_the_spot_is_closed_at_once_with_its_after_photos() -> None:
    with pytest.raises(MissingInput, match="photo"):
        apply(Case(State.REPORTED), "handle_on_spot")
    step = apply(Case(State.REPORTED), "handle_on_spot", photos=(7,))
    assert step.to_state is State.CLOSED and step.clock is lc.Clock.STOP
    with pytest.raises(IllegalTransition):
        apply(Case(State.ACCEPTED), "handle_on_spot", photos=(7,))


def test_reopening_a_closed_case_sends_it_back_to_handling_as_one_more_rework() -> None:
    with pytest.raises(MissingInput, match="note"):
        apply(Case(State.CLOSED), "reopen")
    step = apply(Case(State.CLOSED, rework_count=1), "reopen", note="12345 不满意")
    assert step.to_state is State.HANDLING and step.after.rework_count == 2
    assert step.clock is lc.Clock.START
    for state in set(State) - {State.CLOSED}:
        with pytest.raises(IllegalTransition):
            apply(Case(state), "reopen", note="x")
