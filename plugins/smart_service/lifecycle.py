"""The event lifecycle (服务智治 closed loop) as one explicit state machine. Pure: no database, no I/O.

The main line (DOMAIN.md "服务智治")::

    reported ──accept──▶ accepted ──register──▶ registered ──dispatch──▶ dispatched ──sign──▶ signed
    (上报)     (受理)    (核实)      (立案)      (待派遣)      (派遣)     (已派遣)      (签收)
        │ reject            │ reject                ▲   ▲ return (退单)  │ redispatch (改派) │ handle
        ▼                   ▼                       │   └────────────────┴──────────────────┘   ▼
     rejected (不予受理/立案, final)                  └─ (back to the dispatcher)            handling (处置)
                                                                                              │ feedback (反馈,
    closed ◀──close── inspected ◀──pass── inspecting ◀──inspect── feedback ◀──────────────────┘  after photos)
    (结案)    (结案)   (核查通过)           (核查中)     (核查)
        │                  └──────── rework (返工) ──▶ handling (rework_count + 1)
        └─ rate (评价), revisit (回访): notes on a closed event; it stays closed

Beside the main line:

- 并单 ``merge``: a duplicate (up to ``dispatched``) goes to ``merged`` (final), pointing at an open
  event that is not itself merged.
- 延期 ``request_extension`` → ``approve_extension`` / ``reject_extension``; 挂账 ``request_park`` →
  ``approve_park`` (to ``parked``: the SLA clock stops) / ``reject_park``; ``resume`` from ``parked``
  goes back to the state it was parked from. A request is a flag on the event (``pending``), not
  a state: work goes on while it waits, and any change of state drops it. One request at a time.
- 督办 ``supervise`` and 我也遇到 ``me_too`` are notes on any open event: the state does not change.

``TABLE`` maps (state, action) to a ``Rule``: the next state, the RBAC action (permission) the
actor needs at the event's node, the inputs that must be given, and whether only the current
assignee (or the reporter) may do it. ``apply`` checks a ``Case`` (a snapshot of the event) against
it and returns a ``Step`` — or raises ``IllegalTransition`` / ``MissingInput`` with an English
message whose template and labels are marked for translation (``TransitionError.translated``).
Services (the ``services`` package) turn a ``Step`` into database writes and deadlines (``sla.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


def lazy(message: str) -> str:
    """Marks a string for the catalogue (the extractor knows the name ``lazy``); it is translated
    where it is shown. Defined here, like ``core.i18n.lazy``, so this module imports nothing."""
    return message


class State(StrEnum):
    REPORTED = "reported"  # 上报, waiting for 受理
    ACCEPTED = "accepted"  # 已受理, being verified (核实)
    REJECTED = "rejected"  # 不予受理 / 不予立案 (final)
    REGISTERED = "registered"  # 已立案, waiting for 派遣 (also after 退单)
    DISPATCHED = "dispatched"  # 已派遣, waiting for 签收
    SIGNED = "signed"  # 已签收
    HANDLING = "handling"  # 处置中 (also after 返工)
    FEEDBACK = "feedback"  # 已反馈, waiting for 核查
    INSPECTING = "inspecting"  # 核查中
    INSPECTED = "inspected"  # 核查通过, waiting for 结案
    CLOSED = "closed"  # 已结案 (final)
    PARKED = "parked"  # 挂账: clock stopped until resumed
    MERGED = "merged"  # 已并单 (final)


FINAL: frozenset[State] = frozenset({State.CLOSED, State.REJECTED, State.MERGED})
OPEN: frozenset[State] = frozenset(State) - FINAL

# SLA stages (time limits per category, in working hours): which one a state's clock belongs to.
# Before 派遣 each stage has its own limit (受理 ``accept``, 立案/派遣 ``dispatch``); handling time starts
# at 派遣 and runs across 签收 and 处置 as one clock (``handle``: the category's sign + handle limits,
# sla.limit_hours); then 核查 ``inspect``. ``sign`` is a limit, not a clock of its own.
STAGES: tuple[str, ...] = ("accept", "dispatch", "sign", "handle", "inspect")
STAGE_OF: Mapping[State, str] = {
    State.REPORTED: "accept",
    State.ACCEPTED: "dispatch",
    State.REGISTERED: "dispatch",
    State.DISPATCHED: "handle",
    State.SIGNED: "handle",
    State.HANDLING: "handle",
    State.FEEDBACK: "inspect",
    State.INSPECTING: "inspect",
    State.INSPECTED: "inspect",
}


def clock_running(state: State | str) -> bool:
    """The SLA clock runs in every open state except ``parked``; it stops in final states."""
    return State(state) in STAGE_OF


def stage_of(state: State | str) -> str | None:
    return STAGE_OF.get(State(state))


# Pending requests (a flag on the event, not a state).
EXTENSION, PARKING = "extension", "parking"

# RBAC actions the rules ask for (declared with default roles in plugin.py's manifest).
PERMISSION_PREFIX = "smart_service.event."
REPORT = PERMISSION_PREFIX + "report"
ACCEPT = PERMISSION_PREFIX + "accept"
REGISTER = PERMISSION_PREFIX + "register"
DISPATCH = PERMISSION_PREFIX + "dispatch"
SIGN = PERMISSION_PREFIX + "sign"
HANDLE = PERMISSION_PREFIX + "handle"
RETURN = PERMISSION_PREFIX + "return"
INSPECT = PERMISSION_PREFIX + "inspect"
CLOSE = PERMISSION_PREFIX + "close"
MERGE = PERMISSION_PREFIX + "merge"
APPROVE = PERMISSION_PREFIX + "approve"
SUPERVISE = PERMISSION_PREFIX + "supervise"
RATE = PERMISSION_PREFIX + "rate"
REVISIT = PERMISSION_PREFIX + "revisit"
REOPEN = PERMISSION_PREFIX + "reopen"


class Clock(StrEnum):
    """What a step does to the SLA clock (services compute the deadlines)."""

    START = "start"  # a new stage (or a restarted one): new deadline from now
    KEEP = "keep"  # same stage, same deadline
    STOP = "stop"  # final state: no deadline any more
    PAUSE = "pause"  # parked: keep the working time left, no deadline
    RESUME = "resume"  # back from parking: the time left counts again from now
    EXTEND = "extend"  # extension approved: the deadline moves by the approved hours


# Inputs a rule may need.
NOTE, PHOTOS, HOURS, TARGET, RATING = "note", "photos", "hours", "target", "rating"
MAX_EXTENSION_HOURS = 24 * 30
MAX_NOTE = 2000

STATE_LABELS: Mapping[State, str] = {
    State.REPORTED: lazy("Reported"),
    State.ACCEPTED: lazy("Accepted"),
    State.REJECTED: lazy("Not registered"),
    State.REGISTERED: lazy("Registered"),
    State.DISPATCHED: lazy("Dispatched"),
    State.SIGNED: lazy("Signed for"),
    State.HANDLING: lazy("Being handled"),
    State.FEEDBACK: lazy("Handled, awaiting inspection"),
    State.INSPECTING: lazy("Being inspected"),
    State.INSPECTED: lazy("Inspection passed"),
    State.CLOSED: lazy("Closed"),
    State.PARKED: lazy("Parked"),
    State.MERGED: lazy("Merged"),
}

ACTION_LABELS: Mapping[str, str] = {
    # Timeline lines that are not user actions: the report itself and an SLA escalation.
    "report": lazy("Reported"),
    "escalate": lazy("Time limit passed: supervised and escalated"),
    "accept": lazy("Accept"),
    "reject": lazy("Do not register"),
    "register": lazy("Register"),
    "dispatch": lazy("Dispatch"),
    "redispatch": lazy("Re-dispatch"),
    "sign": lazy("Sign for"),
    "return": lazy("Return"),
    "handle": lazy("Start handling"),
    "feedback": lazy("Report the result"),
    "inspect": lazy("Inspect"),
    "pass": lazy("Pass the inspection"),
    "rework": lazy("Send back for rework"),
    "close": lazy("Close"),
    "merge": lazy("Merge into another event"),
    "request_extension": lazy("Request an extension"),
    "approve_extension": lazy("Approve the extension"),
    "reject_extension": lazy("Refuse the extension"),
    "request_park": lazy("Request parking"),
    "approve_park": lazy("Approve parking"),
    "reject_park": lazy("Refuse parking"),
    "resume": lazy("Resume"),
    "supervise": lazy("Supervise"),
    "me_too": lazy("Me too"),
    "rate": lazy("Rate"),
    "revisit": lazy("Record a follow-up visit"),
    "handle_on_spot": lazy("Handled on the spot"),
    "reopen": lazy("Reopen for handling again"),
    "refer_mediation": lazy("Referred to people's mediation"),  # a note (referrals.py), not a transition
    "public_note": lazy("Note for residents"),  # services.publish_note: what public outputs show
}


class TransitionError(ValueError):
    """A refusal with an English message; ``template`` and label ``params`` are translatable.

    ``str(exc)`` is the English sentence; ``exc.translated(gettext)`` is the same in the user's
    language (each parameter that is a label is translated too).
    """

    def __init__(self, template: str, **params: Any) -> None:
        self.template = template
        self.params = params
        super().__init__(template % params if params else template)

    def translated(self, gettext: Callable[..., str]) -> str:
        params = {k: gettext(v) if isinstance(v, str) else v for k, v in self.params.items()}
        return gettext(self.template, **params) if params else gettext(self.template)


class IllegalTransition(TransitionError):
    """This action is not possible in the event's current state."""


