"""civic_virtue: campaigns, categories, nominations, panel scores, community events, themed places; RLS

Revision ID: civic_virtue_0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import rls
from core.db.base import UTCDateTime

revision: str = "civic_virtue_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("civic_virtue",)
# notices, ballots, documents, activities and consent: the shared services' tables (core_0006).
depends_on: str | Sequence[str] | None = "core_0006"

TABLES = ["cv_campaigns", "cv_categories", "cv_nominations", "cv_scores", "cv_events", "cv_places"]


def upgrade() -> None:
    op.create_table(
        "cv_campaigns",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("nominee_rule", sa.String(length=100), nullable=False),
        sa.Column("voter_rule", sa.String(length=100), nullable=False),
        sa.Column("self_nomination", sa.Boolean(), nullable=False),
        sa.Column("awards_per_category", sa.Integer(), nullable=False),
        sa.Column("votes_per_category", sa.Integer(), nullable=False),
        sa.Column("nomination_opens_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("nomination_closes_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("review_closes_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("publicity_closes_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("vote_closes_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("shortlist_notice_id", sa.BigInteger(), nullable=True),
        sa.Column("winners_notice_id", sa.BigInteger(), nullable=True),
        sa.Column("awarded_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "nomination_opens_at < nomination_closes_at AND nomination_closes_at <= review_closes_at"
            " AND review_closes_at < publicity_closes_at AND publicity_closes_at < vote_closes_at",
            name=op.f("ck_cv_campaigns_periods_in_order"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_cv_campaigns_tenant_id_node_id_grid_nodes"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "shortlist_notice_id"],
            ["notices.tenant_id", "notices.id"],
            name=op.f("fk_cv_campaigns_tenant_id_shortlist_notice_id_notices"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "winners_notice_id"],
            ["notices.tenant_id", "notices.id"],
            name=op.f("fk_cv_campaigns_tenant_id_winners_notice_id_notices"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cv_campaigns")),
    )

    with op.batch_alter_table("cv_campaigns", schema=None) as batch_op:
        batch_op.create_index("ix_cv_campaigns_tenant_path", ["tenant_id", "node_path"], unique=False)

    op.create_table(
        "cv_categories",
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("ballot_id", sa.BigInteger(), nullable=True),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ballot_id"],
            ["ballots.tenant_id", "ballots.id"],
            name=op.f("fk_cv_categories_tenant_id_ballot_id_ballots"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "campaign_id"],
            ["cv_campaigns.tenant_id", "cv_campaigns.id"],
            name=op.f("fk_cv_categories_tenant_id_campaign_id_cv_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cv_categories")),
        sa.UniqueConstraint(
            "tenant_id", "campaign_id", "name", name=op.f("uq_cv_categories_tenant_id_campaign_id_name")
        ),
    )

    op.create_table(
        "cv_nominations",
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("category_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("nominee_name", sa.String(length=50), nullable=False),
        sa.Column("nominee_user_id", sa.BigInteger(), nullable=True),
        sa.Column("nominee_resident_id", sa.BigInteger(), nullable=True),
        sa.Column("nominee_phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("nominee_phone_masked", sa.String(length=16), nullable=True),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("headline", sa.String(length=100), nullable=False),
        sa.Column("story", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("nominator_kind", sa.String(length=16), nullable=False),
        sa.Column("nominator_unit", sa.String(length=100), nullable=False),
        sa.Column("nominated_by", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("review_note", sa.Text(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=True),
        sa.Column("certificate_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "campaign_id"],
            ["cv_campaigns.tenant_id", "cv_campaigns.id"],
            name=op.f("fk_cv_nominations_tenant_id_campaign_id_cv_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "category_id"],
            ["cv_categories.tenant_id", "cv_categories.id"],
            name=op.f("fk_cv_nominations_tenant_id_category_id_cv_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "certificate_id"],
            ["documents.tenant_id", "documents.id"],
            name=op.f("fk_cv_nominations_tenant_id_certificate_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_cv_nominations_tenant_id_node_id_grid_nodes"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "nominated_by"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_cv_nominations_tenant_id_nominated_by_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "nominee_resident_id"],
            ["residents.tenant_id", "residents.id"],
            name=op.f("fk_cv_nominations_tenant_id_nominee_resident_id_residents"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "nominee_user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_cv_nominations_tenant_id_nominee_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cv_nominations")),
    )

    with op.batch_alter_table("cv_nominations", schema=None) as batch_op:
        batch_op.create_index("ix_cv_nominations_tenant_campaign", ["tenant_id", "campaign_id", "status"], unique=False)
        batch_op.create_index("ix_cv_nominations_tenant_nominee", ["tenant_id", "nominee_user_id"], unique=False)
        batch_op.create_index("ix_cv_nominations_tenant_path", ["tenant_id", "node_path"], unique=False)

    op.create_table(
        "cv_scores",
        sa.Column("nomination_id", sa.BigInteger(), nullable=False),
        sa.Column("reviewer_id", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("scored_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("score >= 0 AND score <= 100", name=op.f("ck_cv_scores_score_range")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "nomination_id"],
            ["cv_nominations.tenant_id", "cv_nominations.id"],
            name=op.f("fk_cv_scores_tenant_id_nomination_id_cv_nominations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "reviewer_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_cv_scores_tenant_id_reviewer_id_users"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cv_scores")),
        sa.UniqueConstraint(
            "tenant_id", "nomination_id", "reviewer_id", name=op.f("uq_cv_scores_tenant_id_nomination_id_reviewer_id")
        ),
    )

    op.create_table(
        "cv_events",
        sa.Column("activity_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("starts_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        sa.Column("units", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("headcount >= 0", name=op.f("ck_cv_events_headcount_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "activity_id"],
            ["activities.tenant_id", "activities.id"],
            name=op.f("fk_cv_events_tenant_id_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cv_events")),
        sa.UniqueConstraint("tenant_id", "activity_id", name=op.f("uq_cv_events_tenant_id_activity_id")),
    )

    with op.batch_alter_table("cv_events", schema=None) as batch_op:
        batch_op.create_index("ix_cv_events_tenant_path", ["tenant_id", "node_path", "starts_at"], unique=False)

    op.create_table(
        "cv_places",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("theme", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("opened_on", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_cv_places_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cv_places")),
        sa.UniqueConstraint("tenant_id", "node_id", "name", name=op.f("uq_cv_places_tenant_id_node_id_name")),
    )

    with op.batch_alter_table("cv_places", schema=None) as batch_op:
        batch_op.create_index("ix_cv_places_tenant_path", ["tenant_id", "node_path"], unique=False)
    rls.enable(op, *TABLES)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
