"""The points ledger: double-entry postings between accounts.

Owns ``ledger_accounts``, ``ledger_postings`` and ``ledger_entries``. A posting is one business
event (points earned, an item redeemed, a correction) made of entries that sum to zero; it carries
an idempotency key, so posting twice with the same key changes nothing. Entries never change: a
wrong posting is corrected by ``reverse``, a new posting with the opposite entries.

Balances are kept on the account and moved by one conditional UPDATE per entry
(``balance + amount >= 0`` unless the account may go negative), in account-id order so that two
postings never wait on each other in a cycle. That UPDATE is atomic on both databases: two app
processes spending the last points of one account at once get one success and one
``InsufficientBalance``. A CHECK constraint on the table backs it.

Amounts are ``Decimal`` with at most two places; they are stored as integer hundredths.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from core.audit import record
from core.services._common import actor_user_id, announce, atomic
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from core.services.ledger.models import LedgerAccount, LedgerEntry, LedgerPosting

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("100000000")  # far above any points a district grants; catches unit mistakes


class InsufficientBalance(Conflict):
    """The posting would take an account that may not go negative below zero."""


@dataclass(frozen=True)
class EntryView:
    """One line of an account's history."""

    posting_id: int
    amount: Decimal
    balance_after: Decimal
    at: datetime
    kind: str
    memo: str
    reverses_id: int | None


