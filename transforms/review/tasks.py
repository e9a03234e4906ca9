"""The monthly review as plain functions of a warehouse URL: the ``review_monitoring``
DAG and ``ecqm review`` call these."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from ecqm.warehouse.engine import make_engine

SHANGHAI = ZoneInfo("Asia/Shanghai")


def month_reviewed(moment: dt.datetime) -> str:
    """The month a run reviews: the calendar month (Asia/Shanghai) before its moment — the
    run on 1 December reviews November."""
    if moment.tzinfo is None:
        raise ValueError("the run's moment must carry a time zone")
    first = moment.astimezone(SHANGHAI).date().replace(day=1)
    return (first - dt.timedelta(days=1)).strftime("%Y-%m")


def indicators(url: str, month: str, now: dt.datetime) -> dict[str, Any]:
    """The market estimates of the month's plans, from the results so far, then the
    month's indicators into ``kpi_snapshots`` (replacing the month's rows)."""
    from sqlalchemy import select

    from ecqm.warehouse.schema import monitoring_plans
    from transforms.plans.estimates import compute_estimates
    from transforms.review.kpis import month_bounds, snapshot

    first, nxt = month_bounds(month)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            plans = [
                p
                for (p,) in conn.execute(
                    select(monitoring_plans.c.plan_id)
                    .where(
                        monitoring_plans.c.period_start >= first,
                        monitoring_plans.c.period_start < nxt,
                    )
                    .order_by(monitoring_plans.c.plan_id)
                )
            ]
        for plan_id in plans:
            compute_estimates(engine, plan_id, now=now)
        out = snapshot(engine, month, now).as_dict()
        out["plans_estimated"] = plans
        return out
    finally:
        engine.dispose()


def report(url: str, month: str, now: dt.datetime) -> dict[str, Any]:
    """The month's report (HTML and XLSX) in ``$ECQM_HOME/outbox/reports/<month>/``."""
    from ecqm import settings
    from transforms.review.report import write_report

    engine = make_engine(url)
    try:
        files = write_report(engine, month, settings.load().outbox_dir, now)
    finally:
        engine.dispose()
    return {"month": month, "html": str(files.html), "xlsx": str(files.xlsx)}
