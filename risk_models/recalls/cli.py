"""``ecqm import-recalls`` and ``ecqm match-recalls``.

::

    ecqm import-recalls recalls_recall_listing.csv --format cpsc-csv
    ecqm import-recalls safety_gate_alerts.csv --format safety-gate
    ecqm import-recalls notices.zip --format samr
    ecqm match-recalls listings.csv --out matches.csv --min-score 0.7

``import-recalls`` loads one downloaded recall file into the warehouse and takes it
into the core ``recalls`` table (:func:`~risk_models.recalls.importer.import_recalls`).
Exit status: 0 when every row arrived, 1 when some rows were quarantined (they are
listed on standard error with row number and reason) or processing found a broken
table, 2 when the file is not of the stated format or cannot be read.

``match-recalls`` reads a CSV of listings with the columns ``listing_id``, ``title``,
``brand``, ``model`` (``gtin`` optional; other columns are ignored; UTF-8 with or without
BOM, or GBK), streaming, and writes one row per match, ``listing_id,recall_id,score,
matched_on``, as UTF-8 CSV to ``--out`` or standard output; a listing can match several
recalls, and one that matches none writes nothing. The recalls and the brand aliases
come from the warehouse (:meth:`RecallMatcher.from_warehouse`). Exit status: 0 done,
1 the warehouse holds no recalls, 2 the input is unusable (missing columns — they are
named —, an empty file, an unreadable encoding).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["LISTING_COLUMNS", "register", "run_import", "run_match"]

USAGE_ERROR = 2
LISTING_COLUMNS = ("listing_id", "title", "brand", "model")
OUTPUT_COLUMNS = ("listing_id", "recall_id", "score", "matched_on")
# The same as risk_models.recalls.importer.FORMATS and matcher.DEFAULT_MIN_SCORE, written
# out so that building the ``ecqm`` parser imports neither the parsers nor the matcher.
FORMATS = ("cpsc-csv", "safety-gate", "samr")
DEFAULT_MIN_SCORE = 0.5
_SNIFF_BYTES = 1 << 16


def register(subparsers: Any) -> None:
    """Add ``import-recalls`` and ``match-recalls`` to an argparse subparsers object."""
    p = subparsers.add_parser(
        "import-recalls",
        help="import a downloaded recall file (CPSC CSV, Safety Gate CSV, SAMR notices)",
        description="Import one recall file into the warehouse and take it into core.",
    )
    p.add_argument("file", type=Path, metavar="FILE", help="the CSV, page, folder or .zip")
    p.add_argument("--format", dest="fmt", required=True, choices=FORMATS)
    p.add_argument("--url", help="database URL (default ECQM_WAREHOUSE_URL)")
    p.add_argument("--run-id", help="run id (default import_recalls__<format>__<file hash>)")
    p.add_argument(
        "--source-url", help="where the file was downloaded from (for records without an address)"
    )
    p.add_argument(
        "--no-process", action="store_true", help="load into staging only (no core processing)"
    )
    p.set_defaults(func=run_import)

    m = subparsers.add_parser(
        "match-recalls",
        help="match listings (CSV) against the recalls in the warehouse",
        description="Match listings against recalls; one output row per match.",
    )
    m.add_argument(
        "listings", metavar="LISTINGS.csv", help="listing_id,title,brand,model[,gtin]; - for stdin"
    )
    m.add_argument("--out", "-o", type=Path, help="write the matches here (default stdout)")
    m.add_argument("--url", help="database URL (default ECQM_WAREHOUSE_URL)")
    m.add_argument(
        "--min-score",
        type=float,
        default=DEFAULT_MIN_SCORE,
        help=f"leave out matches scoring below this (0-1, default {DEFAULT_MIN_SCORE})",
    )
    m.set_defaults(func=run_match)


def _err(command: str, message: str) -> None:
    print(f"ecqm {command}: {message}", file=sys.stderr)


def _warehouse_url(args: argparse.Namespace) -> str:
    from ecqm import settings

    return args.url or settings.load().warehouse_url


def _not_ready(command: str, exc: Exception) -> int | None:
    """A warehouse without the tables: say so (exit 1); None for other database errors."""
    text = str(getattr(exc, "orig", None) or exc)
    if "no such table" in text or "does not exist" in text:
        _err(
            command,
            f"the warehouse is not migrated ({text.splitlines()[0]}); run: ecqm warehouse upgrade",
        )
        return 1
    return None


# ---------------------------------------------------------------------- import-recalls


def run_import(args: argparse.Namespace) -> int:
    """``ecqm import-recalls``; returns the exit status."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from ecqm.warehouse.engine import make_engine
    from risk_models.recalls.importer import RecallFormatError, import_recalls

    engine = make_engine(_warehouse_url(args))
    try:
        report = import_recalls(
            engine,
            args.file,
            args.fmt,
            run_id=args.run_id,
            source_url=args.source_url,
            process=not args.no_process,
        )
    except RecallFormatError as exc:
        _err("import-recalls", f"error: {exc}")
        return USAGE_ERROR
    except OSError as exc:
        _err("import-recalls", f"error: {exc.strerror or exc}: {args.file}")
        return USAGE_ERROR
    except (OperationalError, ProgrammingError) as exc:
        code = _not_ready("import-recalls", exc)
        if code is None:
            raise
        return code
    finally:
        engine.dispose()

    print(
        f"{report.path} ({report.fmt}): {report.records_read:,} read, {report.parsed:,} recalls parsed"
    )
    extra = (
        f", {report.duplicates_in_file:,} repeated in the file" if report.duplicates_in_file else ""
    )
    print(f"staging: {report.staged_new:,} new, {report.staged_unchanged:,} already there{extra}")
    if report.process is not None:
        p = report.process
        print(
            f"processing: in {p['rows_in']:,}, core {p['to_core']:,}, merged {p['merged']:,}, "
            f"quarantined {p['quarantined']:,}"
        )
    elif not report.processed and not args.no_process:
        print("processing: nothing new to take into core")
    print(f"core: {report.recalls_in_core:,} of this file's recalls are in the recalls table")
    print(f"run {report.run_id}")
    for w in report.warnings:
        _err("import-recalls", f"warning: {w}")
    for problem in report.problems:
        _err("import-recalls", f"quarantined: {problem} [{problem.rule}]")
    for b in report.breakage:
        _err("import-recalls", f"a table looks broken: {b}")
    if report.problems:
        _err(
            "import-recalls",
            f"{len(report.problems):,} row(s) quarantined (table quarantine, run {report.run_id})",
        )
    return 0 if report.ok else 1


