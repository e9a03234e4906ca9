"""The month's indicators, computed by hand on a small warehouse, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from review_world import NOW, build_month
from sqlalchemy import select

from ecqm.warehouse.schema import kpi_snapshots
from transforms.review.kpis import month_bounds, snapshot


@pytest.fixture
def month(warehouse_engine):
    return build_month(warehouse_engine)


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


def test_a_check_that_ran_again_counts_once_with_its_newest_result(month):
    from sqlalchemy import insert

    from ecqm.warehouse.schema import dq_results

    def check(run, ok, day):
        return {
            "run_id": run,
            "table_name": "complaints",
            "suite": "s",
            "expectation": "core_row_count",
            "success": ok,
            "element_count": 10,
            "unexpected_count": 0,
            "checked_at": dt.datetime(2026, 11, day, tzinfo=dt.UTC),
        }

    with month.begin() as conn:
        conn.execute(insert(dq_results), [check("a", False, 3), check("b", True, 12)])
    snapshot(month, "2026-11", NOW)
    first = {k: (r["numerator"], r["denominator"]) for k, r in _kpis(month).items()}
    assert first[("dq_pass_rate", "complaints")] == (1.0, 1.0)
    # A third run of the same check adds nothing to the month's count.
    with month.begin() as conn:
        conn.execute(insert(dq_results), [check("c", True, 20)])
    snapshot(month, "2026-11", NOW)
    again = {k: (r["numerator"], r["denominator"]) for k, r in _kpis(month).items()}
    assert again == first