class MissingInput(TransitionError):
    """The action is possible, but a required input (note, photos, hours …) is missing or invalid."""


@dataclass(frozen=True)
class Rule:
    action: str
    source: State
    target: State | None  # None: the state does not change (a note such as 督办), or see ``restores``
    permission: str
    needs: frozenset[str] = frozenset()
    assignee_only: bool = False  # when the event has an assignee, only they may do it
    reporter_only: bool = False  # when the event has a reporting user, only they may do it
    restores: bool = False  # ``resume``: back to the state the event was parked from
    clock: Clock = Clock.KEEP

    @property
    def changes_state(self) -> bool:
        return self.target is not None or self.restores


@dataclass(frozen=True)
class Case:
    """What the machine needs to know about an event."""

    state: State
    id: int | None = None
    pending: str | None = None  # EXTENSION | PARKING while a request waits for approval
    parked_from: State | None = None
    rework_count: int = 0
    rated: bool = False


@dataclass(frozen=True)
class Step:
    """One accepted transition: the rule, the case before and after."""

    rule: Rule
    before: Case
    after: Case
    inputs: dict[str, Any] = field(default_factory=dict)

    @property
    def action(self) -> str:
        return self.rule.action

    @property
    def from_state(self) -> State:
        return self.before.state

    @property
    def to_state(self) -> State:
        return self.after.state

    @property
    def clock(self) -> Clock:
        return self.rule.clock


