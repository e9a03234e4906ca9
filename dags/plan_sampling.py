"""
### Plan sampling — the monthly monitoring plan (监测计划、抽样计划)

Runs at 08:00 Asia/Shanghai on the 1st of every month, or when triggered by hand with a
budget. One run makes the plan of its month (`plan-YYYY-MM`, or the `plan_id` given)
from each product's newest risk assessment up to the run's date:

- **targeted** purchases: every `high` product the budget allows (staff-confirmed
  first, dismissed ones never), then `elevated` ones by probability;
- **audit** purchases: a stratified random sample (category × platform) of everything
  else, with known inclusion probabilities, so the monthly review can estimate the
  market's non-conformity rate and the lift of the targeting;
- caps per shop and brand, a price cap, the purchase count and the yuan budget are never
  exceeded; each task gets its quantity, test items and standards, a capable lab with
  capacity left (nearest to the shop first) and a due date;
- writes `monitoring_plans` and `sampling_tasks`, and the workbooks for buyers (one
  sheet per platform) and for each lab under `$ECQM_HOME/outbox/plans/<plan_id>/`.

Trigger parameters: `budget` (purchases), `yuan` (money limit, optional), `seed`
(default: the month as a number, so a re-run draws the same sample), `categories` and
`platforms` (scope), `period` (`YYYY-MM`, default the run's month), `plan_id`.
Re-running a month replaces its plan unless purchases or results were recorded; then
the plan is in execution, stays as it is, and the run is skipped.
BI reads `mart_sampling_plan`. Formulas: `docs/sampling.md`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, dag, task

from ecqm.assets import warehouse_asset

SAMPLING_TASKS = warehouse_asset("sampling_tasks")


@dag(
    dag_id="plan_sampling",
    schedule=CronTriggerTimetable("0 8 1 * *", timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["ecqm", "monitoring"],
    doc_md=__doc__,
    params={
        "budget": Param(60, type="integer", minimum=1, description="test purchases at most"),
        "yuan": Param(None, type=["null", "number"], minimum=0, description="money limit"),
        "seed": Param(None, type=["null", "integer"], minimum=0),
        "categories": Param(None, type=["null", "array"], description="category codes"),
        "platforms": Param(None, type=["null", "array"], description="platform codes"),
        "period": Param(None, type=["null", "string"], pattern=r"^\d{4}-\d{2}$"),
        "plan_id": Param(None, type=["null", "string"]),
    },
)
def plan_sampling():
    @task(outlets=[SAMPLING_TASKS])
    def make_plan(*, params=None, dag_run=None, outlet_events=None) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        from ecqm.settings import warehouse_url_for_task
        from risk_models.tasks import as_of_for
        from transforms.plans import PlanLockedError
        from transforms.plans.tasks import period_for, plan_month, yuan_to_fen

        moment = dag_run.logical_date or dag_run.run_after
        try:
            report = plan_month(
                warehouse_url_for_task(),
                period=params.get("period") or period_for(moment),
                budget_purchases=int(params["budget"]),
                budget_fen=yuan_to_fen(params.get("yuan")),
                seed=params.get("seed"),
                plan_id=params.get("plan_id"),
                as_of=as_of_for(moment),
                categories=params.get("categories") or None,
                platforms=params.get("platforms") or None,
            )
        except PlanLockedError as exc:
            # Purchases or results are recorded: the plan is in execution and stays.
            raise AirflowSkipException(str(exc)) from exc
        outlet_events[SAMPLING_TASKS].extra = {
            k: report[k]
            for k in ("plan_id", "period", "tasks", "targeted", "audit", "labs", "unassigned")
        }
        return report

    make_plan()


plan_sampling()
