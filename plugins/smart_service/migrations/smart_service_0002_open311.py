"""smart service: Open311 API keys and what each Open311 request brought (ss_open311_keys,
ss_open311_requests); RLS

Revision ID: smart_service_0002
Revises: smart_service_0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import rls

revision: str = "smart_service_0002"
down_revision: str | Sequence[str] | None = "smart_service_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ss_open311_keys",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ss_open311_keys")),
        sa.UniqueConstraint("tenant_id", "key_hash", name=op.f("uq_ss_open311_keys_tenant_id_key_hash")),
    )
    op.create_table(
        "ss_open311_requests",
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("media_url", sa.String(length=1000), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("email_enc", sa.LargeBinary(), nullable=True),
        sa.Column("device_id", sa.String(length=100), nullable=False),
        sa.Column("account_id", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "event_id"],
            ["ss_events.tenant_id", "ss_events.id"],
            name=op.f("fk_ss_open311_requests_tenant_id_event_id_ss_events"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "key_id"],
            ["ss_open311_keys.tenant_id", "ss_open311_keys.id"],
            name=op.f("fk_ss_open311_requests_tenant_id_key_id_ss_open311_keys"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ss_open311_requests")),
        sa.UniqueConstraint("tenant_id", "event_id", name=op.f("uq_ss_open311_requests_tenant_id_event_id")),
        sa.UniqueConstraint("tenant_id", "token", name=op.f("uq_ss_open311_requests_tenant_id_token")),
    )
    rls.enable(op, "ss_open311_keys", "ss_open311_requests")


def downgrade() -> None:
    op.drop_table("ss_open311_requests")
    op.drop_table("ss_open311_keys")
