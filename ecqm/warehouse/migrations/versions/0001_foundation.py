"""staging, reference and core layers

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ecqm.warehouse.types

revision: str = "0001_foundation"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "products",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("product_key", sa.String(length=128), nullable=False),
        sa.Column("brand", sa.String(length=128), nullable=True),
        sa.Column("model", sa.String(length=128), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("category_code", sa.String(length=48), nullable=True),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("producer_name", sa.String(length=256), nullable=True),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("first_seen_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("product_key", name="uq_products_natural"),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index("ix_products_brand_model", ["brand", "model"], unique=False)

    op.create_table(
        "quarantine",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("record_key", sa.String(length=256), nullable=False),
        sa.Column("rule", sa.String(length=128), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "loaded_at",
            ecqm.warehouse.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
        sa.UniqueConstraint(
            "table_name", "record_key", "rule", "run_id", name="uq_quarantine_natural"
        ),
    )
    op.create_table(
        "recalls",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("recall_number", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("product_name", sa.Text(), nullable=True),
        sa.Column(
            "brands",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "models",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("hazard", sa.Text(), nullable=True),
        sa.Column("remedy", sa.Text(), nullable=True),
        sa.Column("country", sa.String(length=64), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("fetched_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recalls")),
        sa.UniqueConstraint("source", "recall_number", name="uq_recalls_natural"),
    )
    op.create_table(
        "ref_banned_terms",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("term_class", sa.String(length=32), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("pattern", sa.Text(), nullable=True),
        sa.Column(
            "exemption_patterns",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source_version", sa.String(length=64), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "loaded_at",
            ecqm.warehouse.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_ref_banned_terms")),
    )
    op.create_table(
        "ref_categories",
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("name_zh", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=128), nullable=False),
        sa.Column("group_code", sa.String(length=32), nullable=False),
        sa.Column("group_zh", sa.String(length=32), nullable=False),
        sa.Column("severity_weight", sa.Float(), nullable=False),
        sa.Column("max_severity", sa.SmallInteger(), nullable=False),
        sa.Column("is_ccc_required", sa.Boolean(), nullable=False),
        sa.Column("ccc_catalogue_item", sa.Text(), nullable=True),
        sa.Column("ccc_required_from", sa.Date(), nullable=True),
        sa.Column(
            "standards",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "test_items",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "hazards",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "keywords",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("sample_units", sa.SmallInteger(), nullable=False),
        sa.Column("backup_units", sa.SmallInteger(), nullable=False),
        sa.Column("unit_zh", sa.String(length=8), nullable=False),
        sa.Column("source_version", sa.String(length=64), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "loaded_at",
            ecqm.warehouse.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_ref_categories")),
    )
    op.create_table(
        "ref_labs",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("accreditation_no", sa.String(length=32), nullable=False),
        sa.Column(
            "category_codes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("monthly_capacity", sa.Integer(), nullable=False),
        sa.Column("contact_email", sa.String(length=256), nullable=True),
        sa.Column("source_version", sa.String(length=64), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "loaded_at",
            ecqm.warehouse.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_ref_labs")),
    )
    op.create_table(
        "ref_regions",
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=6), nullable=True),
        sa.Column("regulator_name", sa.String(length=128), nullable=False),
        sa.Column("notify_email", sa.String(length=256), nullable=True),
        sa.Column("source_version", sa.String(length=64), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "loaded_at",
            ecqm.warehouse.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_ref_regions")),
    )
    op.create_table(
        "shops",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("company_name", sa.String(length=256), nullable=True),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("contact_hash", sa.String(length=64), nullable=True),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("address_hash", sa.String(length=64), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("first_seen_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shops")),
        sa.UniqueConstraint("platform", "external_id", name="uq_shops_natural"),
    )
    op.create_table(
        "stg_complaints",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("complaint_number", sa.String(length=64), nullable=False),
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
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stg_complaints")),
        sa.UniqueConstraint(
            "source", "complaint_number", "payload_sha256", name="uq_stg_complaints_natural"
        ),
    )
    with op.batch_alter_table("stg_complaints", schema=None) as batch_op:
        batch_op.create_index("ix_stg_complaints_crawl_run_id", ["crawl_run_id"], unique=False)

    op.create_table(
        "stg_listings",
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
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stg_listings")),
        sa.UniqueConstraint(
            "platform", "external_id", "payload_sha256", name="uq_stg_listings_natural"
        ),
    )
    with op.batch_alter_table("stg_listings", schema=None) as batch_op:
        batch_op.create_index("ix_stg_listings_crawl_run_id", ["crawl_run_id"], unique=False)

    op.create_table(
        "stg_recalls",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("recall_number", sa.String(length=64), nullable=False),
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
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stg_recalls")),
        sa.UniqueConstraint(
            "source", "recall_number", "payload_sha256", name="uq_stg_recalls_natural"
        ),
    )
    with op.batch_alter_table("stg_recalls", schema=None) as batch_op:
        batch_op.create_index("ix_stg_recalls_crawl_run_id", ["crawl_run_id"], unique=False)

    op.create_table(
        "stg_reviews",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("listing_external_id", sa.String(length=128), nullable=True),
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
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stg_reviews")),
        sa.UniqueConstraint(
            "platform", "external_id", "payload_sha256", name="uq_stg_reviews_natural"
        ),
    )
    with op.batch_alter_table("stg_reviews", schema=None) as batch_op:
        batch_op.create_index("ix_stg_reviews_crawl_run_id", ["crawl_run_id"], unique=False)

    op.create_table(
        "listings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("category_code", sa.String(length=48), nullable=True),
        sa.Column("platform_category", sa.Text(), nullable=True),
        sa.Column("brand", sa.String(length=128), nullable=True),
        sa.Column("model", sa.String(length=128), nullable=True),
        sa.Column("price_fen", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("ccc_number", sa.String(length=32), nullable=True),
        sa.Column("producer_name", sa.String(length=256), nullable=True),
        sa.Column("origin", sa.String(length=128), nullable=True),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("first_seen_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_listings_product_id_products")
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_listings_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listings")),
        sa.UniqueConstraint("platform", "external_id", name="uq_listings_natural"),
    )
    op.create_table(
        "complaints",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("complaint_number", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("respondent", sa.String(length=256), nullable=True),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "listing_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("demand", sa.Text(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("complainant_hash", sa.String(length=64), nullable=True),
        sa.Column("filed_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "steps",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("fetched_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["listings.id"], name=op.f("fk_complaints_listing_id_listings")
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_complaints_shop_id_shops")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("source", "complaint_number", name="uq_complaints_natural"),
    )
    op.create_table(
        "listing_snapshots",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "listing_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("captured_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=True),
        sa.Column("list_price_fen", sa.BigInteger(), nullable=True),
        sa.Column("sales_volume", sa.BigInteger(), nullable=True),
        sa.Column("sales_is_lower_bound", sa.Boolean(), nullable=True),
        sa.Column("availability", sa.String(length=32), nullable=True),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("review_count", sa.Integer(), nullable=True),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["listings.id"], name=op.f("fk_listing_snapshots_listing_id_listings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_snapshots")),
        sa.UniqueConstraint("listing_id", "captured_at", name="uq_listing_snapshots_natural"),
    )
    op.create_table(
        "reviews",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column(
            "listing_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("author_hash", sa.String(length=64), nullable=True),
        sa.Column("posted_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("spam_cluster_id", sa.String(length=64), nullable=True),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("fetched_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["listings.id"], name=op.f("fk_reviews_listing_id_listings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("platform", "external_id", name="uq_reviews_natural"),
    )


def downgrade() -> None:

    op.drop_table("reviews")
    op.drop_table("listing_snapshots")
    op.drop_table("complaints")
    op.drop_table("listings")
    with op.batch_alter_table("stg_reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_stg_reviews_crawl_run_id")

    op.drop_table("stg_reviews")
    with op.batch_alter_table("stg_recalls", schema=None) as batch_op:
        batch_op.drop_index("ix_stg_recalls_crawl_run_id")

    op.drop_table("stg_recalls")
    with op.batch_alter_table("stg_listings", schema=None) as batch_op:
        batch_op.drop_index("ix_stg_listings_crawl_run_id")

    op.drop_table("stg_listings")
    with op.batch_alter_table("stg_complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_stg_complaints_crawl_run_id")

    op.drop_table("stg_complaints")
    op.drop_table("shops")
    op.drop_table("ref_regions")
    op.drop_table("ref_labs")
    op.drop_table("ref_categories")
    op.drop_table("ref_banned_terms")
    op.drop_table("recalls")
    op.drop_table("quarantine")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_brand_model")

    op.drop_table("products")
