"""co_governance: volunteers, teams, service records, 雷锋超市, providers/offers/bookings/contracts,
training, 红色物业; RLS on every table

Revision ID: co_governance_0001
Depends on: core_0006 (activities, ledger)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import rls

revision: str = "co_governance_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("co_governance",)
depends_on: str | Sequence[str] | None = "core_0006"

TABLES = (
    "cg_counters",
    "cg_courses",
    "cg_property_companies",
    "cg_providers",
    "cg_store_items",
    "cg_teams",
    "cg_volunteers",
    "cg_activity_info",
    "cg_contracts",
    "cg_enrolments",
    "cg_offers",
    "cg_property_reviews",
    "cg_redemptions",
    "cg_service_records",
    "cg_team_members",
    "cg_bookings",
)


def upgrade() -> None:
    op.create_table(
        "cg_counters",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cg_counters")),
        sa.UniqueConstraint("tenant_id", "key", name=op.f("uq_cg_counters_tenant_id_key")),
    )
    op.create_table(
        "cg_courses",
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("trade", sa.String(length=20), nullable=False),
        sa.Column("provider_name", sa.String(length=100), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("required_sessions", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_cg_courses_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cg_courses")),
    )
    with op.batch_alter_table("cg_courses", schema=None) as batch_op:
        batch_op.create_index("ix_cg_courses_tenant_path", ["tenant_id", "node_path"], unique=False)

    op.create_table(
        "cg_property_companies",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("party_mode", sa.String(length=16), nullable=False),
        sa.Column("party_org", sa.String(length=100), nullable=False),
        sa.Column("instructor", sa.String(length=50), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_cg_property_companies_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cg_property_companies")),
        sa.UniqueConstraint(
            "tenant_id", "node_id", "name", name=op.f("uq_cg_property_companies_tenant_id_node_id_name")
        ),
    )
    with op.batch_alter_table("cg_property_companies", schema=None) as batch_op:
        batch_op.create_index("ix_cg_property_companies_tenant_path", ["tenant_id", "node_path"], unique=False)

    op.create_table(
        "cg_providers",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("licence", sa.String(length=300), nullable=False),
        sa.Column("contact_name", sa.String(length=50), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_cg_providers_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cg_providers")),
        sa.UniqueConstraint("tenant_id", "credit_code", name=op.f("uq_cg_providers_tenant_id_credit_code")),
    )
    with op.batch_alter_table("cg_providers", schema=None) as batch_op:
        batch_op.create_index("ix_cg_providers_tenant_path", ["tenant_id", "node_path"], unique=False)

    op.create_table(
        "cg_store_items",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("price > 0", name=op.f("ck_cg_store_items_price_positive")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_cg_store_items_stock_not_negative")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_cg_store_items_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cg_store_items")),
    )
    with op.batch_alter_table("cg_store_items", schema=None) as batch_op:
        batch_op.create_index("ix_cg_store_items_tenant_path", ["tenant_id", "node_path"], unique=False)

    op.create_table(
        "cg_teams",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_cg_teams_tenant_id_node_id_grid_nodes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cg_teams")),
        sa.UniqueConstraint("tenant_id", "node_id", "name", name=op.f("uq_cg_teams_tenant_id_node_id_name")),
    )
    with op.batch_alter_table("cg_teams", schema=None) as batch_op:
        batch_op.create_index("ix_cg_teams_tenant_path", ["tenant_id", "node_path"], unique=False)

    op.create_table(
        "cg_volunteers",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("phone_masked", sa.String(length=16), nullable=False),
        sa.Column("skills", sa.String(length=300), nullable=False),
        sa.Column("availability", sa.String(length=200), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("minutes_total", sa.Integer(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("minutes_total >= 0", name=op.f("ck_cg_volunteers_minutes_not_negative")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_cg_volunteers_tenant_id_node_id_grid_nodes"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_cg_volunteers_tenant_id_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cg_volunteers")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_cg_volunteers_tenant_id_number")),
        sa.UniqueConstraint("tenant_id", "user_id", name=op.f("uq_cg_volunteers_tenant_id_user_id")),
    )
    with op.batch_alter_table("cg_volunteers", schema=None) as batch_op:
        batch_op.create_index("ix_cg_volunteers_tenant_minutes", ["tenant_id", "minutes_total"], unique=False)
        batch_op.create_index("ix_cg_volunteers_tenant_path", ["tenant_id", "node_path"], unique=False)

    op.create_table(
        "cg_activity_info",
        sa.Column("activity_id", sa.BigInteger(), nullable=False),
        sa.Column("team_id", sa.BigInteger(), nullable=True),
        sa.Column("organiser", sa.String(length=100), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "activity_id"],
            ["activities.tenant_id", "activities.id"],
            name=op.f("fk_cg_activity_info_tenant_id_activity_id_activities"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "team_id"],
            ["cg_teams.tenant_id", "cg_teams.id"],
            name=op.f("fk_cg_activity_info_tenant_id_team_id_cg_teams"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cg_activity_info")),
        sa.UniqueConstraint("tenant_id", "activity_id", name=op.f("uq_cg_activity_info_tenant_id_activity_id")),
    )
    op.create_table(
        "cg_contracts",
        sa.Column("provider_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("deliverables", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "provider_id"],
            ["cg_providers.tenant_id", "cg_providers.id"],
            name=op.f("fk_cg_contracts_tenant_id_provider_id_cg_providers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cg_contracts")),
    )
    with op.batch_alter_table("cg_contracts", schema=None) as batch_op:
        batch_op.create_index("ix_cg_contracts_tenant_path", ["tenant_id", "node_path"], unique=False)

    op.create_table(
        "cg_enrolments",
        sa.Column("course_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("phone_masked", sa.String(length=16), nullable=False),
        sa.Column("attended", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("employed", sa.Boolean(), nullable=False),
        sa.Column("employer", sa.String(length=100), nullable=False),
        sa.Column("employed_on", sa.Date(), nullable=True),
        sa.Column("followed_up_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "course_id"],
            ["cg_courses.tenant_id", "cg_courses.id"],
            name=op.f("fk_cg_enrolments_tenant_id_course_id_cg_courses"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cg_enrolments")),
    )
    with op.batch_alter_table("cg_enrolments", schema=None) as batch_op:
        batch_op.create_index("ix_cg_enrolments_tenant_course", ["tenant_id", "course_id", "state"], unique=False)

    op.create_table(
        "cg_offers",
        sa.Column("provider_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_cg_offers_price_ok")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "provider_id"],
            ["cg_providers.tenant_id", "cg_providers.id"],
            name=op.f("fk_cg_offers_tenant_id_provider_id_cg_providers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cg_offers")),
    )
    op.create_table(
        "cg_property_reviews",
        sa.Column("company_id", sa.BigInteger(), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name=op.f("ck_cg_property_reviews_score_range")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "company_id"],
            ["cg_property_companies.tenant_id", "cg_property_companies.id"],
            name=op.f("fk_cg_property_reviews_tenant_id_company_id_cg_property_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_cg_property_reviews_tenant_id_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cg_property_reviews")),
        sa.UniqueConstraint(
            "tenant_id",
            "company_id",
            "quarter",
            "user_id",
            name=op.f("uq_cg_property_reviews_tenant_id_company_id_quarter_user_id"),
        ),
    )
    op.create_table(
        "cg_redemptions",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("request_key", sa.String(length=100), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("item_name", sa.String(length=100), nullable=False),
        sa.Column("volunteer_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("posting_id", sa.BigInteger(), nullable=True),
        sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handed_over_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handed_over_by", sa.BigInteger(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_cg_redemptions_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "item_id"],
            ["cg_store_items.tenant_id", "cg_store_items.id"],
            name=op.f("fk_cg_redemptions_tenant_id_item_id_cg_store_items"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "posting_id"],
            ["ledger_postings.tenant_id", "ledger_postings.id"],
            name=op.f("fk_cg_redemptions_tenant_id_posting_id_ledger_postings"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "volunteer_id"],
            ["cg_volunteers.tenant_id", "cg_volunteers.id"],
            name=op.f("fk_cg_redemptions_tenant_id_volunteer_id_cg_volunteers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cg_redemptions")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_cg_redemptions_tenant_id_number")),
        sa.UniqueConstraint("tenant_id", "request_key", name=op.f("uq_cg_redemptions_tenant_id_request_key")),
    )
    with op.batch_alter_table("cg_redemptions", schema=None) as batch_op:
        batch_op.create_index("ix_cg_redemptions_tenant_path_state", ["tenant_id", "node_path", "state"], unique=False)
        batch_op.create_index("ix_cg_redemptions_tenant_volunteer", ["tenant_id", "volunteer_id"], unique=False)

    op.create_table(
        "cg_service_records",
        sa.Column("volunteer_id", sa.BigInteger(), nullable=False),
        sa.Column("activity_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("served_on", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("organiser", sa.String(length=100), nullable=False),
        sa.Column("recorded_by", sa.BigInteger(), nullable=True),
        sa.Column("recorder_name", sa.String(length=100), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("posting_id", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "activity_id"],
            ["activities.tenant_id", "activities.id"],
            name=op.f("fk_cg_service_records_tenant_id_activity_id_activities"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "posting_id"],
            ["ledger_postings.tenant_id", "ledger_postings.id"],
            name=op.f("fk_cg_service_records_tenant_id_posting_id_ledger_postings"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "volunteer_id"],
            ["cg_volunteers.tenant_id", "cg_volunteers.id"],
            name=op.f("fk_cg_service_records_tenant_id_volunteer_id_cg_volunteers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cg_service_records")),
        sa.UniqueConstraint(
            "tenant_id",
            "volunteer_id",
            "activity_id",
            name=op.f("uq_cg_service_records_tenant_id_volunteer_id_activity_id"),
        ),
    )
    with op.batch_alter_table("cg_service_records", schema=None) as batch_op:
        batch_op.create_index("ix_cg_service_records_tenant_served", ["tenant_id", "served_on"], unique=False)

    op.create_table(
        "cg_team_members",
        sa.Column("team_id", sa.BigInteger(), nullable=False),
        sa.Column("volunteer_id", sa.BigInteger(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "team_id"],
            ["cg_teams.tenant_id", "cg_teams.id"],
            name=op.f("fk_cg_team_members_tenant_id_team_id_cg_teams"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "volunteer_id"],
            ["cg_volunteers.tenant_id", "cg_volunteers.id"],
            name=op.f("fk_cg_team_members_tenant_id_volunteer_id_cg_volunteers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cg_team_members")),
        sa.UniqueConstraint(
            "tenant_id", "team_id", "volunteer_id", name=op.f("uq_cg_team_members_tenant_id_team_id_volunteer_id")
        ),
    )
    with op.batch_alter_table("cg_team_members", schema=None) as batch_op:
        batch_op.create_index("ix_cg_team_members_tenant_volunteer", ["tenant_id", "volunteer_id"], unique=False)

    op.create_table(
        "cg_bookings",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("offer_id", sa.BigInteger(), nullable=False),
        sa.Column("provider_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("wanted_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("rating", sa.BigInteger(), nullable=True),
        sa.Column("rating_comment", sa.String(length=500), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name=op.f("ck_cg_bookings_rating_range")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_cg_bookings_tenant_id_node_id_grid_nodes"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "offer_id"],
            ["cg_offers.tenant_id", "cg_offers.id"],
            name=op.f("fk_cg_bookings_tenant_id_offer_id_cg_offers"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "provider_id"],
            ["cg_providers.tenant_id", "cg_providers.id"],
            name=op.f("fk_cg_bookings_tenant_id_provider_id_cg_providers"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_cg_bookings_tenant_id_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cg_bookings")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_cg_bookings_tenant_id_number")),
    )
    with op.batch_alter_table("cg_bookings", schema=None) as batch_op:
        batch_op.create_index("ix_cg_bookings_tenant_path_state", ["tenant_id", "node_path", "state"], unique=False)
        batch_op.create_index("ix_cg_bookings_tenant_user", ["tenant_id", "user_id"], unique=False)
    for table in TABLES:
        rls.enable(op, table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
