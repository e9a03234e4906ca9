"""results: evaluations, notifications outbox and events, merchant credit

Revision ID: 0006_results
Revises: 0005_monitoring
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ecqm.warehouse.types

revision: str = "0006_results"
down_revision: str | Sequence[str] | None = "0005_monitoring"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "merchant_credit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("shop_external_id", sa.String(length=128), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("shop_name", sa.String(length=256), nullable=True),
        sa.Column("list_kind", sa.String(length=8), nullable=False),
        sa.Column("rule_code", sa.String(length=48), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("listed_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rules_version", sa.String(length=32), nullable=False),
        sa.Column("computed_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_merchant_credit_shop_id_shops"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_credit")),
        sa.UniqueConstraint(
            "platform",
            "shop_external_id",
            "list_kind",
            "rule_code",
            "listed_on",
            name="uq_merchant_credit_natural",
        ),
    )
    op.create_table(
        "evaluations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("report_number", sa.String(length=64), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=True),
        sa.Column("stratum", sa.String(length=16), nullable=True),
        sa.Column("platform", sa.String(length=32), nullable=True),
        sa.Column("listing_external_id", sa.String(length=128), nullable=True),
        sa.Column(
            "listing_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("category_code", sa.String(length=48), nullable=True),
        sa.Column("lab_code", sa.String(length=32), nullable=True),
        sa.Column("tested_on", sa.Date(), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("items_total", sa.Integer(), nullable=False),
        sa.Column("items_failed", sa.Integer(), nullable=False),
        sa.Column("worst_defect", sa.String(length=8), nullable=True),
        sa.Column(
            "failed_items",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("is_safety", sa.Boolean(), nullable=False),
        sa.Column("is_retest", sa.Boolean(), nullable=False),
        sa.Column("supersedes", sa.String(length=64), nullable=True),
        sa.Column("superseded_by", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("seller_deadline", sa.Date(), nullable=False),
        sa.Column("risk_level_before", sa.String(length=16), nullable=True),
        sa.Column("risk_level_after", sa.String(length=16), nullable=True),
        sa.Column("rules_version", sa.String(length=32), nullable=False),
        sa.Column("evaluated_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_evaluations_listing_id_listings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_evaluations_product_id_products"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_evaluations_shop_id_shops"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["sampling_tasks.task_id"],
            name=op.f("fk_evaluations_task_id_sampling_tasks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
        sa.UniqueConstraint("report_number", name="uq_evaluations_natural"),
    )
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.create_index("ix_evaluations_product_id", ["product_id"], unique=False)
        batch_op.create_index("ix_evaluations_shop_id", ["shop_id"], unique=False)
        batch_op.create_index("ix_evaluations_task_id", ["task_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column(
            "evaluation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("report_number", sa.String(length=64), nullable=True),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("recipient_kind", sa.String(length=16), nullable=False),
        sa.Column("recipient_name", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("lease_until", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("receipt", sa.Text(), nullable=True),
        sa.Column("due_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ack_due_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "acknowledged_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("ack_kind", sa.String(length=32), nullable=True),
        sa.Column("ack_note", sa.Text(), nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("escalated_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_notifications_evaluation_id_evaluations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["notifications.id"],
            name=op.f("fk_notifications_parent_id_notifications"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("idempotency_key", name="uq_notifications_natural"),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_notifications_evaluation_id", ["evaluation_id"], unique=False)

    op.create_table(
        "notification_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "notification_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("at", ecqm.warehouse.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_events_notification_id_notifications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_events")),
    )
    with op.batch_alter_table("notification_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notification_events_notification_id", ["notification_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notification_events", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_events_notification_id")

    op.drop_table("notification_events")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_evaluation_id")
        batch_op.drop_index("ix_notifications_due")

    op.drop_table("notifications")
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_index("ix_evaluations_task_id")
        batch_op.drop_index("ix_evaluations_shop_id")
        batch_op.drop_index("ix_evaluations_product_id")

    op.drop_table("evaluations")
    op.drop_table("merchant_credit")
