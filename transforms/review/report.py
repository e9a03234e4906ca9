"""The monthly report (监测月报): one self-contained HTML file in Chinese, and its key
tables as a workbook, in ``<outbox>/reports/<YYYY-MM>/``::

    监测月报_2026-11.html    charts and tables, for the screen and for print
    监测月报_2026-11.xlsx    the key tables, Chinese headers

The report shows the month's indicators from ``kpi_snapshots`` (computed first when
the month has none), the snapshots of up to eleven months before for the trends, and
aggregates read straight from the warehouse (:mod:`transforms.review.report_data`).
Counts, rates and business names only — no shop, person or contact: ``docs/report.md``
lists each chart and its source.

The HTML needs nothing from outside: CSS inline, charts drawn as inline SVG
(:mod:`transforms.review.charts`), no script, no link. Warehouse text reaches the
template only as variables, and Jinja escapes it. The files depend on the warehouse
alone — the only time in them is when the month's indicators were computed — so a
second run for the same month and data writes the same bytes.

>>> report_paths("/srv/ecqm/outbox", "2026-11").html.name
'监测月报_2026-11.html'
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter
from sqlalchemy import Engine

from transforms.plans.workbooks import safe_text, sheet_title, write_sheet
from transforms.review import kpis
from transforms.review import report_figures as rf
from transforms.review import report_format as fmt
from transforms.review.kpis import LEVEL_ZH, LEVELS, SHANGHAI, month_bounds
from transforms.review.report_data import KIND_ZH, MonthData, has_snapshot, read_month

__all__ = [
    "TITLE",
    "ReportFiles",
    "check_month",
    "render_html",
    "report_paths",
    "workbook_bytes",
    "write_report",
]

TITLE = "电子商务产品质量网上监测月报"
TEMPLATES_DIR = Path(__file__).with_name("templates")
UNIT_ZH = {"count": "个", "share": "比例", "ratio": "倍", "days": "天", "score": "分"}
PERCENT = "0.0%"


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    xlsx: Path


def report_paths(outbox: Path | str, month: str) -> ReportFiles:
    """Where the report of ``month`` (``YYYY-MM``) goes in ``outbox``."""
    folder = Path(outbox) / "reports" / month
    return ReportFiles(folder / f"监测月报_{month}.html", folder / f"监测月报_{month}.xlsx")


def check_month(month: str) -> str:
    """``month`` if it is written ``YYYY-MM`` and exists, else ValueError.

    >>> check_month("2026-11")
    '2026-11'
    """
    if not isinstance(month, str) or not re.fullmatch(r"\d{4}-\d{2}", month):
        raise ValueError(f"a month is written YYYY-MM, got {month!r}")
    month_bounds(month)
    return month


def write_report(engine: Engine, month: str, outbox: Path | str, now: dt.datetime) -> ReportFiles:
    """Write the report of ``month`` (``YYYY-MM``) into ``outbox`` and return its paths.

    When the month has no indicator snapshot yet it is computed first, stamped ``now``;
    otherwise ``now`` is not used and the files depend on the warehouse alone. Each file
    is replaced in one step, so a reader never sees half a report.
    """
    check_month(month)
    first, _ = month_bounds(month)
    with engine.connect() as conn:
        missing = not has_snapshot(conn, first)
    if missing:
        kpis.snapshot(engine, first, now)
    with engine.connect() as conn:
        data = read_month(conn, month)
    paths = report_paths(outbox, month)
    paths.html.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(paths.html, render_html(data).encode("utf-8"))
    _write_atomic(paths.xlsx, workbook_bytes(data))
    return paths


# ------------------------------------------------------------------------------- HTML


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(data: MonthData) -> str:
    """The report as one HTML document."""
    k = fmt.Kpis(data.kpis)
    context = {
        "title": TITLE,
        "month": data.month,
        "month_zh": f"{data.first.year}年{data.first.month}月",
        "computed_at": fmt.shanghai(data.computed_at),
        "simulated": data.simulated,
        "tiles": fmt.tiles(k),
        "sections": rf.sections(data),
        "indicators": fmt.indicator_rows(data.kpis, data.categories),
        "no_data": fmt.NO_DATA,
    }
    return _environment().get_template("report.html").render(context)


# ------------------------------------------------------------------------------- XLSX


def workbook_bytes(data: MonthData) -> bytes:
    """The key tables as an XLSX workbook, the same bytes for the same data."""
    stamp = data.computed_at or dt.datetime.combine(data.first, dt.time(), dt.UTC)
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = safe_text(f"{TITLE} {data.month}")
    wb.properties.creator = "ecqm"
    wb.properties.lastModifiedBy = "ecqm"
    naive = stamp.astimezone(dt.UTC).replace(tzinfo=None)
    wb.properties.created = naive
    wb.properties.modified = naive
    for title, headers, rows, percent in _sheets(data):
        ws = wb.create_sheet(sheet_title(title, wb.sheetnames))
        write_sheet(ws, headers, rows)
        _percent_columns(ws, percent, rows)
    buffer = io.BytesIO()
    # openpyxl's save() stamps "modified" with the wall clock; the writer itself does not.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    local = stamp.astimezone(SHANGHAI)
    return _fixed_zip_times(buffer.getvalue(), (max(local.year, 1980), *local.timetuple()[1:6]))


def _sheets(data: MonthData) -> list[tuple[str, Sequence[str], list[list[Any]], Sequence[int]]]:
    """(sheet, headers, rows, 1-based columns holding shares) for each table."""
    k = fmt.Kpis(data.kpis)
    out: list[tuple[str, Sequence[str], list[list[Any]], Sequence[int]]] = []
    indicators = [
        [
            r["kpi"],
            fmt.kpi_label(r, data.categories),
            fmt.dimension_zh(r["kpi"], r["dimension"], data.categories) or "总体",
            UNIT_ZH.get(r["unit"], r["unit"]),
            r["value"],
            r["numerator"],
            r["denominator"],
            r["ci_low"],
            r["ci_high"],
        ]
        for r in fmt.kpi_order(data.kpis)
    ]
    out.append(
        (
            "指标",
            ("指标代码", "指标", "分组", "单位", "数值", "分子", "分母", "置信下限", "置信上限"),
            indicators,
            (),
        )
    )
    by_cat: dict[str, dict[str, int]] = {}
    for dim in k.dims("risks_by_category_level"):
        cat, _, level = dim.rpartition("|")
        by_cat.setdefault(cat, dict.fromkeys(LEVELS, 0))[level] = int(
            k.value("risks_by_category_level", dim) or 0
        )
    out.append(
        (
            "风险级别×品类",
            ("品类代码", "品类", *(LEVEL_ZH[lv] for lv in LEVELS), "合计"),
            [
                [c, data.categories.get(c, c), *(n[lv] for lv in LEVELS), sum(n.values())]
                for c, n in sorted(by_cat.items(), key=lambda cn: (-sum(cn[1].values()), cn[0]))
            ],
            (),
        )
    )
    out.append(
        (
            "计划执行与检出",
            ("计划编号", "抽样层", "任务数", "已出结果", "执行率", "不合格", "检出率"),
            [
                [
                    e["plan_id"],
                    fmt.STRATUM_ZH.get(e["stratum"], e["stratum"]),
                    e["tasks"],
                    e["done"],
                    e["done"] / e["tasks"] if e["tasks"] else None,
                    e["failed"],
                    e["failed"] / e["done"] if e["done"] else None,
                ]
                for e in data.executions
            ],
            (5, 7),
        )
    )
    out.append(
        (
            "市场不合格率估计",
            (
                "计划编号",
                "品类代码",
                "品类",
                "随机样本数",
                "随机不合格数",
                "估计不合格率",
                "置信下限",
                "置信上限",
                "定向样本数",
                "定向不合格数",
                "估计方法",
            ),
            [
                [
                    e["plan_id"],
                    e["category_code"],
                    rf.estimate_label(e, data.categories, False),
                    e["audit_samples"],
                    e["audit_failed"],
                    e["estimate"],
                    e["ci_low"],
                    e["ci_high"],
                    e["targeted_samples"],
                    e["targeted_failed"],
                    e["method"],
                ]
                for e in data.estimates
            ],
            (6, 7, 8),
        )
    )
    out.append(
        (
            "通知状态",
            (
                "通知类型",
                "通知数",
                "已送达",
                "待发送或重试",
                "发送失败",
                "已取消",
                "需回执",
                "已回执",
                "回执率",
            ),
            [
                [
                    KIND_ZH.get(n["kind"], n["kind"]),
                    n["total"],
                    n.get("sent", 0),
                    sum(n.get(s, 0) for s in ("queued", "sending", "retry")),
                    n.get("dead", 0),
                    n.get("cancelled", 0),
                    n.get("need_ack", 0),
                    n.get("acked", 0),
                    n["acked"] / n["need_ack"] if n.get("need_ack") else None,
                ]
                for n in data.notices
            ],
            (9,),
        )
    )
    out.append(
        (
            "地区分布",
            ("省级地区代码", "省份", "高风险及较高风险产品", "检验批次", "不合格批次"),
            [[code or "", name, *counts] for code, name, counts in rf.region_rows(data)],
            (),
        )
    )
    spec = [(name, kpi, dim) for *_, series in rf.TRENDS for name, kpi, dim in series]
    out.append(
        (
            "趋势",
            ("月份", "指标快照", *(name for name, _, _ in spec)),
            [
                [
                    m.strftime("%Y-%m"),
                    "有" if m in data.trend_seen else "无",
                    *(data.trend.get((m, kpi, dim)) for _, kpi, dim in spec),
                ]
                for m in data.trend_months
            ],
            [3 + i for i, (_, kpi, _) in enumerate(spec) if _unit(kpi) == "share"],
        )
    )
    if data.credit:
        out.append(
            (
                "诚信名单",
                ("名单", "规则代码", "规则", "目前在列", "本月新列入"),
                [
                    [
                        fmt.LIST_ZH.get(c["list_kind"], c["list_kind"]),
                        c["rule_code"],
                        c["title"],
                        c["active"],
                        c["new"],
                    ]
                    for c in data.credit
                ],
                (),
            )
        )
    return out


def _unit(kpi: str) -> str:
    return kpis.LABELS.get(kpi, ("", ""))[1]


def _percent_columns(ws: Worksheet, columns: Sequence[int], rows: Sequence[Sequence[Any]]) -> None:
    """Shares print as percentages: whole columns, and on the indicator sheet the rows
    whose unit is a share (their value and interval)."""
    for r, row in enumerate(rows, start=2):
        shares = list(columns)
        if ws.title == "指标" and row[3] == UNIT_ZH["share"]:
            shares += [5, 8, 9]
        for c in shares:
            ws.cell(row=r, column=c).number_format = PERCENT


def _fixed_zip_times(data: bytes, when: tuple[int, ...]) -> bytes:
    """The same archive with every entry dated ``when`` (zipfile stamps the wall clock)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=when)  # type: ignore[arg-type]
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, src.read(info))
    return out.getvalue()


def _write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step (temporary file, fsync, rename)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the report is for people to read
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
