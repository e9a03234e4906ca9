"""What a file intake finds and does: problems by row and column, and the report.

An error report for people is a CSV in UTF-8 with a byte-order mark, so Excel opens it
with the Chinese intact, one problem per line: row (as in the spreadsheet, the header
is row 1), column (as headed in the file), cell, the value, level, reason and a stable
code. Values that Excel would run as a formula are written with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Severity = Literal["error", "warning"]
Status = Literal["accepted", "rejected", "duplicate", "failed"]
# What the warehouse keeps of one file's problems; the report beside the file has all.
MAX_STORED_PROBLEMS = 1000
REPORT_HEADER = (
    "行 row",
    "列 column",
    "单元格 cell",
    "值 value",
    "级别 level",
    "问题 reason",
    "代码 code",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, a row or a cell.

    ``row`` is the spreadsheet row (header = 1; ``None`` for the whole file), ``column``
    the header as written in the file, ``field`` the canonical column name and ``cell``
    the spreadsheet address (``C5``).
    """

    code: str
    reason: str
    row: int | None = None
    column: str | None = None
    field: str | None = None
    cell: str | None = None
    value: str | None = None
    severity: Severity = "error"

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        prefix = ", ".join(where) or "file"
        level = "" if self.severity == "error" else " (warning)"
        return f"{prefix}{level}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class IntakeReport:
    """The outcome of one file.

    ``status``: ``accepted`` (rows written, file archived), ``rejected`` (nothing
    written, error report beside the file), ``duplicate`` (the same bytes were accepted
    before; nothing changed) or ``failed`` (an unexpected error such as a lost database
    connection; the file stays where it was and is tried again on the next scan).
    Paths are absolute.
    """

    kind: str
    path: str
    file_name: str
    sha256: str
    status: Status
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    tasks_advanced: int = 0
    task_ids: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    archived_as: str | None = None
    rejected_as: str | None = None
    error_report: str | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def written(self) -> int:
        """Rows inserted or changed in the warehouse."""
        return self.inserted + self.updated

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (for XCom and logs)."""
        out = asdict(self)
        out["problems"] = [p.as_dict() for p in self.problems]
        return out

    def summary(self) -> str:
        """One line for logs and the command line."""
        if self.status == "accepted":
            return (
                f"{self.file_name}: accepted, {self.rows} rows ({self.inserted} new, "
                f"{self.updated} changed, {self.unchanged} already recorded), "
                f"{self.tasks_advanced} tasks advanced, {len(self.warnings)} warnings"
            )
        if self.status == "duplicate":
            return f"{self.file_name}: accepted before (same content), nothing changed"
        if self.status == "rejected":
            return f"{self.file_name}: rejected, {len(self.errors)} errors, nothing was loaded"
        return f"{self.file_name}: failed, will be tried again: {self.problems[-1].reason}"


def stored_problems(problems: list[Problem]) -> list[dict[str, Any]]:
    """The problems as the ``inbox_files.problems`` column keeps them (capped)."""
    out = [p.as_dict() for p in problems[:MAX_STORED_PROBLEMS]]
    if len(problems) > MAX_STORED_PROBLEMS:
        rest = len(problems) - MAX_STORED_PROBLEMS
        out.append(
            {
                "code": "truncated",
                "reason": f"另有 {rest} 个问题见错误报告 / {rest} more in the error report",
                "severity": "error",
            }
        )
    return out


def _cell_text(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def render_error_report(problems: list[Problem]) -> bytes:
    """The error report as bytes: CSV, UTF-8 with BOM, errors before warnings."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(REPORT_HEADER)
    ordered = sorted(problems, key=lambda p: (p.severity != "error", p.row is not None, p.row or 0))
    for p in ordered:
        writer.writerow(
            [
                p.row if p.row is not None else "",
                _cell_text(p.column),
                p.cell or "",
                _cell_text(p.value),
                "错误 error" if p.severity == "error" else "警告 warning",
                _cell_text(p.reason),
                p.code,
            ]
        )
    return buf.getvalue().encode("utf-8-sig")


def write_error_report(path: Path, problems: list[Problem]) -> Path:
    """Write the report atomically to ``path``; returns it."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(render_error_report(problems))
    tmp.replace(path)
    return path
