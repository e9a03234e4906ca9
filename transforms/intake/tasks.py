"""The inbox scan as a plain function of a warehouse URL, for the ``ingest_inbox`` DAG
and the demo; its summary is JSON and says what each warehouse table received."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ecqm import settings as ecqm_settings
from ecqm.warehouse.engine import make_engine
from transforms.intake.problems import IntakeReport

# The warehouse table each kind of file fills (and the Asset named after it).
TABLE_OF = {"purchases": "purchases", "results": "inspection_results"}


def ingest(
    url: str, *, home: Path | str | None = None, settle_seconds: float = 30.0
) -> dict[str, Any]:
    """Scan the inbox under ``home`` (default ``$ECQM_HOME``) into the warehouse at
    ``url``; the summary of :func:`summarise`."""
    from transforms.intake.inbox import scan_inbox

    s = ecqm_settings.load()
    engine = make_engine(url)
    try:
        reports = scan_inbox(
            engine,
            home=home if home is not None else s.home,
            settle_seconds=settle_seconds,
            max_bytes=s.inbox_max_bytes,
        )
    finally:
        engine.dispose()
    return summarise(reports)


def summarise(reports: Iterable[IntakeReport]) -> dict[str, Any]:
    """Counts by outcome, per table what was written (for the Asset events), and one line
    per file. ``tables[t]["written"]`` is 0 when no row of ``t`` was inserted or changed."""
    reports = list(reports)
    out: dict[str, Any] = {
        status: sum(r.status == status for r in reports)
        for status in ("accepted", "rejected", "duplicate", "failed")
    }
    out["tables"] = {}
    for kind, table in TABLE_OF.items():
        taken = [r for r in reports if r.kind == kind and r.status == "accepted"]
        out["tables"][table] = {
            "files": [r.file_name for r in taken],
            "sha256": [r.sha256 for r in taken],
            "rows": sum(r.rows for r in taken),
            "inserted": sum(r.inserted for r in taken),
            "updated": sum(r.updated for r in taken),
            "unchanged": sum(r.unchanged for r in taken),
            "written": sum(r.written for r in taken),
            "task_ids": sorted({t for r in taken for t in r.task_ids}),
        }
    out["files"] = [
        {
            "kind": r.kind,
            "file_name": r.file_name,
            "status": r.status,
            "summary": r.summary(),
            "error_report": r.error_report,
        }
        for r in reports
    ]
    return out
