"""
### Review monitoring — the monthly management review (监测管理评价与改进)

Runs at 06:00 Asia/Shanghai on the 1st of every month and reviews the month before (or
the `month` given, `YYYY-MM`, when triggered by hand):

- **indicators** — the month's management indicators into `kpi_snapshots`
  (`mart_kpi_monthly` for BI): signals by channel, risks by level and category, plan
  execution, 不合格 rates of the targeted and audit strata and the lift, the market
  estimate with its interval, time from signal to result to disposal, notice
  acknowledgement, data-quality pass rates, and the risk model against the month's
  results (Brier score, 不合格 rate by the level given before the test);
- **retrain** — fits a challenger risk-score model on every inspection outcome so far
  and promotes it only when it beats the champion on held-out outcomes; every version is
  recorded in `model_versions` (too few outcomes: nothing is trained);
- **report** — the month's report in Chinese (HTML with charts, and the key tables as
  XLSX) in `$ECQM_HOME/outbox/reports/<YYYY-MM>/`.

Re-running a month replaces its indicators and report; the model is retrained only
when the outcomes changed.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, dag, task

from ecqm.assets import warehouse_asset

KPI_SNAPSHOTS = warehouse_asset("kpi_snapshots")


@dag(
    dag_id="review_monitoring",
    schedule=CronTriggerTimetable("0 6 1 * *", timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["ecqm", "review"],
    doc_md=__doc__,
    params={
        "month": Param(None, type=["null", "string"], pattern=r"^\d{4}-\d{2}$"),
    },
)
def review_monitoring():
    @task
    def month(*, params=None, dag_run=None) -> str:
        from transforms.review.tasks import month_reviewed

        return params.get("month") or month_reviewed(dag_run.logical_date or dag_run.run_after)

    @task(outlets=[KPI_SNAPSHOTS])
    def indicators(month: str, *, dag_run=None, outlet_events=None) -> dict:
        from ecqm.settings import warehouse_url_for_task
        from transforms.review.tasks import indicators as compute

        report = compute(warehouse_url_for_task(), month, dag_run.run_after)
        outlet_events[KPI_SNAPSHOTS].extra = report
        return report

    @task
    def retrain(*, dag_run=None) -> dict:
        from ecqm.settings import warehouse_url_for_task
        from risk_models.tasks import train

        result = train(warehouse_url_for_task(), dag_run.run_after)
        return {k: v for k, v in result.items() if isinstance(v, (str, int, float, bool))}

    @task
    def report(month: str, *, dag_run=None) -> dict:
        from ecqm.settings import warehouse_url_for_task
        from transforms.review.tasks import report as write

        return write(warehouse_url_for_task(), month, dag_run.run_after)

    m = month()
    done = indicators(m)
    done >> retrain()
    done >> report(m)


review_monitoring()
