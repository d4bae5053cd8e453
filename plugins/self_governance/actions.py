"""The RBAC actions of 居民自治 (granted by default in plugin.py's manifest)."""

from plugins.self_governance.procedures import EXECUTE, LEAD, ORGANISE
from plugins.self_governance.settings import NAME

VIEW = f"{NAME}.view"
RAISE = f"{NAME}.matter.raise"
MEETING = f"{NAME}.meeting.manage"
CHECK_IN = f"{NAME}.meeting.check_in"
ASSEMBLY = f"{NAME}.assembly.manage"
VOTE = f"{NAME}.assembly.vote"
COMMITTEE = f"{NAME}.committee.manage"
VET = f"{NAME}.committee.vet"
COVENANT = f"{NAME}.covenant.file"
SIGN = f"{NAME}.petition.sign"

__all__ = [
    "ASSEMBLY",
    "CHECK_IN",
    "COMMITTEE",
    "COVENANT",
    "EXECUTE",
    "LEAD",
    "MEETING",
    "ORGANISE",
    "RAISE",
    "SIGN",
    "VET",
    "VIEW",
    "VOTE",
]
