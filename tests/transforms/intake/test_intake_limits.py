"""Files refused before their rows are checked: merged cells in an XLSX, and files over
the size limit (``ECQM_INBOX_MAX_BYTES``); on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import csv
import re
import zipfile
from pathlib import Path

import pytest
from intake_world import (  # type: ignore[import-not-found]
    NOW,
    PURCHASE_HEADER_ZH,
    RESULT_HEADER_ZH,
    purchase,
    result,
    snapshot,
    write_csv,
)
from sqlalchemy import func, select

from ecqm import settings
from ecqm.warehouse.schema import inbox_files, inspection_results, purchases
from transforms.intake import import_file, inbox, read, scan_inbox
from transforms.intake import purchases as purchase_rules
from transforms.intake.cli import register_import

MERGED_HEADER = (
    "row 1, column 任务编号: 表头含合并单元格 A1:B1（工作表“采购记录”），请取消合并，每列一个表头 / "
    "the header has merged cells A1:B1 (sheet '采购记录'); unmerge them so that each column "
    "has a header of its own"
)


def _workbook(path: Path, header, rows, *, title: str, merge=(), notes: bool = False) -> Path:
    """An XLSX like ``write_xlsx`` makes, with ``merge`` ranges merged (as Excel does:
    the cells other than the top-left one are emptied)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    for ref in merge:
        ws.merge_cells(ref)
    if notes:
        # An instructions sheet with a merged title: not the sheet read, never refused.
        info = wb.create_sheet("填写说明")
        info["A1"] = "采购记录填写说明"
        info.merge_cells("A1:F2")
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _loaded(engine) -> dict[str, list]:
    """The rows an intake loads and the tasks it advances (not ``inbox_files``)."""
    out = snapshot(engine)
    del out["inbox_files"]
    return out


def _counts(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (purchases, inspection_results)
        )


def _report_lines(path: str) -> list[str]:
    return Path(path).read_bytes().decode("utf-8-sig").splitlines()


def test_merged_header_cells_refuse_the_file(world, home):
    before = _loaded(world)
    path = _workbook(
        home / "inbox" / "purchases" / "采购记录.xlsx",
        PURCHASE_HEADER_ZH,
        [purchase(), purchase("T-DRYER", "O-2", sample_seal="D1", backup_seal="D2")],
        title="采购记录",
        merge=["A1:B1"],
        notes=True,
    )
    [report] = scan_inbox(world, home=home, now=NOW)

    assert report.status == "rejected" and report.rows == 0
    assert [str(p) for p in report.problems] == [MERGED_HEADER]
    [problem] = report.problems
    assert (problem.code, problem.row, problem.cell) == ("merged_header", 1, "A1:B1")
    assert _loaded(world) == before and _counts(world) == (0, 0)
    rejected = home / "inbox" / "rejected" / "purchases" / "采购记录.xlsx"
    assert not path.exists() and report.rejected_as == str(rejected)
    assert report.error_report == str(rejected.with_name("采购记录.xlsx.errors.csv"))
    rows = list(csv.reader(_report_lines(report.error_report)))
    assert rows[1:] == [
        [
            "1",
            "任务编号",
            "A1:B1",
            "",
            "错误 error",
            MERGED_HEADER.split(": ", 1)[1],
            "merged_header",
        ]
    ]
    with world.connect() as conn:
        record = conn.execute(select(inbox_files)).one()
    assert record.status == "rejected" and [p["code"] for p in record.problems] == ["merged_header"]


def test_every_merged_header_range_is_named_even_past_the_last_column(world, home):
    path = _workbook(
        home / "p.xlsx",
        PURCHASE_HEADER_ZH,
        [purchase()],
        title="Sheet1",
        merge=["O1:P1", "C1:C2"],  # beyond the header; and a header merged into row 2
    )
    report = import_file(world, "purchases", path, home=home, now=NOW)
    assert [str(p) for p in report.problems] == [
        "row 1, column 实付金额(元): 表头含合并单元格 C1:C2（工作表“Sheet1”），请取消合并，每列一个"
        "表头 / the header has merged cells C1:C2 (sheet 'Sheet1'); unmerge them so that each "
        "column has a header of its own",
        "row 1: 表头含合并单元格 O1:P1（工作表“Sheet1”），请取消合并，每列一个表头 / the header "
        "has merged cells O1:P1 (sheet 'Sheet1'); unmerge them so that each column has a "
        "header of its own",
    ]
    assert _counts(world) == (0, 0) and path.exists()
    assert Path(report.error_report) == home / "p.xlsx.errors.csv"


