"""api token hashes unique per tenant: every key of a tenant table includes tenant_id

A token is looked up inside its tenant's transaction (row-level security), so uniqueness within
the tenant is all the lookup needs, and the table stays distributable by tenant.

Revision ID: core_0010
Revises: core_0009
Create Date: 2026-12-07 16:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "core_0010"
down_revision: str | Sequence[str] | None = "core_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.drop_constraint("uq_api_tokens_token_hash", type_="unique")
        batch_op.create_unique_constraint("uq_api_tokens_tenant_id_token_hash", ["tenant_id", "token_hash"])


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.drop_constraint("uq_api_tokens_tenant_id_token_hash", type_="unique")
        batch_op.create_unique_constraint("uq_api_tokens_token_hash", ["token_hash"])
