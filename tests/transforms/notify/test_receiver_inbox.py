"""Acknowledgements in a file (``ecqm import acks FILE``): taken whole or not at all,
errors by row and column, archived by hash, the same file twice changes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ecqm.warehouse.schema import inbox_files, notification_events, notifications
from transforms.notify.acks import ack_kind, import_acks

SENT = dt.datetime(2026, 11, 20, 2, 30, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)
HEADER = ["通知编号", "回执类型", "回执时间", "备注"]


@pytest.fixture
def notices(warehouse_engine, queue_notices):
    queue_notices(
        warehouse_engine,
        ["k-seller", "k-platform", "k-producer"],
        channel="email",
        address="a@b.cn",
        now=SENT,
        status="sent",
        sent_at=SENT,
        ack_due_at=SENT + dt.timedelta(days=7),
    )
    return warehouse_engine


def write_csv(path: Path, rows: list[list[str]], header=HEADER, encoding="utf-8-sig") -> Path:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows([header, *rows])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def state(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        return {
            r.idempotency_key: (r.acknowledged_at, r.ack_kind, r.ack_note)
            for r in conn.execute(select(notifications))
        }


def ack_events(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).where(notification_events.c.event == "acknowledged")
        ).scalar_one()


def test_a_good_file_is_recorded_archived_and_taken_once(notices, tmp_path):
    home = tmp_path / "home"
    path = write_csv(
        tmp_path / "回执.csv",
        [
            ["k-seller", "已收到", "2026-11-24 09:30", "已阅"],
            ["k-platform", "已下架", "2026/11/25 10:00", ""],
            ["k-producer", "提出异议", "2026年11月25日 16:45", "申请复检备样"],
        ],
    )
    report = import_acks(notices, path, home=home, now=NOW)
    assert report.status == "accepted", [str(p) for p in report.problems]
    assert (report.rows, report.recorded, report.unchanged) == (3, 3, 0)
    after = state(notices)
    assert after["k-seller"] == (
        dt.datetime(2026, 11, 24, 1, 30, tzinfo=dt.UTC),
        "received",
        "已阅",
    )
    assert after["k-platform"][1:] == ("takedown_confirmed", None)
    assert after["k-producer"][1:] == ("objection", "申请复检备样")
    archived = Path(report.archived_as)
    assert archived.parent == home / "inbox" / "archive" / "acks"
    assert archived.read_bytes() == path.read_bytes() and path.exists()  # never moved

    again = import_acks(notices, path, home=home, now=NOW)
    assert again.status == "duplicate" and state(notices) == after and ack_events(notices) == 3
    # Another file repeating an answer already recorded: accepted, nothing new.
    other = write_csv(
        tmp_path / "again.csv", [["k-seller", "received", "2026-11-24 09:30", "已阅"]]
    )
    repeat = import_acks(notices, other, home=home, now=NOW)
    assert (repeat.status, repeat.recorded, repeat.unchanged) == ("accepted", 0, 1)
    assert ack_events(notices) == 3
    with notices.connect() as conn:
        files = conn.execute(select(inbox_files.c.kind, inbox_files.c.status)).all()
    assert sorted(files) == [("acks", "accepted"), ("acks", "accepted")]


def test_one_bad_row_rejects_the_whole_file_with_errors_by_row_and_column(notices, tmp_path):
    path = write_csv(
        tmp_path / "回执.csv",
        [
            ["k-seller", "已收到", "2026-11-24 09:30", ""],
            ["k-nobody", "已收到", "2026-11-24 09:30", ""],
            ["k-platform", "谢谢", "2026-11-24 09:30", ""],
            ["k-producer", "已整改", "2026-12-24 09:30", ""],
            ["k-producer", "已整改", "2026-11-24", ""],
        ],
    )
    report = import_acks(notices, path, home=tmp_path / "home", now=NOW)
    assert report.status == "rejected" and report.recorded == 0
    assert {a for a, _, _ in state(notices).values()} == {None}  # not even the good row
    found = {(p.row, p.column, p.code) for p in report.errors}
    assert found == {
        (3, "通知编号", "unknown_notice"),
        (4, "回执类型", "bad_ack_kind"),
        (5, "回执时间", "future_time"),
        (6, "回执时间", "time_missing"),
    }
    errors = Path(report.error_report)
    assert errors.name == "回执.csv.errors.csv"
    text = errors.read_bytes().decode("utf-8-sig")
    assert "k-nobody" in text and "谢谢" in text
    # Fixed and dropped again: accepted, and the stale error report goes.
    write_csv(path, [["k-seller", "已收到", "2026-11-24 09:30", ""]])
    assert import_acks(notices, path, home=tmp_path / "home", now=NOW).status == "accepted"
    assert not errors.exists()


def test_missing_columns_and_other_files_are_refused(notices, tmp_path):
    no_kind = write_csv(
        tmp_path / "a.csv", [["k-seller", "2026-11-24 09:30"]], ["通知编号", "回执时间"]
    )
    report = import_acks(notices, no_kind, home=tmp_path, now=NOW)
    assert report.status == "rejected" and report.errors[0].code == "missing_column"
    pdf = tmp_path / "回执.pdf"
    pdf.write_bytes(b"%PDF-1.7")
    assert import_acks(notices, pdf, home=tmp_path, now=NOW).errors[0].code == "unsupported_file"


def test_an_xlsx_with_english_headers_and_excel_dates(notices, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["idempotency_key", "kind", "acknowledged_at", "note"])
    ws.append(["k-platform", "takedown_confirmed", dt.datetime(2026, 11, 25, 10, 0), "done"])
    path = tmp_path / "acks.xlsx"
    wb.save(path)
    report = import_acks(notices, path, home=tmp_path / "home", now=NOW)
    assert report.status == "accepted", [str(p) for p in report.problems]
    assert state(notices)["k-platform"] == (
        dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC),
        "takedown_confirmed",
        "done",
    )


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("已收到", "received"),
        (" 已 下架 ", "takedown_confirmed"),
        ("OBJECTION", "objection"),
        ("整改完成", "remedied"),
        ("谢谢", None),
    ],
)
def test_ack_kinds_as_people_write_them(written, code):
    assert ack_kind(written) == code


def test_ecqm_import_acks(notices, database_url, tmp_path):
    good = write_csv(tmp_path / "good.csv", [["k-seller", "已收到", "2026-11-21 09:30", ""]])
    bad = write_csv(tmp_path / "bad.csv", [["k-nobody", "已收到", "2026-11-21 09:30", ""]])
    env = {**os.environ, "ECQM_HOME": str(tmp_path / "home")}

    def ecqm(path):
        return subprocess.run(
            [sys.executable, "-m", "ecqm", "import", "acks", str(path), "--url", database_url],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    ok = ecqm(good)
    assert ok.returncode == 0, ok.stderr
    assert "accepted, 1 acknowledgements (1 recorded" in ok.stdout
    refused = ecqm(bad)
    assert refused.returncode == 2 and "row 2, column 通知编号" in refused.stderr
    assert state(notices)["k-seller"][1] == "received"
