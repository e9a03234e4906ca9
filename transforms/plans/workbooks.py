"""Plan workbooks for people (XLSX, Chinese headers): buyers and laboratories.

* ``采购任务.xlsx`` for the buyers (网上采样): one sheet per platform, one row per task
  to buy, with the quantity (sample + backup), the price limit, where to send it and the
  evidence to keep of the purchase.
* ``送检_<lab code>.xlsx`` for each lab (样品接收、送检): what will arrive, what to test
  and under which standard, how many units, and when.

Text from the marketplace (shop names, titles, URLs) is hostile input: every text cell
is written as a plain string — a title that starts with ``=`` stays text and never
becomes a formula — with the control characters XLSX cannot hold removed. Headers are
bold and frozen, columns sized to their content.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

BUYERS_FILE = "采购任务.xlsx"
LAB_FILE = "送检_{code}.xlsx"
EVIDENCE_ZH = (
    "商品页截图、下单截图、付款记录、购买过程录像、订单号、付款金额及时间、物流公司及物流单号"
)
BUYER_COLUMNS: tuple[str, ...] = (
    "任务编号",
    "商品链接",
    "商品标题",
    "店铺",
    "产品",
    "品牌",
    "规格/型号",
    "数量(样品+备样)",
    "限价(元)",
    "送检实验室",
    "到样截止日期",
    "需留存证据",
)
LAB_COLUMNS: tuple[str, ...] = (
    "任务编号",
    "产品",
    "品牌",
    "规格/型号",
    "品类",
    "检验项目",
    "依据标准",
    "样品数量",
    "备样数量",
    "预计到样日期",
)
MAX_CELL = 32_767
MAX_WIDTH = 60
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def safe_text(value: Any) -> str:
    """``value`` as text an XLSX cell can hold: control characters removed, cut to the
    cell limit.

    >>> safe_text("=HYPERLINK(\\"x\\")\\x07")
    '=HYPERLINK("x")'
    """
    text = "" if value is None else str(value)
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return text[:MAX_CELL]


def sheet_title(name: str, taken: Iterable[str] = ()) -> str:
    """A valid, unique worksheet title for ``name`` (at most 31 characters).

    >>> sheet_title("youpin"), sheet_title("a/b:c"), sheet_title("x", ["x"])
    ('youpin', 'a_b_c', 'x (2)')
    """
    base = _SHEET_BAD.sub("_", safe_text(name)).strip("'") or "sheet"
    base = base[:31]
    taken = {t.casefold() for t in taken}
    title, n = base, 1
    while title.casefold() in taken:
        n += 1
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
    return title


def _width(value: Any) -> int:
    text = value if isinstance(value, str) else str(value if value is not None else "")
    longest = 0
    for line in text.splitlines() or [""]:
        longest = max(
            longest,
            sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line),
        )
    return longest


def write_sheet(ws: Worksheet, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Headers (bold, frozen, filtered) and rows; text always as plain strings."""
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    widths = [_width(h) for h in headers]
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            if value is None:
                continue
            if isinstance(value, str):
                cell.value = safe_text(value)
                # openpyxl reads a leading "=" as a formula: force a plain string.
                cell.data_type = "s"
                if "\n" in value:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
            elif isinstance(value, Decimal):
                cell.value = value
                cell.number_format = "0.00"
            elif isinstance(value, dt.date):
                cell.value = value
                cell.number_format = "yyyy-mm-dd"
            else:
                cell.value = value
            widths[c - 1] = max(widths[c - 1], _width(cell.value))
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = min(MAX_WIDTH, max(8, width + 2))
    ws.freeze_panes = "A2"
    if ws.max_row > 1:
        ws.auto_filter.ref = ws.dimensions
    # On paper: landscape A4, every column on one page width, the header on every page.
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"


def _workbook(title: str, created: dt.datetime) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = safe_text(title)
    wb.properties.creator = "ecqm"
    naive = created.astimezone(dt.UTC).replace(tzinfo=None)
    wb.properties.created = naive
    wb.properties.modified = naive
    return wb


def yuan(fen: int | None) -> Decimal | None:
    """Fen as yuan with two decimals.

    >>> yuan(12345)
    Decimal('123.45')
    """
    return None if fen is None else (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


def write_buyer_workbook(
    path: Path, plan_id: str, tasks: Sequence[Mapping[str, Any]], created: dt.datetime
) -> Path:
    """The buyers' workbook: one sheet per platform (by platform code), tasks in id order."""
    wb = _workbook(f"监测计划 {plan_id} 采购任务", created)
    by_platform: dict[str, list[Mapping[str, Any]]] = {}
    for task in sorted(tasks, key=lambda t: t["task_id"]):
        by_platform.setdefault(str(task["platform"]), []).append(task)
    for platform in sorted(by_platform):
        ws = wb.create_sheet(sheet_title(platform, wb.sheetnames))
        write_sheet(
            ws,
            BUYER_COLUMNS,
            (
                (
                    t["task_id"],
                    t.get("url"),
                    t.get("title"),
                    t.get("shop_name"),
                    t.get("product_name"),
                    t.get("brand"),
                    t.get("model"),
                    f"{t['sample_units']}+{t['backup_units']}{t.get('unit_zh') or ''}",
                    yuan(t.get("price_cap_fen")),
                    t.get("lab_name"),
                    t["due_on"],
                    EVIDENCE_ZH,
                )
                for t in by_platform[platform]
            ),
        )
    if not wb.sheetnames:
        write_sheet(wb.create_sheet("无任务"), BUYER_COLUMNS, [])
    wb.save(path)
    return path


def write_lab_workbook(
    path: Path,
    plan_id: str,
    lab_name: str,
    tasks: Sequence[Mapping[str, Any]],
    created: dt.datetime,
) -> Path:
    """A lab's workbook: the samples it will receive and what to test on each."""
    wb = _workbook(f"监测计划 {plan_id} 送检任务 {lab_name}", created)
    ws = wb.create_sheet("送检任务")
    write_sheet(
        ws,
        LAB_COLUMNS,
        (
            (
                t["task_id"],
                t.get("product_name"),
                t.get("brand"),
                t.get("model"),
                t.get("category_zh"),
                "\n".join(_test_item(i) for i in t.get("test_items") or []),
                "\n".join(_standard(s) for s in t.get("standards") or []),
                t["sample_units"],
                t["backup_units"],
                t["due_on"],
            )
            for t in sorted(tasks, key=lambda t: t["task_id"])
        ),
    )
    wb.save(path)
    return path


def _test_item(item: Any) -> str:
    if isinstance(item, Mapping):
        name, standard = item.get("name"), item.get("standard")
        return f"{name}（{standard}）" if standard else str(name)
    return str(item)


def _standard(item: Any) -> str:
    if isinstance(item, Mapping):
        return " ".join(str(item[k]) for k in ("code", "title") if item.get(k))
    return str(item)
