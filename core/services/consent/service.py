"""Consent records (个人信息保护法 第十四、二十九条): give, withdraw, ask, and the guard that
publishing code calls before showing anything personal.

Owns ``consent_records``. A person is named by ``(subject_type, subject_id)``: ``"resident"`` (a
resident record) or ``"user"`` (an account). A purpose is a dotted key the publishing plugin
chooses (``"civic_virtue.publish_profile"``); ``scope`` is the text the person agreed to, kept
verbatim. Giving again while a consent is current changes nothing; withdrawal is at once, and
every public page that checks ``current``/``require`` drops the person on its next read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.services._common import actor_user_id, announce, atomic, now
from core.services.consent.models import ConsentRecord
from core.services.errors import Conflict, InvalidInput, lazy

SUBJECT_TYPES = ("resident", "user")
CHANNELS = ("online", "paper", "in_person", "phone")
Person = tuple[str, int]


class ConsentMissing(Conflict):
    """Publishing refused: the person has no current consent to this purpose."""


def _check(subject: Person, purpose: str, channel: str | None = None) -> None:
    if subject[0] not in SUBJECT_TYPES:
        raise InvalidInput(lazy("A consent belongs to a resident or a user."), field="subject")
    if not purpose or len(purpose) > 100 or " " in purpose:
        raise InvalidInput(lazy("A consent purpose is a short key without spaces."), field="purpose")
    if channel is not None and channel not in CHANNELS:
        raise InvalidInput(
            lazy("Record how the consent was given: online, paper, in person or by phone."), field="channel"
        )


def _current_clause(at: datetime) -> object:
    return (ConsentRecord.withdrawn_at.is_(None)) & (
        or_(ConsentRecord.expires_at.is_(None), ConsentRecord.expires_at > at)
    )


async def current(
    session: AsyncSession, subject: Person, purpose: str, *, at: datetime | None = None
) -> ConsentRecord | None:
    """The person's consent to ``purpose`` in force at ``at`` (now), or None."""
    stmt = select(ConsentRecord).where(
        ConsentRecord.subject_type == subject[0],
        ConsentRecord.subject_id == subject[1],
        ConsentRecord.purpose == purpose,
        _current_clause(at or now()),
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def give(
    session: AsyncSession,
    subject: Person,
    purpose: str,
    scope: str,
    *,
    channel: str,
    evidence_file_id: int | None = None,
    expires_at: datetime | None = None,
) -> ConsentRecord:
    """Record that the person agreed to ``scope`` for ``purpose`` (by ``channel``; a paper form's
    scan as ``evidence_file_id``). Returns the current record if one is already in force."""
    _check(subject, purpose, channel)
    if not scope.strip():
        raise InvalidInput(lazy("Record what the person agreed to."), field="scope")
    if channel == "paper" and evidence_file_id is None:
        raise InvalidInput(lazy("A consent on paper needs the signed form."), field="evidence")
    found = await current(session, subject, purpose)
    if found is not None:
        return found
    row = ConsentRecord(
        subject_type=subject[0],
        subject_id=subject[1],
        purpose=purpose,
        scope=scope.strip(),
        given_at=now(),
        given_channel=channel,
        given_recorded_by=actor_user_id(session),
        evidence_file_id=evidence_file_id,
        expires_at=expires_at,
    )
    try:
        async with atomic(session):
            # An expired consent still holds the "current" slot of the unique index: close it first.
            for old in (
                await session.execute(
                    select(ConsentRecord).where(
                        ConsentRecord.subject_type == subject[0],
                        ConsentRecord.subject_id == subject[1],
                        ConsentRecord.purpose == purpose,
                        ConsentRecord.withdrawn_at.is_(None),
                    )
                )
            ).scalars():
                old.withdrawn_at, old.withdrawn_channel = old.expires_at or now(), "expired"
            await session.flush()
            session.add(row)
            await session.flush()
    except IntegrityError:  # given twice at once: the other one stands
        found = await current(session, subject, purpose)
        if found is None:
            raise
        return found
    await announce(session, "consent.given", {"subject": list(subject), "purpose": purpose, "channel": channel})
    return row


async def withdraw(session: AsyncSession, subject: Person, purpose: str, *, channel: str) -> ConsentRecord:
    """Withdraw at once (第十五条: as easy as giving); public pages drop the person on next read."""
    _check(subject, purpose, channel)
    found = await current(session, subject, purpose)
    if found is None:
        raise Conflict(lazy("There is no consent in force to withdraw."))
    found.withdrawn_at, found.withdrawn_channel = now(), channel
    found.withdrawn_recorded_by = actor_user_id(session)
    await session.flush()
    await announce(session, "consent.withdrawn", {"subject": list(subject), "purpose": purpose, "channel": channel})
    return found


async def require(session: AsyncSession, subject: Person, purpose: str) -> ConsentRecord:
    """The guard: returns the consent in force or raises ``ConsentMissing`` (nothing is published)."""
    found = await current(session, subject, purpose)
    if found is None:
        record(session, "consent.refused", "consent_records", None, {"subject": list(subject), "purpose": purpose})
        raise ConsentMissing(lazy("This person has not consented to publication (%(purpose)s)."), purpose=purpose)
    return found


async def consenting(
    session: AsyncSession, subjects: Iterable[Person], purpose: str, *, at: datetime | None = None
) -> set[Person]:
    """Which of ``subjects`` consent to ``purpose`` now: one query for a whole public list."""
    wanted = set(subjects)
    if not wanted:
        return set()
    ids_by_type: dict[str, set[int]] = {}
    for kind, sid in wanted:
        ids_by_type.setdefault(kind, set()).add(sid)
    found: set[Person] = set()
    for kind, ids in ids_by_type.items():
        stmt = select(ConsentRecord.subject_id).where(
            ConsentRecord.subject_type == kind,
            ConsentRecord.subject_id.in_(ids),
            ConsentRecord.purpose == purpose,
            _current_clause(at or now()),
        )
        found |= {(kind, sid) for sid in (await session.execute(stmt)).scalars()}
    return found


async def history(session: AsyncSession, subject: Person) -> list[ConsentRecord]:
    """Every consent the person gave or withdrew, newest first (for 我的 and for an inspection)."""
    stmt = (
        select(ConsentRecord)
        .where(ConsentRecord.subject_type == subject[0], ConsentRecord.subject_id == subject[1])
        .order_by(ConsentRecord.given_at.desc())
    )
    return list((await session.execute(stmt)).scalars())