def test_merged_data_cells_that_hide_values_refuse_the_file(world, home):
    bought = write_csv(home / "p.csv", PURCHASE_HEADER_ZH, [purchase()])
    assert import_file(world, "purchases", bought, home=home, now=NOW).status == "accepted"
    before = _loaded(world)
    # A lab merges the task id down the rows of one report, as in its printed reports.
    items = ("标志和说明", "输入功率和电流", "发热")
    _workbook(
        home / "inbox" / "results" / "检验结果.xlsx",
        RESULT_HEADER_ZH,
        [result(item=item) for item in items],
        title="检验结果",
        merge=["A2:A4"],
    )
    [report] = scan_inbox(world, home=home, now=NOW)
    assert report.status == "rejected"
    assert [str(p) for p in report.problems] == [
        "row 2, column 任务编号: 合并单元格 A2:A4（工作表“检验结果”）：只有左上角的 A2 有值，"
        "其余单元格读出来是空的；请取消合并，每格填上值 / merged cells A2:A4 (sheet '检验结果'): "
        "only the top-left cell A2 holds a value and the others read as empty; unmerge them "
        "and fill in every cell"
    ]
    [problem] = report.problems
    assert (problem.code, problem.field, problem.cell, problem.value) == (
        "merged_cells",
        "task_id",
        "A2:A4",
        "T-KETTLE",
    )
    assert _loaded(world) == before and _counts(world) == (1, 0)
    rejected = home / "inbox" / "rejected" / "results"
    assert sorted(p.name for p in rejected.iterdir()) == [
        "检验结果.xlsx",
        "检验结果.xlsx.errors.csv",
    ]


def test_merges_that_hide_nothing_are_fine(world, home):
    path = _workbook(
        home / "p.xlsx",
        [*PURCHASE_HEADER_ZH, "备注"],
        [
            [*purchase(), "加急"],
            [*purchase("T-DRYER", "O-2", sample_seal="D1", backup_seal="D2"), None],
        ],
        title="采购记录",
        # A note merged down its own (ignored) column, a note merged from the last read
        # column into the ignored one, and formatted blank cells merged below the rows.
        merge=["O2:O3", "N2:O2", "B6:D7"],
    )
    report = import_file(world, "purchases", path, home=home, now=NOW)
    assert report.status == "accepted", [str(p) for p in report.problems]
    assert [p.code for p in report.problems] == ["unknown_column"]
    assert _counts(world) == (2, 0)


