"""Claim a client id before writing, complete it with the result; a second claim finds the first.

The claim is a row under a unique key, inserted in a savepoint of the caller's transaction: two
replays racing on two processes serialise on that key, and the loser reads the winner's row once
it has committed. A write that fails rolls back with its claim, so the client may try again."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.services.submissions.models import ClientSubmission

_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def clean_client_id(raw: object) -> str | None:
    """A usable client id (8–64 letters, digits, '-' or '_'), else None (the call is not idempotent)."""
    value = str(raw or "").strip()
    return value if _CLIENT_ID.match(value) else None


async def find(session: AsyncSession, user_id: int, client_id: str) -> ClientSubmission | None:
    stmt = select(ClientSubmission).where(ClientSubmission.user_id == user_id, ClientSubmission.client_id == client_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def claim(
    session: AsyncSession, user_id: int, client_id: str | None, kind: str
) -> tuple[ClientSubmission | None, bool]:
    """(submission, new). ``new`` False: this id was sent before — answer with the submission's
    ``ref``/``location`` and write nothing. Without a client id: (None, True)."""
    if not client_id:
        return None, True
    existing = await find(session, user_id, client_id)
    if existing is not None:
        return existing, False
    row = ClientSubmission(user_id=user_id, client_id=client_id, kind=kind)
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        existing = await find(session, user_id, client_id)
        if existing is None:  # pragma: no cover - the key exists, so the row does
            raise
        return existing, False
    return row, True


def complete(submission: ClientSubmission | None, ref: object, location: str = "") -> None:
    """Record what the submission created, in the same transaction as the record itself."""
    if submission is not None:
        submission.ref = str(ref)[:100]
        submission.location = location[:500]
