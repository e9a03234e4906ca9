"""``ecqm import purchases FILE`` and ``ecqm import results FILE``.

The file is validated whole and taken in or rejected whole, as if dropped in the inbox
(``docs/inbox.md``). A file inside ``$ECQM_HOME/inbox/<kind>/`` is archived or moved to
``rejected/`` exactly as a scan would; a file elsewhere stays where it is, and a
rejection writes ``<FILE>.errors.csv`` beside it. A file larger than
``ECQM_INBOX_MAX_BYTES`` (default 50 MiB) is rejected unread.

Exit status: 0 accepted (or accepted before: nothing changed), 2 rejected or unreadable,
with every problem on standard error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["register", "register_import", "run"]

REJECTED = 2
HELP = {
    "purchases": "purchase records of sampling tasks (采购记录): orders, evidence, seals",
    "results": "inspection results of bought samples (检验结果), one row per test item",
}


def register_import(imp_sub: Any) -> None:
    """Add ``purchases`` and ``results`` to the subparsers of ``ecqm import``."""
    for kind, text in HELP.items():
        p = imp_sub.add_parser(kind, help=text, description=text)
        p.add_argument("file", type=Path, help="CSV (UTF-8 or GBK) or XLSX")
        p.add_argument("--url", help="database URL (default ECQM_WAREHOUSE_URL)")
        p.set_defaults(func=run, intake_kind=kind)


# The name other command modules use for their hook.
register = register_import


def run(args: argparse.Namespace) -> int:
    """Import ``args.file`` as ``args.intake_kind``; print the outcome."""
    from ecqm import settings
    from ecqm.warehouse.engine import make_engine
    from transforms.intake.inbox import import_file

    s = settings.load()
    engine = make_engine(args.url or s.warehouse_url)
    try:
        report = import_file(
            engine, args.intake_kind, args.file, home=s.home, max_bytes=s.inbox_max_bytes
        )
    except OSError as exc:
        print(f"ecqm: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return REJECTED
    finally:
        engine.dispose()
    if report.status == "rejected":
        print(f"ecqm: {report.summary()}:", file=sys.stderr)
        for problem in report.problems:
            print(f"  {problem}", file=sys.stderr)
        print(f"error report: {report.error_report}", file=sys.stderr)
        if report.rejected_as:
            print(f"the file was moved to {report.rejected_as}", file=sys.stderr)
        return REJECTED
    print(report.summary())
    for problem in report.warnings:
        print(f"  {problem}", file=sys.stderr)
    if report.archived_as:
        print(f"archived as {report.archived_as}")
    return 0
