"""Merchant credit end to end on a warehouse (SQLite and PostgreSQL): evaluations and
notifications in, merchant_credit rows out, through the edges of every rule."""

from __future__ import annotations

import datetime as dt

import pytest
from credit_world import (
    NOW,
    acknowledge,
    credit_rows,
    d,
    dump,
    evaluation,
    listed,
    notice,
)
from sqlalchemy import delete, select, update

from ecqm.warehouse.schema import evaluations, merchant_credit
from transforms.credit.update import update_credit

LATER = NOW + dt.timedelta(hours=5)


def run(engine, as_of: str, now: dt.datetime = NOW):
    return update_credit(engine, d(as_of), now)


# ------------------------------------------------------------------ repeat_failure


def test_two_failures_thirteen_months_apart_do_not_black_list(world):
    with world.begin() as conn:
        evaluation(conn, "s1", "R1", "2024-01-10")
        evaluation(conn, "s1", "R2", "2025-02-10")
    report = run(world, "2025-03-01")
    assert credit_rows(world) == []
    assert report.samples == 2 and report.inserted == 0


def test_two_failures_eleven_months_apart_black_list_on_the_second(world):
    with world.begin() as conn:
        evaluation(conn, "s1", "R1", "2024-01-10")
        evaluation(conn, "s1", "R2", "2024-12-10", worst_defect="critical")
    report = run(world, "2025-03-01")
    [row] = credit_rows(world)
    assert (row["list_kind"], row["rule_code"], row["status"]) == (
        "black",
        "repeat_failure",
        "active",
    )
    assert row["listed_on"] == d("2024-12-10")
    assert row["expires_on"] == d("2026-12-10")
    assert row["shop_name"] == "s1电器专营店" and row["rules_version"] == report.rules_version
    assert "2024年1月10日报告R1（一般缺陷）" in row["reason"]
    assert "2024年12月10日报告R2（严重缺陷）" in row["reason"]
    assert "自2024年12月10日起列入黑名单" in row["reason"]
    assert row["evidence"]["report_count"] == 2
    assert [r["report_number"] for r in row["evidence"]["reports"]] == ["R1", "R2"]
    assert report.inserted == 1 and report.counts["black"]["repeat_failure"]["active"] == 1


@pytest.mark.parametrize(
    ("second", "black"),
    [("2025-01-10", True), ("2025-01-11", False)],
    ids=["exactly-12-months", "12-months-and-a-day"],
)
def test_the_window_includes_both_ends(world, second, black):
    with world.begin() as conn:
        evaluation(conn, "s1", "R1", "2024-01-10")
        evaluation(conn, "s1", "R2", second)
    run(world, "2025-03-01")
    assert bool(credit_rows(world)) is black


def test_failures_of_another_shop_or_platform_do_not_add_up(world):
    with world.begin() as conn:
        evaluation(conn, "s1", "R1", "2024-01-10")
        evaluation(conn, "s2", "R2", "2024-02-10")
        evaluation(conn, "s1", "R3", "2024-03-10", platform="lehuo")  # another shop s1
    run(world, "2024-06-01")
    assert credit_rows(world) == []


def test_a_superseded_failure_never_counts_and_a_passing_retest_lifts(world):
    with world.begin() as conn:
        evaluation(conn, "s1", "R1", "2024-03-01")
        evaluation(conn, "s1", "R2", "2024-06-01")
    run(world, "2024-06-10")
    [row] = listed(world, "s1")
    assert row["status"] == "active" and row["listed_on"] == d("2024-06-01")

    with world.begin() as conn:
        evaluation(conn, "s1", "R1-复检", "2024-06-20", "pass", retest_of="R1")
    report = run(world, "2024-07-01", LATER)
    [row] = listed(world, "s1")
    assert row["status"] == "lifted"
    assert row["expires_on"] == d("2024-06-20")  # the day it stopped
    assert row["evidence"]["lifted_because"] == "cleared_by_retest"
    assert row["evidence"]["lifted_by"] == "R1-复检"
    assert row["evidence"]["scheduled_expires_on"] == "2026-06-01"
    assert "2024年6月20日复检合格（复检报告R1-复检）" in row["reason"]
    assert row["computed_at"] == LATER
    assert report.lifted == 1 and report.counts["black"]["repeat_failure"]["active"] == 0


