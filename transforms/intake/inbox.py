"""Take files from the inbox into the warehouse, each whole or not at all.

``$ECQM_HOME/inbox/purchases/`` and ``$ECQM_HOME/inbox/results/`` hold what staff drop.
For each file, in one transaction:

- **the same bytes accepted before** (``inbox_files`` knows the SHA-256): nothing
  changes; the file is archived again (if its copy is missing) and leaves the inbox;
- **larger than the limit** (``ECQM_INBOX_MAX_BYTES``, default 50 MiB): rejected as
  below without being parsed; only its SHA-256 is computed, in chunks, so a huge file
  never sits in memory;
- **any error**: nothing is written but the ``inbox_files`` row (status ``rejected``,
  the problems); the file moves to ``inbox/rejected/<kind>/`` with an error report beside
  it (``<name>.errors.csv``);
- **no errors**: rows are upserted (only new and changed rows are written), tasks advance
  (``planned`` → ``purchased``; ``planned``/``purchased`` → ``tested``), the file is
  copied to ``inbox/archive/<kind>/<sha256>.<ext>`` and leaves the inbox, and
  ``inbox_files`` records it as ``accepted`` with any warnings.

A file given from outside the inbox (``ecqm import purchases FILE``) is never moved or
deleted: it is archived when accepted, and its error report is written beside it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import Connection, Engine, Table, select, update

from ecqm.warehouse.bulk import upsert
from ecqm.warehouse.schema import inbox_files, inspection_results, purchases, sampling_tasks
from transforms.intake import purchases as purchase_rules
from transforms.intake import results as result_rules
from transforms.intake.checks import CHUNK
from transforms.intake.problems import (
    IntakeReport,
    Problem,
    stored_problems,
    write_error_report,
)
from transforms.intake.read import FileUnreadable, read_sheet

log = logging.getLogger(__name__)
_HASH_CHUNK = 1 << 20

KINDS: dict[str, tuple[ModuleType, Table]] = {
    "purchases": (purchase_rules, purchases),
    "results": (result_rules, inspection_results),
}
# kind -> (status a task advances to, statuses it advances from)
ADVANCE = {
    "purchases": ("purchased", ("planned",)),
    "results": ("tested", ("planned", "purchased")),
}
SCAN_ORDER = ("purchases", "results")  # results need their purchases recorded first
REPORT_SUFFIX = ".errors.csv"
_TEMPORARY = (".part", ".partial", ".tmp", ".crdownload", ".download", ".swp", ".lock")


def inbox_dir(home: Path | str, kind: str) -> Path:
    """Where staff drop files of ``kind``."""
    return Path(home) / "inbox" / kind


def archive_dir(home: Path | str, kind: str) -> Path:
    """Where accepted files of ``kind`` are kept, named by their SHA-256."""
    return Path(home) / "inbox" / "archive" / kind


def rejected_dir(home: Path | str, kind: str) -> Path:
    """Where rejected files of ``kind`` wait beside their error reports."""
    return Path(home) / "inbox" / "rejected" / kind


def _now(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must carry a time zone")
    return now.astimezone(dt.UTC)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _max_bytes(max_bytes: int | None) -> int:
    if max_bytes is None:
        from ecqm import settings

        return settings.load().inbox_max_bytes
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be more than 0, not {max_bytes}")
    return max_bytes


def _read_limited(path: Path, limit: int) -> tuple[bytes | None, str, int]:
    """The bytes of ``path`` (``None`` when there are more than ``limit``), their SHA-256
    and their number. At most ``limit + 1`` bytes are held in memory."""
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
        if len(data) <= limit:
            return data, _sha256(data), len(data)
        h = hashlib.sha256(data)
        size = len(data)
        del data
        while chunk := fh.read(_HASH_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return None, h.hexdigest(), size


def too_large(size: int, limit: int) -> Problem:
    """The problem of a file over the size limit."""
    return Problem(
        "too_large",
        f"文件有 {size:,} 字节，超过上限 {limit:,} 字节（ECQM_INBOX_MAX_BYTES），内容未检查；"
        f"请分成几个文件 / the file is {size:,} bytes; the limit is {limit:,} "
        "(ECQM_INBOX_MAX_BYTES); its content was not checked: split the file",
    )


def import_file(
    engine: Engine,
    kind: str,
    path: Path | str,
    *,
    home: Path | str,
    now: dt.datetime | None = None,
    max_bytes: int | None = None,
) -> IntakeReport:
    """Validate the file at ``path`` whole and take it in, or reject it whole.

    Parameters
    ----------
    kind
        ``"purchases"`` or ``"results"``.
    home
        ``$ECQM_HOME``: the inbox, archive and rejected folders are under ``home/inbox``.
    now
        The moment times in the file must not be after (default: the current time).
    max_bytes
        A larger file is rejected unread (default: ``ECQM_INBOX_MAX_BYTES`` from
        :mod:`ecqm.settings`, 50 MiB).

    Raises ``OSError`` when the file cannot be read; every problem with its content is
    in the returned report instead.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    rules, table = KINDS[kind]
    now = _now(now)
    limit = _max_bytes(max_bytes)
    home = Path(home).absolute()
    path = Path(path).absolute()
    data, sha, size = _read_limited(path, limit)
    report = IntakeReport(kind, str(path), path.name, sha, "rejected")
    in_inbox = path.parent.resolve() == inbox_dir(home, kind).resolve()
    archived = archive_dir(home, kind) / f"{sha}{path.suffix.lower()}"
    with engine.begin() as conn:
        previous = conn.execute(
            select(inbox_files.c.status).where(
                inbox_files.c.kind == kind, inbox_files.c.sha256 == sha
            )
        ).scalar_one_or_none()
        if previous == "accepted":
            report.status = "duplicate"
        elif data is None:
            report.problems = [too_large(size, limit)]
            _record(conn, kind, report, home, now)
        else:
            rows, problems = _validate(conn, rules, path, data, now)
            report.rows = len(rows)
            report.problems = problems
            report.task_ids = sorted({r["task_id"] for _, r in rows if r.get("task_id")})
            if not report.errors:
                report.status = "accepted"
                _take(conn, kind, table, rules, rows, report)
                _write_atomically(archived, data)
                report.archived_as = str(archived)
            _record(conn, kind, report, home, now)
    if report.status in ("accepted", "duplicate"):
        if not archived.exists():
            _copy_atomically(archived, path, data)
        report.archived_as = str(archived)
        stale = path.with_name(path.name + REPORT_SUFFIX)
        if stale.exists():
            stale.unlink()
        if in_inbox:
            _remove_if_unchanged(path, sha)
    else:
        target = path
        if in_inbox:
            target = _move_to_rejected(path, sha, rejected_dir(home, kind))
            report.rejected_as = str(target) if target != path else None
        report.error_report = str(
            write_error_report(target.with_name(target.name + REPORT_SUFFIX), report.problems)
        )
    log.info("%s", report.summary())
    return report


