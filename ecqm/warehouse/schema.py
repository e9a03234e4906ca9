"""The warehouse, defined once in SQLAlchemy Core.

Layers are marked by prefixes: ``stg_`` staging (one row per raw record, immutable
payload), ``ref_`` reference data (owned by versioned files in the repository), and
the unprefixed core tables. Later layers (risk, monitoring) arrive with their own
Alembic migrations. Natural keys are unique constraints named ``uq_<table>_natural``;
:func:`ecqm.warehouse.bulk.upsert` uses them as its conflict target.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

from ecqm.warehouse.types import Id, Json, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _loaded_at() -> Column:
    return Column(
        "loaded_at", UTCDateTime(), nullable=False, server_default=func.current_timestamp()
    )


# --------------------------------------------------------------------------- staging
# One row per distinct raw record. The natural key plus the payload's SHA-256 makes a
# re-crawl of unchanged content add nothing, while a changed record (new price, new
# complaint status) adds a row, so the history stays in the raw layer and every core
# table can be rebuilt from staging.


def _staging_table(name: str, *key: Column, key_names: tuple[str, ...]) -> Table:
    return Table(
        name,
        metadata,
        Column("id", Id, primary_key=True, autoincrement=True),
        Column("source", String(64), nullable=False),
        *key,
        Column("payload_sha256", String(64), nullable=False),
        Column("crawl_run_id", String(64), nullable=False),
        Column("url", Text),
        Column("fetched_at", UTCDateTime(), nullable=False),
        Column("evidence_sha256", String(64)),
        Column("payload", Json, nullable=False),
        _loaded_at(),
        UniqueConstraint(*key_names, "payload_sha256", name=f"uq_{name}_natural"),
        Index(f"ix_{name}_crawl_run_id", "crawl_run_id"),
    )


# ``source`` names where the record came from (a site profile, or a recall source such
# as ``cpsc``); listings and reviews are keyed by platform, complaints and recalls by
# their source's own number.
stg_listings = _staging_table(
    "stg_listings",
    Column("platform", String(32), nullable=False),
    Column("external_id", String(128), nullable=False),
    key_names=("platform", "external_id"),
)
stg_reviews = _staging_table(
    "stg_reviews",
    Column("platform", String(32), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("listing_external_id", String(128)),
    key_names=("platform", "external_id"),
)
stg_complaints = _staging_table(
    "stg_complaints",
    Column("complaint_number", String(64), nullable=False),
    key_names=("source", "complaint_number"),
)
stg_recalls = _staging_table(
    "stg_recalls",
    Column("recall_number", String(64), nullable=False),
    key_names=("source", "recall_number"),
)
# Shop pages: the licence data a platform shows (company, credit code, contact, phone,
# address). Core keeps only pseudonyms of the personal parts; seller networks are
# found from them.
stg_shops = _staging_table(
    "stg_shops",
    Column("platform", String(32), nullable=False),
    Column("external_id", String(128), nullable=False),
    key_names=("platform", "external_id"),
)

# ------------------------------------------------------------------------- reference
ref_categories = Table(
    "ref_categories",
    metadata,
    Column("code", String(48), primary_key=True),
    Column("name_zh", String(64), nullable=False),
    Column("name_en", String(128), nullable=False),
    Column("group_code", String(32), nullable=False),
    Column("group_zh", String(32), nullable=False),
    Column("severity_weight", Float, nullable=False),
    Column("max_severity", SmallInteger, nullable=False),
    Column("is_ccc_required", Boolean, nullable=False),
    Column("ccc_catalogue_item", Text),
    Column("ccc_required_from", Date),
    Column("standards", Json, nullable=False),
    Column("test_items", Json, nullable=False),
    Column("hazards", Json, nullable=False),
    Column("keywords", Json, nullable=False),
    Column("sample_units", SmallInteger, nullable=False),
    Column("backup_units", SmallInteger, nullable=False),
    Column("unit_zh", String(8), nullable=False),
    Column("source_version", String(64), nullable=False),
    Column("is_active", Boolean, nullable=False),
    _loaded_at(),
)

ref_banned_terms = Table(
    "ref_banned_terms",
    metadata,
    Column("term", String(64), primary_key=True),
    Column("term_class", String(32), nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("pattern", Text),
    Column("exemption_patterns", Json, nullable=False),
    Column("note", Text),
    Column("source_version", String(64), nullable=False),
    Column("is_active", Boolean, nullable=False),
    _loaded_at(),
)

ref_regions = Table(
    "ref_regions",
    metadata,
    Column("code", String(6), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("level", String(16), nullable=False),
    Column("parent_code", String(6)),
    Column("regulator_name", String(128), nullable=False),
    Column("notify_email", String(256)),
    Column("source_version", String(64), nullable=False),
    Column("is_active", Boolean, nullable=False),
    _loaded_at(),
)

ref_labs = Table(
    "ref_labs",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("region_code", String(6), nullable=False),
    Column("accreditation_no", String(32), nullable=False),
    Column("category_codes", Json, nullable=False),
    Column("monthly_capacity", Integer, nullable=False),
    Column("contact_email", String(256)),
    Column("source_version", String(64), nullable=False),
    Column("is_active", Boolean, nullable=False),
    _loaded_at(),
)

# ------------------------------------------------------------------------------ core
shops = Table(
    "shops",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("name", String(256), nullable=False),
    Column("company_name", String(256)),
    Column("region_code", String(6)),
    Column("contact_hash", String(64)),
    Column("phone_hash", String(64)),
    Column("address_hash", String(64)),
    Column("url", Text),
    Column("attributes", Json),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    UniqueConstraint("platform", "external_id", name="uq_shops_natural"),
)

products = Table(
    "products",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("product_key", String(128), nullable=False),
    Column("brand", String(128)),
    Column("model", String(128)),
    Column("name", Text),
    Column("category_code", String(48)),
    Column("gtin", String(14)),
    Column("producer_name", String(256)),
    Column("attributes", Json),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    UniqueConstraint("product_key", name="uq_products_natural"),
    Index("ix_products_brand_model", "brand", "model"),
)

listings = Table(
    "listings",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("shop_id", Id, ForeignKey("shops.id")),
    Column("product_id", Id, ForeignKey("products.id")),
    Column("url", Text),
    Column("title", Text, nullable=False),
    Column("category_code", String(48)),
    Column("platform_category", Text),
    Column("brand", String(128)),
    Column("model", String(128)),
    Column("price_fen", BigInteger),
    Column("currency", String(3)),
    Column("ccc_number", String(32)),
    Column("producer_name", String(256)),
    Column("origin", String(128)),
    Column("gtin", String(14)),
    Column("category_method", String(8)),
    Column("category_confidence", Float),
    Column("attributes", Json),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("staging_id", Id),
    UniqueConstraint("platform", "external_id", name="uq_listings_natural"),
    Index("ix_listings_product_id", "product_id"),
    Index("ix_listings_shop_id", "shop_id"),
)

listing_snapshots = Table(
    "listing_snapshots",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("listing_id", Id, ForeignKey("listings.id"), nullable=False),
    Column("captured_at", UTCDateTime(), nullable=False),
    Column("price_fen", BigInteger),
    Column("list_price_fen", BigInteger),
    Column("sales_volume", BigInteger),
    Column("sales_is_lower_bound", Boolean),
    Column("availability", String(32)),
    Column("rating", Float),
    Column("review_count", Integer),
    Column("evidence_sha256", String(64)),
    UniqueConstraint("listing_id", "captured_at", name="uq_listing_snapshots_natural"),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("listing_id", Id, ForeignKey("listings.id")),
    Column("listing_external_id", String(128)),
    Column("rating", Float),
    Column("text", Text),
    Column("author_hash", String(64)),
    Column("posted_at", UTCDateTime()),
    Column("spam_cluster_id", String(64)),
    Column("attributes", Json),
    Column("fetched_at", UTCDateTime(), nullable=False),
    Column("staging_id", Id),
    UniqueConstraint("platform", "external_id", name="uq_reviews_natural"),
    Index("ix_reviews_listing_id", "listing_id"),
)

complaints = Table(
    "complaints",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("complaint_number", String(64), nullable=False),
    Column("title", Text),
    Column("respondent", String(256)),
    Column("platform", String(32)),
    Column("shop_id", Id, ForeignKey("shops.id")),
    Column("listing_id", Id, ForeignKey("listings.id")),
    Column("listing_url", Text),
    Column("problem", Text),
    Column("demand", Text),
    Column("amount_fen", BigInteger),
    Column("status", String(16)),
    Column("complainant_hash", String(64)),
    Column("filed_at", UTCDateTime()),
    Column("steps", Json),
    Column("attributes", Json),
    Column("fetched_at", UTCDateTime(), nullable=False),
    Column("staging_id", Id),
    UniqueConstraint("source", "complaint_number", name="uq_complaints_natural"),
)

recalls = Table(
    "recalls",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("recall_number", String(64), nullable=False),
    Column("title", Text),
    Column("product_name", Text),
    Column("brands", Json),
    Column("models", Json),
    Column("hazard", Text),
    Column("remedy", Text),
    Column("country", String(64)),
    Column("published_on", Date),
    Column("url", Text),
    Column("attributes", Json),
    Column("fetched_at", UTCDateTime(), nullable=False),
    Column("staging_id", Id),
    UniqueConstraint("source", "recall_number", name="uq_recalls_natural"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("table_name", String(64), nullable=False),
    Column("record_key", String(256), nullable=False),
    Column("rule", String(128), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("value", Text),
    Column("payload", Json),
    _loaded_at(),
    UniqueConstraint("table_name", "record_key", "rule", "run_id", name="uq_quarantine_natural"),
)

# ------------------------------------------------------------------------ processing
# What each staging → core run did: the high-water mark per staging table (the last
# staging row id taken into core), the reconciliation of every staging row taken in
# (core row, merged into another, or quarantined), and data-quality results.
process_watermarks = Table(
    "process_watermarks",
    metadata,
    Column("staging_table", String(64), primary_key=True),
    Column("last_staging_id", Id, nullable=False),
    Column("run_id", String(128), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

process_runs = Table(
    "process_runs",
    metadata,
    Column("run_id", String(128), primary_key=True),
    Column("staging_table", String(64), primary_key=True),
    Column("first_staging_id", Id),
    Column("last_staging_id", Id),
    Column("rows_in", Integer, nullable=False),
    Column("to_core", Integer, nullable=False),
    Column("merged", Integer, nullable=False),
    Column("quarantined", Integer, nullable=False),
    Column("core_inserted", Integer, nullable=False),
    Column("core_updated", Integer, nullable=False),
    Column("balanced", Boolean, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=False),
)

dq_results = Table(
    "dq_results",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_id", String(128), nullable=False),
    Column("table_name", String(64), nullable=False),
    Column("suite", String(128), nullable=False),
    Column("expectation", String(256), nullable=False),
    Column("column_name", String(64)),
    Column("success", Boolean, nullable=False),
    Column("element_count", Integer, nullable=False),
    Column("unexpected_count", Integer, nullable=False),
    Column("unexpected_percent", Float),
    Column("observed", Json),
    Column("checked_at", UTCDateTime(), nullable=False),
    UniqueConstraint("run_id", "table_name", "expectation", name="uq_dq_results_natural"),
)

# ------------------------------------------------------------------------------ risk
# What the analysis and assessment steps make of core: per-review text scores, recall
# matches per listing, signals per product and shop, and one assessment per product and
# assessment date with its explanation. Staff decisions (confirm or dismiss) are kept
# apart so that every later run can respect them.
review_scores = Table(
    "review_scores",
    metadata,
    Column("review_id", Id, ForeignKey("reviews.id", ondelete="CASCADE"), primary_key=True),
    Column("model_version", String(64), nullable=False),
    Column("negative_probability", Float, nullable=False),
    Column("defect_probability", Float, nullable=False),
    Column("hazard", String(32), nullable=False),
    Column("hazard_probability", Float, nullable=False),
    Column("terms", Json),
    Column("scored_at", UTCDateTime(), nullable=False),
)

recall_matches = Table(
    "recall_matches",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("listing_id", Id, ForeignKey("listings.id", ondelete="CASCADE"), nullable=False),
    Column("recall_id", Id, ForeignKey("recalls.id", ondelete="CASCADE"), nullable=False),
    Column("source", String(64), nullable=False),
    Column("recall_number", String(64), nullable=False),
    Column("score", Float, nullable=False),
    Column("matched_on", String(64), nullable=False),
    Column("matched_model", String(128)),
    Column("hazard", String(32)),
    Column("matched_at", UTCDateTime(), nullable=False),
    UniqueConstraint("listing_id", "recall_id", name="uq_recall_matches_natural"),
    Index("ix_recall_matches_recall_id", "recall_id"),
)

risk_signals = Table(
    "risk_signals",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("as_of", Date, nullable=False),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", Id, nullable=False),
    Column("signal", String(48), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("window_start", UTCDateTime()),
    Column("window_end", UTCDateTime(), nullable=False),
    Column("value", Float, nullable=False),
    Column("baseline", Float),
    Column("strength", Float, nullable=False),
    Column("hazard", String(32)),
    Column("detail", Text, nullable=False),
    Column("evidence", Json, nullable=False),
    Column("computed_at", UTCDateTime(), nullable=False),
    UniqueConstraint(
        "as_of", "subject_kind", "subject_id", "signal", name="uq_risk_signals_natural"
    ),
    Index("ix_risk_signals_subject", "subject_kind", "subject_id"),
)

risk_assessments = Table(
    "risk_assessments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("as_of", Date, nullable=False),
    Column("product_id", Id, ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
    Column("category_code", String(48)),
    Column("probability", Float, nullable=False),
    Column("likelihood", SmallInteger, nullable=False),
    Column("severity", SmallInteger, nullable=False),
    Column("level", String(16), nullable=False),
    Column("hazard", String(32)),
    Column("model_version", String(64), nullable=False),
    Column("matrix_version", String(32), nullable=False),
    Column("summary", Text, nullable=False),
    Column("explanation", Json, nullable=False),
    Column("is_confirmed", Boolean, nullable=False),
    Column("confirmation", Text),
    Column("review_status", String(16), nullable=False),
    Column("review_note", Text),
    Column("assessed_at", UTCDateTime(), nullable=False),
    UniqueConstraint("as_of", "product_id", name="uq_risk_assessments_natural"),
    Index("ix_risk_assessments_product_id", "product_id"),
    Index("ix_risk_assessments_level", "level"),
)

risk_decisions = Table(
    "risk_decisions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("product_id", Id, ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("level_at_decision", String(16)),
    Column("reason", Text),
    Column("decided_by", String(128), nullable=False),
    Column("decided_at", UTCDateTime(), nullable=False),
    Column("source_file", Text),
    Column("file_sha256", String(64)),
    _loaded_at(),
    UniqueConstraint("product_id", "decided_at", name="uq_risk_decisions_natural"),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("model_name", String(64), nullable=False),
    Column("version", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("trained_at", UTCDateTime(), nullable=False),
    Column("window_start", UTCDateTime()),
    Column("window_end", UTCDateTime()),
    Column("rows", Integer, nullable=False),
    Column("metrics", Json, nullable=False),
    Column("params", Json, nullable=False),
    Column("artifact", Text),
    UniqueConstraint("model_name", "version", name="uq_model_versions_natural"),
)

# Inspection results of bought samples, one row per test item (the intake of result
# files fills it; risk scoring learns from it and counts failure history).
inspection_results = Table(
    "inspection_results",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("task_id", String(64), nullable=False),
    # The listing bought, by its natural key (survives a rebuild of core) and by id.
    Column("platform", String(32)),
    Column("listing_external_id", String(128)),
    Column("listing_id", Id, ForeignKey("listings.id", ondelete="SET NULL")),
    Column("product_id", Id, ForeignKey("products.id", ondelete="SET NULL")),
    Column("shop_id", Id, ForeignKey("shops.id", ondelete="SET NULL")),
    Column("test_item", Text, nullable=False),
    Column("standard_clause", Text),
    Column("measured_value", Text),
    Column("limit_value", Text),
    Column("verdict", String(8), nullable=False),
    Column("defect_class", String(8)),
    Column("lab_code", String(32)),
    Column("report_number", String(64), nullable=False),
    Column("tested_on", Date, nullable=False),
    Column("attributes", Json),
    Column("source_file", Text),
    Column("file_sha256", String(64)),
    _loaded_at(),
    UniqueConstraint("report_number", "test_item", name="uq_inspection_results_natural"),
    Index("ix_inspection_results_product_id", "product_id"),
)

# ------------------------------------------------------------------------ monitoring
# 监测计划 and 网上采样: what to buy, from whom, for which lab; what the buyers and labs
# send back through the inbox; and the market estimates computed from it.
monitoring_plans = Table(
    "monitoring_plans",
    metadata,
    Column("plan_id", String(64), primary_key=True),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("risk_as_of", Date),
    Column("budget_purchases", Integer, nullable=False),
    Column("budget_fen", BigInteger),
    Column("seed", BigInteger, nullable=False),
    Column("scope", Json, nullable=False),
    Column("params", Json, nullable=False),
    Column("summary", Json, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

sampling_tasks = Table(
    "sampling_tasks",
    metadata,
    Column("task_id", String(64), primary_key=True),
    Column(
        "plan_id",
        String(64),
        ForeignKey("monitoring_plans.plan_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("stratum", String(16), nullable=False),
    Column("stratum_key", String(128)),
    Column("inclusion_probability", Float, nullable=False),
    Column("product_id", Id, ForeignKey("products.id", ondelete="SET NULL")),
    Column("listing_id", Id, ForeignKey("listings.id", ondelete="SET NULL")),
    Column("shop_id", Id, ForeignKey("shops.id", ondelete="SET NULL")),
    Column("platform", String(32), nullable=False),
    Column("listing_external_id", String(128), nullable=False),
    Column("category_code", String(48)),
    Column("risk_level", String(16)),
    Column("risk_probability", Float),
    Column("price_fen", BigInteger),
    Column("price_cap_fen", BigInteger),
    Column("sample_units", SmallInteger, nullable=False),
    Column("backup_units", SmallInteger, nullable=False),
    Column("test_items", Json, nullable=False),
    Column("standards", Json, nullable=False),
    Column("lab_code", String(32)),
    Column("due_on", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_sampling_tasks_plan_id", "plan_id"),
    Index("ix_sampling_tasks_product_id", "product_id"),
)

purchases = Table(
    "purchases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("task_id", String(64), ForeignKey("sampling_tasks.task_id"), nullable=False),
    Column("order_number", String(64), nullable=False),
    Column("paid_fen", BigInteger, nullable=False),
    Column("ordered_at", UTCDateTime(), nullable=False),
    Column("shop_name", String(256)),
    Column("evidence", Json, nullable=False),
    Column("logistics_company", String(64)),
    Column("tracking_number", String(64)),
    Column("received_at", UTCDateTime()),
    Column("sample_seal", String(64)),
    Column("backup_seal", String(64)),
    Column("condition", Text),
    Column("source_file", Text, nullable=False),
    Column("file_sha256", String(64), nullable=False),
    _loaded_at(),
    UniqueConstraint("task_id", "order_number", name="uq_purchases_natural"),
)

inbox_files = Table(
    "inbox_files",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("problems", Json, nullable=False),
    Column("archived_as", Text),
    Column("received_at", UTCDateTime(), nullable=False),
    UniqueConstraint("kind", "sha256", name="uq_inbox_files_natural"),
)

market_estimates = Table(
    "market_estimates",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column(
        "plan_id",
        String(64),
        ForeignKey("monitoring_plans.plan_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("category_code", String(48), nullable=False),
    Column("audit_samples", Integer, nullable=False),
    Column("audit_failed", Integer, nullable=False),
    Column("estimate", Float),
    Column("ci_low", Float),
    Column("ci_high", Float),
    Column("targeted_samples", Integer, nullable=False),
    Column("targeted_failed", Integer, nullable=False),
    Column("targeted_hit_rate", Float),
    Column("audit_hit_rate", Float),
    Column("lift", Float),
    Column("method", Text, nullable=False),
    Column("computed_at", UTCDateTime(), nullable=False),
    UniqueConstraint("plan_id", "category_code", name="uq_market_estimates_natural"),
)

# --------------------------------------------------------------------------- results
# 结果评价与处理 and 信息传递及反馈: one verdict per lab report, the notices it owes (an
# outbox, written in the same transaction), what happened to each notice, and the shops'
# credit lists.
evaluations = Table(
    "evaluations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("report_number", String(64), nullable=False),
    Column("task_id", String(64), ForeignKey("sampling_tasks.task_id"), nullable=False),
    Column("plan_id", String(64)),
    Column("stratum", String(16)),
    Column("platform", String(32)),
    Column("listing_external_id", String(128)),
    Column("listing_id", Id, ForeignKey("listings.id", ondelete="SET NULL")),
    Column("product_id", Id, ForeignKey("products.id", ondelete="SET NULL")),
    Column("shop_id", Id, ForeignKey("shops.id", ondelete="SET NULL")),
    Column("category_code", String(48)),
    Column("lab_code", String(32)),
    Column("tested_on", Date, nullable=False),
    # pass / fail (合格 / 不合格), from the item results and their defect classes.
    Column("verdict", String(8), nullable=False),
    Column("items_total", Integer, nullable=False),
    Column("items_failed", Integer, nullable=False),
    Column("worst_defect", String(8)),
    Column("failed_items", Json, nullable=False),
    Column("is_safety", Boolean, nullable=False),
    # 复检: a later report on the same task supersedes the earlier one, which stays.
    Column("is_retest", Boolean, nullable=False),
    Column("supersedes", String(64)),
    Column("superseded_by", String(64)),
    Column("status", String(16), nullable=False),
    Column("seller_deadline", Date, nullable=False),
    Column("risk_level_before", String(16)),
    Column("risk_level_after", String(16)),
    Column("rules_version", String(32), nullable=False),
    Column("evaluated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("report_number", name="uq_evaluations_natural"),
    Index("ix_evaluations_task_id", "task_id"),
    Index("ix_evaluations_shop_id", "shop_id"),
    Index("ix_evaluations_product_id", "product_id"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # One per (evaluation, recipient, kind): the key every channel carries to the
    # receiver, so that a retry or a re-run never has a second effect.
    Column("idempotency_key", String(200), nullable=False),
    Column("evaluation_id", Id, ForeignKey("evaluations.id", ondelete="SET NULL")),
    Column("report_number", String(64)),
    Column("parent_id", Id, ForeignKey("notifications.id", ondelete="SET NULL")),
    Column("kind", String(32), nullable=False),
    Column("recipient_kind", String(16), nullable=False),
    Column("recipient_name", Text, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("address", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("payload", Json, nullable=False),
    # queued → sending → sent; retry after a transient failure; dead after the last.
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("lease_until", UTCDateTime()),
    Column("last_error", Text),
    Column("sent_at", UTCDateTime()),
    Column("receipt", Text),
    Column("due_at", UTCDateTime()),
    Column("ack_due_at", UTCDateTime()),
    Column("acknowledged_at", UTCDateTime()),
    Column("ack_kind", String(32)),
    Column("ack_note", Text),
    Column("reminders", Integer, nullable=False),
    Column("escalated_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("idempotency_key", name="uq_notifications_natural"),
    Index("ix_notifications_due", "status", "next_attempt_at"),
    Index("ix_notifications_evaluation_id", "evaluation_id"),
)

notification_events = Table(
    "notification_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column(
        "notification_id",
        Id,
        ForeignKey("notifications.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # attempt, sent, failed, dead, acknowledged, reminder, escalated
    Column("event", String(16), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("detail", Json),
    Index("ix_notification_events_notification_id", "notification_id"),
)

merchant_credit = Table(
    "merchant_credit",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("shop_external_id", String(128), nullable=False),
    Column("shop_id", Id, ForeignKey("shops.id", ondelete="SET NULL")),
    Column("shop_name", String(256)),
    # black (黑名单) or red (红名单)
    Column("list_kind", String(8), nullable=False),
    Column("rule_code", String(48), nullable=False),
    Column("reason", Text, nullable=False),
    Column("evidence", Json, nullable=False),
    Column("listed_on", Date, nullable=False),
    Column("expires_on", Date),
    # active, expired, lifted
    Column("status", String(16), nullable=False),
    Column("rules_version", String(32), nullable=False),
    Column("computed_at", UTCDateTime(), nullable=False),
    UniqueConstraint(
        "platform",
        "shop_external_id",
        "list_kind",
        "rule_code",
        "listed_on",
        name="uq_merchant_credit_natural",
    ),
)

# ---------------------------------------------------------------------------- review
# 监测管理评价与改进: the month's indicators, one row per indicator and breakdown.
kpi_snapshots = Table(
    "kpi_snapshots",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("period_start", Date, nullable=False),
    Column("kpi", String(48), nullable=False),
    # the breakdown: '' for the whole, else e.g. 'active', 'high', 'targeted'
    Column("dimension", String(128), nullable=False),
    Column("label_zh", Text, nullable=False),
    Column("unit", String(16), nullable=False),
    Column("value", Float),
    Column("numerator", Float),
    Column("denominator", Float),
    Column("ci_low", Float),
    Column("ci_high", Float),
    Column("detail", Json),
    Column("computed_at", UTCDateTime(), nullable=False),
    UniqueConstraint("period_start", "kpi", "dimension", name="uq_kpi_snapshots_natural"),
)

# ---------------------------------------------------------------------------- crawls
# One row per crawl run (all its shards), and one per fetched response: the index of the
# evidence archive, whose files are named by the body's SHA-256.
crawl_runs = Table(
    "crawl_runs",
    metadata,
    Column("crawl_run_id", String(64), primary_key=True),
    Column("profile", String(64), nullable=False),
    Column("partition_date", Date, nullable=False),
    Column("shards", SmallInteger, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("pages", Integer, nullable=False),
    Column("retries", Integer, nullable=False),
    Column("items", Json, nullable=False),
    Column("errors", Json, nullable=False),
    Column("loaded", Json, nullable=False),
    Column("status", String(16), nullable=False),
    _loaded_at(),
)

crawl_pages = Table(
    "crawl_pages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("crawl_run_id", String(64), nullable=False),
    Column("url", Text, nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("fetched_at", UTCDateTime(), nullable=False),
    Column("content_type", String(128)),
    Column("bytes", Integer, nullable=False),
    Column("headers", Json),
    UniqueConstraint("crawl_run_id", "url", "sha256", "status", name="uq_crawl_pages_natural"),
    Index("ix_crawl_pages_sha256", "sha256"),
)

STAGING_TABLES = (stg_listings, stg_reviews, stg_complaints, stg_recalls, stg_shops)
REFERENCE_TABLES = (ref_categories, ref_banned_terms, ref_regions, ref_labs)
CORE_TABLES = (
    shops,
    products,
    listings,
    listing_snapshots,
    reviews,
    complaints,
    recalls,
    quarantine,
)
PROCESS_TABLES = (process_watermarks, process_runs, dq_results)
RISK_TABLES = (
    review_scores,
    recall_matches,
    risk_signals,
    risk_assessments,
    risk_decisions,
    model_versions,
    inspection_results,
)
MONITORING_TABLES = (monitoring_plans, sampling_tasks, purchases, inbox_files, market_estimates)
RESULTS_TABLES = (evaluations, notifications, notification_events, merchant_credit)
REVIEW_TABLES = (kpi_snapshots,)
