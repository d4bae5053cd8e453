"""People's-mediation cases: open, read (confidentiality, 第15条), step through the machine, list.

Who may do what:
- 受理 / a refusal before acceptance: ``rule_of_law.case.accept`` at the case's node (the committee's
  mediators); whoever accepts becomes the case's mediator.
- Every later step: the case's own mediators only.
- Reading the contents (parties, facts, sessions, the agreement): the case's mediators, and roles
  granted ``rule_of_law.case.read`` within their scope. Others with ``rule_of_law.view`` see that a
  case exists (number, kind, state, dates) in the lists and the indicators, never its contents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.context import Actor
from core.rbac.scope import in_scope
from plugins.rule_of_law import mediation, rules
from plugins.rule_of_law.common import Conflict, NotFound, lazy, local_day, next_number, utcnow
from plugins.rule_of_law.mediation import State, TransitionError
from plugins.rule_of_law.models import Case, CaseEntry, CaseMediator
from plugins.rule_of_law.overdue import wake_for as wake_overdue_sweep

ACCEPT = "rule_of_law.case.accept"
READ = "rule_of_law.case.read"
VIEW = "rule_of_law.view"


class NotAllowed(TransitionError):
    """The actor may not take this step on this case."""


class Stale(TransitionError):
    """Someone changed the case since the form was loaded."""


@dataclass(frozen=True)
class Limits:
    """Local practice from the plugin settings."""

    mediation_months: int = 1
    confirmation_days: int = 30

    @classmethod
    def of(cls, settings: dict[str, Any]) -> Limits:
        return cls(int(settings.get("mediation_months", 1)), int(settings.get("confirmation_days", 30)))


async def open_case(
    session: AsyncSession,
    *,
    node_id: int,
    node_path: str,
    title: str,
    kind: str,
    parties: list[dict[str, Any]],
    dispute_id: int | None = None,
    at: datetime | None = None,
) -> Case:
    case = Case(
        number=await next_number(session, "TJ", at),
        node_id=node_id,
        node_path=node_path,
        dispute_id=dispute_id,
        title=title.strip()[:200] or "—",
        kind=kind,
        state=State.PENDING.value,
        parties=parties,
        created_at=at or utcnow(),
    )
    session.add(case)
    await session.flush()
    return case


async def get_case(session: AsyncSession, case_id: int) -> Case:
    case = (await session.execute(select(Case).where(Case.id == case_id))).scalar_one_or_none()
    if case is None:
        raise NotFound(lazy("There is no such case."))
    return case


async def mediator_ids(session: AsyncSession, case_id: int) -> list[int]:
    return list((await session.execute(select(CaseMediator.user_id).where(CaseMediator.case_id == case_id))).scalars())


async def add_mediator(session: AsyncSession, case: Case, user_id: int) -> None:
    if user_id not in await mediator_ids(session, case.id):
        session.add(CaseMediator(case_id=case.id, user_id=user_id))
        await session.flush()


def can_see_case(case: Case, user_id: int | None, mediators: list[int], can: Callable[..., bool]) -> bool:
    """Whether a case shows in this user's part of the grid at all (else 404)."""
    return (user_id is not None and user_id in mediators) or any(can(a, case.node_path) for a in (VIEW, ACCEPT, READ))


def can_read_contents(case: Case, user_id: int | None, mediators: list[int], can: Callable[..., bool]) -> bool:
    """第15条 confidentiality: the case's mediators and roles granted ``case.read`` in scope. A case
    awaiting 受理 shows its dispute to those who may accept it: they must know what they take on."""
    if user_id is not None and user_id in mediators:
        return True
    if can(READ, case.node_path):
        return True
    return case.state == State.PENDING.value and can(ACCEPT, case.node_path)


def may_step(case: Case, action: str, user_id: int | None, mediators: list[int], can: Callable[..., bool]) -> bool:
    if case.state == State.PENDING.value and action in ("accept", "refuse"):
        return can(ACCEPT, case.node_path)
    return user_id is not None and user_id in mediators


def available(case: Case, user_id: int | None, mediators: list[int], can: Callable[..., bool]) -> list[str]:
    return [a for a in mediation.allowed(case.state) if may_step(case, a, user_id, mediators, can)]


def _days(start: datetime | None, end: datetime) -> int:
    return max(0, (local_day(end) - local_day(start or end)).days)


