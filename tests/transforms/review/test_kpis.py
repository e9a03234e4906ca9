"""The month's indicators, computed by hand on a small warehouse, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select

from ecqm.warehouse.schema import (
    dq_results,
    evaluations,
    kpi_snapshots,
    market_estimates,
    monitoring_plans,
    notifications,
    products,
    risk_assessments,
    risk_signals,
    sampling_tasks,
)
from transforms.review.kpis import month_bounds, snapshot

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
SEEN = dt.datetime(2026, 10, 1, tzinfo=UTC)


def _assessment(pid, day, level, p, category="power_bank"):
    return {
        "as_of": day,
        "product_id": pid,
        "category_code": category,
        "probability": p,
        "likelihood": 3,
        "severity": 3,
        "level": level,
        "model_version": "rules-test",
        "matrix_version": "test",
        "summary": "",
        "explanation": {},
        "is_confirmed": False,
        "review_status": "pending",
        "assessed_at": NOW,
    }


def _signal(pid, day, signal, channel):
    return {
        "as_of": day,
        "subject_kind": "product",
        "subject_id": pid,
        "signal": signal,
        "channel": channel,
        "window_end": NOW,
        "value": 1.0,
        "strength": 0.5,
        "detail": "",
        "evidence": {},
        "computed_at": NOW,
    }


def _task(tid, stratum, pid):
    return {
        "task_id": tid,
        "plan_id": "plan-2026-11",
        "stratum": stratum,
        "inclusion_probability": 1.0 if stratum == "targeted" else 0.25,
        "product_id": pid,
        "platform": "youpin",
        "listing_external_id": tid,
        "sample_units": 2,
        "backup_units": 2,
        "test_items": [],
        "standards": [],
        "due_on": dt.date(2026, 11, 21),
        "status": "tested",
        "created_at": SEEN,
    }


def _evaluation(n, tid, stratum, pid, verdict, tested_on, level, status="current"):
    return {
        "report_number": f"R{n}",
        "task_id": tid,
        "plan_id": "plan-2026-11",
        "stratum": stratum,
        "product_id": pid,
        "tested_on": tested_on,
        "verdict": verdict,
        "items_total": 5,
        "items_failed": int(verdict == "fail"),
        "failed_items": [],
        "is_safety": False,
        "is_retest": False,
        "status": status,
        "seller_deadline": tested_on + dt.timedelta(days=7),
        "risk_level_before": level,
        "rules_version": "test",
        "evaluated_at": NOW,
    }


def _notice(key, evaluation_id, kind, created, **extra):
    return {
        "idempotency_key": key,
        "evaluation_id": evaluation_id,
        "kind": kind,
        "recipient_kind": "platform" if kind == "platform_failure" else "seller",
        "recipient_name": "平台",
        "channel": "file",
        "address": "",
        "subject": "s",
        "body_text": "t",
        "body_html": "h",
        "payload": {},
        "status": "sent",
        "attempts": 1,
        "next_attempt_at": created,
        "reminders": 0,
        "created_at": created,
        "due_at": None,
        "sent_at": None,
        "ack_due_at": None,
        "acknowledged_at": None,
        "ack_kind": None,
        **extra,
    }


@pytest.fixture
def month(warehouse_engine):
    nov = dt.date(2026, 11, 20)
    oct_ = dt.date(2026, 10, 15)
    with warehouse_engine.begin() as conn:
        conn.execute(
            insert(products),
            [
                {"product_key": f"k{i}", "first_seen_at": SEEN, "last_seen_at": SEEN}
                for i in range(1, 7)
            ],
        )
        pid = [r for (r,) in conn.execute(select(products.c.id).order_by(products.c.id))]
        conn.execute(
            insert(risk_assessments),
            [
                # Product 1 first flagged in October; the November row is the newest.
                _assessment(pid[0], oct_, "elevated", 0.30),
                _assessment(pid[0], nov, "high", 0.70),
                _assessment(pid[1], nov, "high", 0.60, "plush_toy"),
                _assessment(pid[2], nov, "moderate", 0.20),
                _assessment(pid[3], nov, "low", 0.05),
                _assessment(pid[4], nov, "low", 0.05),
                # December: not this month's.
                _assessment(pid[5], dt.date(2026, 12, 1), "high", 0.9),
            ],
        )
        conn.execute(
            insert(risk_signals),
            [
                _signal(pid[0], nov, "review_hazard", "active_monitoring"),
                _signal(pid[0], nov, "complaints_hazard", "complaints"),
                _signal(pid[1], nov, "sanwu", "active_monitoring"),
                _signal(pid[1], oct_, "review_defect", "active_monitoring"),
            ],
        )
        conn.execute(
            insert(monitoring_plans),
            {
                "plan_id": "plan-2026-11",
                "period_start": dt.date(2026, 11, 1),
                "period_end": dt.date(2026, 11, 30),
                "budget_purchases": 5,
                "seed": 1,
                "scope": {},
                "params": {},
                "summary": {},
                "status": "planned",
                "created_at": SEEN,
            },
        )
        conn.execute(
            insert(sampling_tasks),
            [
                _task("T1", "targeted", pid[0]),
                _task("T2", "targeted", pid[1]),
                _task("T3", "audit", pid[2]),
                _task("T4", "audit", pid[3]),
                _task("T5", "audit", pid[4]),
            ],
        )
        day = dt.date(2026, 11, 25)
        conn.execute(
            insert(evaluations),
            [
                _evaluation(1, "T1", "targeted", pid[0], "fail", day, "high"),
                _evaluation(2, "T2", "targeted", pid[1], "pass", day, "high"),
                # T3 failed first, a retest passed: only the retest counts.
                _evaluation(3, "T3", "audit", pid[2], "fail", day, "moderate", "superseded"),
                _evaluation(4, "T3", "audit", pid[2], "pass", day, "moderate"),
                _evaluation(5, "T4", "audit", pid[3], "fail", day, "low"),
            ],
        )
        ev = dict(conn.execute(select(evaluations.c.report_number, evaluations.c.id)).all())
        created = dt.datetime(2026, 11, 25, 8, tzinfo=UTC)
        conn.execute(
            insert(notifications),
            [
                _notice(
                    "R1:platform",
                    ev["R1"],
                    "platform_failure",
                    created,
                    ack_due_at=created + dt.timedelta(days=3),
                    acknowledged_at=dt.datetime(2026, 11, 28, 1, tzinfo=UTC),
                    ack_kind="takedown_confirmed",
                ),
                _notice(
                    "R5:platform",
                    ev["R5"],
                    "platform_failure",
                    created,
                    ack_due_at=created + dt.timedelta(days=3),
                ),
                _notice(
                    "R1:seller",
                    ev["R1"],
                    "seller_result",
                    created,
                    due_at=created + dt.timedelta(days=7),
                    sent_at=created + dt.timedelta(hours=1),
                ),
                _notice(
                    "R5:seller",
                    ev["R5"],
                    "seller_result",
                    created,
                    due_at=created + dt.timedelta(days=7),
                    sent_at=created + dt.timedelta(days=8),
                ),
                # Cancelled notices are not counted.
                _notice(
                    "R3:seller",
                    ev["R3"],
                    "seller_result",
                    created,
                    status="cancelled",
                    due_at=created,
                ),
            ],
        )
        conn.execute(
            insert(market_estimates),
            [
                {
                    "plan_id": "plan-2026-11",
                    "category_code": "*",
                    "audit_samples": 3,
                    "audit_failed": 1,
                    "estimate": 0.31,
                    "ci_low": 0.05,
                    "ci_high": 0.7,
                    "targeted_samples": 2,
                    "targeted_failed": 1,
                    "method": "test",
                    "computed_at": NOW,
                }
            ],
        )
        checked = dt.datetime(2026, 11, 10, tzinfo=UTC)
        conn.execute(
            insert(dq_results),
            [
                {
                    "run_id": "r1",
                    "table_name": table,
                    "suite": "s",
                    "expectation": f"e{i}",
                    "success": ok,
                    "element_count": 10,
                    "unexpected_count": 0,
                    "checked_at": checked,
                }
                for i, (table, ok) in enumerate(
                    [("reviews", True), ("reviews", False), ("listings", True), ("shops", True)]
                )
            ],
        )
    return warehouse_engine


def _kpis(engine, period=dt.date(2026, 11, 1)):
    with engine.connect() as conn:
        rows = conn.execute(
            select(kpi_snapshots).where(kpi_snapshots.c.period_start == period)
        ).mappings()
        return {(r["kpi"], r["dimension"]): dict(r) for r in rows}


def test_the_months_indicators(month):
    report = snapshot(month, "2026-11", NOW)
    k = _kpis(month)
    assert report.rows == len(k)
    value = {key: row["value"] for key, row in k.items()}
    assert value[("signals_by_channel", "active_monitoring")] == 2
    assert value[("signals_by_channel", "complaints")] == 1
    assert value[("signals_by_channel", "")] == 3
    assert value[("risks_by_level", "high")] == 2
    assert value[("risks_by_level", "low")] == 2
    assert value[("risks_by_category_level", "plush_toy|high")] == 1
    assert value[("sanwu_share", "")] == pytest.approx(1 / 5)
    # 4 of 5 tasks have a current result (T3's retest counts once).
    assert value[("plan_execution", "")] == pytest.approx(4 / 5)
    assert value[("fail_rate_by_stratum", "targeted")] == pytest.approx(1 / 2)
    assert value[("fail_rate_by_stratum", "audit")] == pytest.approx(1 / 2)
    assert value[("targeting_lift", "")] == pytest.approx(1.0)
    assert value[("fail_rate_by_level", "high")] == pytest.approx(1 / 2)
    assert value[("fail_rate_by_level", "moderate")] == 0
    assert value[("fail_rate_by_level", "elevated")] is None
    row = k[("market_nonconformity", "")]
    assert (row["value"], row["ci_low"], row["ci_high"]) == (0.31, 0.05, 0.7)
    # Product 1: flagged 2026-10-15, tested 2026-11-25 → 41 days; the others were
    # first flagged on 11-20 (product 2) → 5 days; moderate and low never flagged.
    assert value[("days_signal_to_result", "")] == pytest.approx(23.0)
    # R1 failed on 11-25 and the takedown was confirmed on 11-28 (Shanghai): 3 days.
    assert value[("days_result_to_disposal", "")] == 3
    assert value[("disposal_rate", "")] == pytest.approx(1 / 2)
    assert value[("notification_ack_rate", "")] == pytest.approx(1 / 2)
    assert value[("notification_on_time_rate", "")] == pytest.approx(1 / 2)
    assert value[("dq_pass_rate", "reviews")] == pytest.approx(1 / 2)
    assert value[("dq_pass_rate", "")] == pytest.approx(3 / 4)
    # Brier over the four current results, with the probability of the newest
    # assessment on or before the test: (0.7-1)², (0.6-0)², (0.2-0)², (0.05-1)².
    brier = ((0.7 - 1) ** 2 + 0.6**2 + 0.2**2 + (0.05 - 1) ** 2) / 4
    assert value[("model_brier", "")] == pytest.approx(brier)
    assert k[("fail_rate_by_stratum", "audit")]["label_zh"] == "不合格检出率（按抽样层）：audit"


def test_a_snapshot_is_replaced_not_added_to(month):
    snapshot(month, "2026-11", NOW)
    first = _kpis(month)
    snapshot(month, dt.date(2026, 11, 17), NOW)
    again = _kpis(month)
    assert {k: {c: v for c, v in r.items() if c != "id"} for k, r in again.items()} == {
        k: {c: v for c, v in r.items() if c != "id"} for k, r in first.items()
    }
    # Another month leaves November alone and sees none of its rows.
    snapshot(month, "2026-12", NOW)
    assert _kpis(month).keys() == first.keys()
    december = {k: r["value"] for k, r in _kpis(month, dt.date(2026, 12, 1)).items()}
    assert december[("risks_by_level", "high")] == 1
    assert december[("fail_rate_by_stratum", "targeted")] is None


@pytest.mark.parametrize("bad", ["2026-13", "202611", "November"])
def test_a_bad_month_is_refused(bad):
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_bounds(bad)


def test_the_mart_shows_the_snapshot(month):
    from sqlalchemy import text

    snapshot(month, "2026-11", NOW)
    with month.connect() as conn:
        rows = conn.execute(
            text(
                "select label_zh, value, unit from mart_kpi_monthly "
                "where kpi = 'targeting_lift' and dimension = ''"
            )
        ).all()
    assert [(r[0], r[1], r[2]) for r in rows] == [("定向监测提升倍数（定向÷随机）", 1.0, "ratio")]
