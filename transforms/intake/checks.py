"""What the purchases and results checks share: problem collection by row and column,
reading the sampling tasks a file names, and the warehouse's own column limits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, func, select

from ecqm.warehouse.checks import ValueRejected, column_checkers
from ecqm.warehouse.schema import sampling_tasks
from transforms.intake.problems import Problem, Severity
from transforms.intake.read import Column, Sheet
from transforms.intake.values import SHANGHAI, CellError, shown

CHUNK = 500
# A task in one of these states takes no more records.
CLOSED_STATUSES = frozenset({"cancelled"})
_UNSET: Any = object()


class Findings:
    """Collects the problems of one file, naming each by row, the column as headed in
    the file, and the cell."""

    def __init__(self, sheet: Sheet, columns: Sequence[Column]) -> None:
        self.sheet = sheet
        self.columns = {c.name: c for c in columns}
        self.problems: list[Problem] = []
        self.bad_rows: set[int] = set()
        self._cells = dict(sheet.rows)

    def add(
        self,
        row: int | None,
        name: str | None,
        code: str,
        reason: str,
        *,
        value: Any = _UNSET,
        severity: Severity = "error",
    ) -> None:
        column = None
        cell = None
        if name is not None:
            spec = self.columns.get(name)
            column = self.sheet.headers.get(name) or (spec.zh if spec else name)
            if row is not None:
                cell = self.sheet.cell(row, name)
        if value is _UNSET:
            value = self.raw(row, name) if row is not None and name is not None else None
        self.problems.append(
            Problem(
                code,
                reason,
                row=row,
                column=column,
                field=name,
                cell=cell,
                value=shown(value) if value is not None and value != "" else None,
                severity=severity,
            )
        )
        if severity == "error" and row is not None:
            self.bad_rows.add(row)

    def raw(self, row: int, name: str) -> Any:
        """The cell as read from the file."""
        return self._cells.get(row, {}).get(name)

    def parse(
        self,
        row: int,
        values: dict[str, Any],
        name: str,
        parser: Callable[[Any], Any],
        *,
        required: bool = False,
    ) -> Any:
        """``parser(cell)``; a refused or (when ``required``) empty cell is recorded."""
        raw = values.get(name)
        try:
            value = parser(raw)
        except CellError as exc:
            self.add(row, name, exc.code, exc.reason, value=raw)
            return None
        if value is None and required:
            spec = self.columns[name]
            self.add(
                row,
                name,
                "required",
                f"“{spec.zh}”不能为空 / {spec.en} is required",
                value=None,
            )
        return value

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def load_tasks(conn: Connection, task_ids: Iterable[str]) -> dict[str, Any]:
    """The sampling tasks named, by task id."""
    ids = sorted(set(task_ids))
    found: dict[str, Any] = {}
    for i in range(0, len(ids), CHUNK):
        for row in conn.execute(
            select(sampling_tasks).where(sampling_tasks.c.task_id.in_(ids[i : i + CHUNK]))
        ):
            found[row.task_id] = row
    return found


def suggest_tasks(conn: Connection, unknown: Iterable[str]) -> dict[str, str]:
    """Task ids that differ from an unknown one only by letter case."""
    wanted = {u.lower(): u for u in unknown}
    keys = sorted(wanted)
    out: dict[str, str] = {}
    for i in range(0, len(keys), CHUNK):
        for (task_id,) in conn.execute(
            select(sampling_tasks.c.task_id).where(
                func.lower(sampling_tasks.c.task_id).in_(keys[i : i + CHUNK])
            )
        ):
            out[wanted[task_id.lower()]] = task_id
    return out


def check_tasks(
    findings: Findings,
    conn: Connection,
    rows: list[tuple[int, dict[str, Any]]],
) -> dict[str, Any]:
    """Record unknown and closed tasks; the tasks found, by id."""
    tasks = load_tasks(conn, [v["task_id"] for _, v in rows if v.get("task_id")])
    unknown = {v["task_id"] for _, v in rows if v.get("task_id") and v["task_id"] not in tasks}
    hints = suggest_tasks(conn, unknown) if unknown else {}
    for n, v in rows:
        task_id = v.get("task_id")
        if not task_id:
            continue
        task = tasks.get(task_id)
        if task is None:
            hint = f"（是否为 {hints[task_id]}？）" if task_id in hints else ""
            hint_en = f" (did you mean {hints[task_id]}?)" if task_id in hints else ""
            findings.add(
                n,
                "task_id",
                "unknown_task",
                f"没有这个抽样任务：{task_id}{hint} / no sampling task {task_id}{hint_en}",
            )
        elif task.status in CLOSED_STATUSES:
            findings.add(
                n,
                "task_id",
                "task_closed",
                f"任务 {task_id} 的状态为 {task.status}，不再接收记录 / task {task_id} is "
                f"{task.status} and takes no more records",
            )
    return tasks


def check_columns(
    findings: Findings,
    table: Table,
    rows: list[tuple[int, dict[str, Any]]],
    field_of: dict[str, str],
) -> None:
    """Hold each value to its warehouse column (length, characters), so both databases
    accept exactly what passed here; ``field_of`` maps a table column to a file column."""
    if not rows:
        return
    names = list(rows[0][1])
    checkers = column_checkers(table, names, for_copy=False)
    for n, values in rows:
        for name, check in zip(names, checkers, strict=True):
            try:
                check(values[name])
            except ValueRejected as exc:
                field = field_of.get(name, name)
                findings.add(
                    n,
                    field,
                    "too_long" if "long" in exc.reason else "bad_value",
                    f"值不能存入仓库：{exc.reason} / cannot be stored: {exc.reason}",
                )


def local_day(moment: dt.datetime) -> dt.date:
    """The calendar day of ``moment`` in Asia/Shanghai."""
    return moment.astimezone(SHANGHAI).date()


def local_text(moment: dt.datetime) -> str:
    """``moment`` as people in Asia/Shanghai write it: ``2026-11-20 15:30``."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def yuan(fen: int) -> str:
    """Integer fen as yuan for people: ``129900`` → ``¥1,299.00``."""
    return f"¥{fen // 100:,}.{fen % 100:02d}"
