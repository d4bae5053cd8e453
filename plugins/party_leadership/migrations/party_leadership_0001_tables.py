"""party leadership: committees, meetings, decisions, units, members, posts, service records,
feedback, reviews, needs, resources, projects, agreements, matters, captains; RLS on all

Revision ID: party_leadership_0001
Revises:
Create Date: 2026-12-07 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import rls

revision: str = "party_leadership_0001"
down_revision: str | Sequence[str] | None = None
# The plugin's own branch, after core's base data (members point at residents, units at organisations).
branch_labels: str | Sequence[str] | None = ("party_leadership",)
depends_on: str | Sequence[str] | None = "core_0002"


def upgrade() -> None:
    op.create_table(
        "pl_reviews",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=8), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=True),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("staff_points", sa.Integer(), nullable=False),
        sa.Column("score", sa.Numeric(precision=6, scale=1), nullable=False),
        sa.Column("grade", sa.String(length=16), nullable=False),
        sa.Column("hours_met", sa.Boolean(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.String(length=300), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_pl_reviews")),
        sa.UniqueConstraint(
            "tenant_id", "year", "subject", "subject_id", name=op.f("uq_pl_reviews_tenant_id_year_subject_subject_id")
        ),
    )
    op.create_index("ix_pl_reviews_path", "pl_reviews", ["tenant_id", "year", "node_path"], unique=False)
    op.create_index("ix_pl_reviews_unit", "pl_reviews", ["tenant_id", "year", "unit_id"], unique=False)
    op.create_table(
        "pl_committees",
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_pl_committees_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_pl_committees")),
    )
    op.create_index("ix_pl_committees_path", "pl_committees", ["tenant_id", "node_path"], unique=False)
    op.create_table(
        "pl_matters",
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("route", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("meeting_id", sa.BigInteger(), nullable=True),
        sa.Column("project_id", sa.BigInteger(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_pl_matters_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_pl_matters")),
    )
    op.create_index("ix_pl_matters_path", "pl_matters", ["tenant_id", "node_path", "status"], unique=False)
    op.create_table(
        "pl_needs",
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_ref", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_pl_needs_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_pl_needs")),
        sa.UniqueConstraint("tenant_id", "source_ref", name=op.f("uq_pl_needs_tenant_id_source_ref")),
    )
    op.create_index("ix_pl_needs_path", "pl_needs", ["tenant_id", "node_path", "status"], unique=False)
    op.create_table(
        "pl_posts",
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("claimed", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_pl_posts_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_pl_posts")),
    )
    op.create_index("ix_pl_posts_path", "pl_posts", ["tenant_id", "node_path"], unique=False)
    op.create_table(
        "pl_meetings",
        sa.Column("committee_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("agenda", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("present", sa.Integer(), nullable=False),
        sa.Column("attendance", sa.JSON(), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "committee_id"],
            ["pl_committees.tenant_id", "pl_committees.id"],
            name=op.f("fk_pl_meetings_tenant_id_committee_id_pl_committees"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_pl_meetings")),
    )
    op.create_index("ix_pl_meetings_path", "pl_meetings", ["tenant_id", "node_path", "starts_at"], unique=False)
    op.create_table(
        "pl_units",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("party_org", sa.String(length=200), nullable=False),
        sa.Column("organisation_id", sa.BigInteger(), nullable=True),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("contact_name", sa.String(length=50), nullable=False),
        sa.Column("contact_user_id", sa.BigInteger(), nullable=True),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("receipt_document_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "contact_user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_pl_units_tenant_id_contact_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_pl_units_tenant_id_node_id_grid_nodes"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "organisation_id"],
            ["organisations.tenant_id", "organisations.id"],
            name=op.f("fk_pl_units_tenant_id_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_pl_units")),
        sa.UniqueConstraint("tenant_id", "node_id", "name", name=op.f("uq_pl_units_tenant_id_node_id_name")),
    )
    op.create_index("ix_pl_units_path", "pl_units", ["tenant_id", "node_path"], unique=False)
    op.create_table(
        "pl_agreements",
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("signed_file_id", sa.BigInteger(), nullable=True),
        sa.Column("terminated_on", sa.Date(), nullable=True),
        sa.Column("reminded_for", sa.Date(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_pl_agreements_tenant_id_node_id_grid_nodes"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "unit_id"],
            ["pl_units.tenant_id", "pl_units.id"],
            name=op.f("fk_pl_agreements_tenant_id_unit_id_pl_units"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_pl_agreements")),
    )
    op.create_index("ix_pl_agreements_end", "pl_agreements", ["tenant_id", "ends_on"], unique=False)
    op.create_index("ix_pl_agreements_path", "pl_agreements", ["tenant_id", "node_path"], unique=False)
    op.create_table(
        "pl_committee_members",
        sa.Column("committee_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("position", sa.String(length=30), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=True),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "committee_id"],
            ["pl_committees.tenant_id", "pl_committees.id"],
            name=op.f("fk_pl_committee_members_tenant_id_committee_id_pl_committees"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "unit_id"],
            ["pl_units.tenant_id", "pl_units.id"],
            name=op.f("fk_pl_committee_members_tenant_id_unit_id_pl_units"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_pl_committee_members")),
    )
    op.create_table(
        "pl_decisions",
        sa.Column("meeting_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("votes_for", sa.Integer(), nullable=True),
        sa.Column("votes_against", sa.Integer(), nullable=True),
        sa.Column("votes_abstain", sa.Integer(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_note", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "meeting_id"],
            ["pl_meetings.tenant_id", "pl_meetings.id"],
            name=op.f("fk_pl_decisions_tenant_id_meeting_id_pl_meetings"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_pl_decisions")),
    )
    op.create_index("ix_pl_decisions_status", "pl_decisions", ["tenant_id", "status"], unique=False)
    op.create_table(
        "pl_feedback",
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_by", sa.BigInteger(), nullable=True),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "unit_id"],
            ["pl_units.tenant_id", "pl_units.id"],
            name=op.f("fk_pl_feedback_tenant_id_unit_id_pl_units"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_pl_feedback")),
        sa.UniqueConstraint(
            "tenant_id", "unit_id", "year", "quarter", name=op.f("uq_pl_feedback_tenant_id_unit_id_year_quarter")
        ),
    )
    op.create_table(
        "pl_members",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("resident_id", sa.BigInteger(), nullable=True),
        sa.Column("unit_id", sa.BigInteger(), nullable=True),
        sa.Column("branch", sa.String(length=200), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("receipt_document_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_pl_members_tenant_id_node_id_grid_nodes"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "resident_id"],
            ["residents.tenant_id", "residents.id"],
            name=op.f("fk_pl_members_tenant_id_resident_id_residents"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "unit_id"],
            ["pl_units.tenant_id", "pl_units.id"],
            name=op.f("fk_pl_members_tenant_id_unit_id_pl_units"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_pl_members_tenant_id_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_pl_members")),
        sa.UniqueConstraint("tenant_id", "user_id", name=op.f("uq_pl_members_tenant_id_user_id")),
    )
    op.create_index("ix_pl_members_path", "pl_members", ["tenant_id", "node_path"], unique=False)
    op.create_index("ix_pl_members_unit", "pl_members", ["tenant_id", "unit_id"], unique=False)
    op.create_table(
        "pl_resources",
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_pl_resources_tenant_id_node_id_grid_nodes"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "unit_id"],
            ["pl_units.tenant_id", "pl_units.id"],
            name=op.f("fk_pl_resources_tenant_id_unit_id_pl_units"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_pl_resources")),
    )
    op.create_index("ix_pl_resources_path", "pl_resources", ["tenant_id", "node_path"], unique=False)
    op.create_table(
        "pl_agreement_actions",
        sa.Column("agreement_id", sa.BigInteger(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agreement_id"],
            ["pl_agreements.tenant_id", "pl_agreements.id"],
            name=op.f("fk_pl_agreement_actions_tenant_id_agreement_id_pl_agreements"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_pl_agreement_actions")),
    )
    op.create_table(
        "pl_captains",
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("group_link", sa.String(length=300), nullable=False),
        sa.Column("contact", sa.String(length=100), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["pl_members.tenant_id", "pl_members.id"],
            name=op.f("fk_pl_captains_tenant_id_member_id_pl_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_pl_captains_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_pl_captains")),
        sa.UniqueConstraint("tenant_id", "node_id", name=op.f("uq_pl_captains_tenant_id_node_id")),
    )
    op.create_index("ix_pl_captains_member", "pl_captains", ["tenant_id", "member_id"], unique=False)
    op.create_index("ix_pl_captains_path", "pl_captains", ["tenant_id", "node_path"], unique=False)
    op.create_table(
        "pl_post_claims",
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["pl_members.tenant_id", "pl_members.id"],
            name=op.f("fk_pl_post_claims_tenant_id_member_id_pl_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "post_id"],
            ["pl_posts.tenant_id", "pl_posts.id"],
            name=op.f("fk_pl_post_claims_tenant_id_post_id_pl_posts"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_pl_post_claims")),
        sa.UniqueConstraint(
            "tenant_id", "post_id", "member_id", name=op.f("uq_pl_post_claims_tenant_id_post_id_member_id")
        ),
    )
    op.create_index("ix_pl_post_claims_member", "pl_post_claims", ["tenant_id", "member_id"], unique=False)
    op.create_table(
        "pl_projects",
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("need_id", sa.BigInteger(), nullable=True),
        sa.Column("resource_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=True),
        sa.Column("member_id", sa.BigInteger(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["pl_members.tenant_id", "pl_members.id"],
            name=op.f("fk_pl_projects_tenant_id_member_id_pl_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "need_id"],
            ["pl_needs.tenant_id", "pl_needs.id"],
            name=op.f("fk_pl_projects_tenant_id_need_id_pl_needs"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_pl_projects_tenant_id_node_id_grid_nodes"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "resource_id"],
            ["pl_resources.tenant_id", "pl_resources.id"],
            name=op.f("fk_pl_projects_tenant_id_resource_id_pl_resources"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "unit_id"],
            ["pl_units.tenant_id", "pl_units.id"],
            name=op.f("fk_pl_projects_tenant_id_unit_id_pl_units"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_pl_projects")),
    )
    op.create_index("ix_pl_projects_path", "pl_projects", ["tenant_id", "node_path", "state"], unique=False)
    op.create_table(
        "pl_service_records",
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=True),
        sa.Column("served_on", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("entered_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["pl_members.tenant_id", "pl_members.id"],
            name=op.f("fk_pl_service_records_tenant_id_member_id_pl_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "post_id"],
            ["pl_posts.tenant_id", "pl_posts.id"],
            name=op.f("fk_pl_service_records_tenant_id_post_id_pl_posts"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_pl_service_records")),
    )
    op.create_index(
        "ix_pl_service_records_member", "pl_service_records", ["tenant_id", "member_id", "served_on"], unique=False
    )
    op.create_table(
        "pl_project_updates",
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=True),
        sa.Column("photo_file_id", sa.BigInteger(), nullable=True),
        sa.Column("by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "project_id"],
            ["pl_projects.tenant_id", "pl_projects.id"],
            name=op.f("fk_pl_project_updates_tenant_id_project_id_pl_projects"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_pl_project_updates")),
    )
    op.create_index("ix_pl_project_updates", "pl_project_updates", ["tenant_id", "project_id"], unique=False)
    rls.enable(op, "pl_reviews")
    rls.enable(op, "pl_committees")
    rls.enable(op, "pl_matters")
    rls.enable(op, "pl_needs")
    rls.enable(op, "pl_posts")
    rls.enable(op, "pl_meetings")
    rls.enable(op, "pl_units")
    rls.enable(op, "pl_agreements")
    rls.enable(op, "pl_committee_members")
    rls.enable(op, "pl_decisions")
    rls.enable(op, "pl_feedback")
    rls.enable(op, "pl_members")
    rls.enable(op, "pl_resources")
    rls.enable(op, "pl_agreement_actions")
    rls.enable(op, "pl_captains")
    rls.enable(op, "pl_post_claims")
    rls.enable(op, "pl_projects")
    rls.enable(op, "pl_service_records")
    rls.enable(op, "pl_project_updates")


def downgrade() -> None:
    op.drop_table("pl_project_updates")
    op.drop_table("pl_service_records")
    op.drop_table("pl_projects")
    op.drop_table("pl_post_claims")
    op.drop_table("pl_captains")
    op.drop_table("pl_agreement_actions")
    op.drop_table("pl_resources")
    op.drop_table("pl_members")
    op.drop_table("pl_feedback")
    op.drop_table("pl_decisions")
    op.drop_table("pl_committee_members")
    op.drop_table("pl_agreements")
    op.drop_table("pl_units")
    op.drop_table("pl_meetings")
    op.drop_table("pl_posts")
    op.drop_table("pl_needs")
    op.drop_table("pl_matters")
    op.drop_table("pl_committees")
    op.drop_table("pl_reviews")
