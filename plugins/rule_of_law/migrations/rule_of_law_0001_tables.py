"""rule of law: grid teams, screenings, disputes, mediation cases and their files, petitions,
counselling appointments, special-population registers, counters; RLS on all

Revision ID: rule_of_law_0001
Revises:
Create Date: 2026-12-07 12:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.base
from core.db import rls

revision: str = "rule_of_law_0001"
down_revision: str | Sequence[str] | None = None
# The plugin's own branch, after core's base data (rows point at grid nodes and users).
branch_labels: str | Sequence[str] | None = ("rule_of_law",)
depends_on: str | Sequence[str] | None = "core_0002"

TABLES = (
    "rl_counters",
    "rl_appointments",
    "rl_petitions",
    "rl_screenings",
    "rl_special_people",
    "rl_teams",
    "rl_disputes",
    "rl_special_visits",
    "rl_team_members",
    "rl_cases",
    "rl_case_entries",
    "rl_case_mediators",
)


def upgrade() -> None:
    op.create_table(
        "rl_counters",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_rl_counters")),
        sa.UniqueConstraint("tenant_id", "key", name=op.f("uq_rl_counters_tenant_id_key")),
    )
    op.create_table(
        "rl_appointments",
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("room", sa.String(length=100), nullable=False),
        sa.Column("person_name", sa.String(length=100), nullable=False),
        sa.Column("resident_user_id", sa.BigInteger(), nullable=True),
        sa.Column("referred_by", sa.BigInteger(), nullable=True),
        sa.Column("counsellor_user_id", sa.BigInteger(), nullable=True),
        sa.Column("starts_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("notes_enc", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "counsellor_user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_rl_appointments_tenant_id_counsellor_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_rl_appointments_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_rl_appointments")),
    )
    op.create_index(
        "ix_rl_appointments_counsellor",
        "rl_appointments",
        ["tenant_id", "counsellor_user_id", "starts_at"],
        unique=False,
    )
    op.create_table(
        "rl_petitions",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("petitioner", sa.String(length=100), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("accept_due_on", sa.Date(), nullable=False),
        sa.Column("conclude_due_on", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("lawyer_user_id", sa.BigInteger(), nullable=True),
        sa.Column("advice", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "lawyer_user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_rl_petitions_tenant_id_lawyer_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_rl_petitions_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_rl_petitions")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_rl_petitions_tenant_id_number")),
    )
    op.create_index("ix_rl_petitions_lawyer", "rl_petitions", ["tenant_id", "lawyer_user_id"], unique=False)
    op.create_table(
        "rl_screenings",
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("worker_user_id", sa.BigInteger(), nullable=True),
        sa.Column("visited_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("disputes_found", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_rl_screenings_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_rl_screenings")),
    )
    op.create_index("ix_rl_screenings_tenant_path", "rl_screenings", ["tenant_id", "node_path"], unique=False)
    op.create_table(
        "rl_special_people",
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("details_enc", sa.LargeBinary(), nullable=True),
        sa.Column("visit_every_days", sa.Integer(), nullable=False),
        sa.Column("next_visit_on", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_rl_special_people_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_rl_special_people")),
    )
    op.create_index(
        "ix_rl_special_people_path", "rl_special_people", ["tenant_id", "category", "node_path"], unique=False
    )
    op.create_table(
        "rl_teams",
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_rl_teams_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_rl_teams")),
        sa.UniqueConstraint("tenant_id", "node_id", name=op.f("uq_rl_teams_tenant_id_node_id")),
    )
    op.create_table(
        "rl_disputes",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("screening_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("risk", sa.String(length=8), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("parties", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.Column("event_ref", sa.String(length=64), nullable=True),
        sa.Column("reported_by", sa.BigInteger(), nullable=True),
        sa.Column("reported_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_rl_disputes_tenant_id_node_id_grid_nodes"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "screening_id"],
            ["rl_screenings.tenant_id", "rl_screenings.id"],
            name=op.f("fk_rl_disputes_tenant_id_screening_id_rl_screenings"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_rl_disputes")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_rl_disputes_tenant_id_number")),
    )
    op.create_index("ix_rl_disputes_tenant_path", "rl_disputes", ["tenant_id", "node_path"], unique=False)
    op.create_table(
        "rl_special_visits",
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("note_enc", sa.LargeBinary(), nullable=True),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "person_id"],
            ["rl_special_people.tenant_id", "rl_special_people.id"],
            name=op.f("fk_rl_special_visits_tenant_id_person_id_rl_special_people"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_rl_special_visits")),
    )
    op.create_index("ix_rl_special_visits_person", "rl_special_visits", ["tenant_id", "person_id"], unique=False)
    op.create_table(
        "rl_team_members",
        sa.Column("team_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("duty", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("party_member", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "team_id"],
            ["rl_teams.tenant_id", "rl_teams.id"],
            name=op.f("fk_rl_team_members_tenant_id_team_id_rl_teams"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_rl_team_members_tenant_id_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_rl_team_members")),
    )
    op.create_index("ix_rl_team_members_team", "rl_team_members", ["tenant_id", "team_id"], unique=False)
    op.create_table(
        "rl_cases",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("dispute_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=True),
        sa.Column("created_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", core.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("overdue_at", core.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("concluded_at", core.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("days_to_close", sa.BigInteger(), nullable=True),
        sa.Column("parties", sa.JSON(), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("matters", sa.Text(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("performance", sa.Text(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("confirmation_due_on", sa.Date(), nullable=True),
        sa.Column("routes", sa.JSON(), nullable=False),
        sa.Column("agreement_document_id", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "dispute_id"],
            ["rl_disputes.tenant_id", "rl_disputes.id"],
            name=op.f("fk_rl_cases_tenant_id_dispute_id_rl_disputes"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_rl_cases_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_rl_cases")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_rl_cases_tenant_id_number")),
    )
    op.create_index("ix_rl_cases_tenant_created", "rl_cases", ["tenant_id", "created_at"], unique=False)
    op.create_index("ix_rl_cases_tenant_path", "rl_cases", ["tenant_id", "node_path"], unique=False)
    op.create_index("ix_rl_cases_tenant_state_due", "rl_cases", ["tenant_id", "state", "due_on"], unique=False)
    op.create_table(
        "rl_case_entries",
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("attendees", sa.String(length=500), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"],
            ["rl_cases.tenant_id", "rl_cases.id"],
            name=op.f("fk_rl_case_entries_tenant_id_case_id_rl_cases"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_rl_case_entries")),
    )
    op.create_index("ix_rl_case_entries_case", "rl_case_entries", ["tenant_id", "case_id", "at"], unique=False)
    op.create_table(
        "rl_case_mediators",
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"],
            ["rl_cases.tenant_id", "rl_cases.id"],
            name=op.f("fk_rl_case_mediators_tenant_id_case_id_rl_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_rl_case_mediators_tenant_id_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_rl_case_mediators")),
        sa.UniqueConstraint(
            "tenant_id", "case_id", "user_id", name=op.f("uq_rl_case_mediators_tenant_id_case_id_user_id")
        ),
    )
    op.create_index("ix_rl_case_mediators_user", "rl_case_mediators", ["tenant_id", "user_id"], unique=False)
    rls.enable(op, *TABLES)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
