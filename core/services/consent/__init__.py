"""Consent records and the publishing guard (个人信息保护法). ``from core.services import consent``."""

from core.services.consent.models import ConsentRecord
from core.services.consent.service import (
    CHANNELS,
    ConsentMissing,
    Person,
    consenting,
    current,
    give,
    history,
    require,
    withdraw,
)

__all__ = [
    "CHANNELS",
    "ConsentMissing",
    "ConsentRecord",
    "Person",
    "consenting",
    "current",
    "give",
    "history",
    "require",
    "withdraw",
]
