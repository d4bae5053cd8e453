"""How a matter (议题) moves: 三方联动 or 四议两公开, as data and one pure function. No database.

A procedure is an ordered list of steps; each step names who does it (the RBAC action the actor
needs at the matter's node) and whether it publishes something on the notice board. A matter
carries the index of the step now due and a status::

    open ──advance──▶ open (next step) … ──advance at the last step──▶ done
      │  send_back (at a party step, with reasons)  ──▶ returned ──resubmit──▶ open (step 0)
      │  progress (at an execution step: note, percent, photos)  ──▶ open (same step)
      └─ drop (with reasons)  ──▶ dropped

三方联动 (DOMAIN.md "居民自治"): 党组织牵头 → 居委会组织 → 业委会执行 → 结果公开.
四议两公开: 党组织提议 → 两委会商议 → 党员大会审议 → 居民代表会议决议 → 决议公开 → 组织实施 → 实施结果公开.
"""

from __future__ import annotations

from dataclasses import dataclass


def lazy(message: str) -> str:
    """Marks a string for the catalogue; translated where it is shown."""
    return message


LEAD = "self_governance.matter.lead"  # the community party organisation
ORGANISE = "self_governance.matter.organise"  # the residents' committee
EXECUTE = "self_governance.matter.execute"  # the owners' committee (or staff recording for it)

OPEN, RETURNED, DROPPED, DONE = "open", "returned", "dropped", "done"
STATUSES = (OPEN, RETURNED, DROPPED, DONE)
ADVANCE, SEND_BACK, RESUBMIT, PROGRESS, DROP = "advance", "send_back", "resubmit", "progress", "drop"


@dataclass(frozen=True)
class Step:
    key: str
    title_zh: str
    title_en: str
    action: str  # the RBAC action needed
    party: bool = False  # a party organisation step: it may send the matter back
    execution: bool = False  # progress reports with photos happen here
    publishes: bool = False  # completing it puts the decision or result on the notice board


THREE_PARTY = "three_party"
FOUR_TWO = "four_two"

PROCEDURES: dict[str, tuple[Step, ...]] = {
    THREE_PARTY: (
        Step("lead", "党组织牵头", "Party organisation leads", LEAD, party=True),
        Step("organise", "居委会组织", "Residents' committee organises", ORGANISE),
        Step("execute", "业委会执行", "Owners' committee executes", EXECUTE, execution=True),
        Step("publish", "结果公开", "Result published", ORGANISE, publishes=True),
    ),
    FOUR_TWO: (
        Step("propose", "党组织提议", "Party organisation proposes", LEAD, party=True),
        Step("consult", "两委会商议", "Two committees consult", ORGANISE),
        Step("review", "党员大会审议", "Party members' meeting reviews", LEAD, party=True),
        Step("resolve", "居民代表会议决议", "Residents' representatives resolve", ORGANISE),
        Step("publish_resolution", "决议公开", "Resolution published", ORGANISE, publishes=True),
        Step("implement", "组织实施", "Implementation", EXECUTE, execution=True),
        Step("publish_result", "实施结果公开", "Implementation result published", ORGANISE, publishes=True),
    ),
}
PROCEDURE_TITLES = {
    THREE_PARTY: (lazy("三方联动"), "Three-party linkage"),
    FOUR_TWO: (lazy("四议两公开"), "Four deliberations, two disclosures"),
}


class TransitionError(Exception):
    """A move the procedure does not allow now; ``message`` is an English message id."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Position:
    procedure: str
    step: int
    status: str


@dataclass(frozen=True)
class Move:
    """What ``apply`` decided: the new position, the step acted on, and what to record."""

    position: Position
    acted: Step
    publishes: bool = False


def steps_of(procedure: str) -> tuple[Step, ...]:
    if procedure not in PROCEDURES:
        raise TransitionError(lazy("Choose 三方联动 or 四议两公开 as the procedure."))
    return PROCEDURES[procedure]


def current(position: Position) -> Step:
    steps = steps_of(position.procedure)
    return steps[min(position.step, len(steps) - 1)]


def needed_action(position: Position, move: str) -> str | None:
    """The RBAC action ``move`` needs now (None: the person who raised the matter may resubmit)."""
    if move == RESUBMIT:
        return None
    if move == DROP:
        return LEAD if current(position).party else ORGANISE
    return current(position).action


def apply(position: Position, move: str, *, note: str = "", progress: int | None = None) -> Move:
    """The next position after ``move``, or ``TransitionError``. Reasons are required for a
    send-back and a drop; a progress report needs a note or a percentage."""
    steps = steps_of(position.procedure)
    step = current(position)
    note = note.strip()
    if move == RESUBMIT:
        if position.status != RETURNED:
            raise TransitionError(lazy("Only a matter sent back can be resubmitted."))
        return Move(Position(position.procedure, 0, OPEN), steps[0])
    if position.status != OPEN:
        raise TransitionError(lazy("This matter is no longer open."))
    if move == ADVANCE:
        last = position.step >= len(steps) - 1
        return Move(
            Position(position.procedure, position.step + (0 if last else 1), DONE if last else OPEN),
            step,
            publishes=step.publishes,
        )
    if move == SEND_BACK:
        if not step.party:
            raise TransitionError(lazy("Only the party organisation's step can send a matter back."))
        if not note:
            raise TransitionError(lazy("Give the reasons for sending the matter back."))
        return Move(Position(position.procedure, position.step, RETURNED), step)
    if move == PROGRESS:
        if not step.execution:
            raise TransitionError(lazy("Progress is reported while the matter is being carried out."))
        if not note and progress is None:
            raise TransitionError(lazy("Say what was done or give the progress in percent."))
        if progress is not None and not 0 <= progress <= 100:
            raise TransitionError(lazy("Progress is a percentage from 0 to 100."))
        return Move(position, step)
    if move == DROP:
        if not note:
            raise TransitionError(lazy("Give the reasons for dropping the matter."))
        return Move(Position(position.procedure, position.step, DROPPED), step)
    raise TransitionError(lazy("Unknown action."))
