"""Reading staff files: encodings, separators, Excel cells, headers and row numbers."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest
from intake_world import (  # type: ignore[import-not-found]
    PURCHASE_HEADER_EN,
    PURCHASE_HEADER_ZH,
    purchase,
    write_csv,
)

from transforms.intake.purchases import COLUMNS
from transforms.intake.read import FileUnreadable, read_sheet


def _read(path: Path):
    return read_sheet(path, path.read_bytes(), COLUMNS)


def _codes(problems) -> set[tuple]:
    return {(p.row, p.code) for p in problems}


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_csv_in_the_encodings_excel_writes(tmp_path, encoding):
    path = write_csv(
        tmp_path / "采购.csv",
        PURCHASE_HEADER_ZH,
        [purchase(shop_name="暖心電器旗艦店（繁體）", paid="￥1,299.00")],
        encoding=encoding,
    )
    sheet, problems = _read(path)
    assert problems == []
    [(row, values)] = sheet.rows
    assert row == 2
    assert values["shop_name"] == "暖心電器旗艦店（繁體）"
    assert values["paid"] == "￥1,299.00"
    assert sheet.headers["paid"] == "实付金额(元)" and sheet.cell(2, "paid") == "C2"


def test_utf16_tab_separated_unicode_text_from_excel(tmp_path):
    lines = ["\t".join(PURCHASE_HEADER_ZH), "\t".join(map(str, purchase()))]
    path = tmp_path / "采购.csv"
    path.write_bytes("\r\n".join(lines).encode("utf-16"))
    sheet, _ = _read(path)
    assert sheet.rows[0][1]["order_number"] == "3391827465501928374"


def test_semicolon_separated(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(";".join(PURCHASE_HEADER_EN) + "\n" + ";".join(map(str, purchase())) + "\n")
    sheet, _ = _read(path)
    assert sheet.rows[0][1]["task_id"] == "T-KETTLE"


def test_header_spellings_and_blank_rows_keep_spreadsheet_numbering(tmp_path):
    header = [
        " 任务编号* ",
        "订单编号",
        "实付金额（元）",  # full-width parentheses
        "Ordered At",
        "商品页截图(必填)",
        "ORDER_SCREENSHOT",
        "备注",  # not ours: ignored with a warning
    ]
    rows = [
        ["T-KETTLE", "1", "1", "2026-11-20 15:30", "a.png", "b.png", "加急"],
        ["", "", "", "", "", "", ""],
        ["T-DRYER", "2", "1", "2026-11-20 15:30", "a.png", "b.png", ""],
        ["", "", "", "", "", "", ""],
        ["", "", "", "", "", "", ""],
    ]
    sheet, problems = _read(write_csv(tmp_path / "p.csv", header, rows))
    assert [n for n, _ in sheet.rows] == [2, 4]
    assert set(sheet.headers) == {
        "task_id",
        "order_number",
        "paid",
        "ordered_at",
        "page_screenshot",
        "order_screenshot",
    }
    assert [(p.row, p.column, p.cell, p.code, p.severity) for p in problems] == [
        (1, "备注", "G1", "unknown_column", "warning")
    ]


def test_missing_and_repeated_columns_refuse_the_file(tmp_path):
    header = ["任务编号", "task_id", "订单号", "下单时间", "商品页截图"]
    with pytest.raises(FileUnreadable) as exc:
        _read(write_csv(tmp_path / "p.csv", header, [["T", "T", "1", "x", "a.png"]]))
    found = {(p.code, p.field, p.column) for p in exc.value.problems}
    assert found == {
        ("repeated_column", "task_id", "task_id"),
        ("missing_column", "paid", "实付金额(元)"),
        ("missing_column", "order_screenshot", "订单截图"),
    }


def test_values_beyond_the_header_are_errors(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        ",".join(PURCHASE_HEADER_EN)
        + "\n"
        + ",".join(map(str, purchase()))
        + ",多出来的\n"
        + ",".join(map(str, purchase()))
        + ",,\n",  # empty trailing separators are fine
        encoding="utf-8",
    )
    _, problems = _read(path)
    assert [(p.row, p.cell, p.code) for p in problems] == [(2, "O2", "value_outside_header")]


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("p.xls", b"\xd0\xcf\x11\xe0 old excel", "unsupported_file"),
        ("p.pdf", b"%PDF-1.4", "unsupported_file"),
        ("p.xlsx", b"PK\x03\x04 not really a zip", "bad_xlsx"),
        ("p.csv", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01", "bad_encoding"),
        ("p.csv", b"\n\n", "no_header"),
        ("p.csv", (",".join(PURCHASE_HEADER_EN) + "\n,,,\n").encode(), "no_rows"),
    ],
)
def test_files_that_cannot_be_used_at_all(tmp_path, name, content, code):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FileUnreadable) as exc:
        _read(path)
    assert [p.code for p in exc.value.problems] == [code]


def _cache_formula_results(path: Path, part: str, cached: dict[str, str]) -> None:
    """Give formula cells the cached results Excel writes when it saves a workbook."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    xml = parts[part].decode()
    for ref, value in cached.items():
        xml, n = re.subn(
            rf'(<c r="{ref}"[^>]*>(?:<f>[^<]*</f>))<v\s*/?>(?:</v>)?', rf"\g<1><v>{value}</v>", xml
        )
        assert n == 1, ref
    parts[part] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_xlsx_cells_dates_numbers_formulas_and_sheet_choice(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    notes = wb.active
    notes.title = "填写说明"
    notes.append(["请按以下格式填写采购记录"])
    tasks = wb.create_sheet("采购任务")  # the plan's own sheet, sent back with the records
    tasks.append(["任务编号", "商品链接", "商品标题", "店铺", "限价(元)"])
    tasks.append(["T-KETTLE", "https://sim.example/item/100", "暖心 kettle", "暖心电器旗舰店", 300])
    ws = wb.create_sheet("采购记录")
    ws.append(PURCHASE_HEADER_ZH)
    ws.append(
        purchase(
            paid=89.5, order_number=339182746550.0, ordered_at=dt.datetime(2026, 11, 20, 15, 30)
        )
    )
    ws.append(purchase(condition='=HYPERLINK("http://evil.example","点我")', paid="=89.5*2"))
    ws.append([None] * len(PURCHASE_HEADER_ZH))  # a formatted but empty trailing row
    text_cell = ws.cell(row=3, column=5, value="=1+1 店")
    text_cell.data_type = "s"  # typed as text ('=1+1 店), not a formula
    path = tmp_path / "采购.xlsx"
    wb.save(path)
    # The records sit third, after the instructions and the plan's task sheet.
    sheet, problems = _read(path)
    assert problems == [] and sheet.sheet_name == "采购记录"
    (r2, first), (r3, second) = sheet.rows
    assert (r2, r3) == (2, 3)
    assert first["paid"] == 89.5 and first["order_number"] == 339182746550
    assert first["ordered_at"] == dt.datetime(2026, 11, 20, 15, 30)
    # Never calculated by Excel: the formulas stay as their text, never evaluated.
    assert second["condition"] == '=HYPERLINK("http://evil.example","点我")'
    assert second["paid"] == "=89.5*2"
    assert second["shop_name"] == "=1+1 店"

    # Saved by Excel: a formula counts as the value Excel showed.
    ws_ = wb["采购记录"]
    ws_["C3"] = "=89.5*2"
    wb.save(path)
    _cache_formula_results(path, "xl/worksheets/sheet3.xml", {"C3": "179"})
    sheet, _ = _read(path)
    assert sheet.rows[1][1]["paid"] == 179
