"""core processing: lineage, reconciliation, watermarks, data quality

Revision ID: 0003_processing
Revises: 0002_crawls
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ecqm.warehouse.types

revision: str = "0003_processing"
down_revision: str | Sequence[str] | None = "0002_crawls"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "dq_results",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.String(length=128), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("suite", sa.String(length=128), nullable=False),
        sa.Column("expectation", sa.String(length=256), nullable=False),
        sa.Column("column_name", sa.String(length=64), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("element_count", sa.Integer(), nullable=False),
        sa.Column("unexpected_count", sa.Integer(), nullable=False),
        sa.Column("unexpected_percent", sa.Float(), nullable=True),
        sa.Column(
            "observed",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("checked_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dq_results")),
        sa.UniqueConstraint("run_id", "table_name", "expectation", name="uq_dq_results_natural"),
    )
    op.create_table(
        "process_runs",
        sa.Column("run_id", sa.String(length=128), nullable=False),
        sa.Column("staging_table", sa.String(length=64), nullable=False),
        sa.Column(
            "first_staging_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "last_staging_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("rows_in", sa.Integer(), nullable=False),
        sa.Column("to_core", sa.Integer(), nullable=False),
        sa.Column("merged", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("core_inserted", sa.Integer(), nullable=False),
        sa.Column("core_updated", sa.Integer(), nullable=False),
        sa.Column("balanced", sa.Boolean(), nullable=False),
        sa.Column("started_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "staging_table", name=op.f("pk_process_runs")),
    )
    op.create_table(
        "process_watermarks",
        sa.Column("staging_table", sa.String(length=64), nullable=False),
        sa.Column(
            "last_staging_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("run_id", sa.String(length=128), nullable=False),
        sa.Column("updated_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("staging_table", name=op.f("pk_process_watermarks")),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("listing_url", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "staging_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )

    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gtin", sa.String(length=14), nullable=True))
        batch_op.add_column(sa.Column("category_method", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("category_confidence", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "staging_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_index("ix_listings_product_id", ["product_id"], unique=False)
        batch_op.create_index("ix_listings_shop_id", ["shop_id"], unique=False)

    with op.batch_alter_table("recalls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "staging_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )

    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("listing_external_id", sa.String(length=128), nullable=True))
        batch_op.add_column(
            sa.Column(
                "staging_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_index("ix_reviews_listing_id", ["listing_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_reviews_listing_id")
        batch_op.drop_column("staging_id")
        batch_op.drop_column("listing_external_id")

    with op.batch_alter_table("recalls", schema=None) as batch_op:
        batch_op.drop_column("staging_id")

    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index("ix_listings_shop_id")
        batch_op.drop_index("ix_listings_product_id")
        batch_op.drop_column("staging_id")
        batch_op.drop_column("category_confidence")
        batch_op.drop_column("category_method")
        batch_op.drop_column("gtin")

    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_column("staging_id")
        batch_op.drop_column("listing_url")
        batch_op.drop_column("platform")

    op.drop_table("process_watermarks")
    op.drop_table("process_runs")
    op.drop_table("dq_results")
