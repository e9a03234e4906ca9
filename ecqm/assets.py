"""The Airflow Assets that chain ecqm's DAGs, named ``ecqm.<table or file set>``.

Kept here, not in a DAG file, so producer and consumer share one definition. Importing
this module costs only ``airflow.sdk``; it touches no database.
"""

from __future__ import annotations

from airflow.sdk import Asset


def warehouse_asset(table: str) -> Asset:
    """The Asset for a warehouse table; its events carry row counts in ``extra``."""
    return Asset(name=f"ecqm.{table}", uri=f"ecqm://warehouse/{table}", group="ecqm")


REF_CATEGORIES = warehouse_asset("ref_categories")
REF_BANNED_TERMS = warehouse_asset("ref_banned_terms")
REF_REGIONS = warehouse_asset("ref_regions")
REF_LABS = warehouse_asset("ref_labs")
REFERENCE_ASSETS = {
    "ref_categories": REF_CATEGORIES,
    "ref_banned_terms": REF_BANNED_TERMS,
    "ref_regions": REF_REGIONS,
    "ref_labs": REF_LABS,
}

STAGING_ASSETS = {
    "stg_listings": warehouse_asset("stg_listings"),
    "stg_reviews": warehouse_asset("stg_reviews"),
    "stg_shops": warehouse_asset("stg_shops"),
    "stg_complaints": warehouse_asset("stg_complaints"),
    "stg_recalls": warehouse_asset("stg_recalls"),
}
CRAWL_RUNS = warehouse_asset("crawl_runs")

CORE_ASSETS = {
    table: warehouse_asset(table)
    for table in (
        "shops",
        "products",
        "listings",
        "listing_snapshots",
        "reviews",
        "complaints",
        "recalls",
    )
}

RISK_ASSETS = {
    "risk_signals": warehouse_asset("risk_signals"),
    "risk_assessments": warehouse_asset("risk_assessments"),
}

PURCHASES = warehouse_asset("purchases")
INSPECTION_RESULTS = warehouse_asset("inspection_results")
RESULTS_ASSETS = {
    "evaluations": warehouse_asset("evaluations"),
    "notifications": warehouse_asset("notifications"),
    "merchant_credit": warehouse_asset("merchant_credit"),
}
