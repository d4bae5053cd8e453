"""Imports every core table so metadata and migrations see them."""

from core.audit.models import AuditEntry
from core.grids.basedata import Household, Organisation, Owner, Ownership, Residence, Resident
from core.grids.fieldwork.models import DailyLog, Patrol, PatrolFinding, PatrolPoint, Visit
from core.grids.models import GridNode, NodeKind
from core.identity.models import ApiToken, KeyValue, Operator, User
from core.imports.models import ImportRun
from core.ops.models import UsageDay
from core.rbac.models import Role, RoleAssignment, RolePermission
from core.services.files.models import StoredFile
from core.services.jobs.models import Job, PeriodicRun
from core.services.models import *  # noqa: F403  (the shared services' tables)
from core.services.notifications.models import InAppNotification
from core.services.submissions.models import ClientSubmission
from core.tenancy.models import Tenant, TenantDomain, TenantPlugin

__all__ = [
    "ApiToken",
    "AuditEntry",
    "ClientSubmission",
    "DailyLog",
    "GridNode",
    "Household",
    "ImportRun",
    "InAppNotification",
    "Job",
    "KeyValue",
    "NodeKind",
    "Operator",
    "Organisation",
    "Owner",
    "Ownership",
    "Patrol",
    "PatrolFinding",
    "PatrolPoint",
    "PeriodicRun",
    "Residence",
    "Resident",
    "Role",
    "RoleAssignment",
    "RolePermission",
    "StoredFile",
    "Tenant",
    "TenantDomain",
    "TenantPlugin",
    "UsageDay",
    "User",
    "Visit",
]