def test_a_failure_cleared_before_the_next_one_never_black_lists(world):
    with world.begin() as conn:
        evaluation(conn, "s1", "R1", "2024-03-01")
        evaluation(conn, "s1", "R1-复检", "2024-03-20", "pass", retest_of="R1")
        evaluation(conn, "s1", "R2", "2024-06-01")
    run(world, "2024-07-01")
    assert credit_rows(world) == []


def test_a_failing_retest_confirms_the_failure_without_moving_it(world):
    with world.begin() as conn:
        evaluation(conn, "s1", "R1", "2024-03-01")
        evaluation(conn, "s1", "R2", "2024-06-01")
    run(world, "2024-06-10")
    before = listed(world, "s1")
    with world.begin() as conn:
        evaluation(conn, "s1", "R1-复检", "2024-06-20", "fail", retest_of="R1")
    report = run(world, "2024-07-01", LATER)
    [row] = listed(world, "s1")
    assert row["status"] == "active" and row["listed_on"] == before[0]["listed_on"]
    assert row["evidence"]["report_count"] == 2  # one sample, not two
    first = row["evidence"]["reports"][0]
    assert first["reports"] == ["R1", "R1-复检"] and first["found_on"] == "2024-03-01"
    assert "复检报告R1-复检维持" in row["reason"]
    assert report.updated == 1


def test_reports_tested_after_as_of_do_not_exist_yet(world):
    with world.begin() as conn:
        evaluation(conn, "s1", "R1", "2024-03-01")
        evaluation(conn, "s1", "R2", "2024-06-01")
        evaluation(conn, "s1", "R1-复检", "2024-06-20", "pass", retest_of="R1")
    run(world, "2024-06-10")  # the retest was not known on 10 June
    [row] = listed(world, "s1")
    assert row["status"] == "active"


def test_a_third_failure_while_listed_extends_the_listing(world):
    with world.begin() as conn:
        evaluation(conn, "s1", "R1", "2024-01-10")
        evaluation(conn, "s1", "R2", "2024-03-10")
        evaluation(conn, "s1", "R3", "2025-08-10")
    run(world, "2025-09-01")
    [row] = listed(world, "s1")
    assert row["listed_on"] == d("2024-03-10") and row["expires_on"] == d("2027-08-10")
    assert row["evidence"]["report_count"] == 3
    assert row["reason"].startswith("12个月内2次抽检不合格，共3次：2024年1月10日报告R1")


def test_a_late_report_merges_into_the_earlier_listing(world):
    with world.begin() as conn:
        evaluation(conn, "s1", "R1", "2024-01-10")
        evaluation(conn, "s1", "R3", "2024-06-10")
    run(world, "2024-07-01")
    with world.begin() as conn:  # tested in March, evaluated only now
        evaluation(conn, "s1", "R2", "2024-03-10")
    run(world, "2024-07-02", LATER)
    rows = listed(world, "s1")
    assert [(r["listed_on"], r["status"]) for r in rows] == [
        (d("2024-03-10"), "active"),
        (d("2024-06-10"), "lifted"),
    ]
    assert rows[1]["evidence"]["lifted_because"] == "merged"
    assert rows[1]["expires_on"] == d("2024-06-10")
    assert "并入自2024年3月10日起的黑名单记录" in rows[1]["reason"]


def test_black_listing_expires(world):
    with world.begin() as conn:
        evaluation(conn, "s1", "R1", "2024-01-10")
        evaluation(conn, "s1", "R2", "2024-02-10")
    run(world, "2026-02-09")
    assert listed(world, "s1")[0]["status"] == "active"
    report = run(world, "2026-02-10", LATER)
    [row] = listed(world, "s1")
    assert row["status"] == "expired" and row["expires_on"] == d("2026-02-10")
    assert "lifted_on" not in row["evidence"]
    assert report.expired == 1 and report.lifted == 0


def test_evaluations_without_a_shop_are_counted_not_listed(world):
    with world.begin() as conn:
        evaluation(conn, "s1", "R1", "2024-01-10")
        evaluation(conn, "s1", "R2", "2024-02-10")
        conn.execute(update(evaluations).values(shop_id=None))
        conn.exec_driver_sql("update sampling_tasks set shop_id = null")
    report = run(world, "2024-03-01")
    assert credit_rows(world) == []
    assert report.samples == 0 and report.samples_without_shop == 2