def _validate(
    conn: Connection, rules: ModuleType, path: Path, data: bytes, now: dt.datetime
) -> tuple[list[tuple[int, dict[str, Any]]], list[Problem]]:
    try:
        sheet, header_problems = read_sheet(path, data, rules.COLUMNS)
    except FileUnreadable as exc:
        return [], exc.problems
    rows, findings = rules.validate(conn, sheet, now=now)
    problems = header_problems + findings.problems
    problems.sort(key=_reading_order)
    return rows, problems


def _reading_order(p: Problem) -> tuple[bool, int, int, str]:
    """File-wide problems first, then by row, then left to right as the sheet reads."""
    letters = (p.cell or "").split(":")[0].rstrip("0123456789")
    return (p.row is not None, p.row or 0, len(letters), letters)


def _take(
    conn: Connection,
    kind: str,
    table: Table,
    rules: ModuleType,
    rows: list[tuple[int, dict[str, Any]]],
    report: IntakeReport,
) -> None:
    """Write the new and changed rows, advance the tasks."""
    existing = _existing(conn, table, rules.KEY, [r for _, r in rows])
    changed = []
    for _, r in rows:
        before = existing.get(tuple(r[k] for k in rules.KEY))
        if before is None:
            report.inserted += 1
        elif any(before[c] != r[c] for c in rules.CONTENT):
            report.updated += 1
        else:
            report.unchanged += 1
            continue
        changed.append({**r, "source_file": report.file_name, "file_sha256": report.sha256})
    if changed:
        upsert(conn, table, changed, key=rules.KEY)
    status, advance_from = ADVANCE[kind]
    for i in range(0, len(report.task_ids), CHUNK):
        result = conn.execute(
            update(sampling_tasks)
            .where(
                sampling_tasks.c.task_id.in_(report.task_ids[i : i + CHUNK]),
                sampling_tasks.c.status.in_(advance_from),
            )
            .values(status=status)
        )
        report.tasks_advanced += result.rowcount or 0