async def step(
    session: AsyncSession,
    case: Case,
    action: str,
    inputs: dict[str, Any],
    *,
    actor: Actor | None,
    can: Callable[..., bool],
    limits: Limits,
    version: int | None = None,
    at: datetime | None = None,
) -> Case:
    """Check and apply one step, write the case-file entry; raises ``TransitionError`` (nothing written)."""
    user_id = actor.id if actor is not None and actor.kind == "user" else None
    mediators = await mediator_ids(session, case.id)
    if version is not None and version != case.version:
        raise Stale(lazy("Someone else changed this case meanwhile. Look at it again before you go on."))
    result = mediation.apply(case.state, action, inputs)
    if not may_step(case, action, user_id, mediators, can):
        raise NotAllowed(lazy("Only the case's mediators may record this step."))
    now = at or utcnow()
    today = local_day(now)
    note = str(inputs.get("note") or "").strip()
    data: dict[str, Any] = {}
    if action == "accept":
        case.origin = str(inputs["origin"])
        case.accepted_at = now
        case.due_on = rules.mediation_due(today, limits.mediation_months)
        if user_id is not None:
            await add_mediator(session, case, user_id)
        data = {"origin": case.origin, "due_on": case.due_on.isoformat()}
    elif action == "agree":
        case.parties = [_party(p) for p in inputs["parties"]]
        case.facts = str(inputs["facts"]).strip()
        case.matters = str(inputs["matters"]).strip()
        case.terms = str(inputs["terms"]).strip()
        case.performance = str(inputs["performance"]).strip()
        effective = inputs.get("effective_on")
        case.effective_on = effective if isinstance(effective, date) else today
        case.confirmation_due_on = rules.confirmation_deadline(case.effective_on, limits.confirmation_days)
        data = {"confirmation_due_on": case.confirmation_due_on.isoformat()}
    elif action == "terminate":
        case.routes = [r for r in mediation.ROUTES if r in inputs["routes"]]
        data = {"routes": case.routes}
    elif action == "follow_up":
        data = {"performance": inputs["performance"]}
    if result.after in mediation.CONCLUDED and case.concluded_at is None:
        case.concluded_at = now
        case.days_to_close = _days(case.accepted_at or case.created_at, now)
    case.state = result.after.value
    case.version += 1
    session.add(
        CaseEntry(
            case_id=case.id,
            kind=action,
            at=now,
            user_id=user_id,
            actor_name=actor.name if actor else "",
            attendees=str(inputs.get("attendees") or "").strip()[:500],
            note=note,
            data=data,
        )
    )
    if action == "agree":  # 第33条: tell the parties they may apply together for 司法确认
        session.add(
            CaseEntry(
                case_id=case.id,
                kind="reminder",
                at=now,
                note="",
                data={"confirmation_due_on": case.confirmation_due_on.isoformat()},  # type: ignore[union-attr]
            )
        )
    await session.flush()
    wake_overdue_sweep(session, case)  # an earlier last day than the sweep waits for: it comes then
    return case


def _party(p: dict[str, Any]) -> dict[str, str]:
    keys = ("name", "gender", "age", "ethnicity", "occupation", "employer", "address", "role")
    return {k: str(p.get(k) or "").strip()[:200] for k in keys if str(p.get(k) or "").strip()}


async def entries(session: AsyncSession, case_id: int) -> list[CaseEntry]:
    stmt = select(CaseEntry).where(CaseEntry.case_id == case_id).order_by(CaseEntry.at, CaseEntry.id)
    return list((await session.execute(stmt)).scalars())


def listing(prefixes: list[str], user_id: int | None, *, state: str | None = None, overdue: bool = False) -> Any:
    """Cases in this user's view: in scope of ``rule_of_law.view``/``case.accept``, or their own."""
    # The user's own cases as an uncorrelated IN (hashed once), not a per-row EXISTS.
    mine = Case.id.in_(select(CaseMediator.case_id).where(CaseMediator.user_id == user_id))
    stmt = select(Case).where(or_(in_scope(Case.node_path, prefixes), mine))
    if state:
        stmt = stmt.where(Case.state == state)
    if overdue:
        stmt = stmt.where(Case.overdue_at.is_not(None), Case.state.in_([s.value for s in mediation.OPEN]))
    return stmt.order_by(Case.created_at.desc(), Case.id.desc())


def follow_up_needed(case: Case) -> bool:
    return case.state == State.AGREED.value


def confirmation_open(case: Case, limits: Limits, today: date) -> bool:
    return case.effective_on is not None and rules.confirmation_open(case.effective_on, limits.confirmation_days, today)


def check_version(raw: Any) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        raise Conflict(lazy("The form is out of date. Load the case again.")) from None