# ---- what a resident reads -------------------------------------------------------------------

# A resident follows their report in three words, not the thirteen states of the office's loop.
RESIDENT_WORDS: Mapping[State, str] = {
    State.REPORTED: lazy("Submitted"),
    State.ACCEPTED: lazy("Accepted"),
    State.REGISTERED: lazy("Accepted"),
    State.DISPATCHED: lazy("In progress"),
    State.SIGNED: lazy("In progress"),
    State.HANDLING: lazy("In progress"),
    State.FEEDBACK: lazy("In progress"),
    State.INSPECTING: lazy("In progress"),
    State.INSPECTED: lazy("In progress"),
    State.PARKED: lazy("In progress"),
    State.CLOSED: lazy("Done"),
    State.REJECTED: lazy("Not accepted"),
    State.MERGED: lazy("Handled with a similar report"),
}


# ---- the table ---------------------------------------------------------------------------------

S = State
_RESTARTS = frozenset({"redispatch", "return", "rework"})  # same or earlier stage, but a fresh clock
REWORKS = frozenset({"rework", "reopen"})  # each counts one more rework occurrence (返工率)
_REQUEST_FROM = (S.DISPATCHED, S.SIGNED, S.HANDLING)


def _rows() -> Iterator[tuple[Iterable[State], str, State | None, str, dict[str, Any]]]:
    yield (S.REPORTED,), "accept", S.ACCEPTED, ACCEPT, {}
    yield (S.REPORTED,), "reject", S.REJECTED, ACCEPT, {"needs": {NOTE}}
    yield (S.ACCEPTED,), "register", S.REGISTERED, REGISTER, {}
    yield (S.ACCEPTED,), "reject", S.REJECTED, REGISTER, {"needs": {NOTE}}
    yield (S.REPORTED, S.ACCEPTED, S.REGISTERED, S.DISPATCHED), "merge", S.MERGED, MERGE, {"needs": {TARGET}}
    yield (S.REGISTERED,), "dispatch", S.DISPATCHED, DISPATCH, {}
    yield (S.DISPATCHED, S.SIGNED), "redispatch", S.DISPATCHED, DISPATCH, {}
    yield (S.DISPATCHED,), "sign", S.SIGNED, SIGN, {"assignee_only": True}
    yield (S.DISPATCHED, S.SIGNED), "return", S.REGISTERED, RETURN, {"needs": {NOTE}, "assignee_only": True}
    yield (S.SIGNED,), "handle", S.HANDLING, HANDLE, {"assignee_only": True}
    yield (S.HANDLING,), "feedback", S.FEEDBACK, HANDLE, {"needs": {PHOTOS}, "assignee_only": True}
    yield (S.FEEDBACK,), "inspect", S.INSPECTING, INSPECT, {}
    yield (S.INSPECTING,), "pass", S.INSPECTED, INSPECT, {}
    yield (S.INSPECTING, S.INSPECTED), "rework", S.HANDLING, INSPECT, {"needs": {NOTE}}
    yield (S.INSPECTED,), "close", S.CLOSED, CLOSE, {}
    yield _REQUEST_FROM, "request_extension", None, HANDLE, {"needs": {NOTE, HOURS}, "assignee_only": True}
    yield _REQUEST_FROM, "approve_extension", None, APPROVE, {}
    yield _REQUEST_FROM, "reject_extension", None, APPROVE, {"needs": {NOTE}}
    yield (S.REGISTERED,), "request_park", None, DISPATCH, {"needs": {NOTE}}
    yield _REQUEST_FROM, "request_park", None, HANDLE, {"needs": {NOTE}, "assignee_only": True}
    yield (S.REGISTERED, *_REQUEST_FROM), "approve_park", S.PARKED, APPROVE, {}
    yield (S.REGISTERED, *_REQUEST_FROM), "reject_park", None, APPROVE, {"needs": {NOTE}}
    yield (S.PARKED,), "resume", None, APPROVE, {"restores": True}
    yield sorted(OPEN), "supervise", None, SUPERVISE, {"needs": {NOTE}}
    yield sorted(OPEN), "me_too", None, REPORT, {}
    yield (S.CLOSED,), "rate", None, RATE, {"needs": {RATING}, "reporter_only": True}
    # 自处置: the grid worker who reported it fixed it on the spot; the result photos close it.
    yield (S.REPORTED,), "handle_on_spot", S.CLOSED, HANDLE, {"needs": {PHOTOS}, "reporter_only": True}
    # 重办: the outside source (12345's callback 不满意) sends a closed case back to its handlers.
    yield (S.CLOSED,), "reopen", S.HANDLING, REOPEN, {"needs": {NOTE}}
    yield (S.CLOSED,), "revisit", None, REVISIT, {"needs": {NOTE}}