# ----------------------------------------------------------------------- match-recalls


class _InputError(Exception):
    """The listings file cannot be used."""


def _sniff_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK)."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise _InputError("the file is UTF-16 encoded; save it as UTF-8 or GBK")
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3 and len(head) >= _SNIFF_BYTES:
            return "utf-8"  # a character cut at the end of the sample
    try:
        head.decode("gb18030")
    except UnicodeDecodeError:
        raise _InputError("the file is neither UTF-8 nor GBK text") from None
    return "gb18030"


def _open_listings(name: str) -> tuple[io.TextIOWrapper, str]:
    if name == "-":
        raw: Any = sys.stdin.buffer
        if not hasattr(raw, "peek"):
            raw = io.BufferedReader(raw, buffer_size=_SNIFF_BYTES)
    else:
        raw = open(name, "rb", buffering=_SNIFF_BYTES)  # noqa: SIM115 — wrapped and closed by the caller
    head = raw.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
    try:
        encoding = _sniff_encoding(head)
    except _InputError:
        raw.close()
        raise
    return io.TextIOWrapper(raw, encoding=encoding, newline=""), encoding


def _listing_rows(
    reader: csv.DictReader, columns: dict[str, str]
) -> Iterator[tuple[str, str | None, str | None, str | None, str | None]]:
    get_id, get_title = columns["listing_id"], columns["title"]
    get_brand, get_model = columns["brand"], columns["model"]
    get_gtin = columns.get("gtin")
    for row in reader:
        yield (
            (row.get(get_id) or "").strip(),
            row.get(get_title) or None,
            row.get(get_brand) or None,
            row.get(get_model) or None,
            (row.get(get_gtin) or None) if get_gtin else None,
        )


