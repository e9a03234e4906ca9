"""
### Prepare the warehouse

Migrates the ecqm warehouse to the newest schema and loads the reference data
(product categories with their standards and test items, banned advertising terms,
regions with their regulators, testing labs) from the versioned files in
`transforms/reference/data/`. Both steps are idempotent: a second run changes
nothing. Run it after every deployment; the demo runs it first.

The warehouse is the Airflow connection `ecqm_warehouse` when defined, else
`ECQM_WAREHOUSE_URL`, else SQLite under `$ECQM_HOME`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from ecqm.assets import REFERENCE_ASSETS


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["ecqm", "warehouse"],
    doc_md=__doc__,
)
def prepare_warehouse():
    @task
    def upgrade_schema() -> dict:
        from ecqm.settings import warehouse_url_for_task
        from ecqm.warehouse.tasks import upgrade_warehouse

        return upgrade_warehouse(warehouse_url_for_task())

    @task(outlets=list(REFERENCE_ASSETS.values()))
    def load_reference(*, outlet_events=None) -> dict:
        from ecqm.settings import warehouse_url_for_task
        from ecqm.warehouse.tasks import load_reference_data

        counts = load_reference_data(warehouse_url_for_task())
        for table, asset in REFERENCE_ASSETS.items():
            outlet_events[asset].extra = counts[table]
        return counts

    upgrade_schema() >> load_reference()


prepare_warehouse()
