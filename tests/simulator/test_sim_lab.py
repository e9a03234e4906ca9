"""The simulated buyers and lab: outcomes drawn from the truth, marked as simulation,
reproducible, never dated in the future."""

from __future__ import annotations

import csv
import datetime as dt
import math
from zoneinfo import ZoneInfo

import pytest

from simulator.lab import PURCHASE_HEADERS, RESULT_HEADERS, simulate, write_inbox
from simulator.world import World

NOW = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)
CREATED = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)
ITEMS = [
    {"name": "标志和说明", "standard": "GB 4706.1"},
    {"name": "对触及带电部件的防护", "standard": "GB 4706.1"},
    {"name": "发热", "standard": "GB 4706.1"},
    {"name": "泄漏电流和电气强度", "standard": "GB 4706.1"},
]


PRODUCTS = 400


@pytest.fixture(scope="module")
def world():
    return World(products=PRODUCTS, seed=11)


def _tasks(world, n=None):
    out = []
    for pid in range(PRODUCTS):
        for platform, p, j in world.listings_of(pid):
            ext = world.listing_ext_id(platform, p, j)
            out.append(
                {
                    "task_id": f"plan-t-{len(out) + 1:05d}",
                    "platform": platform,
                    "listing_external_id": str(ext),
                    "lab_code": "lab_test",
                    "status": "planned",
                    "price_fen": None,
                    "test_items": ITEMS,
                    "created_at": CREATED,
                }
            )
            if n and len(out) >= n:
                return out
    return out


def test_outcomes_follow_the_true_failure_probability(world):
    tasks = _tasks(world)
    run = simulate(world, tasks, seed=5, now=NOW)
    assert run.samples == len(tasks) > 500 and not run.skipped
    # Failures counted per task against the sum of true probabilities: within four
    # standard deviations of a sum of independent Bernoulli draws.
    p = [world.listing_by_ext(t["platform"], int(t["listing_external_id"])).p_fail for t in tasks]
    sd = math.sqrt(sum(x * (1 - x) for x in p))
    assert abs(len(run.failed_tasks) - sum(p)) < 4 * sd, (len(run.failed_tasks), sum(p), sd)
    assert run.expected_failures == pytest.approx(sum(p))
    # Every failed task has at least one failed item with a defect class; passed ones none.
    by_task: dict[str, list[dict]] = {}
    for row in run.results:
        by_task.setdefault(row["任务编号"], []).append(row)
    assert set(by_task) == {t["task_id"] for t in tasks}
    for task_id, rows in by_task.items():
        assert len(rows) == len(ITEMS)
        assert len({r["报告编号"] for r in rows}) == 1
        failed = [r for r in rows if r["单项判定"] == "不合格"]
        assert bool(failed) == (task_id in run.failed_tasks)
        assert all(r["缺陷类别"] in ("严重", "一般", "轻微") for r in failed)
        assert all(r["缺陷类别"] == "" for r in rows if r["单项判定"] == "合格")


def test_safety_defects_fail_as_critical_and_labels_as_minor(world):
    run = simulate(world, _tasks(world), seed=5, now=NOW)
    task_listing = {
        t["task_id"]: world.listing_by_ext(t["platform"], int(t["listing_external_id"]))
        for t in _tasks(world)
    }
    classes = {"严重": 0, "一般": 0, "轻微": 0}
    for row in run.results:
        if row["单项判定"] != "不合格":
            continue
        classes[row["缺陷类别"]] += 1
        listing = task_listing[row["任务编号"]]
        if row["检验项目"] == "标志和说明":
            assert row["缺陷类别"] == "轻微"
        elif listing.product.defect and listing.product.defect.hazard in ("fire", "electric_shock"):
            assert row["缺陷类别"] == "严重"
    assert all(classes.values()), classes


def test_everything_is_marked_as_simulation_and_nothing_is_in_the_future(world):
    run = simulate(world, _tasks(world, 60), seed=5, now=NOW)
    today = NOW.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    for row in run.purchases:
        assert row["订单号"].startswith("SIM") and row["运单号"].startswith("SIM")
        assert "模拟" in row["到货状态"]
        assert row["下单时间"] <= row["收货时间"] <= "2026-11-23 14:00"
    for row in run.results:
        assert row["报告编号"].startswith("SIM-lab_test-")
        assert "模拟" in row["实测值"]
        assert row["检验日期"] == today


def test_the_same_plan_gives_the_same_files(world, tmp_path):
    tasks = _tasks(world, 80)
    a = write_inbox(simulate(world, tasks, seed=5, now=NOW), tmp_path / "a", "p1")
    b = write_inbox(simulate(world, list(reversed(tasks)), seed=5, now=NOW), tmp_path / "b", "p1")
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes()
    with a[0].open(encoding="utf-8-sig", newline="") as fh:
        assert tuple(next(csv.reader(fh))) == PURCHASE_HEADERS
    with a[1].open(encoding="utf-8-sig", newline="") as fh:
        assert tuple(next(csv.reader(fh))) == RESULT_HEADERS
    assert not list((tmp_path / "a").rglob("*.part"))
    other = simulate(world, tasks, seed=6, now=NOW)
    assert other.failed_tasks != simulate(world, tasks, seed=5, now=NOW).failed_tasks


def test_tasks_that_cannot_be_bought_are_skipped_with_a_reason(world, tmp_path):
    tasks = _tasks(world, 3)
    tasks[0] = {**tasks[0], "lab_code": None}
    tasks[1] = {**tasks[1], "listing_external_id": "999999999999"}
    tasks[2] = {**tasks[2], "status": "tested"}
    run = simulate(world, tasks, seed=5, now=NOW)
    assert run.samples == 0 and not run.results
    assert run.skipped == {
        tasks[0]["task_id"]: "no lab can take it",
        tasks[1]["task_id"]: "the listing is not in the simulated market",
        tasks[2]["task_id"]: "status tested",
    }
    assert write_inbox(run, tmp_path, "x") == (None, None)
    assert not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match="time zone"):
        simulate(world, tasks, seed=5, now=NOW.replace(tzinfo=None))
