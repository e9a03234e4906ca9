"""Market estimates of a plan (结果计算) into ``market_estimates``.

:func:`compute_estimates` reads the plan's tasks and the inspection results recorded
against them, and writes one row per category of the plan plus ``*`` (all of them):
the estimated non-conformity rate of the market from the audit stratum with its 95%
interval, the hit rates of both strata and the lift of the targeting (formulas in
:mod:`risk_models.sampling.estimate` and ``docs/sampling.md``). Running it again
replaces the plan's rows; it can run whenever results arrive.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import Engine, delete, select

from ecqm.warehouse.bulk import upsert
from ecqm.warehouse.schema import inspection_results, market_estimates, sampling_tasks
from risk_models.sampling.estimate import estimate_rates, sample_outcomes
from transforms.results.retests import is_current_report

CHUNK = 900


def compute_estimates(
    engine: Engine,
    plan_id: str,
    *,
    include_targeted: bool = False,
    confidence: float = 0.95,
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Compute and store the market estimates of ``plan_id``; returns the rows written.

    A plan without tasks gets no rows (and loses any it had). With
    ``include_targeted`` the targeted purchases join the estimate as a certainty
    stratum (the whole frame's rate, see :func:`risk_models.sampling.estimate_rates`).
    """
    now = now or dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        result = conn.execute(
            select(
                sampling_tasks.c.task_id,
                sampling_tasks.c.stratum,
                sampling_tasks.c.stratum_key,
                sampling_tasks.c.inclusion_probability,
                sampling_tasks.c.category_code,
            )
            .where(sampling_tasks.c.plan_id == plan_id)
            .order_by(sampling_tasks.c.task_id)
        )
        tasks = pd.DataFrame([tuple(r) for r in result], columns=list(result.keys()))
        ids = tasks["task_id"].tolist()
        verdicts: list[tuple[str, str]] = []
        for i in range(0, len(ids), CHUNK):
            verdicts += [
                (str(t), str(v))
                for t, v in conn.execute(
                    select(inspection_results.c.task_id, inspection_results.c.verdict).where(
                        inspection_results.c.task_id.in_(ids[i : i + CHUNK]),
                        # A retest (复检) supersedes the first report of its task.
                        is_current_report(inspection_results, dialect=conn.dialect.name),
                    )
                )
            ]
        rows: list[dict[str, Any]] = []
        if not tasks.empty:
            samples = sample_outcomes(tasks, pd.DataFrame(verdicts, columns=["task_id", "verdict"]))
            rows = [
                {"plan_id": plan_id, **row, "computed_at": now}
                for row in estimate_rates(
                    samples, confidence=confidence, include_targeted=include_targeted
                )
            ]
        conn.execute(
            delete(market_estimates).where(
                market_estimates.c.plan_id == plan_id,
                market_estimates.c.category_code.not_in([r["category_code"] for r in rows]),
            )
        )
        if rows:
            upsert(conn, market_estimates, rows)
    return rows