def run_match(args: argparse.Namespace) -> int:
    """``ecqm match-recalls``; returns the exit status."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from ecqm.warehouse.engine import make_engine
    from risk_models.recalls.matcher import RecallMatcher

    command = "match-recalls"
    if not 0 <= args.min_score <= 1:
        _err(command, f"error: --min-score must be within 0 and 1, got {args.min_score}")
        return USAGE_ERROR
    label = "standard input" if args.listings == "-" else args.listings
    try:
        stream, encoding = _open_listings(args.listings)
    except _InputError as exc:
        _err(command, f"error: {label}: {exc}")
        return USAGE_ERROR
    except OSError as exc:
        _err(command, f"error: {label}: {exc.strerror or exc}")
        return USAGE_ERROR
    with stream:
        reader = csv.DictReader(stream)
        try:
            header = reader.fieldnames
        except (csv.Error, UnicodeDecodeError) as exc:
            _err(command, f"error: {label}: the header cannot be read: {exc}")
            return USAGE_ERROR
        if not header:
            _err(
                command,
                f"error: {label} is empty; expected a header with the columns "
                + ",".join(LISTING_COLUMNS),
            )
            return USAGE_ERROR
        columns = {h.strip().lstrip("\ufeff").lower(): h for h in header if h}
        missing = [c for c in LISTING_COLUMNS if c not in columns]
        if missing:
            _err(
                command,
                f"error: {label} lacks the column(s) {', '.join(missing)} "
                f"(it has {', '.join(h.strip() for h in header if h) or 'none'}; "
                f"needed: {','.join(LISTING_COLUMNS)}, gtin optional)",
            )
            return USAGE_ERROR

        engine = make_engine(_warehouse_url(args))
        try:
            with engine.connect() as conn:
                matcher = RecallMatcher.from_warehouse(conn, min_score=args.min_score)
        except (OperationalError, ProgrammingError) as exc:
            code = _not_ready(command, exc)
            if code is None:
                raise
            return code
        finally:
            engine.dispose()
        if not len(matcher):
            _err(command, "the warehouse holds no recalls; import some first (ecqm import-recalls)")
            return 1
        return _write_matches(args, command, label, reader, columns, matcher)


def _write_matches(
    args: argparse.Namespace,
    command: str,
    label: str,
    reader: csv.DictReader,
    columns: dict[str, str],
    matcher: Any,
) -> int:
    out: IO[str]
    tmp: str | None = None
    if args.out is not None:
        folder = args.out.resolve().parent
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{args.out.name}.", suffix=".partial", dir=folder)
        except OSError as exc:
            _err(command, f"error: cannot write {args.out}: {exc.strerror or exc}")
            return USAGE_ERROR
        out = os.fdopen(fd, "w", encoding="utf-8", newline="")
    else:
        out = sys.stdout
    listings = matched = written = unnamed = 0
    try:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(OUTPUT_COLUMNS)
        for listing_id, title, brand, model, gtin in _listing_rows(reader, columns):
            listings += 1
            if not listing_id:
                unnamed += 1
                continue
            found = matcher.match(title, brand, model, gtin)
            if found:
                matched += 1
            for m in found:
                writer.writerow((listing_id, m.recall_id, f"{m.score:.3f}", m.matched_on))
                written += 1
    except (UnicodeDecodeError, csv.Error) as exc:
        _err(
            command,
            f"error: {label}: line {reader.line_num}: {exc} "
            "(one file must be all UTF-8 or all GBK)",
        )
        if tmp is not None:
            out.close()
            os.unlink(tmp)
        return USAGE_ERROR
    if tmp is not None:
        out.close()
        os.replace(tmp, args.out)
    else:
        out.flush()
    if unnamed:
        _err(command, f"warning: {unnamed:,} row(s) without a listing_id were skipped")
    _err(
        command,
        f"{listings:,} listings, {matched:,} matched, {written:,} matches "
        f"against {len(matcher):,} recalls",
    )
    return 0
