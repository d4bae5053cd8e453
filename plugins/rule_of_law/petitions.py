"""律师参与信访: petitions with a lawyer assigned; the lawyer records advice and the outcome.
Time limits are statute (信访工作条例), in ``rules``."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plugins.rule_of_law import rules
from plugins.rule_of_law.common import Conflict, NotFound, clean, lazy, next_number
from plugins.rule_of_law.models import Petition

MANAGE = "rule_of_law.petition.manage"
ADVISE = "rule_of_law.petition.advise"
STATE_LABELS = {"received": lazy("Received"), "accepted": lazy("Accepted"), "concluded": lazy("Concluded")}


async def create(
    session: AsyncSession, *, node: Any, subject: str, petitioner: str, received_on: date, lawyer_user_id: int | None
) -> Petition:
    p = Petition(
        number=await next_number(session, "XF"),
        node_id=node.id,
        node_path=node.path,
        subject=clean(subject, 200, "subject"),
        petitioner=clean(petitioner, 100, "petitioner"),
        received_on=received_on,
        accept_due_on=rules.petition_accept_due(received_on),
        lawyer_user_id=lawyer_user_id,
    )
    session.add(p)
    await session.flush()
    return p


async def get(session: AsyncSession, petition_id: int) -> Petition:
    p = (await session.execute(select(Petition).where(Petition.id == petition_id))).scalar_one_or_none()
    if p is None:
        raise NotFound(lazy("There is no such petition."))
    return p


async def of_lawyer(session: AsyncSession, user_id: int) -> list[Petition]:
    stmt = select(Petition).where(Petition.lawyer_user_id == user_id).order_by(Petition.received_on.desc())
    return list((await session.execute(stmt)).scalars())


async def accept(session: AsyncSession, p: Petition, on: date) -> None:
    if p.state != "received":
        raise Conflict(lazy("This petition has been accepted already."))
    p.state = "accepted"
    p.conclude_due_on = rules.petition_conclude_due(on)
    await session.flush()


async def advise(session: AsyncSession, p: Petition, advice: str, outcome: str) -> None:
    """The lawyer's advice; an outcome concludes the petition."""
    if p.state == "concluded":
        raise Conflict(lazy("This petition is concluded."))
    p.advice = clean(advice, 4000, "advice")
    text = clean(outcome, 4000, "outcome", required=False)
    if text:
        if p.state == "received":
            raise Conflict(lazy("A petition is accepted before it is concluded."))
        p.outcome, p.state = text, "concluded"
    await session.flush()
