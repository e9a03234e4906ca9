"""Read, validate and load the warehouse reference data (``ref_*`` tables).

The data lives in versioned YAML files beside this module (``data/``):
``categories.yaml``, ``banned_terms.yaml``, ``regions.yaml`` and ``labs.yaml``.
:func:`read_reference` parses and checks all four together; :func:`load_reference`
writes them through the shared bulk upsert, stamping every row with the file's
``version`` and hash and retiring (``is_active = false``) rows that left the files.

Command line::

    python -m transforms.reference.load --check            # validate, print a summary
    python -m transforms.reference.load [--url URL]        # load into the warehouse
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, update

from transforms.reference import parse
from transforms.reference.model import ReferenceData, SourceFile

DATA_DIR = Path(__file__).resolve().parent / "data"

# table name -> (file name, list key in the file, key column)
FILES: dict[str, tuple[str, str, str]] = {
    "ref_categories": ("categories.yaml", "categories", "code"),
    "ref_banned_terms": ("banned_terms.yaml", "terms", "term"),
    "ref_regions": ("regions.yaml", "regions", "code"),
    "ref_labs": ("labs.yaml", "labs", "code"),
}
# Regions before labs, categories before labs: the order people read a load report in.
LOAD_ORDER = ("ref_regions", "ref_categories", "ref_banned_terms", "ref_labs")


class ReferenceDataError(ValueError):
    """The reference files are invalid; ``errors`` lists every problem found."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        count = len(self.errors)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in the reference data:\n"
            + "\n".join(f"  {e}" for e in self.errors)
        )


def read_reference(data_dir: Path | str | None = None) -> ReferenceData:
    """Parse and validate the four reference files in ``data_dir`` (default: the shipped
    ones). Raises :class:`ReferenceDataError` listing every problem, each naming the
    file, the entry and the field."""
    folder = Path(data_dir) if data_dir is not None else DATA_DIR
    problems = parse.Problems()
    sources: dict[str, SourceFile] = {}
    raw: dict[str, list[Any]] = {}
    for table, (file_name, list_key, _) in FILES.items():
        extra = ("exemption_sets",) if table == "ref_banned_terms" else ()
        source, doc, entries = parse.read_file(folder / file_name, list_key, problems, extra)
        if source is not None:
            sources[table] = source
        if table == "ref_banned_terms":
            parse.check_exemption_sets(file_name, doc.get("exemption_sets"), problems)
        raw[table] = entries

    def file_ok(table: str) -> bool:
        return table in sources

    n_before = len(problems.messages)
    categories = parse.parse_categories("categories.yaml", raw["ref_categories"], problems)
    categories_ok = file_ok("ref_categories") and len(problems.messages) == n_before
    terms = parse.parse_banned_terms("banned_terms.yaml", raw["ref_banned_terms"], problems)
    n_before = len(problems.messages)
    regions = parse.parse_regions("regions.yaml", raw["ref_regions"], problems)
    regions_ok = file_ok("ref_regions") and len(problems.messages) == n_before
    labs = parse.parse_labs(
        "labs.yaml",
        raw["ref_labs"],
        problems,
        region_codes={r.code for r in regions} if regions_ok else None,
        category_codes={c.code for c in categories} if categories_ok else None,
    )
    for table, (file_name, list_key, _) in FILES.items():
        if file_ok(table) and not raw[table]:
            problems.add(f"{file_name}: '{list_key}' has no entries")
    if problems:
        raise ReferenceDataError(problems.messages)

    covered = {code for lab in labs for code in lab.category_codes}
    warnings = tuple(
        f"labs.yaml: no lab tests category {c.code!r} ({c.name_zh})"
        for c in categories
        if c.code not in covered
    )
    return ReferenceData(
        categories=tuple(categories),
        banned_terms=tuple(terms),
        regions=tuple(regions),
        labs=tuple(labs),
        sources=sources,
        warnings=warnings,
    )


