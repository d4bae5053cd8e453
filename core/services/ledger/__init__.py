"""The points ledger (double entry, idempotent, reversals not edits). ``from core.services import ledger``."""

from core.services.ledger.models import LedgerAccount, LedgerEntry, LedgerPosting
from core.services.ledger.service import (
    Check,
    EntryView,
    InsufficientBalance,
    accounts_of,
    balance,
    check,
    from_units,
    get_account,
    history,
    open_account,
    post,
    reverse,
    to_units,
    transfer,
)

__all__ = [
    "Check",
    "EntryView",
    "InsufficientBalance",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerPosting",
    "accounts_of",
    "balance",
    "check",
    "from_units",
    "get_account",
    "history",
    "open_account",
    "post",
    "reverse",
    "to_units",
    "transfer",
]
