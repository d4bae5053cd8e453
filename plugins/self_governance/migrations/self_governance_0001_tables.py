"""self_governance: matters and their records, meetings with attendees and motions, owners'
assemblies and their items (core ballots), petitions and signatures, owners' committees and members,
covenants; RLS on all

Revision ID: self_governance_0001
Revises:
Create Date: 2026-12-07 12:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import rls

revision: str = "self_governance_0001"
down_revision: str | Sequence[str] | None = None
# The plugin's own branch, after core's shared services (ballots and notices, core_0006).
branch_labels: str | Sequence[str] | None = ("self_governance",)
depends_on: str | Sequence[str] | None = "core_0006"

TABLES = (
    "sg_assemblies",
    "sg_committees",
    "sg_matters",
    "sg_petitions",
    "sg_assembly_items",
    "sg_committee_members",
    "sg_matter_records",
    "sg_meetings",
    "sg_signatures",
    "sg_attendees",
    "sg_covenants",
    "sg_motions",
)


def upgrade() -> None:
    op.create_table(
        "sg_assemblies",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("extraordinary", sa.Boolean(), nullable=False),
        sa.Column("noticed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("open_votes", sa.Boolean(), nullable=False),
        sa.Column("notice_id", sa.BigInteger(), nullable=True),
        sa.Column("result_notice_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_sg_assemblies_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sg_assemblies")),
    )
    op.create_index(
        "ix_sg_assemblies_tenant_path", "sg_assemblies", ["tenant_id", "node_path", "opens_at"], unique=False
    )
    op.create_table(
        "sg_committees",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("elected_on", sa.Date(), nullable=False),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=True),
        sa.Column("filed_with", sa.String(length=200), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_sg_committees_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sg_committees")),
    )
    op.create_index(
        "ix_sg_committees_tenant_path", "sg_committees", ["tenant_id", "node_path", "term_end"], unique=False
    )
    op.create_table(
        "sg_matters",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("procedure", sa.String(length=32), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_ref", sa.String(length=64), nullable=True),
        sa.Column("raised_by", sa.BigInteger(), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_sg_matters_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sg_matters")),
    )
    op.create_index("ix_sg_matters_tenant_path", "sg_matters", ["tenant_id", "node_path"], unique=False)
    op.create_index("ix_sg_matters_tenant_status", "sg_matters", ["tenant_id", "status", "step"], unique=False)
    op.create_table(
        "sg_petitions",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_sg_petitions_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sg_petitions")),
    )
    op.create_table(
        "sg_assembly_items",
        sa.Column("assembly_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("category", sa.Integer(), nullable=False),
        sa.Column("ballot_id", sa.BigInteger(), nullable=True),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "assembly_id"],
            ["sg_assemblies.tenant_id", "sg_assemblies.id"],
            name=op.f("fk_sg_assembly_items_tenant_id_assembly_id_sg_assemblies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ballot_id"],
            ["ballots.tenant_id", "ballots.id"],
            name=op.f("fk_sg_assembly_items_tenant_id_ballot_id_ballots"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sg_assembly_items")),
        sa.UniqueConstraint(
            "tenant_id", "assembly_id", "position", name=op.f("uq_sg_assembly_items_tenant_id_assembly_id_position")
        ),
    )
    op.create_table(
        "sg_committee_members",
        sa.Column("committee_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("resident_id", sa.BigInteger(), nullable=True),
        sa.Column("post", sa.String(length=16), nullable=False),
        sa.Column("party_member", sa.Boolean(), nullable=False),
        sa.Column("vetting", sa.String(length=16), nullable=False),
        sa.Column("vetting_note", sa.String(length=300), nullable=False),
        sa.Column("vetted_by", sa.BigInteger(), nullable=True),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "committee_id"],
            ["sg_committees.tenant_id", "sg_committees.id"],
            name=op.f("fk_sg_committee_members_tenant_id_committee_id_sg_committees"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "resident_id"],
            ["residents.tenant_id", "residents.id"],
            name=op.f("fk_sg_committee_members_tenant_id_resident_id_residents"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sg_committee_members")),
    )
    op.create_table(
        "sg_matter_records",
        sa.Column("matter_id", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("step_key", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("by_name", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "matter_id"],
            ["sg_matters.tenant_id", "sg_matters.id"],
            name=op.f("fk_sg_matter_records_tenant_id_matter_id_sg_matters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sg_matter_records")),
    )
    op.create_index(
        "ix_sg_matter_records_tenant_matter", "sg_matter_records", ["tenant_id", "matter_id", "at"], unique=False
    )
    op.create_table(
        "sg_meetings",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("noticed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=False),
        sa.Column("matter_id", sa.BigInteger(), nullable=True),
        sa.Column("notice_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "matter_id"],
            ["sg_matters.tenant_id", "sg_matters.id"],
            name=op.f("fk_sg_meetings_tenant_id_matter_id_sg_matters"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_sg_meetings_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sg_meetings")),
    )
    op.create_index("ix_sg_meetings_tenant_path", "sg_meetings", ["tenant_id", "node_path", "starts_at"], unique=False)
    op.create_table(
        "sg_signatures",
        sa.Column("petition_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "petition_id"],
            ["sg_petitions.tenant_id", "sg_petitions.id"],
            name=op.f("fk_sg_signatures_tenant_id_petition_id_sg_petitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_sg_signatures_tenant_id_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sg_signatures")),
        sa.UniqueConstraint(
            "tenant_id", "petition_id", "user_id", name=op.f("uq_sg_signatures_tenant_id_petition_id_user_id")
        ),
    )
    op.create_table(
        "sg_attendees",
        sa.Column("meeting_id", sa.BigInteger(), nullable=False),
        sa.Column("resident_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("household_label", sa.String(length=200), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "meeting_id"],
            ["sg_meetings.tenant_id", "sg_meetings.id"],
            name=op.f("fk_sg_attendees_tenant_id_meeting_id_sg_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "resident_id"],
            ["residents.tenant_id", "residents.id"],
            name=op.f("fk_sg_attendees_tenant_id_resident_id_residents"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sg_attendees")),
        sa.UniqueConstraint(
            "tenant_id", "meeting_id", "resident_id", name=op.f("uq_sg_attendees_tenant_id_meeting_id_resident_id")
        ),
    )
    op.create_table(
        "sg_covenants",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("adopted_on", sa.Date(), nullable=False),
        sa.Column("ballot_id", sa.BigInteger(), nullable=True),
        sa.Column("meeting_id", sa.BigInteger(), nullable=True),
        sa.Column("filed_by", sa.BigInteger(), nullable=True),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ballot_id"],
            ["ballots.tenant_id", "ballots.id"],
            name=op.f("fk_sg_covenants_tenant_id_ballot_id_ballots"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "meeting_id"],
            ["sg_meetings.tenant_id", "sg_meetings.id"],
            name=op.f("fk_sg_covenants_tenant_id_meeting_id_sg_meetings"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_sg_covenants_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sg_covenants")),
        sa.UniqueConstraint(
            "tenant_id", "node_id", "kind", "version", name=op.f("uq_sg_covenants_tenant_id_node_id_kind_version")
        ),
    )
    op.create_table(
        "sg_motions",
        sa.Column("meeting_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("yes", sa.Integer(), nullable=False),
        sa.Column("no", sa.Integer(), nullable=False),
        sa.Column("abstain", sa.Integer(), nullable=False),
        sa.Column("present", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "meeting_id"],
            ["sg_meetings.tenant_id", "sg_meetings.id"],
            name=op.f("fk_sg_motions_tenant_id_meeting_id_sg_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sg_motions")),
    )
    for table in TABLES:
        rls.enable(op, table)


def downgrade() -> None:
    op.drop_index("ix_sg_assemblies_tenant_path", table_name="sg_assemblies")
    op.drop_index("ix_sg_committees_tenant_path", table_name="sg_committees")
    op.drop_index("ix_sg_matters_tenant_path", table_name="sg_matters")
    op.drop_index("ix_sg_matters_tenant_status", table_name="sg_matters")
    op.drop_index("ix_sg_matter_records_tenant_matter", table_name="sg_matter_records")
    op.drop_index("ix_sg_meetings_tenant_path", table_name="sg_meetings")
    op.drop_table("sg_motions")
    op.drop_table("sg_covenants")
    op.drop_table("sg_attendees")
    op.drop_table("sg_signatures")
    op.drop_table("sg_meetings")
    op.drop_table("sg_matter_records")
    op.drop_table("sg_committee_members")
    op.drop_table("sg_assembly_items")
    op.drop_table("sg_petitions")
    op.drop_table("sg_matters")
    op.drop_table("sg_committees")
    op.drop_table("sg_assemblies")
