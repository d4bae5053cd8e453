"""Outside sign-in: identity providers plug in through the ``identity_providers`` hook.

A provider (the WeChat mini-program's login, a provincial 政务服务 unified identity …) turns the
credentials its client sends into an ``ExternalProfile``; core finds or creates the user. If the
provider vouches for a phone number, the account is the one with that phone (one person, one
account, however they sign in). ``DevelopmentIdentity`` stands in for real providers in the demo
and the tests: it accepts any subject and must never be on in production (``LIUZHI_DEBUG`` or
``settings.extra["identity_dev"] == "1"`` switches it on).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.crypto import Vault
from core.identity.models import User
from core.pluginhost.markers import hookimpl
from core.services._common import announce, atomic, now
from core.services.accounts import service as accounts
from core.services.accounts.models import ExternalIdentity
from core.services.errors import Conflict, InvalidInput, NotFound, lazy


@dataclass(frozen=True)
class ExternalProfile:
    """Who the provider says signed in: a stable ``subject`` (openid, 统一身份 id), a name, and a
    phone number only if the provider has verified it."""

    subject: str
    display_name: str
    phone: str | None = None


@runtime_checkable
class IdentityProvider(Protocol):
    name: str  # stable key stored with each identity, e.g. "wechat_miniprogram"
    title_zh: str
    title_en: str

    async def authenticate(self, tenant_id: int, credentials: Mapping[str, str]) -> ExternalProfile | None:
        """The profile for these credentials (a login code, a ticket), or None if they do not verify."""
        ...


async def providers(host: Any, enabled: Iterable[str] | None) -> dict[str, IdentityProvider]:
    """The identity providers of the tenant's enabled plugins (and core's), by name."""
    found: dict[str, IdentityProvider] = {}
    for _plugin, result in await host.run("identity_providers", enabled):
        for provider in result if isinstance(result, list | tuple) else [result]:
            if isinstance(provider, IdentityProvider) and provider.name not in found:
                found[provider.name] = provider
    return found


async def sign_in(
    session: AsyncSession, vault: Vault, provider: IdentityProvider, credentials: Mapping[str, str]
) -> User:
    """Sign in through ``provider``: the user linked to the identity, else the account with the
    phone the provider vouches for, else a new resident account."""
    tenant_id = session.sync_session.info["tenant_id"]
    profile = await provider.authenticate(tenant_id, credentials)
    if profile is None or not profile.subject:
        raise InvalidInput(lazy("Sign-in with %(provider)s did not succeed."), provider=provider.title_en)
    stmt = select(ExternalIdentity).where(
        ExternalIdentity.provider == provider.name, ExternalIdentity.subject == profile.subject
    )
    link = (await session.execute(stmt)).scalar_one_or_none()
    if link is not None:
        link.last_used_at = now()
        user = (await session.execute(select(User).where(User.id == link.user_id))).scalar_one_or_none()
        if user is None or not user.is_active:
            raise Conflict(lazy("This account is disabled."))
        return user
    account = await accounts.account_by_phone(session, vault, profile.phone) if profile.phone else None
    if account is not None:
        user = (await session.execute(select(User).where(User.id == account.user_id))).scalar_one()
    elif profile.phone:
        user, _account = await accounts.create_account(session, vault, profile.phone, display_name=profile.display_name)
    else:
        raise NotFound(
            lazy("%(provider)s gave no verified phone: sign up with your phone first."), provider=provider.title_en
        )
    try:
        async with atomic(session):
            session.add(
                ExternalIdentity(provider=provider.name, subject=profile.subject, user_id=user.id, last_used_at=now())
            )
            await session.flush()
    except IntegrityError:  # the same first sign-in twice at once
        raise Conflict(lazy("Sign-in with %(provider)s did not succeed."), provider=provider.title_en) from None
    record(session, "account.identity_linked", "users", user.id, {"provider": provider.name})
    await announce(session, "account.identity_linked", {"user_id": user.id, "provider": provider.name})
    return user


class DevelopmentIdentity:
    """A stand-in provider for the demo and the tests: credentials ``{"subject", "name", "phone"}``
    are believed as given. Never register it in production."""

    __liuzhi_name__ = "core.identity_dev"
    name = "development"
    title_zh = "开发用身份"
    title_en = "Development identity"
    # Optional on a provider: the fields its credentials take on the login page (name, 中文, English).
    # Providers whose client signs in elsewhere (a mini-program) leave it out and are not shown there.
    form_fields = (("subject", "身份标识", "Subject"), ("name", "姓名", "Name"), ("phone", "手机号码", "Mobile number"))

    async def authenticate(self, tenant_id: int, credentials: Mapping[str, str]) -> ExternalProfile | None:
        subject = (credentials.get("subject") or "").strip()
        if not subject:
            return None
        return ExternalProfile(subject, (credentials.get("name") or subject).strip(), credentials.get("phone") or None)

    @hookimpl
    def identity_providers(self) -> list[IdentityProvider]:
        return [self]


def core_plugins(settings: Any) -> list[Any]:
    """Core's own identity plugins for ``create_app``: the development provider when asked for."""
    wanted = getattr(settings, "debug", False) or getattr(settings, "extra", {}).get("identity_dev") == "1"
    return [DevelopmentIdentity()] if wanted else []


def new_subject() -> str:
    """A random subject, for tests and demo data."""
    return secrets.token_hex(8)
