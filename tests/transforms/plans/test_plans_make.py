"""Monitoring plans end to end on a small warehouse (SQLite and PostgreSQL): tasks and
labs, idempotent reruns, workbooks read back, lab capacity, locked plans, market
estimates, and the BI mart."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from plans_world import AS_OF, HOSTILE_SHOP, HOSTILE_TITLE, SEEN, build, product_plan
from sqlalchemy import func, select, text, update

from ecqm.warehouse.schema import (
    inspection_results,
    market_estimates,
    monitoring_plans,
    ref_categories,
    ref_labs,
    sampling_tasks,
)
from transforms.plans import PlanError, PlanLockedError, compute_estimates, make_plan
from transforms.plans.workbooks import BUYER_COLUMNS, BUYERS_FILE, LAB_COLUMNS

NOW = dt.datetime(2026, 11, 28, 1, 0, tzinfo=dt.UTC)
PLAN = {"period": "2026-12", "budget_purchases": 14, "seed": 7, "now": NOW}


@pytest.fixture
def world(warehouse_engine):
    with warehouse_engine.begin() as conn:
        return build(conn)


def _tasks(engine) -> list[dict]:
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                select(sampling_tasks).order_by(sampling_tasks.c.task_id)
            ).mappings()
        ]


def _sheet_rows(path: Path) -> dict[str, list[tuple]]:
    wb = load_workbook(path)
    return {ws.title: [tuple(c.value for c in row) for row in ws.iter_rows()] for ws in wb}


def test_a_plan_targets_high_risk_audits_the_rest_and_assigns_labs(
    warehouse_engine, world, tmp_path
):
    report = make_plan(warehouse_engine, home=tmp_path, **PLAN)
    assert report.plan_id == "plan-2026-12"
    assert report.risk_as_of == AS_OF
    assert report.tasks == 14 and report.targeted + report.audit == 14
    tasks = _tasks(warehouse_engine)
    assert len(tasks) == 14
    by_product = {t["product_id"]: t for t in tasks}
    pid = world["products"]
    # Every high product except the dismissed one (4) is targeted, confirmed first.
    for i in (1, 2, 3):
        assert by_product[pid[f"p{i}"]]["stratum"] == "targeted"
        assert by_product[pid[f"p{i}"]]["risk_level"] == "high"
    assert by_product.get(pid["p4"], {}).get("stratum") != "targeted"
    # Product 24's category is unknown: it cannot be bought for testing.
    assert pid["p24"] not in by_product
    # The evidence of product 3 points at its second listing.
    assert by_product[pid["p3"]]["listing_id"] == world["listings"]["L3-1"]
    with warehouse_engine.connect() as conn:
        refs = {
            r["code"]: r
            for r in conn.execute(select(ref_categories)).mappings()
            if r["code"] in {"electric_kettle", "plush_toy", "power_bank"}
        }
        labs = {r["code"]: r for r in conn.execute(select(ref_labs)).mappings()}
        plan_row = conn.execute(select(monitoring_plans)).mappings().one()
    for t in tasks:
        ref = refs[t["category_code"]]
        assert (t["sample_units"], t["backup_units"]) == (ref["sample_units"], ref["backup_units"])
        assert t["test_items"] == ref["test_items"] and t["standards"] == ref["standards"]
        assert t["category_code"] in labs[t["lab_code"]]["category_codes"]
        assert t["due_on"] == dt.date(2026, 12, 21)
        assert t["status"] == "planned"
        assert t["task_id"].startswith("plan-2026-12-")
        assert 0 < t["inclusion_probability"] <= 1
        assert (t["inclusion_probability"] == 1.0) == (t["stratum"] == "targeted")
        assert t["price_cap_fen"] >= t["price_fen"]
    assert plan_row["seed"] == 7 and plan_row["status"] == "planned"
    assert plan_row["summary"]["planned"] == 14
    assert plan_row["period_start"] == dt.date(2026, 12, 1)
    # A kettle sold from a Hangzhou shop goes to the Hangzhou lab.
    kettle = [
        t
        for t in tasks
        if t["category_code"] == "electric_kettle" and t["shop_id"] == world["shops"]["s1"]
    ]
    assert all(t["lab_code"] == "lab_hz_qiancheng" for t in kettle)


def test_rerunning_a_plan_gives_the_same_rows_and_files(warehouse_engine, world, tmp_path):
    first = make_plan(warehouse_engine, home=tmp_path, **PLAN)
    rows = _tasks(warehouse_engine)
    sheets = {Path(f).name: _sheet_rows(Path(f)) for f in first.files}
    later = {**PLAN, "now": NOW + dt.timedelta(days=1)}
    second = make_plan(warehouse_engine, home=tmp_path, **later)
    assert second.replaced and not first.replaced
    assert _tasks(warehouse_engine) == rows
    assert {Path(f).name: _sheet_rows(Path(f)) for f in second.files} == sheets
    assert sorted(p.name for p in Path(second.outbox).iterdir()) == sorted(sheets)
    # Another seed redraws the audit: the plan's rows are replaced, none left over.
    third = make_plan(warehouse_engine, home=tmp_path, **{**later, "seed": 8})
    again = _tasks(warehouse_engine)
    assert len(again) == third.tasks == 14
    assert {t["created_at"] for t in again} == {NOW}
    targeted = {t["product_id"] for t in rows if t["stratum"] == "targeted"}
    assert targeted == {t["product_id"] for t in again if t["stratum"] == "targeted"}
    with warehouse_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(monitoring_plans)).scalar() == 1


def test_a_plan_made_late_in_its_month_is_not_due_before_it_exists(
    warehouse_engine, world, tmp_path
):
    # The risk date is 2026-11-20: a November plan counts its 20 days from then, and
    # stops at the month's end; a December plan counts from 1 December.
    late = make_plan(warehouse_engine, home=tmp_path, **{**PLAN, "period": "2026-11"})
    assert late.tasks
    assert {t["due_on"] for t in _tasks(warehouse_engine)} == {dt.date(2026, 11, 30)}
    assert AS_OF == dt.date(2026, 11, 20)


def test_workbooks_for_buyers_and_labs(warehouse_engine, world, tmp_path):
    report = make_plan(warehouse_engine, home=tmp_path, **PLAN)
    folder = Path(report.outbox)
    assert folder == tmp_path / "outbox" / "plans" / "plan-2026-12"
    tasks = {t["task_id"]: t for t in _tasks(warehouse_engine)}
    buyers = load_workbook(folder / BUYERS_FILE)
    assert buyers.sheetnames == sorted({t["platform"] for t in tasks.values()})
    seen = {}
    for ws in buyers:
        assert [c.value for c in ws[1]] == list(BUYER_COLUMNS)
        assert ws.freeze_panes == "A2"
        assert ws.column_dimensions["B"].width > 8
        for row in ws.iter_rows(min_row=2):
            values = {h: c for h, c in zip(BUYER_COLUMNS, row, strict=True)}
            task = tasks[values["任务编号"].value]
            assert task["platform"] == ws.title
            assert values["数量(样品+备样)"].value.startswith(
                f"{task['sample_units']}+{task['backup_units']}"
            )
            assert values["限价(元)"].value == pytest.approx(task["price_cap_fen"] / 100)
            assert "购买过程录像" in values["需留存证据"].value
            seen[values["商品标题"].value] = values["商品标题"]
            seen[values["店铺"].value] = values["店铺"]
    assert sum(ws.max_row - 1 for ws in buyers) == len(tasks)
    # Formula-like text from the marketplace stays text.
    assert HOSTILE_TITLE in seen and seen[HOSTILE_TITLE].data_type == "s"
    assert HOSTILE_SHOP in seen and seen[HOSTILE_SHOP].data_type == "s"
    assert "+义乌玩具批发" in seen  # the control character is gone, the text kept
    with zipfile.ZipFile(folder / BUYERS_FILE) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert not any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in sheets)
    labs = {}
    for code in sorted({t["lab_code"] for t in tasks.values()}):
        path = folder / f"送检_{code}.xlsx"
        rows = _sheet_rows(path)["送检任务"]
        assert rows[0] == LAB_COLUMNS
        labs[code] = rows[1:]
        for row in rows[1:]:
            task = tasks[row[0]]
            assert task["lab_code"] == code
            assert row[7] == task["sample_units"] and row[8] == task["backup_units"]
            assert row[5].split("\n")[0].startswith(task["test_items"][0]["name"])
            assert task["standards"][0]["code"] in row[6]
            assert row[9].date() == task["due_on"]
    assert sum(len(v) for v in labs.values()) == len(tasks)
    assert sorted(Path(f).name for f in report.files) == sorted(
        [BUYERS_FILE, *(f"送检_{c}.xlsx" for c in labs)]
    )


def test_lab_capacity_is_respected_and_overflow_is_flagged(warehouse_engine, world, tmp_path):
    with warehouse_engine.begin() as conn:
        conn.execute(update(ref_labs).values(monthly_capacity=1))
    # Another plan of the same month already fills the Hangzhou lab.
    other = make_plan(
        warehouse_engine,
        home=tmp_path,
        plan_id="special-2026-12",
        period="2026-12",
        budget_purchases=1,
        seed=1,
        audit_size=0,
        categories=["electric_kettle"],
        now=NOW,
    )
    assert other.tasks == 1 and len(other.labs) == 1
    used = next(iter(other.labs))
    report = make_plan(warehouse_engine, home=tmp_path, **PLAN)
    tasks = [t for t in _tasks(warehouse_engine) if t["plan_id"] == "plan-2026-12"]
    per_lab: dict[str, int] = {}
    for t in tasks:
        if t["lab_code"]:
            per_lab[t["lab_code"]] = per_lab.get(t["lab_code"], 0) + 1
    assert all(n <= 1 for n in per_lab.values())
    assert used not in per_lab
    flagged = [t for t in tasks if t["lab_code"] is None]
    assert flagged and all(t["status"] == "no_lab" for t in flagged)
    assert sorted(t["task_id"] for t in flagged) == sorted(report.unassigned)
    # Flagged tasks are not sent to buyers.
    buyers = load_workbook(Path(report.outbox) / BUYERS_FILE)
    listed = {ws.cell(r, 1).value for ws in buyers for r in range(2, ws.max_row + 1)}
    assert listed == {t["task_id"] for t in tasks if t["lab_code"]}


def test_results_lock_the_plan_and_give_market_estimates(warehouse_engine, world, tmp_path):
    make_plan(warehouse_engine, home=tmp_path, **PLAN)
    tasks = _tasks(warehouse_engine)
    results = []
    for n, t in enumerate(tasks):
        level = t["risk_level"] or "low"
        for item, verdict in (
            ("标志和说明", "pass"),
            ("发热", "fail" if level == "high" or n % 5 == 0 else "pass"),
        ):
            results.append(
                {
                    "task_id": t["task_id"],
                    "platform": t["platform"],
                    "listing_id": t["listing_id"],
                    "product_id": t["product_id"],
                    "test_item": item,
                    "verdict": verdict,
                    "report_number": f"R{n:03d}",
                    "tested_on": dt.date(2026, 12, 28),
                    "lab_code": t["lab_code"],
                }
            )
    with warehouse_engine.begin() as conn:
        conn.execute(inspection_results.insert(), results[:-2])  # the last task untested
    with pytest.raises(PlanLockedError):
        make_plan(warehouse_engine, home=tmp_path, **PLAN)
    assert _tasks(warehouse_engine) == tasks
    rows = compute_estimates(warehouse_engine, "plan-2026-12", now=NOW)
    assert compute_estimates(warehouse_engine, "plan-2026-12", now=NOW) == rows
    with warehouse_engine.connect() as conn:
        stored = {
            r["category_code"]: r
            for r in conn.execute(
                select(market_estimates).where(market_estimates.c.plan_id == "plan-2026-12")
            ).mappings()
        }
    assert set(stored) == {"*"} | {t["category_code"] for t in tasks}
    overall = stored["*"]
    targeted = [t for t in tasks[:-1] if t["stratum"] == "targeted"]
    audit = [t for t in tasks[:-1] if t["stratum"] == "audit"]
    assert overall["targeted_samples"] == len(targeted)
    assert overall["audit_samples"] == len(audit)
    assert overall["targeted_failed"] >= sum(t["risk_level"] == "high" for t in targeted)
    if overall["estimate"] is not None:
        assert 0.0 <= overall["ci_low"] <= overall["estimate"] <= overall["ci_high"] <= 1.0
    assert overall["targeted_hit_rate"] == pytest.approx(
        overall["targeted_failed"] / overall["targeted_samples"]
    )
    # A retest (复检) of a failed targeted sample passes: the later report supersedes the
    # first, so the targeted stratum has one failure fewer.
    failed = next(
        r
        for r in results[:-2]
        if r["verdict"] == "fail" and r["task_id"] in {t["task_id"] for t in targeted}
    )
    with warehouse_engine.begin() as conn:
        conn.execute(
            inspection_results.insert(),
            [
                {
                    **r,
                    "report_number": r["report_number"] + "-复检",
                    "verdict": "pass",
                    "tested_on": dt.date(2026, 12, 30),
                }
                for r in results[:-2]
                if r["task_id"] == failed["task_id"]
            ],
        )
    again = {r["category_code"]: r for r in compute_estimates(warehouse_engine, "plan-2026-12")}
    assert again["*"]["targeted_failed"] == overall["targeted_failed"] - 1
    assert again["*"]["targeted_samples"] == overall["targeted_samples"]


def test_the_mart_lists_every_task_with_names(warehouse_engine, world, tmp_path):
    make_plan(warehouse_engine, home=tmp_path, **PLAN)
    tasks = {t["task_id"]: t for t in _tasks(warehouse_engine)}
    with warehouse_engine.connect() as conn:
        names = dict(conn.execute(select(ref_categories.c.code, ref_categories.c.name_zh)).all())
        mart = (
            conn.execute(text("select * from mart_sampling_plan order by task_id")).mappings().all()
        )
    assert [r["task_id"] for r in mart] == sorted(tasks)
    for r in mart:
        t = tasks[r["task_id"]]
        assert r["plan_id"] == "plan-2026-12" and r["seed"] == 7
        assert r["category_zh"] == names[t["category_code"]]
        assert r["stratum_zh"] == {"targeted": "定向监测", "audit": "随机抽查"}[t["stratum"]]
        assert r["lab_name"] and r["listing_url"].startswith("https://")
        assert r["sampling_weight"] == pytest.approx(1 / t["inclusion_probability"])
        # None of these shops shows a licence naming a company: each may be a person's,
        # so its name is withheld (the workbooks, for the buyers, carry it).
        assert r["shop_name"] == "个人网店（名称不公开）"
        assert str(r["due_on"])[:10] == "2026-12-21"
        if t["risk_level"] == "high":
            assert r["risk_level_zh"] == "高风险"


@pytest.mark.parametrize(
    "kwargs",
    [{"period": "2026-13"}, {"period": "December"}, {"plan_id": "../evil"}, {"plan_id": "a" * 60}],
)
def test_bad_arguments_are_refused_before_anything_is_read(tmp_path, kwargs):
    from ecqm.warehouse.engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(PlanError):
        make_plan(engine, home=tmp_path, **{**PLAN, **kwargs})
    engine.dispose()


def test_the_world_is_what_the_tests_assume():
    assert [product_plan(i)["level"] for i in (1, 4, 5, 9, 10)] == [
        "high",
        "high",
        "elevated",
        "moderate",
        "low",
    ]
    assert SEEN.tzinfo is not None
