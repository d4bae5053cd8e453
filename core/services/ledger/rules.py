"""Staff postings under a district's points rules: a rule says what the points are for, whether
they are earned or deducted and the most one posting may move; staff post within it to a person's
points account and correct a wrong posting by reversing it (never by editing or deleting).

A person's account is ``points:user:<id>`` (what "我的" counts with every other account they own);
points are issued from and deducted to the district's ``points:issued`` account, the only one
allowed below zero.
"""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.services._common import atomic
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from core.services.ledger import service as ledger
from core.services.ledger.models import LedgerAccount, LedgerPosting, PointsRule

ISSUED = "points:issued"
EARN, DEDUCT = "earn", "deduct"
CODE = re.compile(r"^[a-z0-9_.-]{1,64}$")


def user_account_key(user_id: int) -> str:
    return f"points:user:{user_id}"


async def user_account(session: AsyncSession, user_id: int) -> LedgerAccount:
    return await ledger.open_account(session, user_account_key(user_id), label="积分", owner_user_id=user_id)


async def issued_account(session: AsyncSession) -> LedgerAccount:
    return await ledger.open_account(session, ISSUED, label="积分发放", allow_negative=True)


async def rules(session: AsyncSession, *, active_only: bool = False) -> list[PointsRule]:
    stmt = select(PointsRule).order_by(PointsRule.direction, PointsRule.code)
    if active_only:
        stmt = stmt.where(PointsRule.active.is_(True))
    return list((await session.execute(stmt)).scalars())


async def get_rule(session: AsyncSession, code: str) -> PointsRule:
    found = (await session.execute(select(PointsRule).where(PointsRule.code == code))).scalar_one_or_none()
    if found is None:
        raise NotFound(lazy("There is no points rule %(code)s."), code=code)
    return found


async def save_rule(
    session: AsyncSession,
    *,
    code: str,
    title: str,
    direction: str,
    max_amount: Decimal | int | str,
    active: bool = True,
) -> PointsRule:
    """Add a rule or change one (its code stays); audited as a row change."""
    code = (code or "").strip()
    if not CODE.match(code):
        raise InvalidInput(lazy("A rule code has 1 to 64 lower-case letters, digits, '_', '.' or '-'."), field="code")
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise InvalidInput(lazy("Give the rule a name of at most 200 characters."), field="title")
    if direction not in (EARN, DEDUCT):
        raise InvalidInput(lazy("A rule earns or deducts points."), field="direction")
    units = ledger.to_units(max_amount)
    if units <= 0:
        raise InvalidInput(lazy("The most one posting may move is more than zero."), field="max_amount")
    found = (await session.execute(select(PointsRule).where(PointsRule.code == code))).scalar_one_or_none()
    if found is None:
        found = PointsRule(code=code)
        session.add(found)
    found.title, found.direction, found.max_amount, found.active = title, direction, units, active
    try:
        async with atomic(session):
            await session.flush()
    except IntegrityError:
        raise Conflict(lazy("A rule with this code exists already.")) from None
    return found


async def post_by_rule(
    session: AsyncSession,
    key: str,
    *,
    rule_code: str,
    user_id: int,
    amount: Decimal | int | str,
    memo: str = "",
    source: str = "core",
) -> LedgerPosting:
    """Post ``amount`` to (earn) or from (deduct) ``user_id``'s points under a rule; idempotent by
    ``key`` like every posting. A deduction never takes an account below zero."""
    rule = await get_rule(session, rule_code)
    if not rule.active:
        raise Conflict(lazy("The rule %(code)s is no longer in use."), code=rule.code)
    units = ledger.to_units(amount)
    if units <= 0:
        raise InvalidInput(lazy("Post a positive number of points."), field="amount")
    if units > rule.max_amount:
        raise InvalidInput(
            lazy("This rule allows at most %(max)s points a posting."),
            field="amount",
            max=ledger.from_units(rule.max_amount),
        )
    issued, mine = await issued_account(session), await user_account(session, user_id)
    memo = (memo or "").strip()[:400] or rule.title
    if rule.direction == EARN:
        posting = await ledger.transfer(session, key, issued, mine, amount, kind=rule.code, memo=memo, source=source)
    else:
        posting = await ledger.transfer(session, key, mine, issued, amount, kind=rule.code, memo=memo, source=source)
    record(session, "ledger.post_by_rule", "ledger_postings", posting.id, {"rule": rule.code, "user_id": user_id})
    return posting
