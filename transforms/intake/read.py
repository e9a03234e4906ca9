"""Read a staff file (CSV or XLSX) into rows keyed by canonical column names.

CSV may be UTF-8 (with or without BOM), GBK/GB 18030 (what Excel on Chinese Windows
saves), or UTF-16 with a BOM (Excel's "Unicode text"); comma-, semicolon- or
tab-separated. XLSX: the sheet whose header row names the most known columns (the first
sheet on a tie); dates come as Excel dates, numbers as numbers. A formula cell counts as
the value Excel last showed; a formula never calculated (a file written by a program)
is kept as its text and never evaluated. Merged cells are refused: in the header always,
below it wherever merging hides a value of a column we read (only the top-left cell of a
merged range holds its value; the others read as empty).

Row numbers are the spreadsheet's: the header is row 1 and blank rows keep their number,
so every problem can be found where the person looks for it.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transforms.intake.problems import Problem
from transforms.intake.values import is_blank, shown

READABLE = (".csv", ".tsv", ".xlsx", ".xlsm")
MAX_ROWS = 100_000
# <mergeCell ref="A1:B1"/> in a worksheet's XML, with or without a namespace prefix.
_MERGE_CELL = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*?\bref\s*=\s*[\"']([^\"']+)[\"']"
)
_MERGE_READ = 1 << 20


@dataclass(frozen=True)
class Column:
    """One column a file may have: canonical name, Chinese and English headers, aliases."""

    name: str
    zh: str
    en: str
    required: bool = False
    aliases: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``实付金额(元) paid``: both headers, for messages."""
        return f"{self.zh} {self.en}"


@dataclass
class Sheet:
    """A file's data rows: ``rows`` holds (spreadsheet row number, {column name: cell})."""

    headers: dict[str, str]
    letters: dict[str, str]
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    sheet_name: str | None = None

    def cell(self, row: int, name: str) -> str | None:
        """The spreadsheet address (``C5``) of column ``name`` in ``row``."""
        letter = self.letters.get(name)
        return f"{letter}{row}" if letter else None


class FileUnreadable(ValueError):
    """The file as a whole cannot be used; ``problems`` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def header_key(text: Any) -> str:
    """How headers compare: width, case, spaces, ``_``/``-``, required marks don't matter."""
    t = unicodedata.normalize("NFKC", str(text or "")).casefold().strip()
    t = re.sub(r"\((?:必填|选填|可选|required|optional)\)$", "", t).strip().rstrip("*").strip()
    return re.sub(r"[\s_\-]+", "", t)