# -------------------------------------------------------------- unremedied_safety


def _safety_failure(conn, shop="s9", report="S1"):
    evaluation(conn, shop, report, "2026-03-02", is_safety=True)
    notice(conn, report, "seller_result", sent="2026-03-03 09:00")
    notice(conn, report, "platform_failure", sent="2026-03-04 10:00")


def test_a_safety_failure_remedied_in_time_is_not_black_listed(world):
    with world.begin() as conn:
        _safety_failure(conn)
        acknowledge(conn, "S1", "2026-03-10 15:00", "takedown_confirmed")
    report = run(world, "2026-04-01")
    assert credit_rows(world) == []
    assert report.safety_pending == 0


def test_the_deadline_is_the_end_of_the_day_in_shanghai(world):
    # 23:30 on 13 March in Shanghai is 15:30 UTC: still inside a deadline of 13 March.
    with world.begin() as conn:
        _safety_failure(conn)
        acknowledge(conn, "S1", "2026-03-13 23:30", "remedied")
    run(world, "2026-04-01")
    assert credit_rows(world) == []


def test_a_safety_failure_remedied_late_is_black_listed_then_lifted(world):
    with world.begin() as conn:
        _safety_failure(conn)
    pending = run(world, "2026-03-13")  # notified 3 March + 10 days: still inside
    assert credit_rows(world) == [] and pending.safety_pending == 1

    run(world, "2026-03-14")
    [row] = listed(world, "s9")
    assert (row["rule_code"], row["status"], row["listed_on"]) == (
        "unremedied_safety",
        "active",
        d("2026-03-14"),
    )
    assert row["expires_on"] is None  # until remedied
    assert "报告S1" in row["reason"] and "2026年3月3日已通知" in row["reason"]
    assert "至2026年3月13日" in row["reason"]
    [entry] = row["evidence"]["reports"]
    assert entry["notified_on"] == "2026-03-03" and entry["remedy_deadline"] == "2026-03-13"

    with world.begin() as conn:
        acknowledge(conn, "S1", "2026-03-20 11:00", "remedied")
    report = run(world, "2026-03-25", LATER)
    [row] = listed(world, "s9")
    assert row["listed_on"] == d("2026-03-14")  # the same row
    assert row["status"] == "lifted" and row["expires_on"] == d("2026-03-20")
    assert row["evidence"]["lifted_because"] == "remedied"
    assert "2026年3月20日确认已整改" in row["reason"]
    assert report.lifted == 1


def test_an_early_receipt_does_not_date_a_late_remedy(world):
    # On the notice, acknowledged_at keeps the receipt (the earliest) while ack_kind
    # says remedied (the latest): the events tell when the remedy came.
    with world.begin() as conn:
        _safety_failure(conn)
        acknowledge(conn, "S1", "2026-03-04 10:00", "received", kind="platform_failure")
        acknowledge(conn, "S1", "2026-03-20 11:00", "takedown_confirmed", kind="platform_failure")
    run(world, "2026-04-01")
    [row] = listed(world, "s9")
    assert row["status"] == "lifted" and row["listed_on"] == d("2026-03-14")
    assert row["expires_on"] == d("2026-03-20")
    assert "2026年3月20日确认已下架" in row["reason"]
    assert row["evidence"]["reports"][0]["remedy_ack"] == "takedown_confirmed"


def test_a_notice_acknowledged_without_events_counts_by_its_columns(world):
    with world.begin() as conn:
        evaluation(conn, "s9", "S1", "2026-03-02", is_safety=True)
        notice(conn, "S1", sent="2026-03-03 09:00", ack="2026-03-05 09:00", ack_kind="remedied")
        evaluation(conn, "s8", "S2", "2026-03-02", is_safety=True)
        notice(conn, "S2", sent="2026-03-03 09:00", ack="2026-03-05 09:00", ack_kind="received")
    run(world, "2026-04-01")
    assert [r["shop_external_id"] for r in credit_rows(world)] == ["s8"]


@pytest.mark.parametrize("ack_kind", ["received", "objection"])
def test_acknowledging_without_remedy_does_not_stop_the_clock(world, ack_kind):
    with world.begin() as conn:
        _safety_failure(conn)
        acknowledge(conn, "S1", "2026-03-05 10:00", ack_kind)
    run(world, "2026-04-01")
    [row] = listed(world, "s9")
    assert row["status"] == "active"