def test_merged_ranges_are_found_across_read_chunks_and_namespace_prefixes(tmp_path, monkeypatch):
    path = _workbook(
        tmp_path / "p.xlsx", PURCHASE_HEADER_ZH, [purchase()] * 3, title="采购记录", merge=["C3:D4"]
    )
    # Some writers spell the elements with a namespace prefix.
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    part = "xl/worksheets/sheet1.xml"
    xml, n = re.subn(
        rb"<mergeCells[^>]*>.*</mergeCells>",
        b'<x:mergeCells xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'count="2"><x:mergeCell ref="C3:D4"/><x:mergeCell ref="$F$1:$G$1"/></x:mergeCells>',
        parts[part],
    )
    assert n == 1
    parts[part] = xml
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    for size in (7, 16, 1 << 20):  # chunk edges fall inside the elements, or not at all
        monkeypatch.setattr(read, "_MERGE_READ", size)
        with pytest.raises(read.FileUnreadable) as exc:
            read.read_sheet(path, path.read_bytes(), purchase_rules.COLUMNS)
        assert [(p.code, p.cell) for p in exc.value.problems] == [("merged_header", "F1:G1")]


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ecqm")
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import")
    register_import(imp.add_subparsers(dest="import_command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def _too_large(size: int, limit: int) -> str:
    return (
        f"file: 文件有 {size:,} 字节，超过上限 {limit:,} 字节（ECQM_INBOX_MAX_BYTES），内容未检查；"
        f"请分成几个文件 / the file is {size:,} bytes; the limit is {limit:,} "
        "(ECQM_INBOX_MAX_BYTES); its content was not checked: split the file"
    )


def test_the_size_limit_setting():
    assert settings.load({}).inbox_max_bytes == 52_428_800 == settings.DEFAULT_INBOX_MAX_BYTES
    assert settings.load({"ECQM_INBOX_MAX_BYTES": " 1048576 "}).inbox_max_bytes == 1_048_576
    assert settings.load({"ECQM_INBOX_MAX_BYTES": ""}).inbox_max_bytes == 52_428_800
    with pytest.raises(ValueError, match="ECQM_INBOX_MAX_BYTES must be a whole number, got '50M'"):
        settings.load({"ECQM_INBOX_MAX_BYTES": "50M"})
    with pytest.raises(ValueError, match="ECQM_INBOX_MAX_BYTES must be more than 0, got 0"):
        settings.load({"ECQM_INBOX_MAX_BYTES": "0"})


def test_a_file_over_the_size_limit_is_refused_unread(world, home, monkeypatch):
    inbox_dir = home / "inbox" / "purchases"
    rows = [purchase(order=f"O-{i}", sample_seal=f"S{i}", backup_seal=f"B{i}") for i in range(40)]
    path = write_csv(inbox_dir / "大文件.csv", PURCHASE_HEADER_ZH, rows)
    size = path.stat().st_size
    limit = size - 1
    monkeypatch.setenv("ECQM_INBOX_MAX_BYTES", str(limit))

    def never(*args, **kwargs):
        raise AssertionError("a file over the limit was parsed")

    monkeypatch.setattr(inbox, "read_sheet", never)
    before = _loaded(world)
    [report] = scan_inbox(world, home=home, now=NOW)

    assert report.status == "rejected" and report.rows == 0
    assert [str(p) for p in report.problems] == [_too_large(size, limit)]
    assert report.problems[0].code == "too_large"
    assert report.sha256 and _loaded(world) == before and _counts(world) == (0, 0)
    rejected = home / "inbox" / "rejected" / "purchases" / "大文件.csv"
    assert not path.exists() and report.rejected_as == str(rejected) and rejected.exists()
    lines = _report_lines(report.error_report)
    assert report.error_report == str(rejected.with_name("大文件.csv.errors.csv"))
    assert list(csv.reader(lines[1:])) == [
        ["", "", "", "", "错误 error", _too_large(size, limit).removeprefix("file: "), "too_large"]
    ]
    with world.connect() as conn:
        record = conn.execute(select(inbox_files)).one()
    assert (record.status, record.rows, record.sha256) == ("rejected", 0, report.sha256)

    # At the limit exactly, the same file is read and taken.
    monkeypatch.undo()
    rejected.rename(inbox_dir / "大文件.csv")
    [again] = scan_inbox(world, home=home, now=NOW, max_bytes=size)
    assert again.status == "accepted" and again.sha256 == report.sha256
    assert _counts(world) == (40, 0)


def test_the_size_limit_on_the_command_line(world, home, database_url, monkeypatch, capsys):
    monkeypatch.setenv("ECQM_HOME", str(home))
    outside = home.parent / "from-email"
    path = write_csv(outside / "采购.csv", PURCHASE_HEADER_ZH, [purchase()], encoding="gbk")
    size = path.stat().st_size
    monkeypatch.setenv("ECQM_INBOX_MAX_BYTES", "100")
    assert _cli(["import", "purchases", str(path), "--url", database_url]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "ecqm: 采购.csv: rejected, 1 errors, nothing was loaded:"
    assert err[1] == "  " + _too_large(size, 100)
    assert err[2] == f"error report: {outside / '采购.csv.errors.csv'}"
    assert path.exists() and (outside / "采购.csv.errors.csv").exists()
    assert _counts(world) == (0, 0)

    monkeypatch.setenv("ECQM_INBOX_MAX_BYTES", str(size))
    assert _cli(["import", "purchases", str(path), "--url", database_url]) == 0
    assert "accepted, 1 rows (1 new" in capsys.readouterr().out
    assert _counts(world) == (1, 0) and not (outside / "采购.csv.errors.csv").exists()
