"""The month's management indicators (监测管理评价与改进), into ``kpi_snapshots``.

One row per indicator and breakdown (``dimension``: '' for the whole). Every indicator
reads only rows dated inside the month — dates in Asia/Shanghai, as people count them —
so a month's snapshot depends on the month's data alone and a re-run gives the same
rows (the month's rows are replaced in one transaction).

The indicators follow ../STANDARD.md ("Management evaluation"):

=============================  =====================================================
``signals_by_channel``         risk signals computed in the month, by channel
``risks_by_level``             products by level, newest assessment in the month
``risks_by_category_level``    the same by category and level (``category|level``)
``sanwu_share``                share of assessed products with a 三无 signal
``plan_execution``             tasks of the month's plans with a result / all tasks
``fail_rate_by_stratum``       不合格 share of the month's results, targeted and audit
``targeting_lift``             targeted 不合格 share ÷ audit 不合格 share
``market_nonconformity``       the Horvitz–Thompson estimate of the month's plans,
                               with its 95% interval (overall and by category)
``days_signal_to_result``      median days from the product's first high or elevated
                               assessment to its test result
``days_result_to_disposal``    median days from a failed result to the platform's
                               confirmation of the takedown
``disposal_rate``              failed results whose takedown the platform confirmed
``notification_ack_rate``      notices that need an acknowledgement and got one
``notification_on_time_rate``  notices with a deadline sent before it
``dq_pass_rate``               data-quality checks passing at their newest run of
                               the month, by table
``model_brier``                Brier score of the failure probability the risk
                               model gave each tested product before its test
``fail_rate_by_level``         不合格 share of the month's results by the risk level
                               the product had before its test (model precision)
=============================  =====================================================
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, and_, delete, func, select

from ecqm.warehouse.bulk import upsert
from ecqm.warehouse.schema import (
    dq_results,
    evaluations,
    kpi_snapshots,
    market_estimates,
    monitoring_plans,
    notifications,
    risk_assessments,
    risk_signals,
    sampling_tasks,
)
from risk_models.signals import CHANNEL_ZH

SHANGHAI = ZoneInfo("Asia/Shanghai")
LEVELS = ("high", "elevated", "moderate", "low")
LEVEL_ZH = {"high": "高风险", "elevated": "较高风险", "moderate": "一般风险", "low": "低风险"}
LABELS = {
    "signals_by_channel": ("风险信号数（按渠道）", "count"),
    "risks_by_level": ("产品数（按风险级别）", "count"),
    "risks_by_category_level": ("产品数（按品类和风险级别）", "count"),
    "sanwu_share": ("三无产品占比", "share"),
    "plan_execution": ("监测计划执行率", "share"),
    "fail_rate_by_stratum": ("不合格检出率（按抽样层）", "share"),
    "targeting_lift": ("定向监测提升倍数（定向÷随机）", "ratio"),
    "market_nonconformity": ("市场不合格率估计（95%置信区间）", "share"),
    "days_signal_to_result": ("从风险信号到检验结果的天数（中位数）", "days"),
    "days_result_to_disposal": ("从不合格结果到平台下架确认的天数（中位数）", "days"),
    "disposal_rate": ("不合格商品处置率（平台确认下架）", "share"),
    "notification_ack_rate": ("通知回执率", "share"),
    "notification_on_time_rate": ("通知按时发出率", "share"),
    "dq_pass_rate": ("数据质量检查通过率", "share"),
    "model_brier": ("风险模型 Brier 分数（越小越好）", "score"),
    "fail_rate_by_level": ("不合格检出率（按检验前风险级别）", "share"),
}


@dataclass
class KpiReport:
    period_start: dt.date
    rows: int = 0
    kpis: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "period_start": self.period_start.isoformat(),
            "rows": self.rows,
            "kpis": dict(self.kpis),
        }


def month_bounds(period: str | dt.date) -> tuple[dt.date, dt.date]:
    """``YYYY-MM`` (or any day of the month) → (first day, first day of the next)."""
    if isinstance(period, str):
        try:
            year, month = (int(x) for x in period.split("-"))
            first = dt.date(year, month, 1)
        except ValueError:
            raise ValueError(f"a month is written YYYY-MM, got {period!r}") from None
    else:
        first = period.replace(day=1)
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, nxt


def _utc(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in Asia/Shanghai, as a UTC instant."""
    return dt.datetime.combine(day, dt.time(), SHANGHAI).astimezone(dt.UTC)