def test_a_safety_failure_never_notified_is_not_black_listed(world):
    with world.begin() as conn:
        evaluation(conn, "s9", "S1", "2026-03-02", is_safety=True)
        notice(conn, "S1", "platform_failure", sent=None)  # dead letter
    report = run(world, "2026-06-01")
    assert credit_rows(world) == []
    assert report.safety_unnotified == 1


def test_a_failure_without_a_safety_defect_needs_no_remedy_listing(world):
    with world.begin() as conn:
        evaluation(conn, "s9", "S1", "2026-03-02", is_safety=False)
        notice(conn, "S1", "platform_failure", sent="2026-03-03 09:00")
    run(world, "2026-06-01")
    assert credit_rows(world) == []


def test_a_passing_retest_lifts_a_safety_listing(world):
    with world.begin() as conn:
        _safety_failure(conn)
    run(world, "2026-03-20")
    with world.begin() as conn:
        evaluation(conn, "s9", "S1-复检", "2026-03-25", "pass", retest_of="S1")
    run(world, "2026-04-01")
    [row] = listed(world, "s9", list_kind="black")
    assert row["status"] == "lifted" and row["expires_on"] == d("2026-03-25")
    assert row["evidence"]["lifted_because"] == "cleared_by_retest"


# -------------------------------------------------------------------- clean_record


def _passes(conn, shop: str, n: int, *, start: str = "2025-01-15", prefix: str = "P") -> None:
    first = d(start)
    for i in range(n):
        evaluation(
            conn,
            shop,
            f"{prefix}{shop}-{i}",
            (first + dt.timedelta(days=30 * i)).isoformat(),
            "pass",
        )


def test_four_clean_samples_are_not_enough_five_are(world):
    with world.begin() as conn:
        _passes(conn, "s4", 4)
        _passes(conn, "s5", 5)
    run(world, "2025-12-01")
    assert listed(world, "s4") == []
    [row] = listed(world, "s5")
    assert (row["list_kind"], row["rule_code"], row["status"]) == ("red", "clean_record", "active")
    assert row["listed_on"] == d("2025-05-15")  # the fifth pass
    assert row["expires_on"] == d("2026-05-15")
    assert row["evidence"]["report_count"] == 5
    assert "近24个月5次抽检全部合格" in row["reason"]


def test_a_failure_in_the_window_keeps_a_shop_off_the_red_list(world):
    with world.begin() as conn:
        evaluation(conn, "s5", "F1", "2024-06-01")
        _passes(conn, "s5", 6)
    run(world, "2025-12-01")
    assert listed(world, "s5") == []
    run(world, "2026-06-02")  # the failure left the 24 months on 2 June 2026
    [row] = listed(world, "s5")
    assert row["listed_on"] == d("2026-06-02") and row["status"] == "active"


def test_red_listing_expires_and_is_renewed_while_the_record_holds(world):
    with world.begin() as conn:
        _passes(conn, "s5", 5, start="2024-01-15")  # up to 2024-05-14
    report = run(world, "2026-06-01")
    rows = listed(world, "s5")
    assert [(r["listed_on"], r["expires_on"], r["status"]) for r in rows] == [
        (d("2024-05-14"), d("2025-05-14"), "expired"),
        (d("2025-05-14"), d("2026-05-14"), "expired"),  # by then P-0 left the window
    ]
    assert report.counts["red"]["clean_record"] == {"active": 0, "expired": 2, "lifted": 0}


def test_a_failure_lifts_the_red_listing_and_a_black_shop_is_never_red(world):
    with world.begin() as conn:
        _passes(conn, "s5", 5)
    run(world, "2025-06-01")
    assert listed(world, "s5")[0]["status"] == "active"
    with world.begin() as conn:
        evaluation(conn, "s5", "F1", "2025-07-01")
        evaluation(conn, "s5", "F2", "2025-08-01")
    run(world, "2025-09-01", LATER)
    red = listed(world, "s5", list_kind="red")
    black = listed(world, "s5", list_kind="black")
    assert [r["status"] for r in red] == ["lifted"] and red[0]["expires_on"] == d("2025-07-01")
    assert red[0]["evidence"]["lifted_because"] == "failure"
    assert "2025年7月1日抽检不合格（报告F1），移出红名单" in red[0]["reason"]
    assert [b["status"] for b in black] == ["active"]