def column_letter(index: int) -> str:
    """``0`` → ``A``, ``26`` → ``AA``."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def read_sheet(path: Path, data: bytes, columns: Sequence[Column]) -> tuple[Sheet, list[Problem]]:
    """The rows of ``data`` (the bytes of ``path``) under ``columns``, and the warnings
    about the header. Raises :class:`FileUnreadable` when the file cannot be used at all
    (not CSV or XLSX, undecodable, missing or repeated required columns, no data rows)."""
    suffix = path.suffix.lower()
    if suffix not in READABLE:
        raise FileUnreadable(
            [
                Problem(
                    "unsupported_file",
                    f"只收 CSV 或 XLSX 文件，不收 {suffix or '无扩展名'} 文件；请另存为 .xlsx 或 CSV / "
                    f"only CSV or XLSX files are taken, not {suffix or 'files without an extension'}; "
                    "save the file as .xlsx or CSV",
                )
            ]
        )
    merged: list[tuple[str, tuple[int, int, int, int]]] = []
    if suffix in (".xlsx", ".xlsm"):
        name, grid, merged = _xlsx_grid(data, columns)
    else:
        name, grid = None, _csv_grid(data)
    header_merges = [m for m in merged if m[1][1] == 1]
    if header_merges:
        raise FileUnreadable(
            [_merged_header(ref, bounds, grid, name) for ref, bounds in header_merges]
        )
    sheet, problems = _sheet(grid, columns, name)
    hidden = [p for ref, bounds in merged if (p := _merged_data(ref, bounds, grid, sheet))]
    if hidden:
        raise FileUnreadable(hidden)
    return sheet, problems


def _unreadable(code: str, reason: str) -> FileUnreadable:
    return FileUnreadable([Problem(code, reason)])


def _csv_grid(data: bytes) -> list[list[Any]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise _unreadable(
                "bad_encoding",
                "文件既不是 UTF-8 也不是 GBK 编码的文本 / the file is neither UTF-8 nor GBK text",
            )
    if "\x00" in text:
        raise _unreadable(
            "bad_encoding", "文件含有二进制内容，不是 CSV / the file holds binary data, not CSV"
        )
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=lambda d: (first.count(d), d == ","))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [row for _, row in zip(range(MAX_ROWS + 2), reader, strict=False)]
    except csv.Error as exc:
        raise _unreadable("bad_csv", f"CSV 格式错误：{exc} / the CSV is malformed: {exc}") from None


def _xlsx_grid(
    data: bytes, columns: Sequence[Column]
) -> tuple[str, list[list[Any]], list[tuple[str, tuple[int, int, int, int]]]]:
    """The chosen sheet's name, its cells row by row, and its merged ranges (each as
    ``"A1:B1"`` and (min column, min row, max column, max row), 1-based)."""
    from openpyxl import load_workbook

    try:
        formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 — zip, XML and openpyxl errors alike
        raise _unreadable(
            "bad_xlsx",
            f"无法作为 XLSX 打开（{type(exc).__name__}），文件可能已损坏或加密 / "
            f"cannot be opened as XLSX ({type(exc).__name__}); the file may be damaged or "
            "password-protected",
        ) from None
    try:
        index = _pick_sheet(formulas, columns)
        ws = formulas.worksheets[index]
        ws.reset_dimensions()
        grid: list[list[Any]] = []
        formula_cells: list[tuple[int, int]] = []
        for r, row in enumerate(ws.iter_rows()):
            if r > MAX_ROWS + 1:
                break
            values = []
            for c, cell in enumerate(row):
                if getattr(cell, "data_type", None) == "f":
                    formula_cells.append((r, c))
                values.append(cell.value)
            grid.append(values)
        name = ws.title
        merged = _merged_ranges(ws)
    finally:
        formulas.close()
    if formula_cells:
        # What Excel last showed for each formula; a formula no program has calculated
        # has no cached value and stays as its text.
        cached = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            ws = cached.worksheets[index]
            ws.reset_dimensions()
            shown_values = [list(row) for row in ws.iter_rows(values_only=True)]
        finally:
            cached.close()
        for r, c in formula_cells:
            if (
                r < len(shown_values)
                and c < len(shown_values[r])
                and shown_values[r][c] is not None
            ):
                grid[r][c] = shown_values[r][c]
    return name, grid, merged


def _merged_ranges(ws: Any) -> list[tuple[str, tuple[int, int, int, int]]]:
    """The merged ranges of a read-only worksheet, top to bottom, left to right.

    openpyxl's read-only mode does not expose ``merged_cells``, and opening the workbook
    in full mode would hold every cell in memory: the ranges are read from the
    ``<mergeCells>`` element at the end of the sheet's XML instead, streamed in chunks
    and matched without parsing the cells again. One-cell "ranges" are left out.
    """
    from openpyxl.utils.cell import range_boundaries

    refs: list[str] = []
    tail = b""
    with ws._get_source() as src:
        while chunk := src.read(_MERGE_READ):
            buf = tail + chunk
            end = 0
            if b"mergeCell" in buf:
                for m in _MERGE_CELL.finditer(buf):
                    refs.append(m.group(1).decode("ascii", "replace"))
                    end = m.end()
            tail = buf[max(end, len(buf) - 512) :]
    found = []
    for ref in dict.fromkeys(refs):
        try:
            bounds = range_boundaries(ref.replace("$", "").upper())
        except (TypeError, ValueError):
            continue
        min_col, min_row, max_col, max_row = bounds
        if None in bounds or (min_col, min_row) == (max_col, max_row):
            continue
        found.append((ref.replace("$", "").upper(), (min_col, min_row, max_col, max_row)))
    return sorted(found, key=lambda m: (m[1][1], m[1][0]))


def _at(grid: list[list[Any]], row: int, col: int) -> Any:
    """The cell at 1-based ``row`` and ``col`` of ``grid`` (``None`` outside it)."""
    if row > len(grid) or col > len(grid[row - 1]):
        return None
    return grid[row - 1][col - 1]


def _merged_header(
    ref: str, bounds: tuple[int, int, int, int], grid: list[list[Any]], name: str | None
) -> Problem:
    title = _at(grid, 1, bounds[0])
    return Problem(
        "merged_header",
        f"表头含合并单元格 {ref}（工作表“{name}”），请取消合并，每列一个表头 / the header has "
        f"merged cells {ref} (sheet {name!r}); unmerge them so that each column has a "
        "header of its own",
        row=1,
        column=None if is_blank(title) else str(title).strip(),
        cell=ref,
    )


def _merged_data(
    ref: str, bounds: tuple[int, int, int, int], grid: list[list[Any]], sheet: Sheet
) -> Problem | None:
    """The problem with a merged range below the header: only when merging hides a value
    from a column we read (the top-left cell holds one, and another cell of the range is
    in a headed column). A merged blank, or a merge within an ignored column, hides
    nothing."""
    min_col, min_row, max_col, _ = bounds
    value = _at(grid, min_row, min_col)
    if is_blank(value):
        return None
    read = {letter: name for name, letter in sheet.letters.items()}
    top_left = column_letter(min_col - 1)
    hidden = [
        read[column_letter(c - 1)]
        for c in range(min_col, max_col + 1)
        if column_letter(c - 1) in read and (c != min_col or bounds[3] > min_row)
    ]
    if not hidden:
        return None
    field = read.get(top_left, hidden[0])
    return Problem(
        "merged_cells",
        f"合并单元格 {ref}（工作表“{sheet.sheet_name}”）：只有左上角的 {top_left}{min_row} 有值，"
        f"其余单元格读出来是空的；请取消合并，每格填上值 / merged cells {ref} (sheet "
        f"{sheet.sheet_name!r}): only the top-left cell {top_left}{min_row} holds a value and "
        "the others read as empty; unmerge them and fill in every cell",
        row=min_row,
        column=sheet.headers[field],
        field=field,
        cell=ref,
        value=shown(value),
    )


def _pick_sheet(wb: Any, columns: Sequence[Column]) -> int:
    """The sheet whose header row names the most of ``columns`` (the first on a tie), so
    a workbook may carry instructions or the plan's own sheets beside the records."""
    known = {header_key(a) for c in columns for a in _names(c)}
    best, best_score = 0, 0
    for i, ws in enumerate(wb.worksheets):
        first = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
        score = sum(header_key(v) in known for v in first if v is not None)
        if score > best_score:
            best, best_score = i, score
    return best