def _row(kpi: str, dimension: str = "", value: float | None = None, **extra: Any) -> dict:
    label, unit = LABELS[kpi]
    if dimension:
        label = f"{label}：{dimension}"
    return {
        "kpi": kpi,
        "dimension": dimension,
        "label_zh": label,
        "unit": unit,
        "value": value,
        "numerator": extra.get("numerator"),
        "denominator": extra.get("denominator"),
        "ci_low": extra.get("ci_low"),
        "ci_high": extra.get("ci_high"),
        "detail": extra.get("detail"),
    }


def _share(kpi: str, dimension: str, k: float, n: float, **extra: Any) -> dict:
    return _row(kpi, dimension, (k / n) if n else None, numerator=k, denominator=n, **extra)


def _median(values: Iterable[float]) -> float | None:
    values = list(values)
    return float(statistics.median(values)) if values else None


def _as_utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


# ----------------------------------------------------------------------------- signals


def _signals(conn: Connection, first: dt.date, nxt: dt.date) -> list[dict]:
    rows = conn.execute(
        select(risk_signals.c.channel, func.count())
        .where(risk_signals.c.as_of >= first, risk_signals.c.as_of < nxt)
        .group_by(risk_signals.c.channel)
    ).all()
    counts = {str(c): int(n) for c, n in rows}
    out = [
        _row("signals_by_channel", ch, float(counts.get(ch, 0)), detail={"zh": zh})
        for ch, zh in CHANNEL_ZH.items()
    ]
    out += [
        _row("signals_by_channel", ch, float(n))
        for ch, n in sorted(counts.items())
        if ch not in CHANNEL_ZH
    ]
    out.append(_row("signals_by_channel", "", float(sum(counts.values()))))
    return out


