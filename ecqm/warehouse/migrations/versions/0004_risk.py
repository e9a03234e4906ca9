"""risk layer (signals, assessments, decisions, model versions, review scores,
recall matches, inspection results) and shop pages in staging

Revision ID: 0004_risk
Revises: 0003_processing
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ecqm.warehouse.types

revision: str = "0004_risk"
down_revision: str | Sequence[str] | None = "0003_processing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("model_name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trained_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_start", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("window_end", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column(
            "metrics",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("artifact", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("model_name", "version", name="uq_model_versions_natural"),
    )
    op.create_table(
        "risk_signals",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column(
            "subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("signal", sa.String(length=48), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("window_start", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("window_end", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=True),
        sa.Column("strength", sa.Float(), nullable=False),
        sa.Column("hazard", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("computed_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_signals")),
        sa.UniqueConstraint(
            "as_of", "subject_kind", "subject_id", "signal", name="uq_risk_signals_natural"
        ),
    )
    with op.batch_alter_table("risk_signals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_risk_signals_subject", ["subject_kind", "subject_id"], unique=False
        )

    op.create_table(
        "stg_shops",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("crawl_run_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("fetched_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "loaded_at",
            ecqm.warehouse.types.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stg_shops")),
        sa.UniqueConstraint(
            "platform", "external_id", "payload_sha256", name="uq_stg_shops_natural"
        ),
    )
    with op.batch_alter_table("stg_shops", schema=None) as batch_op:
        batch_op.create_index("ix_stg_shops_crawl_run_id", ["crawl_run_id"], unique=False)

    op.create_table(
        "risk_assessments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("category_code", sa.String(length=48), nullable=True),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("likelihood", sa.SmallInteger(), nullable=False),
        sa.Column("severity", sa.SmallInteger(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("hazard", sa.String(length=32), nullable=True),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("matrix_version", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column(
            "explanation",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("is_confirmed", sa.Boolean(), nullable=False),
        sa.Column("confirmation", sa.Text(), nullable=True),
        sa.Column("review_status", sa.String(length=16), nullable=False),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("assessed_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_risk_assessments_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_assessments")),
        sa.UniqueConstraint("as_of", "product_id", name="uq_risk_assessments_natural"),
    )
    with op.batch_alter_table("risk_assessments", schema=None) as batch_op:
        batch_op.create_index("ix_risk_assessments_level", ["level"], unique=False)
        batch_op.create_index("ix_risk_assessments_product_id", ["product_id"], unique=False)

    op.create_table(
        "risk_decisions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("level_at_decision", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=False),
        sa.Column("decided_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column(
            "loaded_at",
            ecqm.warehouse.types.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_risk_decisions_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_decisions")),
        sa.UniqueConstraint("product_id", "decided_at", name="uq_risk_decisions_natural"),
    )
    op.create_table(
        "inspection_results",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=True),
        sa.Column("listing_external_id", sa.String(length=128), nullable=True),
        sa.Column(
            "listing_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("test_item", sa.Text(), nullable=False),
        sa.Column("standard_clause", sa.Text(), nullable=True),
        sa.Column("measured_value", sa.Text(), nullable=True),
        sa.Column("limit_value", sa.Text(), nullable=True),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("defect_class", sa.String(length=8), nullable=True),
        sa.Column("lab_code", sa.String(length=32), nullable=True),
        sa.Column("report_number", sa.String(length=64), nullable=False),
        sa.Column("tested_on", sa.Date(), nullable=False),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "loaded_at",
            ecqm.warehouse.types.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_inspection_results_listing_id_listings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_inspection_results_product_id_products"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_inspection_results_shop_id_shops"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_results")),
        sa.UniqueConstraint("report_number", "test_item", name="uq_inspection_results_natural"),
    )
    with op.batch_alter_table("inspection_results", schema=None) as batch_op:
        batch_op.create_index("ix_inspection_results_product_id", ["product_id"], unique=False)

    op.create_table(
        "recall_matches",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "listing_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "recall_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("recall_number", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("matched_on", sa.String(length=64), nullable=False),
        sa.Column("matched_model", sa.String(length=128), nullable=True),
        sa.Column("hazard", sa.String(length=32), nullable=True),
        sa.Column("matched_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_recall_matches_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recall_id"],
            ["recalls.id"],
            name=op.f("fk_recall_matches_recall_id_recalls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recall_matches")),
        sa.UniqueConstraint("listing_id", "recall_id", name="uq_recall_matches_natural"),
    )
    with op.batch_alter_table("recall_matches", schema=None) as batch_op:
        batch_op.create_index("ix_recall_matches_recall_id", ["recall_id"], unique=False)

    op.create_table(
        "review_scores",
        sa.Column(
            "review_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("negative_probability", sa.Float(), nullable=False),
        sa.Column("defect_probability", sa.Float(), nullable=False),
        sa.Column("hazard", sa.String(length=32), nullable=False),
        sa.Column("hazard_probability", sa.Float(), nullable=False),
        sa.Column(
            "terms",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("scored_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["reviews.id"],
            name=op.f("fk_review_scores_review_id_reviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("review_id", name=op.f("pk_review_scores")),
    )


def downgrade() -> None:
    op.drop_table("review_scores")
    with op.batch_alter_table("recall_matches", schema=None) as batch_op:
        batch_op.drop_index("ix_recall_matches_recall_id")

    op.drop_table("recall_matches")
    with op.batch_alter_table("inspection_results", schema=None) as batch_op:
        batch_op.drop_index("ix_inspection_results_product_id")

    op.drop_table("inspection_results")
    op.drop_table("risk_decisions")
    with op.batch_alter_table("risk_assessments", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_assessments_product_id")
        batch_op.drop_index("ix_risk_assessments_level")

    op.drop_table("risk_assessments")
    with op.batch_alter_table("stg_shops", schema=None) as batch_op:
        batch_op.drop_index("ix_stg_shops_crawl_run_id")

    op.drop_table("stg_shops")
    with op.batch_alter_table("risk_signals", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_signals_subject")

    op.drop_table("risk_signals")
    op.drop_table("model_versions")
