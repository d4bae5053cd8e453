"""红色物业: property-service companies per estate, how the party reaches each (its own, a joint or
affiliated party organisation, or an assigned 党建指导员), and residents' quarterly reviews."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.models import GridNode
from core.services._common import atomic
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from plugins.co_governance import numbers
from plugins.co_governance.models import PropertyCompany, PropertyReview

# 单独组建 / 联合组建 / 挂靠组建 are party organisations; 选派党建指导员 where none can be formed yet.
PARTY_MODES = {
    "own": lazy("Own party organisation"),
    "joint": lazy("Joint party organisation"),
    "affiliated": lazy("Affiliated party organisation"),
    "instructor": lazy("Assigned party-building instructor"),
    "none": lazy("Not yet covered"),
}
ORG_MODES = ("own", "joint", "affiliated")


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def current_quarter() -> str:
    return quarter_of(datetime.now(numbers.LOCAL).date())


async def add_company(
    session: AsyncSession,
    *,
    name: str,
    estate: GridNode,
    party_mode: str,
    party_org: str = "",
    instructor: str = "",
    credit_code: str = "",
) -> PropertyCompany:
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput(lazy("A company needs a name of at most 100 characters."), field="name")
    if party_mode not in PARTY_MODES:
        raise InvalidInput(lazy("Choose how the party reaches the company."), field="party_mode")
    party_org, instructor = (party_org or "").strip()[:100], (instructor or "").strip()[:50]
    if party_mode in ORG_MODES and not party_org:
        raise InvalidInput(lazy("Name the party organisation."), field="party_org")
    if party_mode == "instructor" and not instructor:
        raise InvalidInput(lazy("Name the assigned party-building instructor."), field="instructor")
    company = PropertyCompany(
        name=name,
        node_id=estate.id,
        node_path=estate.path,
        party_mode=party_mode,
        party_org=party_org,
        instructor=instructor,
        credit_code=(credit_code or "").strip()[:18],
    )
    try:
        async with atomic(session):
            session.add(company)
            await session.flush()
    except IntegrityError:
        raise Conflict(lazy("%(name)s is already listed at this estate."), name=name) from None
    return company


async def get_company(session: AsyncSession, company_id: int) -> PropertyCompany:
    found = await session.scalar(select(PropertyCompany).where(PropertyCompany.id == company_id))
    if found is None:
        raise NotFound(lazy("There is no property company %(id)s."), id=company_id)
    return found


async def review(
    session: AsyncSession,
    company: PropertyCompany,
    user_id: int,
    score: object,
    comment: str = "",
    quarter: str | None = None,
) -> PropertyReview:
    """A resident's review for the current quarter: one per resident, company and quarter."""
    try:
        value = int(str(score).strip())
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise InvalidInput(lazy("Give 1 to 5 stars."), field="score")
    row = PropertyReview(
        company_id=company.id,
        quarter=quarter or current_quarter(),
        user_id=user_id,
        score=value,
        comment=(comment or "").strip()[:500],
    )
    try:
        async with atomic(session):
            session.add(row)
            await session.flush()
    except IntegrityError:
        raise Conflict(lazy("You have already reviewed this company this quarter.")) from None
    return row


@dataclass(frozen=True)
class QuarterScore:
    quarter: str
    reviews: int
    average: Decimal


async def history(session: AsyncSession, company_id: int) -> list[QuarterScore]:
    """The company's reviews per quarter, newest first."""
    stmt = (
        select(PropertyReview.quarter, func.count(), func.avg(PropertyReview.score))
        .where(PropertyReview.company_id == company_id)
        .group_by(PropertyReview.quarter)
        .order_by(PropertyReview.quarter.desc())
    )
    return [
        QuarterScore(q, int(n), Decimal(str(avg or 0)).quantize(Decimal("0.01")))
        for q, n, avg in (await session.execute(stmt)).all()
    ]