def _newest_assessments(conn: Connection, first: dt.date, nxt: dt.date) -> list[dict]:
    newest = (
        select(risk_assessments.c.product_id, func.max(risk_assessments.c.as_of).label("d"))
        .where(risk_assessments.c.as_of >= first, risk_assessments.c.as_of < nxt)
        .group_by(risk_assessments.c.product_id)
        .subquery()
    )
    q = select(
        risk_assessments.c.product_id,
        risk_assessments.c.as_of,
        risk_assessments.c.level,
        risk_assessments.c.category_code,
    ).join(
        newest,
        and_(
            newest.c.product_id == risk_assessments.c.product_id,
            newest.c.d == risk_assessments.c.as_of,
        ),
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def _risks(conn: Connection, first: dt.date, nxt: dt.date) -> list[dict]:
    newest = _newest_assessments(conn, first, nxt)
    by_level = Counter(r["level"] for r in newest)
    out = [_row("risks_by_level", lv, float(by_level.get(lv, 0))) for lv in LEVELS]
    by_cat = Counter((r["category_code"] or "未分类", r["level"]) for r in newest)
    out += [
        _row("risks_by_category_level", f"{cat}|{lv}", float(n))
        for (cat, lv), n in sorted(by_cat.items())
    ]
    # 三无: products with a sanwu signal on their newest assessment date.
    sanwu = {
        (int(pid), d)
        for pid, d in conn.execute(
            select(risk_signals.c.subject_id, risk_signals.c.as_of).where(
                risk_signals.c.subject_kind == "product",
                risk_signals.c.signal == "sanwu",
                risk_signals.c.as_of >= first,
                risk_signals.c.as_of < nxt,
            )
        )
    }
    k = sum((int(r["product_id"]), r["as_of"]) in sanwu for r in newest)
    out.append(_share("sanwu_share", "", float(k), float(len(newest))))
    return out


# ---------------------------------------------------------------------- plans, results


def _results(conn: Connection, first: dt.date, nxt: dt.date) -> list[dict]:
    out: list[dict] = []
    plan_ids = [
        p
        for (p,) in conn.execute(
            select(monitoring_plans.c.plan_id).where(
                monitoring_plans.c.period_start >= first, monitoring_plans.c.period_start < nxt
            )
        )
    ]
    if plan_ids:
        total = conn.execute(
            select(func.count())
            .select_from(sampling_tasks)
            .where(sampling_tasks.c.plan_id.in_(plan_ids))
        ).scalar_one()
        done = conn.execute(
            select(func.count(func.distinct(evaluations.c.task_id))).where(
                evaluations.c.plan_id.in_(plan_ids), evaluations.c.status == "current"
            )
        ).scalar_one()
        out.append(
            _share("plan_execution", "", float(done), float(total), detail={"plans": plan_ids})
        )
        for r in conn.execute(
            select(market_estimates)
            .where(market_estimates.c.plan_id.in_(plan_ids))
            .order_by(market_estimates.c.plan_id, market_estimates.c.category_code)
        ).mappings():
            dim = "" if r["category_code"] == "*" else r["category_code"]
            if len(plan_ids) > 1:
                dim = f"{r['plan_id']}|{dim}" if dim else r["plan_id"]
            out.append(
                _row(
                    "market_nonconformity",
                    dim,
                    r["estimate"],
                    numerator=float(r["audit_failed"]),
                    denominator=float(r["audit_samples"]),
                    ci_low=r["ci_low"],
                    ci_high=r["ci_high"],
                    detail={"method": r["method"]},
                )
            )
    else:
        out.append(_share("plan_execution", "", 0.0, 0.0))

    evals = [
        dict(r)
        for r in conn.execute(
            select(
                evaluations.c.id,
                evaluations.c.product_id,
                evaluations.c.stratum,
                evaluations.c.verdict,
                evaluations.c.tested_on,
                evaluations.c.risk_level_before,
            ).where(
                evaluations.c.status == "current",
                evaluations.c.tested_on >= first,
                evaluations.c.tested_on < nxt,
            )
        ).mappings()
    ]
    rate: dict[str, float | None] = {}
    for stratum in ("targeted", "audit"):
        rows = [e for e in evals if e["stratum"] == stratum]
        k = sum(e["verdict"] == "fail" for e in rows)
        out.append(_share("fail_rate_by_stratum", stratum, float(k), float(len(rows))))
        rate[stratum] = k / len(rows) if rows else None
    lift = (
        rate["targeted"] / rate["audit"] if rate["targeted"] is not None and rate["audit"] else None
    )
    out.append(_row("targeting_lift", "", lift))
    for level in LEVELS:
        rows = [e for e in evals if e["risk_level_before"] == level]
        k = sum(e["verdict"] == "fail" for e in rows)
        out.append(_share("fail_rate_by_level", level, float(k), float(len(rows))))
    out += _timings(conn, evals)
    out.append(_brier(conn, evals))
    return out


def _timings(conn: Connection, evals: list[dict]) -> list[dict]:
    """Signal → result, and failed result → the platform's confirmation of the takedown."""
    out: list[dict] = []
    products = sorted({int(e["product_id"]) for e in evals if e["product_id"] is not None})
    first_flag: dict[int, dt.date] = {}
    for i in range(0, len(products), 500):
        chunk = products[i : i + 500]
        for pid, d in conn.execute(
            select(risk_assessments.c.product_id, func.min(risk_assessments.c.as_of))
            .where(
                risk_assessments.c.product_id.in_(chunk),
                risk_assessments.c.level.in_(("high", "elevated")),
            )
            .group_by(risk_assessments.c.product_id)
        ):
            first_flag[int(pid)] = d
    waits = [
        (e["tested_on"] - first_flag[int(e["product_id"])]).days
        for e in evals
        if e["product_id"] is not None
        and int(e["product_id"]) in first_flag
        and first_flag[int(e["product_id"])] <= e["tested_on"]
    ]
    out.append(
        _row(
            "days_signal_to_result",
            "",
            _median(waits),
            denominator=float(len(waits)),
            detail={"results": len(waits)},
        )
    )
    failed = {int(e["id"]): e for e in evals if e["verdict"] == "fail"}
    confirmed: dict[int, dt.datetime] = {}
    if failed:
        ids = sorted(failed)
        for i in range(0, len(ids), 500):
            for eid, kind, at in conn.execute(
                select(
                    notifications.c.evaluation_id,
                    notifications.c.ack_kind,
                    notifications.c.acknowledged_at,
                ).where(
                    notifications.c.evaluation_id.in_(ids[i : i + 500]),
                    notifications.c.kind == "platform_failure",
                    notifications.c.acknowledged_at.is_not(None),
                )
            ):
                if kind in ("takedown_confirmed", "remedied"):
                    at = _as_utc(at)
                    eid = int(eid)
                    confirmed[eid] = min(at, confirmed.get(eid, at))
    days = [
        max(0, (at.astimezone(SHANGHAI).date() - failed[eid]["tested_on"]).days)
        for eid, at in confirmed.items()
    ]
    out.append(_row("days_result_to_disposal", "", _median(days), denominator=float(len(days))))
    out.append(_share("disposal_rate", "", float(len(confirmed)), float(len(failed))))
    return out


def _brier(conn: Connection, evals: list[dict]) -> dict:
    """The newest probability the model gave each tested product before its test."""
    pairs: list[tuple[float, int]] = []
    for e in evals:
        if e["product_id"] is None:
            continue
        p = conn.execute(
            select(risk_assessments.c.probability)
            .where(
                risk_assessments.c.product_id == e["product_id"],
                risk_assessments.c.as_of <= e["tested_on"],
            )
            .order_by(risk_assessments.c.as_of.desc())
            .limit(1)
        ).scalar()
        if p is not None:
            pairs.append((float(p), int(e["verdict"] == "fail")))
    if not pairs:
        return _row("model_brier", "", None, denominator=0.0)
    brier = sum((p - y) ** 2 for p, y in pairs) / len(pairs)
    mean_p = sum(p for p, _ in pairs) / len(pairs)
    observed = sum(y for _, y in pairs) / len(pairs)
    return _row(
        "model_brier",
        "",
        brier,
        denominator=float(len(pairs)),
        detail={"mean_predicted": round(mean_p, 6), "observed": round(observed, 6)},
    )


# ------------------------------------------------------------------ notices, quality


def _notices(conn: Connection, first: dt.date, nxt: dt.date) -> list[dict]:
    lo, hi = _utc(first), _utc(nxt)
    rows = conn.execute(
        select(
            notifications.c.kind,
            notifications.c.due_at,
            notifications.c.sent_at,
            notifications.c.ack_due_at,
            notifications.c.acknowledged_at,
        ).where(
            notifications.c.created_at >= lo,
            notifications.c.created_at < hi,
            notifications.c.status != "cancelled",
        )
    ).all()
    need_ack = [r for r in rows if r.ack_due_at is not None]
    acked = sum(r.acknowledged_at is not None for r in need_ack)
    with_due = [r for r in rows if r.due_at is not None]
    on_time = sum(
        r.sent_at is not None and _as_utc(r.sent_at) <= _as_utc(r.due_at) for r in with_due
    )
    return [
        _share("notification_ack_rate", "", float(acked), float(len(need_ack))),
        _share("notification_on_time_rate", "", float(on_time), float(len(with_due))),
    ]


def _quality(conn: Connection, first: dt.date, nxt: dt.date) -> list[dict]:
    """Each check (table, expectation) counted once, with its newest result of the month:
    how the data stood as the month ended, however often the checks ran."""
    lo, hi = _utc(first), _utc(nxt)
    newest: dict[tuple[str, str], tuple[Any, bool]] = {}
    for table, expectation, ok, at in conn.execute(
        select(
            dq_results.c.table_name,
            dq_results.c.expectation,
            dq_results.c.success,
            dq_results.c.checked_at,
        ).where(dq_results.c.checked_at >= lo, dq_results.c.checked_at < hi)
    ):
        key = (str(table), str(expectation))
        at = _as_utc(at)
        if key not in newest or at >= newest[key][0]:
            newest[key] = (at, bool(ok))
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (table, _), (_, ok) in newest.items():
        counts[table][0 if ok else 1] += 1
    out = [
        _share("dq_pass_rate", table, float(p), float(p + f))
        for table, (p, f) in sorted(counts.items())
    ]
    passed = sum(p for p, _ in counts.values())
    total = sum(p + f for p, f in counts.values())
    out.append(_share("dq_pass_rate", "", float(passed), float(total)))
    return out


# -------------------------------------------------------------------------------- run


def compute(conn: Connection, period: str | dt.date) -> list[dict]:
    """Every indicator of the month, as ``kpi_snapshots`` rows without their keys."""
    first, nxt = month_bounds(period)
    rows = [
        *_signals(conn, first, nxt),
        *_risks(conn, first, nxt),
        *_results(conn, first, nxt),
        *_notices(conn, first, nxt),
        *_quality(conn, first, nxt),
    ]
    seen: set[tuple[str, str]] = set()
    for r in rows:
        key = (r["kpi"], r["dimension"])
        if key in seen:
            raise AssertionError(f"indicator {key} computed twice")
        seen.add(key)
    return rows


def snapshot(engine: Engine, period: str | dt.date, now: dt.datetime) -> KpiReport:
    """Compute the month's indicators and replace its rows in ``kpi_snapshots``."""
    first, _ = month_bounds(period)
    with engine.begin() as conn:
        rows = compute(conn, first)
        keep = {(r["kpi"], r["dimension"]) for r in rows}
        old = conn.execute(
            select(kpi_snapshots.c.id, kpi_snapshots.c.kpi, kpi_snapshots.c.dimension).where(
                kpi_snapshots.c.period_start == first
            )
        ).all()
        gone = [i for i, k, d in old if (k, d) not in keep]
        if gone:
            conn.execute(delete(kpi_snapshots).where(kpi_snapshots.c.id.in_(gone)))
        if rows:
            # Upserted on (month, indicator, breakdown): a row keeps its id, and
            # computed_at says when it was first computed.
            changing = [
                c.name
                for c in kpi_snapshots.columns
                if c.name not in ("id", "period_start", "kpi", "dimension", "computed_at")
            ]
            upsert(
                conn,
                kpi_snapshots,
                [{**r, "period_start": first, "computed_at": now} for r in rows],
                update=changing,
            )
    report = KpiReport(first, rows=len(rows))
    report.kpis = dict(Counter(r["kpi"] for r in rows))
    return report
