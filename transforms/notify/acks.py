"""Acknowledgements (回执): what recipients answer to a notice, recorded once.

An acknowledgement names the notice by its idempotency key (通知编号), says what it is
(``received`` 已收到, ``takedown_confirmed`` 已确认下架, ``objection`` 提出异议,
``remedied`` 已整改), when, and carries an optional note. It arrives through the webhook
receiver (:mod:`transforms.notify.receiver`) or in a file staff import
(``ecqm import acks FILE``, :func:`import_acks`).

:func:`record_ack` is idempotent: an acknowledgement of the same kind with the same note
as one already recorded for the notice changes nothing. A different one adds an
``acknowledged`` event. On the notice, ``acknowledged_at`` is the earliest
acknowledgement (it stops reminders), and ``ack_kind`` / ``ack_note`` the latest by its
time. An acknowledgement quoting a reminder's key counts for the notice it reminds of.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Engine, insert, select, update

from ecqm.warehouse.bulk import upsert
from ecqm.warehouse.schema import inbox_files, notification_events, notifications
from transforms.intake import values as v
from transforms.intake.checks import Findings, local_text
from transforms.intake.problems import Problem, stored_problems, write_error_report
from transforms.intake.read import Column, FileUnreadable, read_sheet

log = logging.getLogger(__name__)

ACK_KINDS = {
    "received": "已收到",
    "takedown_confirmed": "已确认下架",
    "objection": "提出异议",
    "remedied": "已整改",
}
# What people write in the 回执类型 column, compared without spaces and case.
ACK_ALIASES = {
    **{code: code for code in ACK_KINDS},
    **{label: code for code, label in ACK_KINDS.items()},
    "收到": "received",
    "已签收": "received",
    "签收": "received",
    "已阅": "received",
    "已下架": "takedown_confirmed",
    "下架": "takedown_confirmed",
    "确认下架": "takedown_confirmed",
    "异议": "objection",
    "有异议": "objection",
    "申请复检": "objection",
    "整改": "remedied",
    "整改完成": "remedied",
    "已整改完成": "remedied",
}
MAX_NOTE = 2000
FILE_KIND = "acks"
REPORT_SUFFIX = ".errors.csv"
Outcome = Literal["recorded", "duplicate", "unknown"]


def ack_kind(value: Any) -> str | None:
    """The kind code for what a person or a system wrote, or ``None``."""
    if value is None:
        return None
    key = "".join(unicodedata.normalize("NFKC", str(value)).split()).casefold()
    return ACK_ALIASES.get(key)


@dataclass(frozen=True)
class Ack:
    """One acknowledgement: the notice's key, the kind, when (UTC), a note, and where
    it came from (``webhook``, ``file:<name>``)."""

    key: str
    kind: str
    at: dt.datetime
    note: str | None = None
    source: str = "webhook"

    def __post_init__(self) -> None:
        if self.kind not in ACK_KINDS:
            raise ValueError(f"an acknowledgement kind is one of {', '.join(ACK_KINDS)}")
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("an acknowledgement time carries a time zone")


def _note(note: str | None) -> str | None:
    if note is None:
        return None
    text = note.strip()
    return text[:MAX_NOTE] or None


def record_ack(conn: Connection, ack: Ack, now: dt.datetime) -> Outcome:
    """Record ``ack`` in the caller's transaction: ``recorded``, ``duplicate`` (the same
    kind and note were recorded before: nothing changes) or ``unknown`` (no notice has
    that key)."""
    c = notifications.c
    # Lock first (PostgreSQL: the row; SQLite: the database), so two copies of the same
    # acknowledgement arriving together cannot both be new.
    found = conn.execute(
        update(notifications).where(c.idempotency_key == ack.key).values(ack_kind=c.ack_kind)
    ).rowcount
    if not found:
        return "unknown"
    row = conn.execute(select(c.id, c.kind, c.parent_id).where(c.idempotency_key == ack.key)).one()
    target = row.id
    if row.kind == "reminder" and row.parent_id is not None:
        target = row.parent_id
        conn.execute(update(notifications).where(c.id == target).values(ack_kind=c.ack_kind))
    note = _note(ack.note)
    at = ack.at.astimezone(dt.UTC)
    previous = [
        detail or {}
        for detail in conn.execute(
            select(notification_events.c.detail).where(
                notification_events.c.notification_id == target,
                notification_events.c.event == "acknowledged",
            )
        ).scalars()
    ]
    if any(p.get("kind") == ack.kind and p.get("note") == note for p in previous):
        return "duplicate"
    current = conn.execute(select(c.acknowledged_at).where(c.id == target)).scalar_one()
    values: dict[str, Any] = {
        "acknowledged_at": at if current is None else min(current, at),
    }
    latest = max((p.get("at") or "" for p in previous), default="")
    if _iso(at) >= latest:
        values.update(ack_kind=ack.kind, ack_note=note)
    conn.execute(update(notifications).where(c.id == target).values(**values))
    detail = {"kind": ack.kind, "at": _iso(at), "note": note, "source": ack.source}
    if target != row.id:
        detail["via"] = ack.key
    conn.execute(
        insert(notification_events).values(
            notification_id=target, event="acknowledged", at=now, detail=detail
        )
    )
    return "recorded"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------- the file import

COLUMNS = (
    Column(
        "idempotency_key",
        "通知编号",
        "idempotency_key",
        True,
        ("幂等键", "notice_key", "notification_key", "key"),
    ),
    Column("kind", "回执类型", "kind", True, ("回执种类", "类型", "ack_kind")),
    Column("at", "回执时间", "at", True, ("回复时间", "acknowledged_at", "ack_time")),
    Column("note", "备注", "note", False, ("说明", "回执说明", "ack_note")),
)


@dataclass
class AckImportReport:
    """The outcome of one acknowledgements file: ``accepted`` (recorded, archived),
    ``rejected`` (nothing recorded; error report beside the file) or ``duplicate`` (the
    same bytes were accepted before)."""

    path: str
    file_name: str
    sha256: str
    status: str = "rejected"
    rows: int = 0
    recorded: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    archived_as: str | None = None
    error_report: str | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["problems"] = [p.as_dict() for p in self.problems]
        return out

    def summary(self) -> str:
        if self.status == "accepted":
            return (
                f"{self.file_name}: accepted, {self.rows} acknowledgements ({self.recorded} "
                f"recorded, {self.unchanged} already recorded), {len(self.warnings)} warnings"
            )
        if self.status == "duplicate":
            return f"{self.file_name}: accepted before (same content), nothing changed"
        return f"{self.file_name}: rejected, {len(self.errors)} errors, nothing was recorded"


def import_acks(
    engine: Engine,
    path: Path | str,
    *,
    home: Path | str,
    now: dt.datetime | None = None,
    max_bytes: int = 50 * 1024 * 1024,
) -> AckImportReport:
    """Validate an acknowledgements file (CSV or XLSX) whole and record it, or reject it
    whole with ``<FILE>.errors.csv`` beside it naming row, column and reason.

    Columns: 通知编号 (the notice's idempotency key), 回执类型, 回执时间 (Asia/Shanghai
    unless it carries an offset), 备注 (optional). An accepted file is copied to
    ``home/inbox/archive/acks/<sha256>.<ext>``; the same bytes again change nothing.
    The file itself is never moved. Raises ``OSError`` when it cannot be read.
    """
    now = dt.datetime.now(dt.UTC) if now is None else now.astimezone(dt.UTC)
    path = Path(path).absolute()
    size = path.stat().st_size
    data = path.read_bytes() if size <= max_bytes else None
    sha = hashlib.sha256(data).hexdigest() if data is not None else _file_sha256(path)
    report = AckImportReport(str(path), path.name, sha)
    archived = (
        Path(home).absolute() / "inbox" / "archive" / FILE_KIND / f"{sha}{path.suffix.lower()}"
    )
    with engine.begin() as conn:
        before = conn.execute(
            select(inbox_files.c.status).where(
                inbox_files.c.kind == FILE_KIND, inbox_files.c.sha256 == sha
            )
        ).scalar_one_or_none()
        if before == "accepted":
            report.status = "duplicate"
        else:
            if data is None:
                report.problems = [
                    Problem(
                        "too_large",
                        f"文件有 {size:,} 字节，超过上限 {max_bytes:,} 字节 / the file is "
                        f"{size:,} bytes; the limit is {max_bytes:,}",
                    )
                ]
                acks: list[tuple[int, Ack]] = []
            else:
                acks, report.problems = _validate(conn, path, data, now)
            report.rows = len(acks)
            if not report.errors:
                for _, ack in acks:
                    outcome = record_ack(conn, ack, now)
                    if outcome == "recorded":
                        report.recorded += 1
                    else:
                        report.unchanged += 1
                report.status = "accepted"
                _write_atomically(archived, data or b"")
                report.archived_as = str(archived)
            _record_file(conn, report, home, now)
    if report.status in ("accepted", "duplicate"):
        if not archived.exists() and data is not None:
            _write_atomically(archived, data)
        report.archived_as = str(archived)
        stale = path.with_name(path.name + REPORT_SUFFIX)
        if stale.exists():
            stale.unlink()
    else:
        report.error_report = str(
            write_error_report(path.with_name(path.name + REPORT_SUFFIX), report.problems)
        )
    log.info("%s", report.summary())
    return report


def _validate(
    conn: Connection, path: Path, data: bytes, now: dt.datetime
) -> tuple[list[tuple[int, Ack]], list[Problem]]:
    try:
        sheet, header_problems = read_sheet(path, data, COLUMNS)
    except FileUnreadable as exc:
        return [], exc.problems
    findings = Findings(sheet, COLUMNS)
    parsed: list[tuple[int, dict[str, Any]]] = []
    for n, row in sheet.rows:
        values = {
            "key": findings.parse(n, row, "idempotency_key", v.identifier, required=True),
            "kind": findings.parse(n, row, "kind", v.text, required=True),
            "at": findings.parse(n, row, "at", v.local_datetime, required=True),
            "note": findings.parse(n, row, "note", v.text),
        }
        if values["kind"] is not None:
            code = ack_kind(values["kind"])
            if code is None:
                findings.add(
                    n,
                    "kind",
                    "bad_ack_kind",
                    "回执类型应为 已收到、已确认下架、提出异议 或 已整改 / the kind is one of "
                    "received, takedown_confirmed, objection, remedied",
                )
            values["kind"] = code
        at = values["at"]
        if at is not None and at > now + dt.timedelta(minutes=5):
            findings.add(
                n,
                "at",
                "future_time",
                f"时间在将来：{local_text(at)}（现在是 {local_text(now)}）/ the time is in the "
                f"future: {local_text(at)} (it is now {local_text(now)}, Asia/Shanghai)",
            )
        if values["note"] is not None and len(values["note"]) > MAX_NOTE:
            findings.add(
                n, "note", "too_long", f"备注最多 {MAX_NOTE} 字 / at most {MAX_NOTE} characters"
            )
        parsed.append((n, values))
    keys = sorted({r["key"] for _, r in parsed if r["key"]})
    known: set[str] = set()
    for i in range(0, len(keys), 500):
        known.update(
            conn.execute(
                select(notifications.c.idempotency_key).where(
                    notifications.c.idempotency_key.in_(keys[i : i + 500])
                )
            ).scalars()
        )
    seen: dict[tuple[Any, ...], int] = {}
    for n, r in parsed:
        if r["key"] and r["key"] not in known:
            findings.add(
                n,
                "idempotency_key",
                "unknown_notice",
                f"没有这个通知编号：{r['key']} / no notice has the key {r['key']}",
            )
        same = (r["key"], r["kind"], r["note"])
        if r["key"] and same in seen:
            findings.add(
                n,
                "idempotency_key",
                "repeated_ack",
                f"与第 {seen[same]} 行是同一回执，只记录一次 / the same acknowledgement as row "
                f"{seen[same]}; recorded once",
                severity="warning",
            )
        seen.setdefault(same, n)
    problems = header_problems + findings.problems
    problems.sort(key=lambda p: (p.row is not None, p.row or 0))
    if findings.errors:
        return [], problems
    source = f"file:{path.name}"
    acks = [(n, Ack(r["key"], r["kind"], r["at"], r["note"], f"{source}#{n}")) for n, r in parsed]
    return acks, problems


def _record_file(
    conn: Connection, report: AckImportReport, home: Path | str, now: dt.datetime
) -> None:
    archived = None
    if report.archived_as:
        archived = Path(report.archived_as).relative_to(Path(home).absolute()).as_posix()
    upsert(
        conn,
        inbox_files,
        [
            {
                "kind": FILE_KIND,
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


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