def _existing(
    conn: Connection, table: Table, key: Sequence[str], rows: list[dict[str, Any]]
) -> dict[tuple[Any, ...], Any]:
    firsts = sorted({r[key[0]] for r in rows})
    wanted = {tuple(r[k] for k in key) for r in rows}
    out: dict[tuple[Any, ...], Any] = {}
    for i in range(0, len(firsts), CHUNK):
        for row in conn.execute(select(table).where(table.c[key[0]].in_(firsts[i : i + CHUNK]))):
            k = tuple(row._mapping[c] for c in key)
            if k in wanted:
                out[k] = row._mapping
    return out


def _record(
    conn: Connection, kind: str, report: IntakeReport, home: Path, now: dt.datetime
) -> None:
    archived = None
    if report.archived_as:
        archived = Path(report.archived_as).relative_to(home).as_posix()
    upsert(
        conn,
        inbox_files,
        [
            {
                "kind": kind,
                "sha256": report.sha256,
                "file_name": report.file_name,
                "status": report.status,
                "rows": report.rows,
                "problems": stored_problems(report.problems),
                "archived_as": archived,
                "received_at": now,
            }
        ],
    )


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(target)


def _copy_atomically(target: Path, source: Path, data: bytes | None) -> None:
    """Archive ``data``, or, when it was too large to hold, the file it came from."""
    if data is not None:
        _write_atomically(target, data)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(source, tmp)
    tmp.replace(target)


def _unchanged(path: Path, sha: str) -> bool:
    """The file still holds what was read (nobody saved over it meanwhile)."""
    try:
        return _file_sha256(path) == sha
    except FileNotFoundError:
        return False


def _remove_if_unchanged(path: Path, sha: str) -> None:
    if _unchanged(path, sha):
        path.unlink()
    elif path.exists():
        log.warning("%s changed while it was read; left for the next scan", path)


def _move_to_rejected(path: Path, sha: str, folder: Path) -> Path:
    """Move the rejected file to ``folder`` under its own name; a different file of the
    same name already there is kept, and this one gets ``-2``, ``-3``, ... ."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    n = 1
    while target.exists() and not _unchanged(target, sha):
        n += 1
        target = folder / f"{path.stem}-{n}{path.suffix}"
    if not _unchanged(path, sha):
        log.warning("%s changed while it was read; left for the next scan", path)
        return path
    shutil.move(path, target)
    return target


def is_inbox_file(path: Path) -> bool:
    """Whether a scan takes ``path``: not hidden, not an office lock or partial download,
    not one of the error reports."""
    name = path.name
    lower = name.lower()
    return not (
        name.startswith((".", "~"))
        or lower.endswith(_TEMPORARY)
        or lower.endswith(REPORT_SUFFIX)
        or lower.endswith(".errors.txt")
        or not path.is_file()
    )


def pending_files(home: Path | str, kind: str, *, settle_seconds: float = 0.0) -> list[Path]:
    """The files waiting in one inbox folder, oldest first. Files modified in the last
    ``settle_seconds`` are left for the next scan: they may still be being copied in."""
    folder = inbox_dir(home, kind)
    folder.mkdir(parents=True, exist_ok=True)
    horizon = time.time() - settle_seconds
    found = []
    for path in folder.iterdir():
        if not is_inbox_file(path):
            continue
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            continue
        if settle_seconds and mtime > horizon:
            continue
        found.append((mtime, path.name, path))
    return [p for _, _, p in sorted(found)]


def scan_inbox(
    engine: Engine,
    *,
    home: Path | str,
    now: dt.datetime | None = None,
    settle_seconds: float = 0.0,
    max_bytes: int | None = None,
) -> list[IntakeReport]:
    """Take every waiting file: purchases first, then results, each folder oldest first.

    One bad file never stops the others: a rejected file gets its report, and a file
    that fails unexpectedly (database gone, disk full) is reported as ``failed`` and
    left in the inbox for the next scan.
    """
    now = _now(now)
    limit = _max_bytes(max_bytes)
    reports: list[IntakeReport] = []
    for kind in SCAN_ORDER:
        for path in pending_files(home, kind, settle_seconds=settle_seconds):
            try:
                reports.append(import_file(engine, kind, path, home=home, now=now, max_bytes=limit))
            except FileNotFoundError:
                log.info("%s left the inbox while the scan ran", path)
            except Exception as exc:  # noqa: BLE001 — one file must not stop the scan
                log.exception("%s: intake failed", path)
                reports.append(
                    IntakeReport(
                        kind,
                        str(path),
                        path.name,
                        "",
                        "failed",
                        problems=[Problem("failed", f"{type(exc).__name__}: {exc}")],
                    )
                )
    return reports