def test_a_shop_black_listed_long_ago_and_never_remedied_is_not_red(world):
    with world.begin() as conn:
        evaluation(conn, "s6", "S0", "2022-01-10", is_safety=True)
        notice(conn, "S0", sent="2022-01-11 09:00")
        _passes(conn, "s6", 6, start="2025-01-15")
    run(world, "2025-12-01")
    assert [(r["list_kind"], r["status"]) for r in listed(world, "s6")] == [("black", "active")]
    with world.begin() as conn:
        acknowledge(conn, "S0", "2025-09-01 10:00", "remedied")
    run(world, "2025-12-01", LATER)
    rows = listed(world, "s6")
    assert [(r["list_kind"], r["status"], r["listed_on"]) for r in rows] == [
        ("black", "lifted", d("2022-01-22")),
        ("red", "active", d("2025-09-01")),  # from the day it left the black list
    ]


def test_no_shop_is_on_both_lists_at_once(world):
    with world.begin() as conn:
        _passes(conn, "s5", 8, start="2024-01-15")
        evaluation(conn, "s5", "S1", "2024-12-01", is_safety=True)
        notice(conn, "S1", sent="2024-12-02 09:00")
        evaluation(conn, "s5", "F2", "2025-03-01")
    for day in ("2024-06-01", "2024-12-15", "2025-03-02", "2025-06-01", "2026-06-01"):
        run(world, day)
        active = {
            (r["shop_external_id"], r["list_kind"]) for r in credit_rows(world, status="active")
        }
        assert not {("s5", "black"), ("s5", "red")} <= active, day


# --------------------------------------------------------------------- idempotency


def _everything(conn) -> None:
    evaluation(conn, "s1", "R1", "2024-01-10")
    evaluation(conn, "s1", "R2", "2024-12-10")
    evaluation(conn, "s2", "R3", "2024-03-01")
    evaluation(conn, "s2", "R4", "2024-06-01")
    evaluation(conn, "s2", "R3-复检", "2024-06-20", "pass", retest_of="R3")
    _safety_failure(conn, "s9", "S1")
    _passes(conn, "s5", 7, start="2024-01-15")


def test_running_twice_for_the_same_day_leaves_the_table_identical(world):
    with world.begin() as conn:
        _everything(conn)
    first = run(world, "2026-04-01")
    assert first.inserted > 0
    before = dump(world)
    second = run(world, "2026-04-01", LATER)
    assert dump(world) == before
    assert (second.inserted, second.updated, second.expired, second.lifted) == (0, 0, 0, 0)
    assert second.unchanged == len(before)
    assert second.counts == first.counts


def test_the_lists_in_force_do_not_depend_on_the_days_computed_before(world):
    """Monthly runs up to a day leave the same rows in force as one run on an empty
    table (the monthly table also keeps the listings that ended on the way)."""
    with world.begin() as conn:
        _everything(conn)
    day = d("2024-01-01")
    while day <= d("2026-04-01"):
        run(world, day.isoformat())
        day = (day + dt.timedelta(days=32)).replace(day=1)
    monthly = credit_rows(world, status="active")
    with world.connect() as conn, conn.begin() as tx:
        conn.execute(delete(merchant_credit))
        update_credit(conn, d("2026-04-01"), NOW)
        fresh = [dict(r) for r in conn.execute(select(merchant_credit)).mappings()]
        tx.rollback()
    columns = ("shop_external_id", "list_kind", "rule_code", "listed_on", "expires_on", "reason")

    def shown(rows):
        return sorted(tuple(r[c] for c in columns) for r in rows if r["status"] == "active")

    assert shown(monthly) == shown(fresh)
    assert {(r[0], r[1], r[3]) for r in shown(fresh)} == {
        ("s1", "black", d("2024-12-10")),
        ("s9", "black", d("2026-03-14")),
        ("s5", "red", d("2025-05-14")),
    }
    # The cleared listing of s2 is kept, lifted, in the monthly table only.
    assert [r["status"] for r in listed(world, "s2")] == ["lifted"]
