"""Which laboratory tests which sample (送检): capability, monthly capacity, proximity.

A lab can take a task when the task's category is among its ``category_codes`` and it
has capacity left in the month the sample is due: ``monthly_capacity`` minus the tasks
of other plans already assigned to it with a due date in that month, minus what this
plan has given it so far. Among capable labs with room, the nearest to the shop wins
(same region code, then same city, then same province, then anywhere), then the one
with most room left, then the lab code. Tasks are assigned in priority order (targeted
first), so when capacity runs short it is the audit that waits.

A task no lab can take keeps ``lab_code`` empty and is flagged (status ``no_lab``): it
stays in the plan and in the reports, is not sent to buyers, and counts as not tested
in the estimates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from ecqm.warehouse.schema import ref_labs, sampling_tasks


@dataclass(frozen=True)
class Lab:
    """A testing laboratory from ``ref_labs``."""

    code: str
    name: str
    region_code: str
    category_codes: frozenset[str]
    monthly_capacity: int


@dataclass(frozen=True)
class LabTask:
    """What the assignment needs to know of a task."""

    task_id: str
    category_code: str | None
    region_code: str | None


def load_labs(conn: Connection) -> list[Lab]:
    """Active labs, by code."""
    rows = conn.execute(
        select(
            ref_labs.c.code,
            ref_labs.c.name,
            ref_labs.c.region_code,
            ref_labs.c.category_codes,
            ref_labs.c.monthly_capacity,
        )
        .where(ref_labs.c.is_active.is_(True))
        .order_by(ref_labs.c.code)
    )
    return [
        Lab(code, name, str(region or ""), frozenset(cats or ()), int(cap or 0))
        for code, name, region, cats, cap in rows
    ]


def lab_usage(
    conn: Connection, start: dt.date, end: dt.date, *, exclude_plan: str | None = None
) -> dict[str, int]:
    """Tasks assigned to each lab with a due date in ``[start, end]``, other plans only."""
    query = (
        select(sampling_tasks.c.lab_code, func.count())
        .where(
            sampling_tasks.c.lab_code.is_not(None),
            sampling_tasks.c.due_on >= start,
            sampling_tasks.c.due_on <= end,
            sampling_tasks.c.status != "cancelled",
        )
        .group_by(sampling_tasks.c.lab_code)
    )
    if exclude_plan is not None:
        query = query.where(sampling_tasks.c.plan_id != exclude_plan)
    return {str(code): int(n) for code, n in conn.execute(query)}


def proximity(lab_region: str, shop_region: str | None) -> int:
    """3 same region code, 2 same city (first 4 digits), 1 same province, 0 otherwise.

    >>> proximity("330100", "330100"), proximity("330100", "330106")
    (3, 2)
    >>> proximity("330100", "330782"), proximity("330100", "440300"), proximity("330100", None)
    (1, 0, 0)
    """
    if not shop_region or not lab_region:
        return 0
    if lab_region == shop_region:
        return 3
    if lab_region[:4] == shop_region[:4] and not lab_region.endswith("0000"):
        return 2
    if lab_region[:2] == shop_region[:2]:
        return 1
    return 0


def assign_labs(
    tasks: Iterable[LabTask], labs: Iterable[Lab], used: Mapping[str, int] | None = None
) -> dict[str, str | None]:
    """Task id → lab code (``None`` when no capable lab has room), in the given order.

    >>> labs = [Lab("a", "A", "330100", frozenset({"kettle"}), 1),
    ...         Lab("b", "B", "440300", frozenset({"kettle"}), 5)]
    >>> assign_labs([LabTask("t1", "kettle", "440305"), LabTask("t2", "kettle", "330106"),
    ...              LabTask("t3", "kettle", "330106"), LabTask("t4", "toy", None)], labs)
    {'t1': 'b', 't2': 'a', 't3': 'b', 't4': None}
    """
    labs = list(labs)
    left = {lab.code: lab.monthly_capacity - int((used or {}).get(lab.code, 0)) for lab in labs}
    out: dict[str, str | None] = {}
    for task in tasks:
        capable = [
            lab for lab in labs if task.category_code in lab.category_codes and left[lab.code] > 0
        ]
        if not capable:
            out[task.task_id] = None
            continue
        best = min(
            capable,
            key=lambda lab: (
                -proximity(lab.region_code, task.region_code),
                -left[lab.code],
                lab.code,
            ),
        )
        left[best.code] -= 1
        out[task.task_id] = best.code
    return out
