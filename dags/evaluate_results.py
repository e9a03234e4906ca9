"""
### Evaluate results — verdicts, retests, queued notices, merchant credit (结果评价与处理)

Runs when the inbox takes in new or changed inspection results (the
`ecqm.inspection_results` Asset). One run:

1. **evaluate** — every lab report without an evaluation, or whose items changed, is
   judged (`transforms/results/data/judgement.yaml`: 不合格 when any item fails, a
   safety defect when a failed item is critical or concerns safety); a later report on
   the same task (复检) supersedes the earlier one, which stays as `superseded`. In the
   same transaction the notices each current evaluation owes are rendered, routed
   (`transforms/notify/data/routes.yaml`) and queued in `notifications` under their
   idempotency keys — the seller always; on a failure the producer and the platform; on
   a safety defect the 属地 regulators and the public alert list — and the pending
   notices of a superseded evaluation are cancelled. A failure confirms the product's
   newest risk assessment. The seller deadline is 5 working days after the test date.
2. **publish** — `ecqm.evaluations` and `ecqm.notifications` get an Asset event with the
   counts, each only when rows of that table were written, so `deliver_notifications`
   runs when there is something to send.
3. **update_credit** — red and black lists (`merchant_credit`) as of the run's day in
   Asia/Shanghai, when `transforms.credit` is installed (`ecqm.merchant_credit`).
4. **check** — fails the run, after the rest is done, when a report could not be
   evaluated, naming each one and why.

Re-running changes nothing: evaluations are replaced only when their items change, and a
notice is never queued twice. A report that cannot be evaluated yet (a test date whose
deadline runs into a year the working-day calendar does not cover) is listed in
`quarantine`, does not hold back the others, and is retried on the next run (or by
`ecqm evaluate`). Rules and routes: `docs/notifications.md`, "Evaluation and queueing".
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from ecqm.assets import INSPECTION_RESULTS, RESULTS_ASSETS

EVALUATIONS = RESULTS_ASSETS["evaluations"]
NOTIFICATIONS = RESULTS_ASSETS["notifications"]
MERCHANT_CREDIT = RESULTS_ASSETS["merchant_credit"]


@dag(
    dag_id="evaluate_results",
    schedule=[INSPECTION_RESULTS],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["ecqm", "results"],
    doc_md=__doc__,
)
def evaluate_results():
    @task
    def evaluate(*, dag_run=None) -> dict:
        from ecqm.settings import warehouse_url_for_task
        from transforms.results.tasks import evaluate as run

        return run(warehouse_url_for_task(), dag_run.logical_date or dag_run.run_after)

    def publish(asset, table: str):
        @task(task_id=f"publish_{table}", outlets=[asset])
        def publish_table(summary: dict, *, outlet_events=None) -> dict:
            from airflow.sdk.exceptions import AirflowSkipException

            counts = summary[table]
            if not counts["written"]:
                raise AirflowSkipException(f"no {table} rows written")
            outlet_events[asset].extra = counts
            return counts

        return publish_table

    @task(outlets=[MERCHANT_CREDIT])
    def update_credit(summary: dict, *, dag_run=None, outlet_events=None) -> dict:
        import importlib.util

        from airflow.sdk.exceptions import AirflowSkipException

        if importlib.util.find_spec("transforms.credit") is None:
            raise AirflowSkipException("transforms.credit is not installed")
        from ecqm.settings import warehouse_url_for_task
        from risk_models.tasks import as_of_for
        from transforms.credit.tasks import update_credit as run

        as_of = as_of_for(dag_run.logical_date or dag_run.run_after)
        report = run(warehouse_url_for_task(), as_of)
        outlet_events[MERCHANT_CREDIT].extra = report
        return report

    @task
    def check(summary: dict) -> dict:
        problems = summary["problems"]
        if problems:
            raise RuntimeError(
                f"{len(problems)} report(s) not evaluated, retried on the next run: "
                + "; ".join(f"{p['report_number']}: {p['code']}: {p['reason']}" for p in problems)
            )
        return summary["evaluations"]

    summary = evaluate()
    publish(EVALUATIONS, "evaluations")(summary)
    publish(NOTIFICATIONS, "notifications")(summary)
    update_credit(summary)
    check(summary)


evaluate_results()
