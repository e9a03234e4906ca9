"""
### Process staging — staging rows into the core tables

Runs whenever a crawl publishes new rows to any `ecqm.stg_*` asset (and on demand).
One run takes every staging row added since the last run (a watermark per staging
table) into `shops`, `products`, `listings`, `listing_snapshots`, `reviews`,
`complaints` and `recalls`:

- **normalise** text, prices (fen), sales volumes, dates (UTC, read in Asia/Shanghai)
  and ratings; **mask** personal data (salted pseudonyms, scrubbed free text): a shop
  page's contact, phone and address stay only as pseudonyms, which link seller networks;
- **resolve** listings into products across shops and platforms and **map** them to
  `ref_categories`; **flag** near-duplicate review clusters (刷单);
- **validate** with Great Expectations: refused rows go to `quarantine`, results to
  `dq_results` and Data Docs under `$ECQM_HOME/data_docs`.

Every staging row ends in core, merged into another version, or in quarantine; the
counts are in `process_runs` and the **reconcile** task recounts them from the tables.
The run fails only when a whole table looks broken (most rows refused, or a core
table shrinking), never because some rows are bad. `ecqm warehouse rebuild-core`
rebuilds the same tables from all of staging.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from ecqm.assets import CORE_ASSETS, STAGING_ASSETS


@dag(
    dag_id="process_staging",
    schedule=(
        STAGING_ASSETS["stg_listings"]
        | STAGING_ASSETS["stg_reviews"]
        | STAGING_ASSETS["stg_shops"]
        | STAGING_ASSETS["stg_complaints"]
        | STAGING_ASSETS["stg_recalls"]
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["ecqm", "transform"],
    doc_md=__doc__,
)
def process_staging():
    @task(outlets=list(CORE_ASSETS.values()))
    def process(*, dag_run=None, outlet_events=None) -> dict:
        from ecqm.settings import warehouse_url_for_task
        from transforms.core.tasks import process as run

        report = run(warehouse_url_for_task(), dag_run.run_id)
        for table, asset in CORE_ASSETS.items():
            outlet_events[asset].extra = {
                "run_id": report["run_id"],
                "rows": report["core_counts"].get(table),
            }
        return report

    @task
    def reconcile(report: dict, *, dag_run=None) -> dict:
        from ecqm.settings import warehouse_url_for_task
        from transforms.core.tasks import check_reconciliation

        problems = check_reconciliation(warehouse_url_for_task(), dag_run.run_id)
        if problems:
            raise RuntimeError("reconciliation does not balance: " + "; ".join(problems))
        return {t: r["balanced"] for t, r in report["tables"].items()}

    reconcile(process())


process_staging()
