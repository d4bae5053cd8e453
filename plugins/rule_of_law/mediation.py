"""The people's-mediation case (人民调解法) as one table-driven state machine. Pure: no database, no I/O.

::

    pending ──accept (application | own initiative)──▶ accepted ──investigate──▶ investigating
    (待受理)                                            (已受理)                    (调查)
       │ refuse (第17条: a party declines)                  │ session                 │ session
       ▼                                                    ▼                         ▼
    refused (final) ◀──refuse── accepted / investigating   mediating ◀──session── (调解, repeatable)
                                                            │ agree (协议, 第28–29条)   │ terminate (终止, 第26条)
                                                            ▼                          ▼
                                                         agreed ──follow_up (回访, 第31条)──▶ followed_up
                                                                                         terminated (final)

A party's refusal closes the case before any mediation session; once the parties have sat down, a
failed mediation is a termination, which must record the routes explained to the parties
(arbitration, administrative, litigation). An agreement needs at least two parties and the terms
第29条 lists. ``apply`` checks the inputs of one step and returns the next state, or raises
``IllegalTransition`` / ``MissingInput`` with an English message marked for translation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


def lazy(message: str) -> str:
    """Marks a string for the catalogue; it is translated where it is shown."""
    return message


class State(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    INVESTIGATING = "investigating"
    MEDIATING = "mediating"
    AGREED = "agreed"
    TERMINATED = "terminated"
    FOLLOWED_UP = "followed_up"


# Mediation is over (the one-month clock stops) in these states; only an agreement is followed up.
CONCLUDED: frozenset[State] = frozenset({State.REFUSED, State.AGREED, State.TERMINATED, State.FOLLOWED_UP})
OPEN: frozenset[State] = frozenset(State) - CONCLUDED
SUCCEEDED: frozenset[State] = frozenset({State.AGREED, State.FOLLOWED_UP})

APPLICATION, OWN_INITIATIVE = "application", "own_initiative"  # 第17条 / 第18条
ORIGINS = (APPLICATION, OWN_INITIATIVE)
# 第26条: the routes to protect their rights that the mediator explains when mediation fails.
ROUTES = ("arbitration", "administrative", "litigation")
PERFORMANCE = ("performed", "partly", "not_performed")  # 回访: how the agreement is being kept
MIN_PARTIES = 2
MAX_TEXT = 4000

STATE_LABELS: Mapping[State, str] = {
    State.PENDING: lazy("Awaiting acceptance"),
    State.ACCEPTED: lazy("Accepted"),
    State.REFUSED: lazy("Refused by a party"),
    State.INVESTIGATING: lazy("Under investigation"),
    State.MEDIATING: lazy("Being mediated"),
    State.AGREED: lazy("Agreement reached"),
    State.TERMINATED: lazy("Mediation terminated"),
    State.FOLLOWED_UP: lazy("Followed up"),
}
ORIGIN_LABELS: Mapping[str, str] = {
    APPLICATION: lazy("On a party's application"),
    OWN_INITIATIVE: lazy("On the committee's own initiative"),
}
ROUTE_LABELS: Mapping[str, str] = {
    "arbitration": lazy("Arbitration"),
    "administrative": lazy("Administrative channels"),
    "litigation": lazy("Litigation"),
}
PERFORMANCE_LABELS: Mapping[str, str] = {
    "performed": lazy("Performed"),
    "partly": lazy("Partly performed"),
    "not_performed": lazy("Not performed"),
}
ACTION_LABELS: Mapping[str, str] = {
    "accept": lazy("Accept the case"),
    "refuse": lazy("A party declines mediation"),
    "investigate": lazy("Record an investigation"),
    "session": lazy("Record a mediation session"),
    "agree": lazy("Record the agreement"),
    "terminate": lazy("Terminate mediation"),
    "follow_up": lazy("Record a follow-up visit"),
}

# What each entry of the case file is called on its timeline.
ENTRY_LABELS: Mapping[str, str] = {
    "accept": lazy("Case accepted"),
    "refuse": lazy("A party declined mediation"),
    "investigate": lazy("Investigation"),
    "session": lazy("Mediation session"),
    "agree": lazy("Agreement signed"),
    "terminate": lazy("Mediation terminated, routes explained"),
    "follow_up": lazy("Follow-up visit"),
    "reminder": lazy("Parties told they may apply for judicial confirmation"),
    "overdue": lazy("Past the mediation period"),
}

TABLE: Mapping[tuple[State, str], State] = {
    (State.PENDING, "accept"): State.ACCEPTED,
    (State.PENDING, "refuse"): State.REFUSED,
    (State.ACCEPTED, "refuse"): State.REFUSED,
    (State.INVESTIGATING, "refuse"): State.REFUSED,
    (State.ACCEPTED, "investigate"): State.INVESTIGATING,
    (State.INVESTIGATING, "investigate"): State.INVESTIGATING,
    (State.ACCEPTED, "session"): State.MEDIATING,
    (State.INVESTIGATING, "session"): State.MEDIATING,
    (State.MEDIATING, "session"): State.MEDIATING,
    (State.MEDIATING, "investigate"): State.MEDIATING,
    (State.MEDIATING, "agree"): State.AGREED,
    (State.ACCEPTED, "terminate"): State.TERMINATED,
    (State.INVESTIGATING, "terminate"): State.TERMINATED,
    (State.MEDIATING, "terminate"): State.TERMINATED,
    (State.AGREED, "follow_up"): State.FOLLOWED_UP,
    (State.FOLLOWED_UP, "follow_up"): State.FOLLOWED_UP,
}
ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(action for _, action in TABLE))


class TransitionError(Exception):
    """A step that may not happen; ``message`` is an English catalogue id, ``params`` its values."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params

    def translated(self, gettext: Any) -> str:
        return gettext(self.message, **self.params)


