"""Recall files people download by hand → the warehouse: :func:`import_recalls`.

Three formats, read by the same parsers the crawl uses (:mod:`crawlers.parse.recalls`):

``cpsc-csv``
    The CPSC recall export (the 22 CPSC columns, UTF-8 with or without BOM; a legacy
    Windows-1252 file is read too). Each row gets the recall's address in the CPSC
    recalls service (``…/RestWebServices/Recall?RecallNumber=<n>&format=json``).
``safety-gate``
    The EU Safety Gate alerts export (``Alert number``, ``Publication date``,
    ``Product``, ``Brand`` … ; comma-, semicolon- or tab-separated).
``samr``
    SAMR 缺陷产品召回 notice pages as saved from a browser: one ``.html`` page, a
    folder of them (searched recursively; ``.htm``, ``.shtml`` and gzipped pages too),
    or a ``.zip`` of them. A page's address is taken from its canonical link, its
    ``og:url`` or the browser's "saved from url" note when it has one.

Records go into ``stg_recalls`` as the crawl's loads put them (natural key plus the
SHA-256 of the payload, never rewritten), so importing a file a second time adds
nothing; the file itself is kept as evidence under ``$ECQM_HOME/evidence`` by its
SHA-256. Then the staging → core processing runs
(:func:`transforms.core.pipeline.process_staging`), so the recall rows go through the
same cleaning, personal-data scrubbing, data-quality rules and quarantine as crawled
ones. Like ``ecqm process``, that run takes in everything staging holds that core has
not taken yet (a crawl's rows waiting there too); it is skipped when nothing waits.

Nothing is dropped silently. A row (or page) that cannot be read goes to
``quarantine`` (``table_name`` ``recalls``, ``record_key`` ``<file>:row <n>``, a rule
and a reason, the raw row as value) and into the report with its row number; a row
that processing refuses is reported the same way. A file that is not of the stated
format (wrong columns, not a CSV, another encoding, not a notice page) raises
:class:`RecallFormatError` naming the file and what was expected, and imports nothing.

The run id defaults to ``import_recalls__<format>__<hash of the file>``, so a repeated
import is the same run: the same quarantine rows, and no new staging rows to process.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import gzip
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, tuple_

from crawlers.parse.common import ParseError, html_selector
from crawlers.parse.recalls import (
    CPSC_REQUIRED,
    SAFETY_GATE_REQUIRED,
    parse_cpsc_csv,
    parse_safety_gate_csv,
    parse_samr_notice,
)
from ecqm.warehouse.bulk import RejectedRow, upsert
from ecqm.warehouse.engine import json_dumps
from ecqm.warehouse.schema import (
    process_watermarks,
    quarantine,
    recalls,
    stg_recalls,
)

__all__ = [
    "FORMATS",
    "ImportReport",
    "RecallFormatError",
    "RowProblem",
    "import_recalls",
]

FORMATS = ("cpsc-csv", "safety-gate", "samr")
CPSC_RECALL_URL = (
    "https://www.saferproducts.gov/RestWebServices/Recall?RecallNumber={number}&format=json"
)
SAFETY_GATE_EXPORT_URL = (
    "https://ec.europa.eu/safety-gate-alerts/public/api/notification/export?language=en&format=csv"
)
SAMR_NOTICES_URL = "https://www.dpac.org.cn/xfpzh/xfpgnzh/"
PAGE_SUFFIXES = (".html", ".htm", ".shtml", ".html.gz", ".htm.gz")
MAX_PAGE_BYTES = 20 * 2**20
MAX_QUARANTINED_TEXT = 2000
_EXPECTED = {
    "cpsc-csv": "the CPSC recall export CSV with the columns " + ", ".join(CPSC_REQUIRED),
    "safety-gate": "the EU Safety Gate alerts CSV with the columns "
    + ", ".join(SAFETY_GATE_REQUIRED),
    "samr": "SAMR 缺陷产品召回 notice pages (.html, a folder of them, or a .zip)",
}
_CJK = re.compile(r"[\u4e00-\u9fff]")


class RecallFormatError(ValueError):
    """The file is not of the stated format: nothing was imported."""

    def __init__(self, path: str | Path, fmt: str, problem: str) -> None:
        self.path = str(path)
        self.fmt = fmt
        self.problem = problem
        super().__init__(f"{path}: {problem}; expected {_EXPECTED.get(fmt, fmt)}")


@dataclass(frozen=True)
class RowProblem:
    """A row (or page) that did not reach the ``recalls`` table, and why."""

    where: str  # <file>:row <n>, or <file> for a page
    row: int | None
    line: int | None
    rule: str
    reason: str
    value: str | None = None

    def __str__(self) -> str:
        at = f" (line {self.line})" if self.line is not None and self.line != self.row else ""
        return f"{self.where}{at}: {self.reason}"


@dataclass
class ImportReport:
    """What one import did."""

    path: str
    fmt: str
    run_id: str
    records_read: int = 0  # rows or pages in the file
    parsed: int = 0
    staged_new: int = 0
    staged_unchanged: int = 0
    duplicates_in_file: int = 0
    recalls_in_core: int = 0  # of this file's recalls, how many the core table holds
    processed: bool = False
    process: dict[str, Any] | None = None  # the stg_recalls counts of the processing run
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    breakage: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every row reached core and processing found no broken table."""
        return not self.problems and not self.breakage

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["problems"] = [dataclasses.asdict(p) for p in self.problems]
        out["ok"] = self.ok
        return out