def _clock(action: str, source: State, target: State | None, restores: bool) -> Clock:
    if restores:
        return Clock.RESUME
    if action == "approve_extension":
        return Clock.EXTEND
    if target is None:
        return Clock.KEEP
    if target in FINAL:
        return Clock.STOP
    if target is State.PARKED:
        return Clock.PAUSE
    if action in _RESTARTS or STAGE_OF.get(target) != STAGE_OF.get(source):
        return Clock.START
    return Clock.KEEP


def _build() -> dict[tuple[State, str], Rule]:
    table: dict[tuple[State, str], Rule] = {}
    for sources, action, target, permission, opts in _rows():
        for source in sources:
            key = (State(source), action)
            assert key not in table, f"two rules for {key}"
            restores = bool(opts.get("restores"))
            table[key] = Rule(
                action=action,
                source=State(source),
                target=target,
                permission=permission,
                needs=frozenset(opts.get("needs", ())),
                assignee_only=bool(opts.get("assignee_only")),
                reporter_only=bool(opts.get("reporter_only")),
                restores=restores,
                clock=_clock(action, State(source), target, restores),
            )
    return table


TABLE: Mapping[tuple[State, str], Rule] = _build()
ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(action for _state, action in TABLE))
PERMISSIONS: frozenset[str] = frozenset(rule.permission for rule in TABLE.values())


# ---- asking the machine ------------------------------------------------------------------------


def _label(state: State | str) -> str:
    return STATE_LABELS.get(State(state), str(state))


def rule_for(state: State | str, action: str) -> Rule:
    """The rule for ``action`` in ``state``, or ``IllegalTransition`` naming both."""
    if action not in ACTION_LABELS:
        raise IllegalTransition(lazy("Unknown action %(action)s"), action=action)
    rule = TABLE.get((State(state), action))
    if rule is None:
        raise IllegalTransition(
            lazy('"%(action)s" is not possible while the event is "%(state)s"'),
            action=ACTION_LABELS[action],
            state=_label(state),
        )
    return rule


def _check_flags(case: Case, rule: Rule) -> None:
    """Refusals that depend on the case beyond its state: pending requests, a rating given."""
    label = ACTION_LABELS[rule.action]
    if rule.action.startswith("request_") and case.pending is not None:
        raise IllegalTransition(
            lazy('"%(action)s" is not possible: a request is already waiting for approval'), action=label
        )
    wanted = {"extension": EXTENSION, "park": PARKING}
    for verb in ("approve_", "reject_"):
        if rule.action.startswith(verb) and case.pending != wanted[rule.action.removeprefix(verb)]:
            raise IllegalTransition(lazy('"%(action)s" is not possible: nothing is waiting for it'), action=label)
    if rule.action == "rate" and case.rated:
        raise IllegalTransition(lazy("This event has been rated already"))
    if rule.restores and case.parked_from is None:
        raise IllegalTransition(lazy("This event does not say where it was parked from"))


