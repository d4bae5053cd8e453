"""矛盾纠纷排查: a grid worker's visit and the disputes found, handed to mediation or to an event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.models import GridNode
from core.services.events import Event, emit
from plugins.rule_of_law import cases
from plugins.rule_of_law.common import Conflict, InvalidInput, NotFound, clean, lazy, next_number, utcnow
from plugins.rule_of_law.models import Case, Dispute, Screening

KINDS = ("neighbour", "family", "property", "labour", "land", "contract", "other")
KIND_LABELS = {
    "neighbour": lazy("Neighbours"),
    "family": lazy("Marriage and family"),
    "property": lazy("Property management"),
    "labour": lazy("Labour and wages"),
    "land": lazy("Land and housing"),
    "contract": lazy("Contracts and debts"),
    "other": lazy("Other"),
}
RISKS = ("low", "medium", "high")
RISK_LABELS = {"low": lazy("Low risk"), "medium": lazy("Medium risk"), "high": lazy("High risk")}
STATUS_LABELS = {
    "open": lazy("Found, not handed on"),
    "mediation": lazy("Handed to mediation"),
    "event": lazy("Handed to smart service"),
    "resolved": lazy("Resolved on the spot"),
}
MAX_PARTIES = 10
HANDED_TO_EVENT = "rule_of_law.dispute.referred"  # core event; smart_service may turn it into an event


@dataclass
class DisputeInput:
    kind: str
    risk: str
    summary: str
    parties: list[str]


def parse_parties(raw: Any) -> list[str]:
    """Party names, one per line or separated by 、，, ; (a phone keyboard's habits)."""
    text = raw if isinstance(raw, str) else ""
    for sep in ("\n", "，", ",", "；", ";"):
        text = text.replace(sep, "、")
    names = [n.strip() for n in text.split("、") if n.strip()]
    if len(names) > MAX_PARTIES:
        raise InvalidInput(lazy("At most %(n)s parties."), field="parties", n=MAX_PARTIES)
    if any(len(n) > 50 for n in names):
        raise InvalidInput(lazy("A party's name is at most 50 characters."), field="parties")
    return names


def check_dispute(d: DisputeInput) -> DisputeInput:
    if d.kind not in KINDS:
        raise InvalidInput(lazy("Choose the kind of dispute."), field="kind")
    if d.risk not in RISKS:
        raise InvalidInput(lazy("Choose the risk level."), field="risk")
    if not d.parties:
        raise InvalidInput(lazy("Name at least one party."), field="parties")
    return DisputeInput(d.kind, d.risk, clean(d.summary, 2000, "summary"), d.parties)


async def record_visit(
    session: AsyncSession,
    node: GridNode,
    worker_user_id: int | None,
    *,
    place: str,
    note: str,
    disputes: list[DisputeInput],
    at: Any = None,
) -> tuple[Screening, list[Dispute]]:
    """One visit (with or without disputes found); validated before anything is written."""
    checked = [check_dispute(d) for d in disputes]
    visit = Screening(
        node_id=node.id,
        node_path=node.path,
        worker_user_id=worker_user_id,
        visited_at=at or utcnow(),
        place=clean(place, 200, "place", required=False),
        note=clean(note, 2000, "note", required=not checked),
        disputes_found=len(checked),
    )
    session.add(visit)
    await session.flush()
    found = []
    for d in checked:
        dispute = Dispute(
            number=await next_number(session, "JF", at),
            node_id=node.id,
            node_path=node.path,
            screening_id=visit.id,
            kind=d.kind,
            risk=d.risk,
            summary=d.summary,
            parties=[{"name": n} for n in d.parties],
            reported_by=worker_user_id,
            reported_at=visit.visited_at,
        )
        session.add(dispute)
        found.append(dispute)
    await session.flush()
    return visit, found


async def get_dispute(session: AsyncSession, dispute_id: int) -> Dispute:
    d = (await session.execute(select(Dispute).where(Dispute.id == dispute_id))).scalar_one_or_none()
    if d is None:
        raise NotFound(lazy("There is no such dispute."))
    return d


async def hand_to_mediation(session: AsyncSession, dispute: Dispute) -> Case:
    """The dispute becomes a case awaiting 受理 by the mediation committee."""
    if dispute.status != "open":
        raise Conflict(lazy("This dispute has been handed on already."))
    case = await cases.open_case(
        session,
        node_id=dispute.node_id,
        node_path=dispute.node_path,
        title=dispute.summary[:60],
        kind=dispute.kind,
        parties=list(dispute.parties),
        dispute_id=dispute.id,
    )
    dispute.status, dispute.case_id = "mediation", case.id
    await session.flush()
    return case


async def hand_to_event(session: AsyncSession, dispute: Dispute, actor: Any = None) -> None:
    """Announce the dispute (after commit) for smart_service's closed loop; its listener links back
    by ``link_event``. With that pillar off, the announcement reaches no one and the dispute waits."""
    if dispute.status != "open":
        raise Conflict(lazy("This dispute has been handed on already."))
    dispute.status = "event"
    await session.flush()
    emit(
        session,
        Event(
            HANDED_TO_EVENT,
            {
                "source": "rule_of_law",
                "dispute_id": dispute.id,
                "number": dispute.number,
                "title": dispute.summary[:60],
                "description": dispute.summary,
                "node_id": dispute.node_id,
                "kind": dispute.kind,
                "risk": dispute.risk,
                "href": f"/rule-of-law/disputes/{dispute.id}",
            },
            actor,
        ),
    )


async def link_event(session: AsyncSession, dispute_id: int, event_ref: str) -> None:
    d = await get_dispute(session, dispute_id)
    d.event_ref = str(event_ref)[:64]
    await session.flush()


async def mark_resolved(session: AsyncSession, dispute: Dispute) -> None:
    if dispute.status != "open":
        raise Conflict(lazy("This dispute has been handed on already."))
    dispute.status = "resolved"
    await session.flush()
