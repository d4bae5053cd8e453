"""Small helpers the shared services' models use: composite foreign keys that lead with tenant_id."""

from __future__ import annotations

import secrets

from sqlalchemy import ForeignKeyConstraint


def tenant_fk(column: str, target: str, ondelete: str | None = None) -> ForeignKeyConstraint:
    """``(tenant_id, column) → target_table(tenant_id, id)``: a row can never point into another tenant."""
    return ForeignKeyConstraint(["tenant_id", column], [f"{target}.tenant_id", f"{target}.id"], ondelete=ondelete)


def random_id() -> int:
    """A random positive 63-bit id, for rows whose id must not reveal when they were written."""
    return secrets.randbits(62) + 1