def load_reference(
    conn: Connection | Engine, data_dir: Path | str | None = None
) -> dict[str, dict[str, int]]:
    """Upsert the reference files into ``ref_*``; counts per table.

    Every row gets ``source_version`` (the file's ``version`` + ``+`` + 12 hex digits
    of its SHA-256) and ``is_active = true``; rows in a table whose key is no longer in
    its file are set ``is_active = false`` (never deleted: other tables refer to
    them). Loading the same files twice changes nothing. Runs in the caller's
    transaction when given a connection.

    Returns ``{table: {"inserted", "updated", "unchanged", "deactivated"}}``.
    """
    if isinstance(conn, Engine):
        with conn.begin() as c:
            return load_reference(c, data_dir)
    from ecqm.warehouse import schema
    from ecqm.warehouse.bulk import upsert

    data = read_reference(data_dir)
    counts: dict[str, dict[str, int]] = {}
    for name in LOAD_ORDER:
        table: Table = getattr(schema, name)
        key = FILES[name][2]
        rows = data.rows(name)
        _check_columns(table, rows[0])
        result = upsert(conn, table, rows, key=(key,))
        deactivated = conn.execute(
            update(table)
            .where(table.c[key].not_in([row[key] for row in rows]), table.c.is_active.is_(True))
            .values(is_active=False)
        ).rowcount
        counts[name] = {
            "inserted": result.inserted,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "deactivated": deactivated,
        }
    return counts


def _check_columns(table: Table, row: dict[str, Any]) -> None:
    """Fail with a clear message when the schema and the records disagree."""
    missing = sorted(set(row) - set(table.c.keys()))
    if missing:
        raise RuntimeError(
            f"{table.name} has no column(s) {', '.join(missing)}: the schema and "
            "transforms.reference disagree"
        )
    lacking = sorted(
        c.name
        for c in table.c
        if c.name not in row and not c.nullable and c.server_default is None and c.default is None
    )
    if lacking:
        raise RuntimeError(
            f"{table.name} requires column(s) {', '.join(lacking)} that the "
            "reference files do not provide"
        )


# --------------------------------------------------------------------------- CLI


def summarise(data: ReferenceData) -> list[str]:
    """One line per file: name, version, hash, and what it holds."""
    cats = data.categories
    terms = Counter(t.term_class for t in data.banned_terms)
    levels = Counter(r.level for r in data.regions)
    covered = {c for lab in data.labs for c in lab.category_codes}
    details = {
        "ref_categories": f"{len(cats)} categories in {len({c.group_code for c in cats})} groups, "
        f"{sum(c.is_ccc_required for c in cats)} CCC-required",
        "ref_banned_terms": f"{len(data.banned_terms)} terms ("
        + ", ".join(f"{k} {v}" for k, v in sorted(terms.items()))
        + ")",
        "ref_regions": f"{len(data.regions)} regions ({levels['province']} provinces, "
        f"{levels['city']} cities, {levels['county']} counties)",
        "ref_labs": f"{len(data.labs)} labs, {sum(lab.monthly_capacity for lab in data.labs)} "
        f"samples/month, covering {len(covered & {c.code for c in cats})}/{len(cats)} categories",
    }
    lines = []
    for table, (file_name, _, _) in FILES.items():
        src = data.sources[table]
        lines.append(
            f"{file_name:<18} version {src.version:<10} sha256 {src.sha256[:12]}  {details[table]}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m transforms.reference.load",
        description="Validate the reference data files, or load them into the warehouse.",
    )
    parser.add_argument("--check", action="store_true", help="only validate and print a summary")
    parser.add_argument(
        "--data-dir", type=Path, help=f"folder with the YAML files (default: {DATA_DIR})"
    )
    parser.add_argument("--url", help="warehouse URL (default: the ecqm settings)")
    args = parser.parse_args(argv)
    try:
        data = read_reference(args.data_dir)
    except ReferenceDataError as exc:
        print(exc, file=sys.stderr)
        return 1
    for line in summarise(data):
        print(line)
    for warning in data.warnings:
        print(f"warning: {warning}")
    if args.check:
        print("ok")
        return 0
    from ecqm.warehouse.engine import make_engine

    engine = make_engine(args.url)
    try:
        counts = load_reference(engine, args.data_dir)
    finally:
        engine.dispose()
    for table, c in counts.items():
        print(f"{table}: " + ", ".join(f"{k} {v}" for k, v in c.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
