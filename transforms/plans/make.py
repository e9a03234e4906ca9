"""Make a monitoring plan (监测计划): candidates → planner → tasks, labs, workbooks.

:func:`make_plan` reads the sampling frame from the warehouse
(:mod:`transforms.plans.candidates`), lets :func:`risk_models.sampling.plan` choose the
purchases, and gives every task its quantity, test items and standards (from
``ref_categories``), a lab (:mod:`transforms.plans.labs`) and a due date. It writes
``monitoring_plans`` and ``sampling_tasks`` and the workbooks under
``$ECQM_HOME/outbox/plans/<plan_id>/``.

Re-running a plan id replaces it: the same inputs and seed give the same rows (the
plan keeps its first ``created_at``) and the same workbook contents; tasks the new run
does not produce are deleted. A plan whose tasks already have purchases or inspection
results is in execution and is never replaced (:class:`PlanLockedError`).

Task numbers are ``<plan_id>-0001``… in an order drawn with the plan's seed, so neither
buyers nor labs can tell targeted from audit purchases. The due date (预计到样日期) is
``arrival_days`` after the period starts (or after the risk date, for a plan made
later in the month), never after its end.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, delete, func, select

from ecqm.warehouse.bulk import upsert
from ecqm.warehouse.schema import (
    inspection_results,
    market_estimates,
    monitoring_plans,
    purchases,
    sampling_tasks,
)
from risk_models.sampling.allocate import (
    DEFAULT_AUDIT_SHARE,
    DEFAULT_PER_BRAND,
    DEFAULT_PER_SHOP,
    DEFAULT_PRICE_HEADROOM,
    Allocation,
    plan,
)
from transforms.plans.candidates import Candidates, load_candidates
from transforms.plans.labs import Lab, LabTask, assign_labs, lab_usage, load_labs
from transforms.plans.workbooks import (
    BUYERS_FILE,
    LAB_FILE,
    write_buyer_workbook,
    write_lab_workbook,
)

DEFAULT_ARRIVAL_DAYS = 20
PLANNED = "planned"
NO_LAB = "no_lab"
PLAN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$")
PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


class PlanError(ValueError):
    """The plan cannot be made as asked (bad period, plan id or budget)."""


class PlanLockedError(PlanError):
    """The plan is in execution (purchases or results recorded); make a new plan id."""


@dataclass
class PlanReport:
    """What :func:`make_plan` did."""

    plan_id: str
    period: str
    period_start: dt.date
    period_end: dt.date
    risk_as_of: dt.date | None
    seed: int
    budget_purchases: int
    budget_fen: int | None
    tasks: int = 0
    targeted: int = 0
    audit: int = 0
    planned_fen: int = 0
    labs: dict[str, int] = field(default_factory=dict)
    unassigned: list[str] = field(default_factory=list)
    replaced: bool = False
    outbox: str = ""
    files: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (dates as ISO text)."""
        d = asdict(self)
        for key in ("period_start", "period_end", "risk_as_of"):
            d[key] = d[key].isoformat() if d[key] else None
        return d


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of a ``YYYY-MM`` month.

    >>> period_bounds("2026-12")
    (datetime.date(2026, 12, 1), datetime.date(2026, 12, 31))
    """
    match = PERIOD.match(period or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise PlanError(f"period must be YYYY-MM, got {period!r}")
    start = dt.date(int(match.group(1)), int(match.group(2)), 1)
    following = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, following - dt.timedelta(days=1)


def default_plan_id(period: str) -> str:
    """``plan-YYYY-MM``: one regular plan per month (extra plans take their own id)."""
    return f"plan-{period}"


def make_plan(
    engine: Engine,
    *,
    period: str,
    budget_purchases: int,
    seed: int,
    home: Path,
    plan_id: str | None = None,
    budget_fen: int | None = None,
    categories: list[str] | None = None,
    platforms: list[str] | None = None,
    as_of: dt.date | None = None,
    per_shop: int | None = DEFAULT_PER_SHOP,
    per_brand: int | None = DEFAULT_PER_BRAND,
    price_cap_fen: int | None = None,
    price_headroom: float = DEFAULT_PRICE_HEADROOM,
    audit_share: float = DEFAULT_AUDIT_SHARE,
    audit_size: int | None = None,
    arrival_days: int = DEFAULT_ARRIVAL_DAYS,
    now: dt.datetime | None = None,
) -> PlanReport:
    """Make (or remake) the monitoring plan ``plan_id`` for the month ``period``.

    Risk comes from each product's newest assessment on or before ``as_of`` (default:
    the newest). See :func:`risk_models.sampling.plan` for the budget, caps and scope
    arguments. Returns a :class:`PlanReport`; raises :class:`PlanError` for bad
    arguments and :class:`PlanLockedError` for a plan already in execution.
    """
    start, end = period_bounds(period)
    plan_id = plan_id or default_plan_id(period)
    if not PLAN_ID.match(plan_id) or ".." in plan_id:
        raise PlanError(
            f"plan id {plan_id!r}: use 1–48 letters, digits, '-', '_' or '.', starting "
            "with a letter or digit"
        )
    if arrival_days < 0:
        raise PlanError(f"arrival_days must be non-negative, got {arrival_days}")
    now = now or dt.datetime.now(dt.UTC)
    with engine.connect() as conn:
        candidates = load_candidates(conn, as_of)
        labs = load_labs(conn)
        used = lab_usage(conn, start, end, exclude_plan=plan_id)
    # Counted from the period's start, or from the risk date when the plan is made later
    # in the month (a due date must not lie before the plan exists); the risk date is
    # part of the plan's inputs, so a re-run gives the same date.
    begin = max(start, candidates.risk_as_of or start)
    due_on = min(begin + dt.timedelta(days=arrival_days), end)
    try:
        allocation = plan(
            candidates.frame,
            budget_purchases=budget_purchases,
            budget_fen=budget_fen,
            seed=seed,
            per_shop=per_shop,
            per_brand=per_brand,
            price_cap_fen=price_cap_fen,
            price_headroom=price_headroom,
            audit_share=audit_share,
            audit_size=audit_size,
            platforms=platforms,
            categories=categories,
        )
    except ValueError as exc:
        raise PlanError(str(exc)) from exc
    tasks = _tasks(plan_id, allocation, candidates, labs, used, due_on, seed)
    report = PlanReport(
        plan_id=plan_id,
        period=period,
        period_start=start,
        period_end=end,
        risk_as_of=candidates.risk_as_of,
        seed=seed,
        budget_purchases=budget_purchases,
        budget_fen=budget_fen,
    )
    with engine.begin() as conn:
        created, replaced = _write(conn, plan_id, tasks, allocation, report, now, as_of)
    report.replaced = replaced
    report.tasks = len(tasks)
    report.targeted = allocation.summary["targeted"]
    report.audit = allocation.summary["audit"]
    report.planned_fen = allocation.summary["planned_fen"]
    report.labs = dict(sorted(Counter(t["lab_code"] for t in tasks if t["lab_code"]).items()))
    report.unassigned = [t["task_id"] for t in tasks if t["lab_code"] is None]
    folder = Path(home) / "outbox" / "plans" / plan_id
    report.files = _write_files(folder, plan_id, tasks, labs, created)
    report.outbox = str(folder)
    report.summary = _plan_summary(allocation, tasks)
    return report


# --------------------------------------------------------------------------- tasks


def _tasks(
    plan_id: str,
    allocation: Allocation,
    candidates: Candidates,
    labs: list[Lab],
    used: dict[str, int],
    due_on: dt.date,
    seed: int,
) -> list[dict[str, Any]]:
    """Task rows in priority order, each with what the workbooks need beside the table
    columns (keys starting with ``_`` are not stored)."""
    chosen = allocation.tasks
    if chosen.empty:
        return []
    info = candidates.frame.drop_duplicates("listing_id").set_index("listing_id")
    numbers = np.random.Generator(np.random.PCG64(seed)).permutation(len(chosen)) + 1
    width = max(4, len(str(len(chosen))))
    tasks: list[dict[str, Any]] = []
    for number, row in zip(numbers.tolist(), chosen.to_dict("records"), strict=True):
        listing = info.loc[int(row["listing_id"])]
        category = candidates.categories[row["category_code"]]
        tasks.append(
            {
                "task_id": f"{plan_id}-{number:0{width}d}",
                "plan_id": plan_id,
                "stratum": row["stratum"],
                "stratum_key": row["stratum_key"],
                "inclusion_probability": float(row["inclusion_probability"]),
                "product_id": int(row["product_id"]),
                "listing_id": int(row["listing_id"]),
                "shop_id": None if pd.isna(row["shop_id"]) else int(row["shop_id"]),
                "platform": row["platform"],
                "listing_external_id": str(listing["external_id"]),
                "category_code": row["category_code"],
                "risk_level": row["level"] if isinstance(row["level"], str) else None,
                "risk_probability": None
                if pd.isna(row["probability"])
                else float(row["probability"]),
                "price_fen": int(row["price_fen"]),
                "price_cap_fen": int(row["price_cap_fen"]),
                "sample_units": int(category["sample_units"]),
                "backup_units": int(category["backup_units"]),
                "test_items": list(category["test_items"] or []),
                "standards": list(category["standards"] or []),
                "lab_code": None,
                "due_on": due_on,
                "status": PLANNED,
                "_region_code": row["region_code"] if isinstance(row["region_code"], str) else None,
                "_url": _text(listing["url"]),
                "_title": _text(listing["title"]),
                "_shop_name": _text(listing["shop_name"]),
                "_product_name": _text(listing["product_name"]) or _text(listing["title"]),
                "_brand": _text(listing["brand"]),
                "_model": _text(listing["model"]),
                "_category_zh": category["name_zh"],
                "_unit_zh": category.get("unit_zh"),
            }
        )
    assigned = assign_labs(
        (LabTask(t["task_id"], t["category_code"], t["_region_code"]) for t in tasks), labs, used
    )
    for t in tasks:
        t["lab_code"] = assigned[t["task_id"]]
        if t["lab_code"] is None:
            t["status"] = NO_LAB
    return tasks


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return str(value)


# --------------------------------------------------------------------------- write


def _write(
    conn: Connection,
    plan_id: str,
    tasks: list[dict[str, Any]],
    allocation: Allocation,
    report: PlanReport,
    now: dt.datetime,
    as_of: dt.date | None,
) -> tuple[dt.datetime, bool]:
    """Replace the plan's rows; returns its creation time and whether it existed."""
    old_ids = [
        r[0]
        for r in conn.execute(
            select(sampling_tasks.c.task_id).where(sampling_tasks.c.plan_id == plan_id)
        )
    ]
    if old_ids:
        bought = conn.execute(
            select(func.count())
            .select_from(purchases)
            .where(
                purchases.c.task_id.in_(
                    select(sampling_tasks.c.task_id).where(sampling_tasks.c.plan_id == plan_id)
                )
            )
        ).scalar_one()
        tested = conn.execute(
            select(func.count())
            .select_from(inspection_results)
            .where(
                inspection_results.c.task_id.in_(
                    select(sampling_tasks.c.task_id).where(sampling_tasks.c.plan_id == plan_id)
                )
            )
        ).scalar_one()
        if bought or tested:
            raise PlanLockedError(
                f"plan {plan_id} is in execution ({bought} purchase(s), {tested} inspection "
                "result(s) recorded); it cannot be replaced — make a new plan id"
            )
    existing = conn.execute(
        select(monitoring_plans.c.created_at).where(monitoring_plans.c.plan_id == plan_id)
    ).scalar_one_or_none()
    created = existing or now
    params = allocation.params
    plan_row = {
        "plan_id": plan_id,
        "period_start": report.period_start,
        "period_end": report.period_end,
        "risk_as_of": report.risk_as_of,
        "budget_purchases": report.budget_purchases,
        "budget_fen": report.budget_fen,
        "seed": report.seed,
        "scope": {
            "categories": list(params.categories) if params.categories else None,
            "platforms": list(params.platforms) if params.platforms else None,
        },
        "params": {
            "per_shop": params.per_shop,
            "per_brand": params.per_brand,
            "price_cap_fen": params.price_cap_fen,
            "price_headroom": params.price_headroom,
            "audit_share": params.audit_share,
            "audit_size": params.audit_size,
            "as_of": as_of.isoformat() if as_of else None,
            "due_on": tasks[0]["due_on"].isoformat() if tasks else None,
        },
        "summary": _plan_summary(allocation, tasks),
        "status": PLANNED,
        "created_at": created,
    }
    upsert(conn, monitoring_plans, [plan_row])
    rows = [{k: v for k, v in t.items() if not k.startswith("_")} for t in tasks]
    for row in rows:
        row["created_at"] = created
    new_ids = {r["task_id"] for r in rows}
    gone = [t for t in old_ids if t not in new_ids]
    for i in range(0, len(gone), 500):
        conn.execute(delete(sampling_tasks).where(sampling_tasks.c.task_id.in_(gone[i : i + 500])))
    result = upsert(conn, sampling_tasks, rows) if rows else None
    if gone or (result is not None and (result.updated or (old_ids and result.inserted))):
        # The design changed: estimates of the old design no longer hold.
        conn.execute(delete(market_estimates).where(market_estimates.c.plan_id == plan_id))
    return created, existing is not None