def to_units(amount: Decimal | int | str) -> int:
    """Decimal points → stored hundredths; refuses more than two decimal places."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise InvalidInput(lazy("%(value)s is not an amount of points."), field="amount", value=amount) from None
    if not value.is_finite() or value != value.quantize(CENT, rounding=ROUND_HALF_UP):
        raise InvalidInput(lazy("Amounts have at most two decimal places: %(value)s."), field="amount", value=amount)
    if abs(value) > MAX_AMOUNT:
        raise InvalidInput(lazy("%(value)s points is more than a posting may move."), field="amount", value=amount)
    return int(value * 100)


def from_units(units: int) -> Decimal:
    return (Decimal(units) / 100).quantize(CENT)


async def open_account(
    session: AsyncSession,
    key: str,
    *,
    label: str = "",
    owner_user_id: int | None = None,
    allow_negative: bool = False,
) -> LedgerAccount:
    """The account named ``key`` (e.g. ``"points:user:42"``), created on first use.

    ``allow_negative`` is for the other side of issuing (a tenant's "points issued" account);
    a person's account never goes below zero. An existing account keeps its settings.
    """
    key = key.strip()
    if not key or len(key) > 200:
        raise InvalidInput(lazy("An account key has 1 to 200 characters."), field="key")
    found = await _account_by_key(session, key)
    if found is not None:
        return found
    try:
        async with atomic(session):
            account = LedgerAccount(key=key, label=label, owner_user_id=owner_user_id, allow_negative=allow_negative)
            session.add(account)
            await session.flush()
    except IntegrityError:  # opened by a concurrent transaction: use that one
        found = await _account_by_key(session, key)
        if found is None:
            raise
        return found
    return account


async def _account_by_key(session: AsyncSession, key: str) -> LedgerAccount | None:
    return (await session.execute(select(LedgerAccount).where(LedgerAccount.key == key))).scalar_one_or_none()


async def get_account(session: AsyncSession, key: str) -> LedgerAccount:
    found = await _account_by_key(session, key)
    if found is None:
        raise NotFound(lazy("There is no points account %(key)s."), key=key)
    return found


AccountRef = LedgerAccount | int


def _account_id(ref: AccountRef) -> int:
    return ref.id if isinstance(ref, LedgerAccount) else int(ref)


def _fingerprint(lines: Sequence[tuple[int, int]], kind: str, reverses_id: int | None) -> str:
    canonical = json.dumps({"lines": sorted(lines), "kind": kind, "reverses": reverses_id}, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def post(
    session: AsyncSession,
    key: str,
    lines: Iterable[tuple[AccountRef, Decimal | int | str]],
    *,
    kind: str = "",
    memo: str = "",
    source: str = "",
    reverses_id: int | None = None,
) -> LedgerPosting:
    """Post balanced ``lines`` (account, signed amount) under idempotency ``key``.

    The same key with the same lines returns the first posting and changes nothing; the same key
    with other lines is a ``Conflict``. Raises ``InsufficientBalance`` (nothing written) if an
    account that may not go negative would. Writes in the caller's transaction.
    """
    key = key.strip()
    if not key or len(key) > 200:
        raise InvalidInput(lazy("An idempotency key has 1 to 200 characters."), field="key")
    units = [(_account_id(ref), to_units(amount)) for ref, amount in lines]
    if len(units) < 2:
        raise InvalidInput(lazy("A posting needs at least two entries."))
    if any(u == 0 for _a, u in units):
        raise InvalidInput(lazy("An entry of zero points records nothing."), field="amount")
    if len({a for a, _u in units}) != len(units):
        raise InvalidInput(lazy("A posting names each account once."))
    if sum(u for _a, u in units) != 0:
        raise InvalidInput(lazy("The entries of a posting must add up to zero."))
    fingerprint = _fingerprint(units, kind, reverses_id)

    existing = await _posting_by_key(session, key)
    if existing is not None:
        return _same_or_conflict(existing, fingerprint, key)
    known = set(
        (await session.execute(select(LedgerAccount.id).where(LedgerAccount.id.in_([a for a, _u in units])))).scalars()
    )
    missing = [a for a, _u in units if a not in known]
    if missing:
        raise NotFound(lazy("There is no points account %(id)s."), id=missing[0])

    try:
        async with atomic(session):  # all of the posting or none of it
            posting = LedgerPosting(
                idempotency_key=key,
                fingerprint=fingerprint,
                kind=kind,
                memo=memo[:500],
                source=source,
                reverses_id=reverses_id,
                created_by=actor_user_id(session),
            )
            session.add(posting)
            await session.flush()
            balances: dict[int, int] = {}
            for account_id, amount in sorted(units):  # one lock order for everyone: no deadlock cycles
                balance = balances[account_id] = await _move(session, account_id, amount)
                session.add(
                    LedgerEntry(posting_id=posting.id, account_id=account_id, amount=amount, balance_after=balance)
                )
            await session.flush()
    except IntegrityError:
        # The same key committed by a concurrent transaction while we waited on its row lock.
        existing = await _posting_by_key(session, key)
        if existing is None:
            raise
        return _same_or_conflict(existing, fingerprint, key)
    _follow(session, balances)
    await announce(
        session,
        "ledger.posting.created",
        {
            "posting_id": posting.id,
            "key": key,
            "kind": kind,
            "source": source,
            "reverses_id": reverses_id,
            "entries": [{"account_id": a, "amount": str(from_units(u))} for a, u in units],
        },
    )
    return posting


async def _move(session: AsyncSession, account_id: int, amount: int) -> int:
    stmt = (
        update(LedgerAccount)
        .where(
            LedgerAccount.id == account_id,
            or_(LedgerAccount.allow_negative.is_(True), LedgerAccount.balance + amount >= 0),
        )
        .values(balance=LedgerAccount.balance + amount)
        .returning(LedgerAccount.balance)
        .execution_options(synchronize_session=False)
    )
    balance = (await session.execute(stmt)).scalar_one_or_none()
    if balance is None:
        current = await session.scalar(select(LedgerAccount.balance).where(LedgerAccount.id == account_id))
        raise InsufficientBalance(
            lazy("Not enough points: the balance is %(balance)s, the posting needs %(needed)s."),
            balance=from_units(current or 0),
            needed=from_units(-amount),
        )
    return int(balance)


def _follow(session: AsyncSession, balances: dict[int, int]) -> None:
    """Keep account objects the caller holds in step with the UPDATEs (once they stand)."""
    tenant_id = session.sync_session.info.get("tenant_id")
    for account_id, balance in balances.items():
        loaded = session.sync_session.identity_map.get(identity_key(LedgerAccount, (tenant_id, account_id)))
        if loaded is not None:
            set_committed_value(loaded, "balance", balance)


async def _posting_by_key(session: AsyncSession, key: str) -> LedgerPosting | None:
    stmt = select(LedgerPosting).where(LedgerPosting.idempotency_key == key)
    return (await session.execute(stmt)).scalar_one_or_none()


def _same_or_conflict(existing: LedgerPosting, fingerprint: str, key: str) -> LedgerPosting:
    if existing.fingerprint != fingerprint:
        raise Conflict(lazy("The idempotency key %(key)s was already used for a different posting."), key=key)
    return existing


async def transfer(
    session: AsyncSession,
    key: str,
    from_account: AccountRef,
    to_account: AccountRef,
    amount: Decimal | int | str,
    *,
    kind: str = "",
    memo: str = "",
    source: str = "",
) -> LedgerPosting:
    """Move ``amount`` (> 0) from one account to another: the two-entry posting most callers need."""
    if to_units(amount) <= 0:
        raise InvalidInput(lazy("A transfer moves a positive amount."), field="amount")
    return await post(
        session,
        key,
        [(from_account, -Decimal(str(amount))), (to_account, Decimal(str(amount)))],
        kind=kind,
        memo=memo,
        source=source,
    )


async def reverse(session: AsyncSession, posting_id: int, key: str, reason: str) -> LedgerPosting:
    """Correct a posting by posting its opposite (never by editing it). A posting is reversed once;
    a reversal of points already spent fails with ``InsufficientBalance``."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput(lazy("Say why the posting is reversed."), field="reason")
    original = (await session.execute(select(LedgerPosting).where(LedgerPosting.id == posting_id))).scalar_one_or_none()
    if original is None:
        raise NotFound(lazy("There is no posting %(id)s."), id=posting_id)
    if original.reverses_id is not None:
        raise Conflict(lazy("A reversal is not reversed; post the correction instead."))
    done = await session.scalar(select(LedgerPosting).where(LedgerPosting.reverses_id == posting_id))
    if done is not None:
        if done.idempotency_key == key:
            return done  # asked again: already done
        raise Conflict(lazy("Posting %(id)s was already reversed."), id=posting_id)
    entries = (await session.execute(select(LedgerEntry).where(LedgerEntry.posting_id == posting_id))).scalars()
    lines = [(e.account_id, -from_units(e.amount)) for e in entries]
    reversal = await post(
        session, key, lines, kind="reversal", memo=reason, source=original.source, reverses_id=posting_id
    )
    record(session, "ledger.reverse", "ledger_postings", posting_id, {"reversal": reversal.id, "reason": reason})
    return reversal


async def balance(session: AsyncSession, account: AccountRef) -> Decimal:
    value = await session.scalar(select(LedgerAccount.balance).where(LedgerAccount.id == _account_id(account)))
    if value is None:
        raise NotFound(lazy("There is no points account %(id)s."), id=_account_id(account))
    return from_units(value)


async def history(
    session: AsyncSession, account: AccountRef, *, limit: int = 50, before_id: int | None = None
) -> list[EntryView]:
    """The account's entries, newest first; page with ``before_id`` = the last entry's posting id."""
    stmt = (
        select(LedgerEntry, LedgerPosting)
        .join(LedgerPosting, LedgerPosting.id == LedgerEntry.posting_id)
        .where(LedgerEntry.account_id == _account_id(account))
        .order_by(LedgerEntry.id.desc())
        .limit(max(1, min(limit, 500)))
    )
    if before_id is not None:
        stmt = stmt.where(LedgerEntry.posting_id < before_id)
    return [
        EntryView(p.id, from_units(e.amount), from_units(e.balance_after), e.created_at, p.kind, p.memo, p.reverses_id)
        for e, p in (await session.execute(stmt)).all()
    ]


async def accounts_of(session: AsyncSession, user_id: int) -> list[LedgerAccount]:
    """Every account a user owns (for "我的": points from every pillar)."""
    stmt = select(LedgerAccount).where(LedgerAccount.owner_user_id == user_id).order_by(LedgerAccount.key)
    return list((await session.execute(stmt)).scalars())


@dataclass(frozen=True)
class Check:
    """What ``check`` found; an empty ``problems`` means the books balance."""

    total: Decimal
    problems: list[str]


async def check(session: AsyncSession) -> Check:
    """The invariants, from the stored rows: all entries sum to zero, each posting sums to zero,
    each balance equals the sum of its entries and none that may not be negative is."""
    problems: list[str] = []
    total = int(await session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))) or 0)
    if total != 0:
        problems.append(f"entries sum to {from_units(total)}")
    unbalanced = await session.execute(
        select(LedgerEntry.posting_id).group_by(LedgerEntry.posting_id).having(func.sum(LedgerEntry.amount) != 0)
    )
    problems += [f"posting {pid} does not balance" for (pid,) in unbalanced]
    sums = dict(
        (
            await session.execute(
                select(LedgerEntry.account_id, func.sum(LedgerEntry.amount)).group_by(LedgerEntry.account_id)
            )
        ).all()
    )
    for account in (await session.execute(select(LedgerAccount).execution_options(populate_existing=True))).scalars():
        expected = int(sums.get(account.id, 0) or 0)
        if account.balance != expected:
            problems.append(f"{account.key}: balance {from_units(account.balance)} ≠ entries {from_units(expected)}")
        if account.balance < 0 and not account.allow_negative:
            problems.append(f"{account.key}: overdrawn")
    return Check(from_units(total), problems)
