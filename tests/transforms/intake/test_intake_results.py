"""Inspection results through the inbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from intake_world import (  # type: ignore[import-not-found]
    NOW,
    PURCHASE_HEADER_ZH,
    RESULT_HEADER_EN,
    RESULT_HEADER_ZH,
    codes,
    purchase,
    result,
    snapshot,
    statuses,
    write_csv,
    write_xlsx,
)
from sqlalchemy import select

from ecqm.warehouse.schema import inbox_files, inspection_results, listings
from transforms.intake import import_file


@pytest.fixture
def bought(world, home):
    """T-KETTLE and T-DRYER bought on 20 November, received on the 21st."""
    path = write_csv(
        home / "purchases.csv",
        PURCHASE_HEADER_ZH,
        [purchase(), purchase("T-DRYER", "3391827465501930001")],
        encoding="gbk",
    )
    report = import_file(world, "purchases", path, home=home, now=NOW)
    assert report.status == "accepted", [str(p) for p in report.problems]
    return world


def _results(engine) -> dict[tuple[str, str], dict]:
    with engine.connect() as conn:
        return {
            (r.report_number, r.test_item): dict(r._mapping)
            for r in conn.execute(select(inspection_results))
        }


def test_results_are_taken_with_the_listing_of_their_task(bought, home):
    path = write_xlsx(
        home / "inbox" / "results" / "检验结果.xlsx",
        RESULT_HEADER_ZH,
        [
            result(
                item="发热",
                measured_value=48.0,
                report_number="QC2026-0417",
                tested_on=dt.datetime(2026, 11, 21),
            ),
            result(
                item="泄漏电流和电气强度",
                measured_value=0.82,
                limit_value="≤ 0.75 mA",
                verdict="不合格",
                defect_class="严重",
                lab_code="LAB_HZ_QIANCHENG",
                report_number="QC2026-0417",
                tested_on=dt.datetime(2026, 11, 21),
            ),
            result(
                item=" 标志和 说明 ",
                verdict="不合格",
                defect_class="C类",
                report_number="QC2026-0417",
                tested_on="2026/11/21",
            ),
            result(
                item="噪声", measured_value="62 dB", limit_value=None, report_number="QC2026-0417"
            ),
            result(
                "T-DRYER",
                measured_value='=IF(1,"合格")',
                verdict="pass",
                lab_code="宁波鄞瀚电器安全检测中心",
                report_number="NB-88",
                tested_on="2026年11月22日",
            ),
            result("T-DRYER", item="标志和说明", lab_code="lab_sz_penglan", report_number="SZ-7"),
            [None] * 10,
        ],
        title="检验结果",
    )
    report = import_file(bought, "results", path, home=home, now=NOW)

    assert report.status == "accepted", [str(p) for p in report.problems]
    assert (report.rows, report.inserted, report.tasks_advanced) == (6, 6, 2)
    # Warnings are kept with the file, not refused: an item the plan did not list, a
    # lab other than the one assigned, a lab not listed for the category.
    assert codes(report) == {
        (5, "test_item", "unplanned_test_item"),
        (6, "lab_code", "other_lab"),
        (7, "lab_code", "other_lab"),
        (7, "lab_code", "lab_not_for_category"),
    }
    rows = _results(bought)
    assert set(rows) == {
        ("QC2026-0417", "发热"),
        ("QC2026-0417", "泄漏电流和电气强度"),
        ("QC2026-0417", "标志和说明"),  # the plan's spelling
        ("QC2026-0417", "噪声"),
        ("NB-88", "发热"),
        ("SZ-7", "标志和说明"),
    }
    leak = rows[("QC2026-0417", "泄漏电流和电气强度")]
    assert (leak["verdict"], leak["defect_class"], leak["lab_code"]) == (
        "fail",
        "critical",
        "lab_hz_qiancheng",
    )
    assert leak["measured_value"] == "0.82" and leak["limit_value"] == "≤ 0.75 mA"
    assert leak["tested_on"] == dt.date(2026, 11, 21)
    assert rows[("QC2026-0417", "标志和说明")]["defect_class"] == "minor"
    assert rows[("QC2026-0417", "发热")]["measured_value"] == "48"
    dryer = rows[("NB-88", "发热")]
    assert dryer["lab_code"] == "lab_nb_yinhan" and dryer["measured_value"] == '=IF(1,"合格")'
    with bought.connect() as conn:
        item_100 = conn.execute(select(listings).where(listings.c.external_id == "item-100")).one()
    assert (leak["platform"], leak["listing_external_id"]) == ("sim", "item-100")
    assert (leak["listing_id"], leak["product_id"], leak["shop_id"]) == (
        item_100.id,
        item_100.product_id,
        item_100.shop_id,
    )
    assert leak["source_file"] == "检验结果.xlsx" and leak["file_sha256"] == report.sha256
    assert statuses(bought)["T-KETTLE"] == "tested" == statuses(bought)["T-DRYER"]
    with bought.connect() as conn:
        record = conn.execute(select(inbox_files).where(inbox_files.c.kind == "results")).one()
    assert record.status == "accepted"
    assert {p["code"] for p in record.problems} == {
        "unplanned_test_item",
        "other_lab",
        "lab_not_for_category",
    }


def test_every_problem_is_named_and_nothing_is_written(bought, home):
    before = snapshot(bought)
    rows = [
        result(report_number="R-1"),  # 2
        result("T-SPARE", report_number="R-2"),  # 3: not bought yet
        result(item="标志和说明", verdict="不合格", report_number="R-1"),  # 4: no defect class
        result(item="输入功率和电流", defect_class="一般", report_number="R-1"),  # 5: passed
        result(item="泄漏电流和电气强度", lab_code="lab_qd_nowhere", report_number="R-3"),  # 6
        result(item="发 热", report_number="R-1"),  # 7: row 2 again
        result(report_number="R-4", tested_on="2026-11-23"),  # 8: tomorrow
        result(report_number="R-5", tested_on="2026-11-19"),  # 9: before the order
        result("T-DRYER", "非正常工作（堵风口）", report_number="R-1"),  # 10: R-1 is T-KETTLE's
        result(report_number="R-6"),  # 11
        result(item="标志和说明", lab_code="lab_nb_yinhan", report_number="R-6"),  # 12
        result(item="泄漏电流和电气强度", verdict="待定", report_number="R-7"),  # 13
        result(
            item="标志和说明", measured_value=dt.datetime(2026, 1, 2), report_number="R-7"
        ),  # 14
        result(report_number="R-8", tested_on="2026-11-20"),  # 15: before it arrived
        result("T-NOPE", report_number="R-9"),  # 16
        result(item=None, tested_on=None, report_number="R-7"),  # 17
    ]
    path = write_xlsx(home / "inbox" / "results" / "results.xlsx", RESULT_HEADER_EN, rows)
    report = import_file(bought, "results", path, home=home, now=NOW)

    assert report.status == "rejected"
    assert codes(report) == {
        (3, "task_id", "no_purchase"),
        (4, "defect_class", "defect_class_missing"),
        (5, "defect_class", "defect_class_on_pass"),
        (6, "lab_code", "unknown_lab"),
        (7, "test_item", "duplicate_row"),
        (8, "tested_on", "future_date"),
        (9, "tested_on", "tested_before_purchase"),
        (10, "report_number", "report_on_two_tasks"),
        (12, "lab_code", "report_two_labs"),
        (12, "lab_code", "other_lab"),  # a warning beside the error
        (13, "verdict", "bad_verdict"),
        (14, "measured_value", "excel_date"),
        (15, "tested_on", "tested_before_received"),
        (16, "task_id", "unknown_task"),
        (17, "test_item", "required"),
        (17, "tested_on", "required"),
    }
    by_code = {p.code: p for p in report.problems}
    assert by_code["excel_date"].cell == "D14" and by_code["excel_date"].column == "measured_value"
    assert "2026-11-21" in by_code["tested_before_received"].reason
    assert snapshot(bought) == {**before, "inbox_files": snapshot(bought)["inbox_files"]}
    assert _results(bought) == {}
    assert statuses(bought)["T-KETTLE"] == "purchased"
    assert (home / "inbox" / "rejected" / "results" / "results.xlsx.errors.csv").exists()


def test_a_report_number_recorded_for_another_task_and_a_changed_verdict(bought, home):
    first = write_csv(
        home / "r1.csv",
        RESULT_HEADER_EN,
        [result(verdict="pass", report_number="QC-1")],
    )
    assert import_file(bought, "results", first, home=home, now=NOW).status == "accepted"

    other_task = write_csv(
        home / "r2.csv",
        RESULT_HEADER_EN,
        [result("T-DRYER", verdict="pass", report_number="QC-1")],
    )
    report = import_file(bought, "results", other_task, home=home, now=NOW)
    assert codes(report) == {(2, "report_number", "report_on_two_tasks")}

    # The lab corrects its report: the same item now fails. Taken, with a warning.
    corrected = write_csv(
        home / "r3.csv",
        RESULT_HEADER_ZH,
        [
            result(
                verdict="不合格", defect_class="一般", report_number="QC-1", tested_on="2026-11-22"
            )
        ],
        encoding="gb18030",
    )
    report = import_file(bought, "results", corrected, home=home, now=NOW)
    assert report.status == "accepted" and (report.inserted, report.updated) == (0, 1)
    assert codes(report) == {(2, "verdict", "verdict_changed")}
    row = _results(bought)[("QC-1", "发热")]
    assert (row["verdict"], row["defect_class"], row["tested_on"]) == (
        "fail",
        "major",
        dt.date(2026, 11, 22),
    )
    assert report.tasks_advanced == 0  # already tested