def allowed(case: Case) -> list[str]:
    """The actions possible now (inputs and permissions aside), in table order: for buttons."""
    out = []
    for action in ACTIONS:
        rule = TABLE.get((case.state, action))
        if rule is None:
            continue
        try:
            _check_flags(case, rule)
        except IllegalTransition:
            continue
        out.append(action)
    return out


def apply(
    case: Case,
    action: str,
    *,
    note: str | None = None,
    photos: Iterable[int] = (),
    hours: float | None = None,
    target: Case | None = None,
    rating: int | None = None,
) -> Step:
    """Check ``action`` on ``case`` with its inputs; return the step or raise a ``TransitionError``."""
    rule = rule_for(case.state, action)
    _check_flags(case, rule)
    note = (note or "").strip()
    photo_ids = list(photos)
    _check_inputs(rule, case, note, photo_ids, hours, target, rating)
    inputs: dict[str, Any] = {"note": note, "photos": photo_ids}
    if hours is not None:
        inputs["hours"] = float(hours)
    if rating is not None:
        inputs["rating"] = int(rating)
    return Step(rule, case, _after(case, rule), inputs)


def _check_inputs(
    rule: Rule,
    case: Case,
    note: str,
    photo_ids: list[int],
    hours: float | None,
    target: Case | None,
    rating: int | None,
) -> None:
    """What the rule needs (a note, photos, hours, a rating, a merge target) is there and in range."""
    label = ACTION_LABELS[rule.action]
    if NOTE in rule.needs and not note:
        raise MissingInput(lazy('A note is required to "%(action)s"'), action=label)
    if len(note) > MAX_NOTE:
        raise MissingInput(lazy("The note is too long (at most %(max)s characters)"), max=MAX_NOTE)
    if PHOTOS in rule.needs and not photo_ids:
        raise MissingInput(lazy('At least one photo is required to "%(action)s"'), action=label)
    if HOURS in rule.needs and (hours is None or not 0 < float(hours) <= MAX_EXTENSION_HOURS):
        raise MissingInput(
            lazy("Give the extra working hours needed (more than 0, at most %(max)s)"), max=MAX_EXTENSION_HOURS
        )
    if RATING in rule.needs and (rating is None or not 1 <= int(rating) <= 5):
        raise MissingInput(lazy("Give a rating from 1 to 5"))
    if TARGET in rule.needs:
        _check_merge_target(case, target)


# What an action does to the pending request or the rating, besides any change of state.
_PENDING_AFTER = {
    "request_extension": EXTENSION,
    "request_park": PARKING,
    "approve_extension": None,
    "reject_extension": None,
    "reject_park": None,
}


def _after(case: Case, rule: Rule) -> Case:
    """The case once ``rule`` is applied."""
    action = rule.action
    after = case
    if action in _PENDING_AFTER:
        after = replace(case, pending=_PENDING_AFTER[action])
    elif action == "rate":
        after = replace(case, rated=True)
    if rule.restores:
        assert case.parked_from is not None
        return replace(case, state=case.parked_from, parked_from=None, pending=None)
    if rule.target is not None:
        # A change of state drops a waiting request: it was about the state being left.
        after = replace(after, state=rule.target, pending=None)
        if rule.target is State.PARKED:
            after = replace(after, parked_from=case.state)
        if action in REWORKS:
            after = replace(after, rework_count=case.rework_count + 1)
    return after


def _check_merge_target(case: Case, target: Case | None) -> None:
    if target is None:
        raise MissingInput(lazy("Choose the event to merge this one into"))
    if target.id is not None and target.id == case.id:
        raise IllegalTransition(lazy("An event cannot be merged into itself"))
    if target.state in FINAL:
        raise IllegalTransition(
            lazy('An event can only be merged into an open event, not one that is "%(state)s"'),
            state=_label(target.state),
        )


def reachable(start: State = State.REPORTED) -> set[State]:
    """Every state some sequence of actions reaches from ``start`` (for tests and docs)."""
    seen, todo = {start}, [start]
    while todo:
        state = todo.pop()
        for (source, _action), rule in TABLE.items():
            if source != state:
                continue
            nexts = [rule.target] if rule.target is not None else []
            if rule.restores:
                nexts = [s for s in STAGE_OF if TABLE.get((s, "approve_park"))]
            for nxt in nexts:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
    return seen
