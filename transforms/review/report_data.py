"""What the monthly report reads from the warehouse, as plain records.

Aggregates only: counts and rates by indicator, plan, category, province, notice kind
and credit rule. No query here selects a shop's name, contact or address, a review, a
complaint or a notice's recipient, so nothing personal can reach the report.

:func:`read_month` takes the month's indicator snapshot as it is; the caller makes sure
there is one (``transforms.review.kpis.snapshot``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection, and_, case, func, or_, select

from ecqm.warehouse.schema import (
    evaluations,
    kpi_snapshots,
    listings,
    market_estimates,
    merchant_credit,
    monitoring_plans,
    notifications,
    ref_categories,
    ref_regions,
    risk_assessments,
    sampling_tasks,
    shops,
)
from transforms.review.kpis import SHANGHAI, month_bounds

# The trends show up to 12 months: from the first month with a snapshot, at least 6.
TREND_MONTHS = 12
MIN_TREND_MONTHS = 6
# The notice kinds in the order people read them (as mart_notification_status names them).
KIND_ZH = {
    "seller_result": "检验结果告知书",
    "producer_failure": "不合格产品检验结果通知书",
    "platform_failure": "不合格产品下架处置通知",
    "regulator_safety": "产品质量安全风险通报函",
    "public_alert": "消费提示",
    "reminder": "回执催告通知",
    "escalation": "逾期未回执情况报告",
}


@dataclass
class MonthData:
    """Everything the report shows for one month."""

    month: str
    first: dt.date
    kpis: dict[tuple[str, str], dict]
    computed_at: dt.datetime | None
    trend_months: list[dt.date]
    trend: dict[tuple[dt.date, str, str], float | None]
    trend_seen: set[dt.date]
    categories: dict[str, str]
    provinces: dict[str, str]
    plan_ids: list[str]
    executions: list[dict] = field(default_factory=list)
    estimates: list[dict] = field(default_factory=list)
    regions: dict[str | None, list[int]] = field(default_factory=dict)
    notices: list[dict] = field(default_factory=list)
    credit: list[dict] = field(default_factory=list)
    simulated: int = 0


def read_month(conn: Connection, month: str) -> MonthData:
    first, nxt = month_bounds(month)
    snapshot = _snapshot(conn, first)
    computed = [r["computed_at"] for r in snapshot.values() if r["computed_at"] is not None]
    months, trend, seen = _trend(conn, first)
    categories, provinces = _names(conn)
    plan_ids = _plans(conn, first, nxt)
    return MonthData(
        month=month,
        first=first,
        kpis=snapshot,
        computed_at=max(computed) if computed else None,
        trend_months=months,
        trend=trend,
        trend_seen=seen,
        categories=categories,
        provinces=provinces,
        plan_ids=plan_ids,
        executions=_plan_execution(conn, plan_ids),
        estimates=_estimates(conn, plan_ids),
        regions=_regions(conn, first, nxt),
        notices=_notices(conn, first, nxt),
        credit=_credit(conn, first, nxt),
        simulated=_simulated(conn, first, nxt, plan_ids),
    )


def has_snapshot(conn: Connection, first: dt.date) -> bool:
    return bool(
        conn.execute(
            select(func.count())
            .select_from(kpi_snapshots)
            .where(kpi_snapshots.c.period_start == first)
        ).scalar_one()
    )


def province_of(code: str | None) -> str | None:
    """The province of a region code: its first two digits and 0000.

    >>> province_of("330782"), province_of("110000"), province_of(None), province_of("33")
    ('330000', '110000', None, None)
    """
    code = (code or "").strip()
    return code[:2] + "0000" if len(code) == 6 and code.isdigit() else None


def months_back(first: dt.date, n: int) -> list[dt.date]:
    """The first days of ``n`` months ending with ``first``'s, oldest first.

    >>> [d.isoformat() for d in months_back(dt.date(2026, 2, 1), 3)]
    ['2025-12-01', '2026-01-01', '2026-02-01']
    """
    months = [first]
    while len(months) < n:
        months.insert(0, (months[0] - dt.timedelta(days=1)).replace(day=1))
    return months


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), SHANGHAI).astimezone(dt.UTC)


def _snapshot(conn: Connection, first: dt.date) -> dict[tuple[str, str], dict]:
    rows = conn.execute(
        select(kpi_snapshots).where(kpi_snapshots.c.period_start == first)
    ).mappings()
    return {(r["kpi"], r["dimension"]): dict(r) for r in rows}


def _trend(conn: Connection, first: dt.date) -> tuple[list[dt.date], dict, set[dt.date]]:
    months = months_back(first, TREND_MONTHS)
    earliest = conn.execute(
        select(func.min(kpi_snapshots.c.period_start)).where(
            kpi_snapshots.c.period_start >= months[0], kpi_snapshots.c.period_start <= first
        )
    ).scalar()
    if earliest is not None:
        months = months_back(first, max(MIN_TREND_MONTHS, sum(m >= earliest for m in months)))
    else:
        months = months_back(first, MIN_TREND_MONTHS)
    values: dict[tuple[dt.date, str, str], float | None] = {}
    seen: set[dt.date] = set()
    for period, kpi, dim, value in conn.execute(
        select(
            kpi_snapshots.c.period_start,
            kpi_snapshots.c.kpi,
            kpi_snapshots.c.dimension,
            kpi_snapshots.c.value,
        ).where(
            kpi_snapshots.c.period_start >= months[0],
            kpi_snapshots.c.period_start <= first,
        )
    ):
        seen.add(period)
        values[(period, kpi, dim)] = value
    return months, values, seen


def _names(conn: Connection) -> tuple[dict[str, str], dict[str, str]]:
    categories = dict(conn.execute(select(ref_categories.c.code, ref_categories.c.name_zh)).all())
    provinces = dict(
        conn.execute(
            select(ref_regions.c.code, ref_regions.c.name).where(ref_regions.c.level == "province")
        ).all()
    )
    return categories, provinces


def _plans(conn: Connection, first: dt.date, nxt: dt.date) -> list[str]:
    return list(
        conn.execute(
            select(monitoring_plans.c.plan_id)
            .where(monitoring_plans.c.period_start >= first, monitoring_plans.c.period_start < nxt)
            .order_by(monitoring_plans.c.plan_id)
        ).scalars()
    )


def _plan_execution(conn: Connection, plan_ids: list[str]) -> list[dict]:
    """Tasks, tasks with a current result and failed ones, per plan and stratum."""
    if not plan_ids:
        return []
    t = sampling_tasks.c
    tasks = {
        (p, s): int(n)
        for p, s, n in conn.execute(
            select(t.plan_id, t.stratum, func.count())
            .where(t.plan_id.in_(plan_ids))
            .group_by(t.plan_id, t.stratum)
        )
    }
    done: dict[tuple[str, str], set[str]] = defaultdict(set)
    failed: dict[tuple[str, str], set[str]] = defaultdict(set)
    for plan, stratum, task, verdict in conn.execute(
        select(t.plan_id, t.stratum, evaluations.c.task_id, evaluations.c.verdict)
        .join(sampling_tasks, t.task_id == evaluations.c.task_id)
        .where(t.plan_id.in_(plan_ids), evaluations.c.status == "current")
    ):
        done[(plan, stratum)].add(task)
        if verdict == "fail":
            failed[(plan, stratum)].add(task)
    order = {"targeted": 0, "audit": 1}
    return [
        {
            "plan_id": p,
            "stratum": s,
            "tasks": n,
            "done": len(done[p, s]),
            "failed": len(failed[p, s]),
        }
        for (p, s), n in sorted(
            tasks.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 9), kv[0][1])
        )
    ]


def _estimates(conn: Connection, plan_ids: list[str]) -> list[dict]:
    """The month's market estimates: per plan the whole ('*') first, then categories
    from the highest estimate down."""
    if not plan_ids:
        return []
    rows = conn.execute(
        select(market_estimates).where(market_estimates.c.plan_id.in_(plan_ids))
    ).mappings()

    def order(r: Mapping) -> tuple:
        est = r["estimate"]
        return (
            r["plan_id"],
            r["category_code"] != "*",
            est is None,
            -(est or 0),
            r["category_code"],
        )

    return sorted((dict(r) for r in rows), key=order)


def _regions(conn: Connection, first: dt.date, nxt: dt.date) -> dict[str | None, list[int]]:
    """Per province (``None``: not known): [high or elevated products sold by a shop
    there, current results of samples bought there, failed ones]. A product sold from
    shops in two provinces counts in both."""
    out: dict[str | None, list[int]] = defaultdict(lambda: [0, 0, 0])
    ra = risk_assessments
    newest = (
        select(ra.c.product_id, func.max(ra.c.as_of).label("d"))
        .where(ra.c.as_of >= first, ra.c.as_of < nxt)
        .group_by(ra.c.product_id)
        .subquery()
    )
    risky = (
        select(ra.c.product_id)
        .join(newest, and_(newest.c.product_id == ra.c.product_id, newest.c.d == ra.c.as_of))
        .where(ra.c.level.in_(("high", "elevated")))
        .subquery()
    )
    places: dict[int, set[str | None]] = defaultdict(set)
    for pid, region in conn.execute(
        select(risky.c.product_id, shops.c.region_code).select_from(
            risky.outerjoin(listings, listings.c.product_id == risky.c.product_id).outerjoin(
                shops, shops.c.id == listings.c.shop_id
            )
        )
    ):
        places[int(pid)].add(province_of(region))
    for found in places.values():
        known = {p for p in found if p is not None}
        for place in known or {None}:
            out[place][0] += 1
    for verdict, region in conn.execute(
        select(evaluations.c.verdict, shops.c.region_code)
        .select_from(evaluations.outerjoin(shops, shops.c.id == evaluations.c.shop_id))
        .where(
            evaluations.c.status == "current",
            evaluations.c.tested_on >= first,
            evaluations.c.tested_on < nxt,
        )
    ):
        place = province_of(region)
        out[place][1] += 1
        out[place][2] += int(verdict == "fail")
    return dict(out)


def _notices(conn: Connection, first: dt.date, nxt: dt.date) -> list[dict]:
    """Notices created in the month, per kind: by status, and (cancelled ones left out,
    as the indicator counts them) those owing an acknowledgement and those that got one."""
    n = notifications.c
    need = func.sum(case((n.ack_due_at.is_not(None), 1), else_=0))
    acked = func.sum(
        case((and_(n.ack_due_at.is_not(None), n.acknowledged_at.is_not(None)), 1), else_=0)
    )
    by_kind: dict[str, Counter] = defaultdict(Counter)
    for kind, status, count, owed, got in conn.execute(
        select(n.kind, n.status, func.count(), need, acked)
        .where(n.created_at >= _utc(first), n.created_at < _utc(nxt))
        .group_by(n.kind, n.status)
    ):
        c = by_kind[str(kind)]
        c["total"] += int(count)
        c[str(status)] += int(count)
        if status != "cancelled":
            c["need_ack"] += int(owed or 0)
            c["acked"] += int(got or 0)
    order = list(KIND_ZH)
    kinds = sorted(by_kind, key=lambda k: (order.index(k) if k in order else len(order), k))
    return [{"kind": k, **by_kind[k]} for k in kinds]


def _credit(conn: Connection, first: dt.date, nxt: dt.date) -> list[dict]:
    """Shops on each list by rule: in force now (status active) and listed in the month."""
    m = merchant_credit.c
    rows = conn.execute(
        select(
            m.list_kind,
            m.rule_code,
            func.sum(case((m.status == "active", 1), else_=0)),
            func.sum(case((and_(m.listed_on >= first, m.listed_on < nxt), 1), else_=0)),
        )
        .group_by(m.list_kind, m.rule_code)
        .order_by(m.list_kind, m.rule_code)
    ).all()
    if not rows:
        return []
    try:
        from transforms.credit.rules import load_rules

        titles = {code: r.title_zh for code, r in load_rules().rules.items()}
    except Exception:  # noqa: BLE001 — a rule's name is a nicety; its code still says it
        titles = {}
    return [
        {
            "list_kind": kind,
            "rule_code": rule,
            "title": titles.get(rule, rule),
            "active": int(active or 0),
            "new": int(new or 0),
        }
        for kind, rule, active, new in rows
    ]


def _simulated(conn: Connection, first: dt.date, nxt: dt.date, plan_ids: list[str]) -> int:
    """Results of the month from the simulated laboratory (report numbers ``SIM-…``)."""
    e = evaluations.c
    scope = and_(e.tested_on >= first, e.tested_on < nxt)
    if plan_ids:
        scope = or_(scope, e.plan_id.in_(plan_ids))
    return int(
        conn.execute(
            select(func.count())
            .select_from(evaluations)
            .where(e.report_number.like("SIM-%"), scope)
        ).scalar_one()
    )
