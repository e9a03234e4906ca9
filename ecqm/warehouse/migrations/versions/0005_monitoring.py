"""monitoring: plans, sampling tasks, purchases, inbox files, market estimates;
inspection results remember the file they came from

Revision ID: 0005_monitoring
Revises: 0004_risk
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ecqm.warehouse.types

revision: str = "0005_monitoring"
down_revision: str | Sequence[str] | None = "0004_risk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox_files",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column(
            "problems",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("archived_as", sa.Text(), nullable=True),
        sa.Column("received_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_files")),
        sa.UniqueConstraint("kind", "sha256", name="uq_inbox_files_natural"),
    )
    op.create_table(
        "monitoring_plans",
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("risk_as_of", sa.Date(), nullable=True),
        sa.Column("budget_purchases", sa.Integer(), nullable=False),
        sa.Column("budget_fen", sa.BigInteger(), nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column(
            "scope",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "summary",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_monitoring_plans")),
    )
    op.create_table(
        "market_estimates",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("category_code", sa.String(length=48), nullable=False),
        sa.Column("audit_samples", sa.Integer(), nullable=False),
        sa.Column("audit_failed", sa.Integer(), nullable=False),
        sa.Column("estimate", sa.Float(), nullable=True),
        sa.Column("ci_low", sa.Float(), nullable=True),
        sa.Column("ci_high", sa.Float(), nullable=True),
        sa.Column("targeted_samples", sa.Integer(), nullable=False),
        sa.Column("targeted_failed", sa.Integer(), nullable=False),
        sa.Column("targeted_hit_rate", sa.Float(), nullable=True),
        sa.Column("audit_hit_rate", sa.Float(), nullable=True),
        sa.Column("lift", sa.Float(), nullable=True),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("computed_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["monitoring_plans.plan_id"],
            name=op.f("fk_market_estimates_plan_id_monitoring_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_estimates")),
        sa.UniqueConstraint("plan_id", "category_code", name="uq_market_estimates_natural"),
    )
    op.create_table(
        "sampling_tasks",
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("stratum", sa.String(length=16), nullable=False),
        sa.Column("stratum_key", sa.String(length=128), nullable=True),
        sa.Column("inclusion_probability", sa.Float(), nullable=False),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "listing_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("listing_external_id", sa.String(length=128), nullable=False),
        sa.Column("category_code", sa.String(length=48), nullable=True),
        sa.Column("risk_level", sa.String(length=16), nullable=True),
        sa.Column("risk_probability", sa.Float(), nullable=True),
        sa.Column("price_fen", sa.BigInteger(), nullable=True),
        sa.Column("price_cap_fen", sa.BigInteger(), nullable=True),
        sa.Column("sample_units", sa.SmallInteger(), nullable=False),
        sa.Column("backup_units", sa.SmallInteger(), nullable=False),
        sa.Column(
            "test_items",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "standards",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("lab_code", sa.String(length=32), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_sampling_tasks_listing_id_listings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["monitoring_plans.plan_id"],
            name=op.f("fk_sampling_tasks_plan_id_monitoring_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_sampling_tasks_product_id_products"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_sampling_tasks_shop_id_shops"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_sampling_tasks")),
    )
    with op.batch_alter_table("sampling_tasks", schema=None) as batch_op:
        batch_op.create_index("ix_sampling_tasks_plan_id", ["plan_id"], unique=False)
        batch_op.create_index("ix_sampling_tasks_product_id", ["product_id"], unique=False)

    op.create_table(
        "purchases",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("ordered_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("shop_name", sa.String(length=256), nullable=True),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("logistics_company", sa.String(length=64), nullable=True),
        sa.Column("tracking_number", sa.String(length=64), nullable=True),
        sa.Column("received_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sample_seal", sa.String(length=64), nullable=True),
        sa.Column("backup_seal", sa.String(length=64), nullable=True),
        sa.Column("condition", sa.Text(), nullable=True),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "loaded_at",
            ecqm.warehouse.types.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["sampling_tasks.task_id"],
            name=op.f("fk_purchases_task_id_sampling_tasks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchases")),
        sa.UniqueConstraint("task_id", "order_number", name="uq_purchases_natural"),
    )
    with op.batch_alter_table("inspection_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_file", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("file_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inspection_results", schema=None) as batch_op:
        batch_op.drop_column("file_sha256")
        batch_op.drop_column("source_file")

    op.drop_table("purchases")
    with op.batch_alter_table("sampling_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_sampling_tasks_product_id")
        batch_op.drop_index("ix_sampling_tasks_plan_id")

    op.drop_table("sampling_tasks")
    op.drop_table("market_estimates")
    op.drop_table("monitoring_plans")
    op.drop_table("inbox_files")