@dataclass
class _Doc:
    """One file (or archive member) read."""

    name: str  # as shown in messages and quarantine keys
    url: str  # where it was read from (a file: URI)
    body: bytes
    fetched_at: dt.datetime

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


@dataclass
class _Item:
    """One record read, with where it came from."""

    record: dict[str, Any]
    doc: _Doc
    where: str
    row: int | None
    line: int | None


# --------------------------------------------------------------------------- reading


def _mtime(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(microsecond=0)


def _file_doc(path: Path, label: str | None = None) -> _Doc:
    body = path.read_bytes()
    if path.name.endswith(".gz"):
        body = gzip.decompress(body)
    return _Doc(label or path.name, path.resolve().as_uri(), body, _mtime(path))


def _decode(body: bytes, path: str, fmt: str) -> str:
    """CSV text: UTF-8 (BOM or not), or Windows-1252; anything else is refused."""
    if not body.strip():
        raise RecallFormatError(path, fmt, "the file is empty")
    if body[:4] == b"PK\x03\x04":
        raise RecallFormatError(path, fmt, "this is a ZIP archive or an Excel workbook, not a CSV")
    if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise RecallFormatError(path, fmt, "the file is UTF-16 encoded, not UTF-8")
    if b"\x00" in body[:65536]:
        raise RecallFormatError(path, fmt, "the file is binary, not a text CSV")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    try:
        if _CJK.search(body.decode("gb18030")):
            raise RecallFormatError(
                path,
                fmt,
                "the file is GBK/GB18030 encoded, not UTF-8 (save it as 'CSV UTF-8')",
            )
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("cp1252")
    except UnicodeDecodeError:
        raise RecallFormatError(
            path, fmt, f"the file is not UTF-8 text (undecodable byte at offset {first_bad})"
        ) from None


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(
    doc: _Doc, fmt: str, required: Sequence[str], other: tuple[str, Sequence[str]]
) -> tuple[list[str], Iterator[tuple[int, int, list[str]]]]:
    """The header and ``(row number, first line, cells)`` of each non-empty row.

    Row numbers count the header as row 1, as a spreadsheet shows them (and as the
    parsers' messages do); the line is where the row starts in the file.
    """
    text = _decode(doc.body, doc.name, fmt)
    head = text.lstrip()[:1]
    if head == "<":
        raise RecallFormatError(doc.name, fmt, "this is an HTML or XML document, not a CSV")
    if head in ("{", "["):
        raise RecallFormatError(doc.name, fmt, "this is a JSON document, not a CSV")
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise RecallFormatError(doc.name, fmt, f"the header is not CSV: {exc}") from None
    header = [h.strip().lstrip("\ufeff") for h in header or []]
    missing = [c for c in required if c not in header]
    if missing:
        found = ", ".join(h for h in header[:8] if h) or "nothing"
        hint = ""
        other_fmt, other_required = other
        if all(c in header for c in other_required):
            hint = f" (this looks like the {other_fmt} format)"
        raise RecallFormatError(
            doc.name,
            fmt,
            f"the CSV lacks the column(s) {', '.join(missing)}; its header has {found}"
            + (" …" if len(header) > 8 else "")
            + hint,
        )

    def rows() -> Iterator[tuple[int, int, list[str]]]:
        number, end = 1, reader.line_num
        while True:
            start = end + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise RecallFormatError(
                    doc.name, fmt, f"line {reader.line_num}: the CSV is broken: {exc}"
                ) from None
            end = reader.line_num
            if not cells or not any(c.strip() for c in cells):
                continue
            number += 1
            yield number, start, cells

    return header, rows()


def _one_row_csv(header: list[str], cells: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerow(cells)
    return buf.getvalue()


_PARSERS: dict[str, tuple[Callable[..., list[dict[str, Any]]], tuple[str, ...], str]] = {
    "cpsc-csv": (parse_cpsc_csv, CPSC_REQUIRED, "Date"),
    "safety-gate": (parse_safety_gate_csv, SAFETY_GATE_REQUIRED, "Publication date"),
}


def _read_csv(doc: _Doc, fmt: str, source_url: str | None, report: ImportReport) -> Iterator[_Item]:
    parse, required, date_column = _PARSERS[fmt]
    other = "safety-gate" if fmt == "cpsc-csv" else "cpsc-csv"
    header, rows = _csv_rows(doc, fmt, required, (other, _PARSERS[other][1]))
    prefix = f"{doc.name}: line 2: "
    for number, line, cells in rows:
        report.records_read += 1
        where = f"{doc.name}:row {number}"
        raw = _one_row_csv(header, cells).split("\r\n", 1)[1].rstrip("\r\n")
        if len(cells) > len(header):
            report.problems.append(
                RowProblem(
                    where,
                    number,
                    line,
                    "import:columns",
                    f"{len(cells)} cells where the header has {len(header)} columns "
                    "(an unquoted comma or a shifted row)",
                    raw,
                )
            )
            continue
        errors: list[str] = []
        records = parse(_one_row_csv(header, cells), doc.name, errors=errors)
        if not records:
            reason = errors[0].removeprefix(prefix) if errors else "the row could not be read"
            report.problems.append(RowProblem(where, number, line, f"import:{fmt}", reason, raw))
            continue
        rec = records[0]
        cell = dict(zip(header, cells, strict=False)).get(date_column, "").strip()
        if cell and not rec.get("date"):
            report.warnings.append(
                f"{where}: {date_column} {cell!r} is not a date the format uses; "
                "the recall is imported without one"
            )
        if fmt == "cpsc-csv":
            rec["url"] = CPSC_RECALL_URL.format(number=rec["external_id"])
        else:
            rec["url"] = source_url or SAFETY_GATE_EXPORT_URL
        yield _Item(rec, doc, where, number, line)


_SAVED_FROM = re.compile(rb"<!--\s*saved from url=\(\d+\)(https?://[^\s>]+)", re.I)


def _page_url(body: bytes) -> str | None:
    """The address a saved page names for itself, if any."""
    m = _SAVED_FROM.search(body[:4096])
    if m:
        return m.group(1).decode("ascii", "replace")
    sel = html_selector(body)
    for css in (
        'link[rel="canonical"]::attr(href)',
        'meta[property="og:url"]::attr(content)',
        "base::attr(href)",
    ):
        found = sel.css(css).get()
        if found and re.match(r"https?://", found.strip()):
            return found.strip()
    return None


def _samr_docs(path: Path, fmt: str, report: ImportReport) -> list[_Doc]:
    def is_page(name: str) -> bool:
        return name.lower().endswith(PAGE_SUFFIXES)

    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and is_page(p.name))
        return [_file_doc(p, f"{path.name}/{p.relative_to(path).as_posix()}") for p in files]
    if zipfile.is_zipfile(path):
        docs = []
        mtime = _mtime(path)
        with zipfile.ZipFile(path) as zf:
            for info in sorted(zf.infolist(), key=lambda i: i.filename):
                name = info.filename
                if not info.flag_bits & 0x800:  # not marked UTF-8: often GBK from Windows
                    try:
                        name = name.encode("cp437").decode("gbk")
                    except (UnicodeEncodeError, UnicodeDecodeError):
                        pass
                if info.is_dir() or name.startswith("__MACOSX/") or not is_page(name):
                    continue
                label = f"{path.name}:{name}"
                if info.file_size > MAX_PAGE_BYTES:
                    report.records_read += 1
                    report.problems.append(
                        RowProblem(
                            label,
                            None,
                            None,
                            "import:samr_page",
                            f"{info.file_size:,} bytes is more than a notice page",
                        )
                    )
                    continue
                body = zf.read(info)
                if name.lower().endswith(".gz"):
                    body = gzip.decompress(body)
                docs.append(_Doc(label, f"{path.resolve().as_uri()}#{name}", body, mtime))
        return docs
    if is_page(path.name):
        return [_file_doc(path)]
    raise RecallFormatError(path, fmt, "this is neither a .html page, a folder nor a .zip")


def _read_samr(
    path: Path, fmt: str, source_url: str | None, report: ImportReport
) -> tuple[list[_Doc], list[_Item]]:
    docs = _samr_docs(path, fmt, report)
    if not docs and not report.problems:
        raise RecallFormatError(path, fmt, "there are no .html pages in it")
    items: list[_Item] = []
    failures: list[RowProblem] = []
    for doc in docs:
        report.records_read += 1
        url = _page_url(doc.body) or source_url or SAMR_NOTICES_URL
        try:
            rec = parse_samr_notice(doc.body, url)
        except ParseError as exc:
            failures.append(
                RowProblem(
                    doc.name,
                    None,
                    None,
                    "import:samr_page",
                    f"not a SAMR recall notice: {exc.what}",
                    doc.body[:MAX_QUARANTINED_TEXT].decode("utf-8", "replace"),
                )
            )
            continue
        items.append(_Item(rec, doc, doc.name, None, None))
    if failures and not items:
        first = failures[0]
        if path.is_file() and not zipfile.is_zipfile(path):
            raise RecallFormatError(path, fmt, first.reason)
        raise RecallFormatError(
            path,
            fmt,
            f"none of its {len(failures)} page(s) is a recall notice "
            f"(first: {first.where}: {first.reason})",
        )
    report.problems.extend(failures)
    return docs, items


# --------------------------------------------------------------------------- loading


def _default_run_id(fmt: str, docs: Sequence[_Doc]) -> str:
    h = hashlib.sha256()
    for d in docs:
        h.update(d.name.rsplit("/", 1)[-1].encode("utf-8"))
        h.update(bytes.fromhex(d.sha256))
    return f"import_recalls__{fmt}__{h.hexdigest()[:16]}"


def _staging_row(item: _Item, run_id: str) -> dict[str, Any]:
    payload = item.record
    return {
        "source": payload["source"],
        "recall_number": payload["external_id"],
        "payload_sha256": hashlib.sha256(
            json_dumps(payload).encode("utf-8", "surrogatepass")
        ).hexdigest(),
        "crawl_run_id": run_id,
        "url": item.doc.url,
        "fetched_at": item.doc.fetched_at,
        "evidence_sha256": item.doc.sha256,
        "payload": payload,
    }


def _quarantine_row(problem: RowProblem, run_id: str, fmt: str, salt: bytes) -> dict[str, Any]:
    from transforms.pii import scrub_text

    def scrub(text: str | None) -> str | None:
        if not text:
            return text
        text = text.replace("\x00", "")[:MAX_QUARANTINED_TEXT]
        return scrub_text(text, salt=salt).text

    return {
        "table_name": "recalls",
        "record_key": problem.where[-256:],
        "rule": problem.rule[:128],
        "run_id": run_id,
        "reason": scrub(problem.reason),
        "value": scrub(problem.value),
        "payload": {"file": problem.where, "row": problem.row, "line": problem.line, "format": fmt},
    }


def _pending_recalls(conn: Any) -> bool:
    """Whether stg_recalls holds rows the staging → core processing has not taken in."""
    top = conn.execute(select(func.max(stg_recalls.c.id))).scalar() or 0
    mark = conn.execute(
        select(process_watermarks.c.last_staging_id).where(
            process_watermarks.c.staging_table == "stg_recalls"
        )
    ).scalar()
    return top > (mark or 0)


def _staging_ids(conn: Any, rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str, str], int]:
    keys = list(dict.fromkeys((r["source"], r["recall_number"], r["payload_sha256"]) for r in rows))
    cols = (stg_recalls.c.source, stg_recalls.c.recall_number, stg_recalls.c.payload_sha256)
    out: dict[tuple[str, str, str], int] = {}
    for i in range(0, len(keys), 500):
        part = keys[i : i + 500]
        for s, n, h, id_ in conn.execute(
            select(*cols, stg_recalls.c.id).where(tuple_(*cols).in_(part))
        ):
            out[(s, n, h)] = id_
    return out


