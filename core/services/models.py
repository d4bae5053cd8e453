"""Every table of the shared services, imported together so metadata and migrations see them."""

from core.services.accounts.models import AccountLink, ExternalIdentity, OneTimeCode, ResidentAccount
from core.services.activities.models import Activity, ActivitySignup
from core.services.ballots.models import (
    Ballot,
    BallotCast,
    BallotChoice,
    BallotElector,
    BallotElectorMember,
    BallotOption,
)
from core.services.consent.models import ConsentRecord
from core.services.documents.models import Document
from core.services.ledger.models import LedgerAccount, LedgerEntry, LedgerPosting
from core.services.notices.models import Notice, NoticeObjection

__all__ = [
    "AccountLink",
    "Activity",
    "ActivitySignup",
    "Ballot",
    "BallotCast",
    "BallotChoice",
    "BallotElector",
    "BallotElectorMember",
    "BallotOption",
    "ConsentRecord",
    "Document",
    "ExternalIdentity",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerPosting",
    "Notice",
    "NoticeObjection",
    "OneTimeCode",
    "ResidentAccount",
]

SERVICE_TABLES = (
    "account_links",
    "activities",
    "activity_signups",
    "ballot_casts",
    "ballot_choices",
    "ballot_elector_members",
    "ballot_electors",
    "ballot_options",
    "ballots",
    "consent_records",
    "documents",
    "external_identities",
    "ledger_accounts",
    "ledger_entries",
    "ledger_postings",
    "notice_objections",
    "notices",
    "one_time_codes",
    "resident_accounts",
)
