"""
### Ingest inbox — purchase records and inspection results dropped by staff

Every five minutes, takes the CSV and XLSX files waiting in
`$ECQM_HOME/inbox/purchases/` and then `$ECQM_HOME/inbox/results/`, oldest first
(files changed in the last 30 seconds wait for the next run: they may still be being
copied). Each file is validated **whole**, in one transaction:

- **accepted** — rows upserted into `purchases` or `inspection_results` (with the
  listing, product and shop of the task), tasks advanced to `purchased` / `tested`,
  the file archived as `inbox/archive/<kind>/<sha256>.<ext>` and recorded in
  `inbox_files`;
- **rejected** — nothing written but the `inbox_files` row; the file moves to
  `inbox/rejected/<kind>/` with `<name>.errors.csv` beside it (row, column, reason);
- **the same file again** — recognised by its SHA-256; nothing changes.

`ecqm.purchases` and `ecqm.inspection_results` get an Asset event (files, row counts,
task ids) only when rows of that table were inserted or changed, so `evaluate_results`
runs only on new results. A file that fails unexpectedly (database unreachable) stays
in the inbox and fails the `check` task after the others were taken.

The inbox is not partitioned by time: a run takes what is in the folders when it runs,
and judges "in the future" against the clock. Formats and rules: `docs/inbox.md`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task

from ecqm.assets import warehouse_asset

PURCHASES = warehouse_asset("purchases")
INSPECTION_RESULTS = warehouse_asset("inspection_results")


@dag(
    dag_id="ingest_inbox",
    schedule=CronTriggerTimetable("*/5 * * * *", timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["ecqm", "intake"],
    doc_md=__doc__,
)
def ingest_inbox():
    @task
    def scan() -> dict:
        from ecqm.settings import warehouse_url_for_task
        from transforms.intake.tasks import ingest

        return ingest(warehouse_url_for_task())

    def publish(asset, table: str):
        @task(task_id=f"publish_{table}", outlets=[asset])
        def publish_table(summary: dict, *, outlet_events=None) -> dict:
            from airflow.sdk.exceptions import AirflowSkipException

            written = summary["tables"][table]
            if not written["written"]:
                raise AirflowSkipException(f"no {table} rows inserted or changed")
            outlet_events[asset].extra = written
            return written

        return publish_table

    @task
    def check(summary: dict) -> dict:
        failed = [f["summary"] for f in summary["files"] if f["status"] == "failed"]
        if failed:
            raise RuntimeError("files left in the inbox after errors: " + "; ".join(failed))
        return {k: summary[k] for k in ("accepted", "rejected", "duplicate", "failed")}

    summary = scan()
    publish(PURCHASES, "purchases")(summary)
    publish(INSPECTION_RESULTS, "inspection_results")(summary)
    check(summary)


ingest_inbox()
