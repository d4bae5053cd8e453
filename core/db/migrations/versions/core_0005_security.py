"""security: session epochs and TOTP on users and operators, API token expiry, login throttle
counters, the district's second-factor setting, a blind index on organisations' contact phones,
and minimum-necessary default grants (the resident register leaves roles that do not need it)

Revision ID: core_0005
Revises: core_0007
Create Date: 2026-12-07 09:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0005"
down_revision: str | Sequence[str] | None = "core_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Built-in roles that no longer get the resident register by default (个人信息保护法 第6条:
# minimum necessary). A district may grant it again on purpose in its role admin.
NARROWED = (("party_admin", "core.resident.view"), ("mediator", "core.resident.view"), ("building_head", "core.resident.view"))


def _second_factor_columns(table: str) -> None:
    with op.batch_alter_table(table) as batch:
        batch.add_column(sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("totp_secret_enc", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("totp_enabled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("totp_recovery", sa.Text(), server_default="", nullable=False))


def upgrade() -> None:
    _second_factor_columns("users")
    _second_factor_columns("operators")
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("require_second_factor", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("contact_phone_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_organisations_tenant_phone_hash", "organisations", ["tenant_id", "contact_phone_hash"])
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(op.f("ix_login_throttle_expires_at"), "login_throttle", ["expires_at"])
    # Existing districts: take the narrowed defaults back (as the owner: RLS does not apply) and
    # move each tenant's policy version so every process reloads its grants.
    for role, action in NARROWED:
        op.execute(
            sa.text("DELETE FROM role_permissions WHERE role_code = :r AND action = :a").bindparams(r=role, a=action)
        )
    op.execute(sa.text("UPDATE tenants SET policy_version = policy_version + 1"))


def downgrade() -> None:
    op.drop_index(op.f("ix_login_throttle_expires_at"), table_name="login_throttle")
    op.drop_table("login_throttle")
    op.drop_index("ix_organisations_tenant_phone_hash", table_name="organisations")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("contact_phone_hash")
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("require_second_factor")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
    for table in ("operators", "users"):
        with op.batch_alter_table(table) as batch:
            for column in ("totp_recovery", "totp_last_step", "totp_enabled_at", "totp_secret_enc", "session_epoch"):
                batch.drop_column(column)