def _names(column: Column) -> tuple[str, ...]:
    return (column.name, column.zh, column.en, *column.aliases)


def _sheet(
    grid: list[list[Any]], columns: Sequence[Column], name: str | None
) -> tuple[Sheet, list[Problem]]:
    if not grid or all(is_blank(v) for v in grid[0]):
        raise _unreadable(
            "no_header", "第 1 行应为表头，但它是空的 / row 1 should be the header but it is empty"
        )
    lookup = {header_key(alias): col for col in columns for alias in _names(col)}
    headers: dict[str, str] = {}
    letters: dict[str, str] = {}
    positions: dict[str, int] = {}
    problems: list[Problem] = []
    fatal: list[Problem] = []
    ignored: list[int] = []
    for i, raw in enumerate(grid[0]):
        if is_blank(raw):
            ignored.append(i)
            continue
        title = str(raw).strip()
        col = lookup.get(header_key(title))
        if col is None:
            ignored.append(i)
            problems.append(
                Problem(
                    "unknown_column",
                    f"不认识的列“{title}”，已忽略 / unknown column {title!r}, ignored",
                    row=1,
                    column=title,
                    cell=f"{column_letter(i)}1",
                    severity="warning",
                )
            )
            continue
        if col.name in headers:
            fatal.append(
                Problem(
                    "repeated_column",
                    f"“{title}”与“{headers[col.name]}”是同一列（{col.label}），只能出现一次 / "
                    f"{title!r} and {headers[col.name]!r} are the same column ({col.en}); "
                    "keep one",
                    row=1,
                    column=title,
                    field=col.name,
                    cell=f"{column_letter(i)}1",
                )
            )
            continue
        headers[col.name] = title
        letters[col.name] = column_letter(i)
        positions[col.name] = i
    for col in columns:
        if col.required and col.name not in headers:
            found = "、".join(str(v).strip() for v in grid[0] if not is_blank(v))
            fatal.append(
                Problem(
                    "missing_column",
                    f"缺少必填列“{col.zh}”（{col.en}）；表头为：{found} / the required column "
                    f"{col.zh} ({col.en}) is missing; the header reads: {found}",
                    row=1,
                    column=col.zh,
                    field=col.name,
                )
            )
    if fatal:
        raise FileUnreadable(fatal)
    if len(grid) > MAX_ROWS + 1:
        raise _unreadable(
            "too_many_rows",
            f"文件超过 {MAX_ROWS} 行，请分成几个文件 / more than {MAX_ROWS} rows; split the file",
        )
    sheet = Sheet(headers, letters, sheet_name=name)
    width = len(grid[0])
    for r, values in enumerate(grid[1:], start=2):
        if all(is_blank(v) for v in values):
            continue
        row = {n: (values[i] if i < len(values) else None) for n, i in positions.items()}
        stray = [
            i
            for i in range(len(values))
            if (i >= width or i in ignored) and not is_blank(values[i])
        ]
        for i in stray:
            if i >= width:
                problems.append(
                    Problem(
                        "value_outside_header",
                        f"表头之外的第 {column_letter(i)} 列有值（{shown(values[i])}），行内可能多了分隔符 / "
                        f"a value beyond the last headed column ({shown(values[i])}); the row may "
                        "have an extra separator",
                        row=r,
                        cell=f"{column_letter(i)}{r}",
                        value=shown(values[i]),
                    )
                )
        sheet.rows.append((r, row))
    if not sheet.rows:
        raise _unreadable("no_rows", "文件没有数据行 / the file has no data rows")
    return sheet, problems