class IllegalTransition(TransitionError):
    pass


class MissingInput(TransitionError):
    pass


def allowed(state: State | str) -> list[str]:
    """The actions possible from ``state``, in the table's order."""
    s = State(state)
    return [action for (st, action) in TABLE if st == s]


def _text(inputs: Mapping[str, Any], key: str) -> str:
    value = inputs.get(key)
    return value.strip() if isinstance(value, str) else ""


def _require(inputs: Mapping[str, Any], key: str, message: str) -> None:
    text = _text(inputs, key)
    if not text:
        raise MissingInput(message)
    if len(text) > MAX_TEXT:
        raise MissingInput(lazy("A text is longer than %(n)s characters."), n=MAX_TEXT)


def valid_parties(parties: Any) -> bool:
    """At least two parties, each with a name (第29条 asks for each party's details)."""
    if not isinstance(parties, list | tuple) or len(parties) < MIN_PARTIES:
        return False
    return all(isinstance(p, Mapping) and str(p.get("name") or "").strip() for p in parties)


def check_inputs(action: str, inputs: Mapping[str, Any]) -> None:
    """The statutory content of each step, checked in one place."""
    if action == "accept":
        if inputs.get("origin") not in ORIGINS:
            raise MissingInput(
                lazy("Say whether the case was accepted on application or on the committee's own initiative.")
            )
    elif action == "refuse":
        _require(inputs, "note", lazy("Record which party declined mediation and how."))
    elif action == "investigate":
        _require(inputs, "note", lazy("Record what the investigation found."))
    elif action == "session":
        _require(inputs, "attendees", lazy("Record who attended the session."))
        _require(inputs, "note", lazy("Record what was said in the session."))
    elif action == "agree":
        if not valid_parties(inputs.get("parties")):
            raise MissingInput(lazy("An agreement needs at least two parties, each with a name."))
        _require(inputs, "facts", lazy("An agreement states the main facts of the dispute."))
        _require(inputs, "matters", lazy("An agreement states the matters in dispute and each party's responsibility."))
        _require(inputs, "terms", lazy("An agreement states the terms the parties agreed."))
        _require(inputs, "performance", lazy("An agreement states how and by when it is to be performed."))
    elif action == "terminate":
        routes = inputs.get("routes") or ()
        if not routes or any(r not in ROUTES for r in routes):
            raise MissingInput(
                lazy("Record the routes explained to the parties (arbitration, administrative, litigation).")
            )
        _require(inputs, "note", lazy("Record why mediation is terminated."))
    elif action == "follow_up":
        if inputs.get("performance") not in PERFORMANCE:
            raise MissingInput(lazy("Record whether the agreement is being performed."))
        _require(inputs, "note", lazy("Record what the follow-up visit found."))


@dataclass(frozen=True)
class Step:
    before: State
    action: str
    after: State


def apply(state: State | str, action: str, inputs: Mapping[str, Any] | None = None) -> Step:
    """One step of the machine: the next state, or an error saying why not."""
    s = State(state)
    after = TABLE.get((s, action))
    if after is None:
        if s == State.REFUSED and action in ("session", "agree", "investigate"):
            raise IllegalTransition(lazy("A party declined mediation: this case cannot be mediated (第17条)."))
        raise IllegalTransition(lazy("This step is not possible while the case is “%(state)s”."), state=STATE_LABELS[s])
    check_inputs(action, inputs or {})
    return Step(s, action, after)