def _plan_summary(allocation: Allocation, tasks: list[dict[str, Any]]) -> dict[str, Any]:
    summary = dict(allocation.summary)
    summary["by_lab"] = dict(sorted(Counter(t["lab_code"] or "" for t in tasks).items()))
    summary["by_lab"].pop("", None)
    summary["no_lab"] = sorted(t["task_id"] for t in tasks if t["lab_code"] is None)
    return summary


# --------------------------------------------------------------------------- files


def _write_files(
    folder: Path,
    plan_id: str,
    tasks: list[dict[str, Any]],
    labs: list[Lab],
    created: dt.datetime,
) -> list[str]:
    """Write the workbooks into a fresh folder, then swap it in for the old one."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{plan_id}.tmp-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    lab_names = {lab.code: lab.name for lab in labs}
    documents = [
        {
            **{k: v for k, v in t.items() if not k.startswith("_")},
            "url": t["_url"],
            "title": t["_title"],
            "shop_name": t["_shop_name"],
            "product_name": t["_product_name"],
            "brand": t["_brand"],
            "model": t["_model"],
            "category_zh": t["_category_zh"],
            "unit_zh": t["_unit_zh"],
            "lab_name": lab_names.get(t["lab_code"] or ""),
        }
        for t in tasks
    ]
    assigned = [d for d in documents if d["lab_code"]]
    names = [write_buyer_workbook(staging / BUYERS_FILE, plan_id, assigned, created).name]
    by_lab: dict[str, list[dict[str, Any]]] = {}
    for d in assigned:
        by_lab.setdefault(d["lab_code"], []).append(d)
    for code in sorted(by_lab):
        path = staging / LAB_FILE.format(code=code)
        names.append(write_lab_workbook(path, plan_id, lab_names[code], by_lab[code], created).name)
    retired = folder.parent / f".{plan_id}.old-{os.getpid()}"
    if folder.exists():
        folder.rename(retired)
    staging.rename(folder)
    if retired.exists():
        shutil.rmtree(retired)
    return [str(folder / n) for n in names]
