"""
### Refresh the materialised marts (PostgreSQL)

On PostgreSQL the marts named in `ECQM_MATERIALISED_MARTS` are stored as materialised
views (`docs/sizing.md` says which are worth it and when). This DAG refreshes them every
hour, concurrently where the mart has its unique key, so BI readers are never blocked;
each mart's comment records when it was last refreshed. Each mart is refreshed in a
transaction of its own: one that fails leaves the others refreshed, and the task fails
naming it. With no materialised marts (the default, and always on SQLite) the run does
nothing. By hand: `ecqm warehouse refresh-marts`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task


@dag(
    dag_id="refresh_marts",
    schedule=CronTriggerTimetable("50 * * * *", timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["ecqm", "warehouse", "bi"],
    doc_md=__doc__,
)
def refresh_marts():
    @task
    def refresh() -> dict:
        from ecqm.settings import warehouse_url_for_task
        from ecqm.warehouse.tasks import refresh_materialised_marts

        return refresh_materialised_marts(warehouse_url_for_task())

    refresh()


refresh_marts()
