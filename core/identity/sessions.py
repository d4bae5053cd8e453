"""Sessions that end when they should, and API tokens that are for the API only.

Each user and operator row carries a ``session_epoch``; a session remembers the epoch it was
issued under (``ep``). Changing or resetting a password, deactivating an account or revoking one
of its roles moves the epoch on, so every other session of that account — in the database store
or in Redis, in this process or any other — is anonymous on its next request and is cleared from
its store there. The session that changed its own password is carried over to the new epoch.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, update

from core.identity.models import ApiToken

EPOCH_KEY = "ep"
# Last use of an API token is written at most this often, in its own short transaction.
TOKEN_TOUCH_EVERY = timedelta(minutes=1)


def end_sessions(account: Any) -> None:
    """End every session of ``account`` (a User or an Operator); the caller commits."""
    account.session_epoch = (account.session_epoch or 0) + 1


def session_current(data: dict[str, Any], account: Any) -> bool:
    return int(data.get(EPOCH_KEY, 0) or 0) == (account.session_epoch or 0)


def keep_this_session(request: Any, account: Any) -> None:
    """After ``end_sessions`` on one's own account: this session lives on under the new epoch."""
    data = dict(request.session)
    data[EPOCH_KEY] = account.session_epoch
    request.set_session(data)


def token_usable(token: ApiToken | None, now: datetime | None = None) -> bool:
    if token is None or token.revoked:
        return False
    now = now or datetime.now(UTC)
    return token.expires_at is None or token.expires_at > now


async def touch_token(db: Any, tenant_id: int, token: ApiToken, now: datetime | None = None) -> None:
    """Record a token's use outside the request's transaction, at most once a minute: the
    conditional UPDATE lets one process of many write it, and a busy client costs no write per call."""
    now = now or datetime.now(UTC)
    if token.last_used_at is not None and now - token.last_used_at < TOKEN_TOUCH_EVERY:
        return
    async with db.transaction(tenant_id) as s:
        await s.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token.id,
                or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - TOKEN_TOUCH_EVERY),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
