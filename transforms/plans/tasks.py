"""Monitoring plans as plain functions of a warehouse URL: the ``plan_sampling`` DAG and
the ``ecqm plan`` command call these."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from ecqm import settings as ecqm_settings
from ecqm.warehouse.engine import make_engine

SHANGHAI = ZoneInfo("Asia/Shanghai")


def period_for(moment: dt.datetime) -> str:
    """The plan month (``YYYY-MM``) of a run: its moment's month in Asia/Shanghai.

    >>> period_for(dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC))
    '2026-12'
    """
    if moment.tzinfo is None:
        raise ValueError("the run's moment must carry a time zone")
    return moment.astimezone(SHANGHAI).strftime("%Y-%m")


def default_seed(period: str) -> int:
    """The seed of a month's plan when none is given: the month as a number (202612), so
    a re-run of the month draws the same sample.

    >>> default_seed("2026-12")
    202612
    """
    return int(period.replace("-", ""))


def yuan_to_fen(value: str | int | float | Decimal | None) -> int | None:
    """Yuan (as typed by a person: ``"5000"``, ``"1234.5"``) to integer fen.

    >>> yuan_to_fen("1234.5"), yuan_to_fen(None)
    (123450, None)
    """
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise ValueError(f"not an amount of yuan: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"not an amount of yuan: {value!r}")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"yuan with more than two decimals: {value!r}")
    return int(fen)


def plan_month(
    url: str,
    *,
    period: str,
    budget_purchases: int,
    budget_fen: int | None = None,
    seed: int | None = None,
    plan_id: str | None = None,
    as_of: dt.date | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Make the monitoring plan of ``period`` in the warehouse at ``url``; the report as
    a dict (see :class:`transforms.plans.PlanReport`). Other keyword arguments go to
    :func:`transforms.plans.make_plan` (``categories``, ``platforms``, ``per_shop``,
    ``per_brand``, ``price_cap_fen``, ``audit_share``, ``audit_size``, …)."""
    from transforms.plans.make import make_plan

    s = ecqm_settings.load()
    engine = make_engine(url)
    try:
        report = make_plan(
            engine,
            plan_id=plan_id,
            period=period,
            budget_purchases=budget_purchases,
            budget_fen=budget_fen,
            seed=default_seed(period) if seed is None else seed,
            as_of=as_of,
            home=s.home,
            **kwargs,
        )
    finally:
        engine.dispose()
    return report.as_dict()


def estimates(url: str, plan_id: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Compute the market estimates of ``plan_id`` (see
    :func:`transforms.plans.compute_estimates`)."""
    from transforms.plans.estimates import compute_estimates

    engine = make_engine(url)
    try:
        return compute_estimates(engine, plan_id, **kwargs)
    finally:
        engine.dispose()


def describe(report: dict[str, Any]) -> str:
    """A few lines for people about a plan report (what ``ecqm plan`` prints)."""
    fen = report["summary"].get("planned_fen", 0)
    lines = [
        f"plan {report['plan_id']} for {report['period']} "
        f"(risk as of {report['risk_as_of'] or 'none'}, seed {report['seed']}): "
        f"{report['tasks']} tasks — targeted {report['targeted']}, audit {report['audit']}",
        f"committed at most {Decimal(fen) / 100:.2f} yuan"
        + (
            f" of {Decimal(report['budget_fen']) / 100:.2f}"
            if report["budget_fen"] is not None
            else ""
        )
        + f"; {report['budget_purchases']} purchases allowed",
        "labs: " + (", ".join(f"{k} {v}" for k, v in report["labs"].items()) or "none"),
    ]
    if report["unassigned"]:
        lines.append(
            f"no lab with capacity for {len(report['unassigned'])} task(s): "
            + ", ".join(report["unassigned"][:10])
            + (" …" if len(report["unassigned"]) > 10 else "")
        )
    high = report["summary"].get("high_not_planned") or []
    if high:
        lines.append(f"high-risk products not planned (caps or budget): {len(high)}")
    lines += [f"  {path}" for path in report["files"]]
    return "\n".join(lines)
