"""Resident accounts: phone sign-up with a one-time code, link to the resident record, outside
identity providers. ``from core.services import accounts``."""

from core.services.accounts.identity import (
    DevelopmentIdentity,
    ExternalProfile,
    IdentityProvider,
    providers,
)
from core.services.accounts.identity import sign_in as sign_in_external
from core.services.accounts.models import (
    LINK_CANCELLED,
    LINK_CONFIRMED,
    LINK_PENDING,
    LINK_REJECTED,
    AccountLink,
    ExternalIdentity,
    ResidentAccount,
)
from core.services.accounts.service import (
    CODE_ATTEMPTS,
    CODE_TTL,
    SIGN_IN,
    SIGN_UP,
    account_by_phone,
    account_of,
    authenticate,
    create_account,
    decide_link,
    linked_resident,
    pending_links,
    request_code,
    request_link,
    set_password,
    sign_in_with_code,
    sign_up,
)

__all__ = [
    "CODE_ATTEMPTS",
    "CODE_TTL",
    "LINK_CANCELLED",
    "LINK_CONFIRMED",
    "LINK_PENDING",
    "LINK_REJECTED",
    "SIGN_IN",
    "SIGN_UP",
    "AccountLink",
    "DevelopmentIdentity",
    "ExternalIdentity",
    "ExternalProfile",
    "IdentityProvider",
    "ResidentAccount",
    "account_by_phone",
    "account_of",
    "authenticate",
    "create_account",
    "decide_link",
    "linked_resident",
    "pending_links",
    "providers",
    "request_code",
    "request_link",
    "set_password",
    "sign_in_external",
    "sign_in_with_code",
    "sign_up",
]