def _in_core(conn: Any, keys: set[tuple[str, str]]) -> int:
    found = 0
    wanted = sorted(keys)
    cols = (recalls.c.source, recalls.c.recall_number)
    for i in range(0, len(wanted), 500):
        part = wanted[i : i + 500]
        found += conn.execute(
            select(func.count()).select_from(recalls).where(tuple_(*cols).in_(part))
        ).scalar_one()
    return found


def import_recalls(
    engine: Engine,
    path: str | Path,
    fmt: str,
    *,
    run_id: str | None = None,
    home: str | Path | None = None,
    salt: bytes | None = None,
    source_url: str | None = None,
    process: bool = True,
) -> ImportReport:
    """Import one recall file (see the module notes) and take it into core.

    Parameters
    ----------
    engine
        The warehouse, migrated.
    path
        The file: a CSV for ``cpsc-csv`` and ``safety-gate``; a page, folder or
        ``.zip`` for ``samr``.
    fmt
        One of :data:`FORMATS`.
    run_id
        The run recorded in staging, quarantine and ``process_runs``; default
        ``import_recalls__<format>__<hash of the file>``.
    home
        ``ECQM_HOME`` (evidence, the PII salt, processing state); default the settings'.
    salt
        The PII salt; default the installation's (:meth:`ecqm.settings.Settings.pii_salt`).
    source_url
        Where the file was downloaded from: the address of records that have none of
        their own (Safety Gate rows; notice pages that do not name themselves).
    process
        Run the staging → core processing after loading (default). Without it the
        rows wait in staging for the next ``ecqm process`` run.

    Raises
    ------
    RecallFormatError
        The file is not of the stated format; nothing was imported.
    FileNotFoundError
        There is no such file.
    """
    from ecqm import settings as ecqm_settings

    if fmt not in FORMATS:
        raise ValueError(f"unknown recall format {fmt!r}; use one of {', '.join(FORMATS)}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    s = ecqm_settings.load()
    home_dir = Path(home) if home is not None else s.home
    if salt is None:
        salt = dataclasses.replace(s, home=home_dir).pii_salt()

    report = ImportReport(str(path), fmt, run_id or "")
    if fmt == "samr":
        docs, items = _read_samr(path, fmt, source_url, report)
    else:
        if path.is_dir():
            raise RecallFormatError(path, fmt, "this is a folder, not a CSV file")
        doc = _file_doc(path)
        docs = [doc]
        items = list(_read_csv(doc, fmt, source_url, report))
    report.run_id = run_id = run_id or _default_run_id(fmt, docs)
    report.parsed = len(items)

    from crawlers.landing import write_evidence

    for doc in {d.sha256: d for d in docs}.values():
        write_evidence(home_dir / "evidence", doc.sha256, doc.body)

    rows = [_staging_row(item, run_id) for item in items]
    with engine.begin() as conn:
        rejects: list[RejectedRow] = []
        loaded = upsert(conn, stg_recalls, rows, update=(), rejects=rejects)
        for r in rejects:
            item = items[r.index]
            report.problems.append(
                RowProblem(
                    item.where,
                    item.row,
                    item.line,
                    "staging_value",
                    r.reason + (f" (column {r.column})" if r.column else ""),
                    str(r.row.get(r.column))[:MAX_QUARANTINED_TEXT] if r.column else None,
                )
            )
        report.staged_new = loaded.inserted
        report.staged_unchanged = loaded.unchanged
        report.duplicates_in_file = loaded.duplicates_in_input
        if report.problems:
            upsert(
                conn,
                quarantine,
                [_quarantine_row(p, run_id, fmt, salt) for p in report.problems],
                update=("reason", "value", "payload"),
            )
        pending = _pending_recalls(conn)

    if process and pending:
        from transforms.core.pipeline import TableBreakage, process_staging

        try:
            result = process_staging(
                engine, run_id=run_id, salt=salt, home=home_dir, data_docs=False
            )
            report.breakage = result.breakage
        except TableBreakage as exc:
            report.breakage = [str(exc)]
            result = None
        report.processed = True
        if result is not None and "stg_recalls" in result.tables:
            report.process = result.tables["stg_recalls"].as_dict()

    refused = {r.index for r in rejects}
    kept = [
        (item, row)
        for i, (item, row) in enumerate(zip(items, rows, strict=True))
        if i not in refused
    ]
    with engine.connect() as conn:
        ids = _staging_ids(conn, [row for _, row in kept])
        where_of = {}
        for item, row in kept:
            sid = ids.get((row["source"], row["recall_number"], row["payload_sha256"]))
            if sid is not None:
                where_of.setdefault(f"stg_recalls:{sid}", item)
        keys = list(where_of)
        for i in range(0, len(keys), 500):
            for q in conn.execute(
                select(
                    quarantine.c.record_key,
                    quarantine.c.rule,
                    quarantine.c.reason,
                    quarantine.c.value,
                )
                .where(
                    quarantine.c.table_name == "recalls",
                    quarantine.c.record_key.in_(keys[i : i + 500]),
                )
                .order_by(quarantine.c.record_key, quarantine.c.rule)
            ):
                item = where_of[q.record_key]
                report.problems.append(
                    RowProblem(item.where, item.row, item.line, q.rule, q.reason, q.value)
                )
        report.recalls_in_core = _in_core(
            conn, {(row["source"], row["recall_number"]) for _, row in kept}
        )
    report.problems.sort(key=lambda p: (p.row is None, p.row or 0, p.where, p.rule))
    return report
