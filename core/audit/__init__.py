"""Append-only action log: every write made through the ORM is recorded here automatically."""

from core.audit.log import record
from core.audit.models import AuditEntry

__all__ = ["AuditEntry", "record"]
