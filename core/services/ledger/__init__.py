"""The points ledger (double entry, idempotent, reversals not edits). ``from core.services import ledger``."""

from core.services.ledger.models import LedgerAccount, LedgerEntry, LedgerPosting, PointsRule
from core.services.ledger.rules import (
    get_rule,
    issued_account,
    post_by_rule,
    save_rule,
    user_account,
    user_account_key,
)
from core.services.ledger.rules import rules as points_rules
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
    "PointsRule",
    "accounts_of",
    "balance",
    "check",
    "from_units",
    "get_account",
    "get_rule",
    "history",
    "issued_account",
    "open_account",
    "points_rules",
    "post",
    "post_by_rule",
    "reverse",
    "save_rule",
    "to_units",
    "transfer",
    "user_account",
    "user_account_key",
]
