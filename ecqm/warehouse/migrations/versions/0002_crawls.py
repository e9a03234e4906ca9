"""crawl runs and the evidence index

Revision ID: 0002_crawls
Revises: 0001_foundation
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ecqm.warehouse.types

revision: str = "0002_crawls"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "crawl_pages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("crawl_run_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("fetched_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=True),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column(
            "headers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_pages")),
        sa.UniqueConstraint(
            "crawl_run_id", "url", "sha256", "status", name="uq_crawl_pages_natural"
        ),
    )
    with op.batch_alter_table("crawl_pages", schema=None) as batch_op:
        batch_op.create_index("ix_crawl_pages_sha256", ["sha256"], unique=False)

    op.create_table(
        "crawl_runs",
        sa.Column("crawl_run_id", sa.String(length=64), nullable=False),
        sa.Column("profile", sa.String(length=64), nullable=False),
        sa.Column("partition_date", sa.Date(), nullable=False),
        sa.Column("shards", sa.SmallInteger(), nullable=False),
        sa.Column("started_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column(
            "items",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "errors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "loaded",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "loaded_at",
            ecqm.warehouse.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("crawl_run_id", name=op.f("pk_crawl_runs")),
    )


def downgrade() -> None:

    op.drop_table("crawl_runs")
    with op.batch_alter_table("crawl_pages", schema=None) as batch_op:
        batch_op.drop_index("ix_crawl_pages_sha256")

    op.drop_table("crawl_pages")
