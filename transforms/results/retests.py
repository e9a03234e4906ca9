"""Retests (复检): which report of a sampling task is the current one.

A task is one sample bought. When the seller or producer objects, the lab tests the
backup sample and issues a new report on the same task. The rule, here and wherever a
task's outcome is counted: **the latest report is the current one**, ordered by test
date, then by report number (code-point order, the same on SQLite and PostgreSQL); every
earlier report is superseded by the one after it. Nothing is deleted: the superseded
evaluation stays with ``status = 'superseded'`` and ``superseded_by``.

:func:`is_current_report` is the same rule as a SQL condition on ``inspection_results``,
for readers that count failures from the item rows (risk signals, model training,
market estimates).

>>> links = chain_links([("R2", dt.date(2026, 11, 28)), ("R1", dt.date(2026, 11, 21))])
>>> links["R1"].status, links["R1"].superseded_by, links["R2"].supersedes
('superseded', 'R2', 'R1')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Subquery, Table, and_, exists, func, or_, select

CURRENT = "current"
SUPERSEDED = "superseded"


@dataclass(frozen=True)
class Links:
    """A report's place in its task's chain of reports."""

    status: str
    is_retest: bool
    supersedes: str | None
    superseded_by: str | None


def report_order(report_number: str, tested_on: dt.date) -> tuple[dt.date, str]:
    """The sort key of a report within its task: later sorts last."""
    return (tested_on, report_number)


def chain_links(reports: Iterable[tuple[str, dt.date]]) -> dict[str, Links]:
    """The links of every report of one task, given as (report number, test date)."""
    ordered = sorted(set(reports), key=lambda r: report_order(*r))
    numbers = [n for n, _ in ordered]
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"a report number appears with two test dates: {numbers}")
    out: dict[str, Links] = {}
    for i, number in enumerate(numbers):
        before = numbers[i - 1] if i > 0 else None
        after = numbers[i + 1] if i + 1 < len(numbers) else None
        out[number] = Links(
            status=CURRENT if after is None else SUPERSEDED,
            is_retest=before is not None,
            supersedes=before,
            superseded_by=after,
        )
    return out


def is_current_report(
    table: Table, *, dialect: str, as_of: dt.date | None = None
) -> ColumnElement[bool]:
    """True for rows of ``table`` (``inspection_results``) whose report is the current
    one of its task, counting only rows tested on or before ``as_of`` when given.

    A report's date is the latest test date of its items, as in :mod:`evaluate`.
    ``dialect`` is ``conn.dialect.name``: PostgreSQL compares the report numbers in the
    ``"C"`` collation, byte order, as SQLite and Python do.
    """
    dated = select(
        table.c.task_id,
        table.c.report_number,
        func.max(table.c.tested_on).label("tested_on"),
    )
    if as_of is not None:
        dated = dated.where(table.c.tested_on <= as_of)
    dated = dated.group_by(table.c.task_id, table.c.report_number)
    this, later = dated.subquery("this_report"), dated.subquery("later_report")

    def number(sub: Subquery) -> ColumnElement[str]:
        col = sub.c.report_number
        return col.collate("C") if dialect == "postgresql" else col

    superseding = select(later.c.report_number).where(
        later.c.task_id == this.c.task_id,
        or_(
            later.c.tested_on > this.c.tested_on,
            and_(later.c.tested_on == this.c.tested_on, number(later) > number(this)),
        ),
    )
    current = select(this.c.report_number).where(~exists(superseding))
    return table.c.report_number.in_(current)
