"""The mediation state machine, property-tested: no agreement without parties and terms, a refused
case cannot be mediated, a termination records the routes, concluded cases stay concluded."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from plugins.rule_of_law import mediation as m
from plugins.rule_of_law.mediation import IllegalTransition, MissingInput, State

GOOD = {
    "accept": {"origin": m.APPLICATION},
    "refuse": {"note": "被申请人明确表示不同意调解"},
    "investigate": {"note": "走访双方及邻居"},
    "session": {"attendees": "张某、李某、调解员王某", "note": "双方陈述意见"},
    "agree": {
        "parties": [{"name": "张某"}, {"name": "李某"}],
        "facts": "楼上漏水",
        "matters": "维修责任",
        "terms": "张某负责维修并赔偿500元",
        "performance": "7日内一次付清",
    },
    "terminate": {"routes": ["litigation"], "note": "双方分歧较大"},
    "follow_up": {"performance": "performed", "note": "已履行"},
}

texts = st.one_of(st.just(""), st.just("   "), st.text(min_size=1, max_size=5))
parties = st.one_of(
    st.none(),
    st.lists(st.fixed_dictionaries({"name": texts}), max_size=4),
    st.just("张某"),
)
inputs = st.fixed_dictionaries(
    {},
    optional={
        "origin": st.sampled_from([*m.ORIGINS, "", "phone"]),
        "note": texts,
        "attendees": texts,
        "parties": parties,
        "facts": texts,
        "matters": texts,
        "terms": texts,
        "performance": st.one_of(texts, st.sampled_from(m.PERFORMANCE)),
        "routes": st.lists(st.sampled_from([*m.ROUTES, "petition"]), max_size=3),
    },
)


RELAXED = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None, max_examples=300)


@RELAXED
@given(st.sampled_from(list(State)), st.sampled_from(m.ACTIONS), inputs)
def test_a_step_either_follows_the_table_with_its_contents_or_is_refused(
    state: State, action: str, given_inputs: dict[str, Any]
) -> None:
    try:
        step = m.apply(state, action, given_inputs)
    except IllegalTransition:
        assert (state, action) not in m.TABLE
        return
    except MissingInput:
        assert (state, action) in m.TABLE
        return
    assert step.after == m.TABLE[(state, action)]
    if action == "agree":
        assert m.valid_parties(given_inputs["parties"])
        for key in ("facts", "matters", "terms", "performance"):
            assert given_inputs[key].strip()
    if action == "terminate":
        assert given_inputs["routes"] and set(given_inputs["routes"]) <= set(m.ROUTES)
    if state == State.REFUSED:
        pytest.fail("a refused case took a step")


def test_a_refused_case_cannot_be_mediated_and_says_why() -> None:
    with pytest.raises(IllegalTransition, match="第17条"):
        m.apply(State.REFUSED, "session", GOOD["session"])
    with pytest.raises(IllegalTransition):
        m.apply(State.REFUSED, "agree", GOOD["agree"])


def test_an_agreement_with_one_party_or_no_terms_is_refused() -> None:
    with pytest.raises(MissingInput, match="two parties"):
        m.apply(State.MEDIATING, "agree", {**GOOD["agree"], "parties": [{"name": "张某"}]})
    with pytest.raises(MissingInput, match="terms"):
        m.apply(State.MEDIATING, "agree", {**GOOD["agree"], "terms": " "})
    assert m.apply(State.MEDIATING, "agree", GOOD["agree"]).after == State.AGREED


def test_termination_records_the_routes_explained() -> None:
    with pytest.raises(MissingInput, match="routes"):
        m.apply(State.MEDIATING, "terminate", {"note": "不成", "routes": []})
    with pytest.raises(MissingInput, match="routes"):
        m.apply(State.MEDIATING, "terminate", {"note": "不成", "routes": ["petition"]})


class CaseFile(RuleBasedStateMachine):
    """Drive one case with good and bad inputs; the model tracks what must hold."""

    def __init__(self) -> None:
        super().__init__()
        self.state = State.PENDING
        self.sessions = 0
        self.agreed_with: dict[str, Any] | None = None
        self.routes: list[str] | None = None

    def _try(self, action: str, given_inputs: dict[str, Any]) -> bool:
        try:
            step = m.apply(self.state, action, given_inputs)
        except (IllegalTransition, MissingInput):
            return False
        self.state = step.after
        return True

    @rule(action=st.sampled_from(m.ACTIONS), good=st.booleans(), noise=inputs)
    def act(self, action: str, good: bool, noise: dict[str, Any]) -> None:
        before = self.state
        given_inputs = GOOD[action] if good else noise
        moved = self._try(action, given_inputs)
        if good:
            assert moved == ((before, action) in m.TABLE)
        if moved and action == "session":
            self.sessions += 1
        if moved and action == "agree":
            self.agreed_with = given_inputs
        if moved and action == "terminate":
            self.routes = list(given_inputs["routes"])

    @precondition(lambda self: self.state == State.REFUSED)
    @rule()
    def refused_stays_refused(self) -> None:
        for action in m.ACTIONS:
            assert not self._try(action, GOOD[action])

    @invariant()
    def agreement_only_after_a_session_with_parties_and_terms(self) -> None:
        if self.state in (State.AGREED, State.FOLLOWED_UP):
            assert self.sessions >= 1
            assert self.agreed_with is not None and m.valid_parties(self.agreed_with["parties"])
            assert self.agreed_with["terms"].strip()

    @invariant()
    def termination_has_routes(self) -> None:
        if self.state == State.TERMINATED:
            assert self.routes and set(self.routes) <= set(m.ROUTES)

    @invariant()
    def refused_never_mediated(self) -> None:
        if self.state == State.REFUSED:
            assert self.sessions == 0


CaseFile.TestCase.settings = settings(
    max_examples=100, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_case_file = CaseFile.TestCase
