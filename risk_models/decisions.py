"""Staff decisions on risk assessments (质量风险确认): confirm or dismiss, by file.

A decisions file is CSV (UTF-8, with or without BOM, or GBK) or XLSX with a header row;
headers may be English or Chinese:

=================  ==========  ====================================================
column             中文         value
=================  ==========  ====================================================
``product_id``     产品编号      ``products.id`` as shown in ``mart_risk_current``
``decision``       决定          ``confirm`` / ``dismiss`` (确认 / 排除)
``reviewer``       复核人        who decided
``decided_at``     复核时间      ``2026-11-20 15:30`` (Asia/Shanghai) or ISO 8601
``reason``         理由          optional
=================  ==========  ====================================================

The file is checked whole: every problem is reported with its row (as in a
spreadsheet: the header is row 1), column and reason, and a file with any problem is
refused entirely. Loading the same file again changes nothing. The next assessment
respects the newest decision of each product: a confirmed risk stays confirmed, a
dismissed one stays dismissed until its level rises above the level it had when it was
dismissed.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from ecqm.warehouse.bulk import upsert
from ecqm.warehouse.schema import products, risk_assessments, risk_decisions

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADERS = {
    "product_id": "product_id",
    "产品编号": "product_id",
    "decision": "decision",
    "决定": "decision",
    "reviewer": "reviewer",
    "复核人": "reviewer",
    "decided_at": "decided_at",
    "复核时间": "decided_at",
    "reason": "reason",
    "理由": "reason",
}
REQUIRED = ("product_id", "decision", "reviewer", "decided_at")
DECISIONS = {"confirm": "confirm", "确认": "confirm", "dismiss": "dismiss", "排除": "dismiss"}


class DecisionFileError(ValueError):
    """The file was refused; ``problems`` lists each one as ``row N, column: reason``."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: refused, {len(problems)} problem(s): " + "; ".join(problems[:5]))


@dataclass
class DecisionReport:
    path: str
    sha256: str
    rows: int
    inserted: int
    unchanged: int
    decisions: dict[str, int] = field(default_factory=dict)


def _read_rows(path: Path, data: bytes) -> list[dict[str, Any]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(it, [])]
        return [
            dict(zip(header, row, strict=False))
            for row in it
            if any(v not in (None, "") for v in row)
        ]
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DecisionFileError(path, ["the file is neither UTF-8 nor GBK text"])
    reader = csv.DictReader(io.StringIO(text, newline=""))
    return [{(k or "").strip(): v for k, v in row.items()} for row in reader]


def _when(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = str(value).strip().replace("/", "-")
        moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(dt.UTC)


def import_decisions(conn: Connection, path: Path | str) -> DecisionReport:
    """Validate the whole file, then record every decision in ``risk_decisions``."""
    path = Path(path)
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    raw = _read_rows(path, data)
    problems: list[str] = []
    if not raw:
        raise DecisionFileError(path, ["no data rows"])
    columns = {HEADERS.get(str(k).strip().lower(), HEADERS.get(str(k).strip())) for k in raw[0]}
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        found = ", ".join(str(k) for k in raw[0])
        raise DecisionFileError(path, [f"missing column(s) {', '.join(missing)} (found: {found})"])
    known = {int(i) for (i,) in conn.execute(select(products.c.id))}
    rows = []
    seen: dict[tuple[int, dt.datetime], int] = {}
    for n, r in enumerate(raw, start=2):
        row = {
            HEADERS.get(str(k).strip().lower(), HEADERS.get(str(k).strip())): v
            for k, v in r.items()
        }
        pid_text = str(row.get("product_id") or "").strip()
        try:
            pid = int(float(pid_text)) if pid_text else None
        except ValueError:
            pid = None
        if pid is None:
            problems.append(f"row {n}, product_id: {pid_text!r} is not a product id")
        elif pid not in known:
            problems.append(f"row {n}, product_id: no product {pid} in the warehouse")
        decision = DECISIONS.get(str(row.get("decision") or "").strip().lower())
        if decision is None:
            problems.append(
                f"row {n}, decision: {row.get('decision')!r} is not confirm/dismiss (确认/排除)"
            )
        reviewer = str(row.get("reviewer") or "").strip()
        if not reviewer:
            problems.append(f"row {n}, reviewer: empty")
        try:
            when = _when(row.get("decided_at"))
        except (TypeError, ValueError):
            when = None
            problems.append(
                f"row {n}, decided_at: {row.get('decided_at')!r} is not a time like 2026-11-20 15:30"
            )
        if pid is not None and when is not None:
            if (pid, when) in seen:
                problems.append(
                    f"row {n}, decided_at: product {pid} already has a decision at this time "
                    f"(row {seen[(pid, when)]})"
                )
            seen[(pid, when)] = n
        reason = str(row.get("reason") or "").strip() or None
        rows.append((pid, decision, reviewer, when, reason))
    if problems:
        raise DecisionFileError(path, problems)
    levels = _levels_at(conn, [(p, w) for p, _, _, w, _ in rows])
    out = [
        {
            "product_id": pid,
            "decision": decision,
            "level_at_decision": levels.get((pid, when)),
            "reason": reason,
            "decided_by": reviewer,
            "decided_at": when,
            "source_file": path.name,
            "file_sha256": sha,
        }
        for pid, decision, reviewer, when, reason in rows
    ]
    result = upsert(conn, risk_decisions, out)
    counts: dict[str, int] = {}
    for r in out:
        counts[r["decision"]] = counts.get(r["decision"], 0) + 1
    return DecisionReport(str(path), sha, len(out), result.inserted, result.unchanged, counts)


def _levels_at(
    conn: Connection, keys: list[tuple[int, dt.datetime]]
) -> dict[tuple[int, dt.datetime], str]:
    """The level of each product's newest assessment dated on or before the decision."""
    pids = sorted({p for p, _ in keys})
    found: dict[int, list[tuple[dt.date, str]]] = {}
    for i in range(0, len(pids), 500):
        for pid, as_of, level in conn.execute(
            select(
                risk_assessments.c.product_id, risk_assessments.c.as_of, risk_assessments.c.level
            )
            .where(risk_assessments.c.product_id.in_(pids[i : i + 500]))
            .order_by(risk_assessments.c.as_of)
        ):
            found.setdefault(int(pid), []).append((as_of, level))
    out = {}
    for pid, when in keys:
        day = when.astimezone(SHANGHAI).date()
        levels = [lv for d, lv in found.get(pid, []) if d <= day]
        if levels:
            out[(pid, when)] = levels[-1]
    return out
