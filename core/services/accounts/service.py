"""Resident accounts: sign up on a phone with a one-time code, set a password, sign in by phone,
and ask to be linked to one's resident record (and so household).

Owns ``resident_accounts``, ``account_links`` and ``one_time_codes``. Codes go out through the
notification adapters (``send_notification`` on channel "sms"; core's logging adapter writes them
to the log, which is how the demo shows them). Only a keyed hash of a code is stored; a code
expires after ``CODE_TTL``, allows ``CODE_ATTEMPTS`` tries — counted in their own committed
transaction, so a guesser's rollback does not reset them — and a phone gets at most
``CODES_PER_HOUR`` codes, one a minute.

A link is confirmed at once when the name and 身份证号 given match a resident record that no other
account holds; otherwise it waits for a community worker whose scope covers the household.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.crypto import Vault
from core.db.engine import TenantSession
from core.grids import people
from core.grids import validation as v
from core.grids.basedata import Resident
from core.grids.models import GridNode
from core.identity.models import User
from core.identity.passwords import MIN_LENGTH, hash_password, verify_password
from core.pluginhost.manifest import Notification
from core.rbac.models import RoleAssignment
from core.rbac.scope import in_scope
from core.services._common import actor_user_id, announce, atomic, aware, now
from core.services.accounts.models import (
    LINK_CONFIRMED,
    LINK_PENDING,
    LINK_REJECTED,
    AccountLink,
    OneTimeCode,
    ResidentAccount,
)
from core.services.errors import Conflict, InvalidInput, NotFound, lazy

CODE_TTL = timedelta(minutes=10)
CODE_ATTEMPTS = 5
RESEND_AFTER = timedelta(seconds=60)
CODES_PER_HOUR = 5
SIGN_UP, SIGN_IN = "sign_up", "sign_in"
RESIDENT_ROLE = "resident"


def _phone(raw: str) -> str:
    try:
        return v.check_phone(raw or "")
    except v.InvalidValue as exc:
        raise InvalidInput(str(exc), field="phone") from None


def _phone_hash(vault: Vault, phone: str) -> str:
    return vault.blind_index(phone, people.PHONE_PURPOSE)


async def account_by_phone(session: AsyncSession, vault: Vault, phone: str) -> ResidentAccount | None:
    stmt = select(ResidentAccount).where(ResidentAccount.phone_hash == _phone_hash(vault, _phone(phone)))
    return (await session.execute(stmt)).scalar_one_or_none()


async def account_of(session: AsyncSession, user_id: int) -> ResidentAccount | None:
    stmt = select(ResidentAccount).where(ResidentAccount.user_id == user_id)
    return (await session.execute(stmt)).scalar_one_or_none()


# ---- one-time codes ----------------------------------------------------------------------------


async def request_code(
    session: AsyncSession,
    plugins: Any,
    vault: Vault,
    phone: str,
    *,
    purpose: str = SIGN_UP,
    enabled: Iterable[str] | None = None,
    district: str = "",
    at: datetime | None = None,
) -> datetime:
    """Send a 6-digit code to ``phone`` by SMS (the tenant's adapter); returns when it expires.
    The caller commits (the code is stored in its transaction)."""
    moment = at or now()
    phone = _phone(phone)
    if purpose not in (SIGN_UP, SIGN_IN):
        raise InvalidInput(lazy("Unknown purpose %(purpose)s."), purpose=purpose)
    digest = _phone_hash(vault, phone)
    existing = await account_by_phone(session, vault, phone)
    if purpose == SIGN_UP and existing is not None:
        raise Conflict(lazy("This phone number already has an account: sign in instead."))
    if purpose == SIGN_IN and existing is None:
        raise Conflict(lazy("No account uses this phone number: sign up first."))
    recent = (
        await session.execute(
            select(func.count(), func.max(OneTimeCode.created_at)).where(
                OneTimeCode.phone_hash == digest, OneTimeCode.created_at > moment - timedelta(hours=1)
            )
        )
    ).one()
    if recent[1] is not None and aware(recent[1]) > moment - RESEND_AFTER:
        raise Conflict(lazy("A code was just sent: wait a minute before asking for another."))
    if recent[0] >= CODES_PER_HOUR:
        raise Conflict(lazy("Too many codes for this number: try again in an hour."))
    code = f"{secrets.randbelow(10**6):06d}"
    row = OneTimeCode(
        phone_hash=digest,
        purpose=purpose,
        code_hash=vault.blind_index(f"{phone}:{code}", "one-time-code"),
        created_at=moment,
        expires_at=moment + CODE_TTL,
    )
    session.add(row)
    await session.flush()
    from core.services.notifications.service import deliver

    tenant_id = session.sync_session.info["tenant_id"]
    note = Notification(
        tenant_id=tenant_id,
        user_id=0,  # no account yet: the adapter sends to ``address``
        title=f"【{district or 'Liuzhi'}】验证码 {code}，{CODE_TTL.seconds // 60} 分钟内有效。",
        body=f"Your code is {code}.",
        channels=("sms",),
        address=phone,
    )
    await deliver(plugins, note, "sms", enabled)
    return row.expires_at


async def _use_code(session: AsyncSession, vault: Vault, phone: str, code: str, purpose: str, at: datetime) -> None:
    digest = _phone_hash(vault, phone)
    row = (
        await session.execute(
            select(OneTimeCode)
            .where(OneTimeCode.phone_hash == digest, OneTimeCode.purpose == purpose, OneTimeCode.used_at.is_(None))
            .order_by(OneTimeCode.created_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if row is None or aware(row.expires_at) <= at:
        raise InvalidInput(lazy("The code has expired: ask for a new one."), field="code")
    if row.attempts >= CODE_ATTEMPTS:
        raise InvalidInput(lazy("Too many wrong codes: ask for a new one."), field="code")
    if not secrets.compare_digest(row.code_hash, vault.blind_index(f"{phone}:{(code or '').strip()}", "one-time-code")):
        await _count_attempt(session, row.id)
        raise InvalidInput(lazy("The code is not right."), field="code")
    row.used_at = at
    await session.flush()


async def _count_attempt(session: AsyncSession, code_id: int) -> None:
    """Count a wrong try in its own transaction: the caller will roll its own back."""
    async with AsyncSession(session.bind, sync_session_class=TenantSession) as own:
        own.info["tenant_id"] = session.sync_session.info.get("tenant_id")
        async with own.begin():
            await own.execute(
                update(OneTimeCode)
                .where(OneTimeCode.id == code_id)
                .values(attempts=OneTimeCode.attempts + 1)
                .execution_options(synchronize_session=False)
            )


# ---- sign-up, sign-in, password ------------------------------------------------------------------


def _check_password(password: str) -> None:
    if len(password or "") < MIN_LENGTH:
        raise InvalidInput(lazy("The password must have at least %(n)s characters."), field="password", n=MIN_LENGTH)


async def sign_up(
    session: AsyncSession,
    vault: Vault,
    phone: str,
    code: str,
    *,
    display_name: str,
    password: str | None = None,
    at: datetime | None = None,
) -> tuple[User, ResidentAccount]:
    """Create the resident's account from a verified phone. The password may come later."""
    moment = at or now()
    phone = _phone(phone)
    display_name = (display_name or "").strip()
    if not display_name or len(display_name) > 100:
        raise InvalidInput(lazy("Give the name to show, at most 100 characters."), field="display_name")
    if password is not None:
        _check_password(password)
    await _use_code(session, vault, phone, code, SIGN_UP, moment)
    if await account_by_phone(session, vault, phone) is not None:
        raise Conflict(lazy("This phone number already has an account: sign in instead."))
    return await create_account(session, vault, phone, display_name=display_name, password=password)


async def create_account(
    session: AsyncSession, vault: Vault, phone: str, *, display_name: str, password: str | None = None
) -> tuple[User, ResidentAccount]:
    """A user with a verified ``phone`` and the resident role at the district's root (used by
    ``sign_up`` and by outside identity providers that vouch for the phone)."""
    user = User(
        username=f"m{secrets.token_hex(5)}",  # not the phone: usernames show in staff lists
        display_name=display_name,
        password_hash=hash_password(password) if password else "!",  # "!" matches no password
    )
    try:
        async with atomic(session):
            session.add(user)
            await session.flush()
            account = ResidentAccount(
                user_id=user.id,
                phone_enc=vault.encrypt(phone, people.PHONE_PURPOSE.encode()),
                phone_hash=_phone_hash(vault, phone),
                phone_masked=v.mask_phone(phone),
            )
            session.add(account)
            root = (
                await session.execute(
                    select(GridNode).where(GridNode.parent_id.is_(None)).order_by(GridNode.id).limit(1)
                )
            ).scalar_one_or_none()
            if root is not None:
                session.add(
                    RoleAssignment(user_id=user.id, role_code=RESIDENT_ROLE, node_id=root.id, node_path=root.path)
                )
            await session.flush()
    except IntegrityError:  # the same phone signing up twice at once
        raise Conflict(lazy("This phone number already has an account: sign in instead.")) from None
    record(session, "account.sign_up", "users", user.id, {"phone": account.phone_masked})
    await announce(session, "account.signed_up", {"user_id": user.id})
    return user, account


async def sign_in_with_code(
    session: AsyncSession, vault: Vault, phone: str, code: str, *, at: datetime | None = None
) -> User:
    """Passwordless sign-in with a code sent for ``SIGN_IN``."""
    phone = _phone(phone)
    await _use_code(session, vault, phone, code, SIGN_IN, at or now())
    account = await account_by_phone(session, vault, phone)
    if account is None:
        raise NotFound(lazy("No account uses this phone number: sign up first."))
    return await _active_user(session, account.user_id)


async def authenticate(session: AsyncSession, vault: Vault, phone: str, password: str) -> User | None:
    """The user whose phone and password these are, or None (the caller applies the login brake)."""
    try:
        account = await account_by_phone(session, vault, phone)
    except InvalidInput:
        return None
    if account is None:
        verify_password(hash_password("timing"), password or "")  # same work whether or not the phone exists
        return None
    user = (await session.execute(select(User).where(User.id == account.user_id))).scalar_one_or_none()
    if user is None or not user.is_active or not verify_password(user.password_hash, password or ""):
        return None
    return user


async def set_password(session: AsyncSession, user: User, password: str) -> None:
    _check_password(password)
    user.password_hash = hash_password(password)
    record(session, "account.password", "users", user.id, {})
    await session.flush()


async def _active_user(session: AsyncSession, user_id: int) -> User:
    user = (await session.execute(select(User).where(User.id == user_id))).scalar_one_or_none()
    if user is None or not user.is_active:
        raise Conflict(lazy("This account is disabled."))
    return user


# ---- linking to the resident record --------------------------------------------------------------


async def request_link(
    session: AsyncSession,
    vault: Vault,
    user_id: int,
    *,
    name: str,
    id_number: str,
    household_node_id: int | None = None,
    note: str = "",
) -> AccountLink:
    """Ask to be linked to one's resident record. Confirmed at once when ``name`` and ``id_number``
    match a record no other account holds; otherwise pending for a community worker."""
    account = await account_of(session, user_id)
    if account is None:
        raise NotFound(lazy("Sign up with a phone number first."))
    if account.resident_id is not None:
        raise Conflict(lazy("Your account is already linked to your resident record."))
    waiting = await session.scalar(
        select(AccountLink.id).where(AccountLink.account_id == account.id, AccountLink.status == LINK_PENDING)
    )
    if waiting is not None:
        raise Conflict(lazy("Your request is waiting for a community worker."))
    name = (name or "").strip()
    if not name or len(name) > 50:
        raise InvalidInput(lazy("Give your name as registered, at most 50 characters."), field="name")
    try:
        id_number = v.check_id_number(id_number or "")
    except v.InvalidValue as exc:
        raise InvalidInput(str(exc), field="id_number") from None
    household = None
    if household_node_id is not None:
        household = (
            await session.execute(select(GridNode).where(GridNode.id == household_node_id))
        ).scalar_one_or_none()
        if household is None:
            raise NotFound(lazy("That household is not in this district."))
    resident = await people.find_by_id_number(session, vault, id_number)
    held = resident is not None and await session.scalar(
        select(ResidentAccount.id).where(ResidentAccount.resident_id == resident.id)
    )
    link = AccountLink(
        account_id=account.id,
        claimed_name=name,
        claimed_id_hash=vault.blind_index(id_number, people.ID_PURPOSE),
        claimed_id_masked=v.mask_id_number(id_number),
        resident_id=resident.id if resident is not None else None,
        household_node_id=household.id if household else None,
        node_path=household.path if household else (resident.node_path if resident else None),
        note=note.strip()[:300],
    )
    session.add(link)
    await session.flush()
    if resident is not None and resident.name == name and not held:
        await _confirm(session, link, account, resident, method="id_match")
    else:
        await announce(session, "account.link_requested", {"link_id": link.id, "node_path": link.node_path})
    return link


async def _confirm(
    session: AsyncSession, link: AccountLink, account: ResidentAccount, resident: Resident, *, method: str
) -> None:
    link.status, link.method, link.resident_id = LINK_CONFIRMED, method, resident.id
    link.decided_at, link.decided_by = now(), actor_user_id(session) if method == "worker" else None
    account.resident_id, account.linked_at = resident.id, now()
    await session.flush()
    await announce(
        session,
        "account.linked",
        {"user_id": account.user_id, "resident_id": resident.id, "method": method, "link_id": link.id},
    )


async def pending_links(session: AsyncSession, prefixes: list[str] | None, *, limit: int = 100) -> list[AccountLink]:
    """Link requests waiting in a worker's scope (``prefixes`` of their role; None = the district),
    oldest first. Requests that name no place are for district-level staff only."""
    stmt = select(AccountLink).where(AccountLink.status == LINK_PENDING).order_by(AccountLink.requested_at).limit(limit)
    if prefixes is not None:
        stmt = stmt.where(in_scope(AccountLink.node_path, prefixes))
    return list((await session.execute(stmt)).scalars())


async def decide_link(
    session: AsyncSession, link_id: int, *, confirm: bool, resident_id: int | None = None, reason: str = ""
) -> AccountLink:
    """A community worker confirms (choosing the record if the request matched none) or rejects
    (saying why, which the resident is told)."""
    link = (await session.execute(select(AccountLink).where(AccountLink.id == link_id))).scalar_one_or_none()
    if link is None:
        raise NotFound(lazy("There is no such link request."))
    if link.status != LINK_PENDING:
        raise Conflict(lazy("This request has already been decided."))
    account = (await session.execute(select(ResidentAccount).where(ResidentAccount.id == link.account_id))).scalar_one()
    if not confirm:
        if not reason.strip():
            raise InvalidInput(lazy("Say why the request is rejected."), field="reason")
        link.status, link.reason = LINK_REJECTED, reason.strip()[:300]
        link.decided_at, link.decided_by = now(), actor_user_id(session)
        await session.flush()
        await announce(session, "account.link_rejected", {"user_id": account.user_id, "link_id": link.id})
        return link
    target = resident_id or link.resident_id
    resident = (
        (await session.execute(select(Resident).where(Resident.id == target))).scalar_one_or_none() if target else None
    )
    if resident is None:
        raise InvalidInput(lazy("Choose the resident record to link."), field="resident_id")
    if await session.scalar(select(ResidentAccount.id).where(ResidentAccount.resident_id == resident.id)):
        raise Conflict(lazy("Another account is already linked to this resident record."))
    link.reason = reason.strip()[:300]
    await _confirm(session, link, account, resident, method="worker")
    return link


async def linked_resident(session: AsyncSession, user_id: int) -> Resident | None:
    """The resident record a user's account is linked to (for 我的 and for owners' ballots)."""
    stmt = (
        select(Resident)
        .join(ResidentAccount, ResidentAccount.resident_id == Resident.id)
        .where(ResidentAccount.user_id == user_id)
    )
    return (await session.execute(stmt)).scalar_one_or_none()
