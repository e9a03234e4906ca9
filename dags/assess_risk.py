"""
### Assess risk — signals, likelihood × severity, explained risk levels

Runs whenever processing publishes new core rows (and on demand). One run assesses
every product as of its logical date (Asia/Shanghai):

- **score reviews** with the review text models (negative, defect, hazard class) into
  `review_scores`, only those not yet scored by the current model;
- **match recalls** (SAMR, CPSC, EU Safety Gate) against every listing into
  `recall_matches`;
- **signals** from every channel into `risk_signals`: complaints by hazard; review
  hazard and defect rates and their spike against the product's own past; banned
  advertising terms, missing CCC, 三无; prices far below the brand; seller networks;
  recall matches; failed inspections of the product, brand, shop or producer;
- **assess** into `risk_assessments`: the probability that a sample fails (weighted
  rules, or the promoted learned model), the severity of the hazard in sight, the level
  from the versioned matrix, an explanation with the evidence ids, confirmation rules
  and staff decisions. BI reads `mart_risk_current`.

Re-running a date replaces that date's signals and assessments.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from ecqm.assets import CORE_ASSETS, RISK_ASSETS


@dag(
    dag_id="assess_risk",
    schedule=(
        CORE_ASSETS["listings"]
        | CORE_ASSETS["reviews"]
        | CORE_ASSETS["complaints"]
        | CORE_ASSETS["recalls"]
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["ecqm", "risk"],
    doc_md=__doc__,
)
def assess_risk():
    @task(outlets=list(RISK_ASSETS.values()))
    def assess(*, dag_run=None, outlet_events=None) -> dict:
        from ecqm.settings import warehouse_url_for_task
        from risk_models.tasks import as_of_for
        from risk_models.tasks import assess as run

        moment = dag_run.logical_date or dag_run.run_after
        report = run(warehouse_url_for_task(), as_of_for(moment))
        summary = {
            k: report[k]
            for k in (
                "as_of",
                "products",
                "levels",
                "confirmed",
                "dismissed",
                "reviews_scored",
                "recall_matches",
                "signals",
                "model_version",
                "matrix_version",
            )
        }
        outlet_events[RISK_ASSETS["risk_assessments"]].extra = summary
        outlet_events[RISK_ASSETS["risk_signals"]].extra = {
            "as_of": report["as_of"],
            "rows": report["signals"],
        }
        return report

    assess()


assess_risk()
