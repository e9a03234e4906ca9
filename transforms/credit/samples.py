"""Samples as the credit rules see them: one per sampling task, judged by its current
report as of a day.

A task's reports form a chain: a retest (复检) supersedes the report before it, which
stays in ``evaluations`` with status ``superseded``. As of a day, only the reports
tested on or before it exist, and the task's *current* report is the newest of them that
no other of them supersedes. So the pipeline's present ``status`` is reproduced for the
present, and an earlier day sees what was known then.

- A current **fail** is a failed sample. It dates from the first report of the unbroken
  run of failures that ends in it: a failing retest confirms the failure, it does not
  move it.
- A current **pass** is a passed sample, dated by that report. If it superseded failed
  reports, it *cleared* them: they never count again.

>>> e1 = Evaluation(1, "R1", "T1", ("sim", "s1"), dt.date(2026, 3, 5), "fail", True, "critical")
>>> e2 = Evaluation(2, "R1-复检", "T1", ("sim", "s1"), dt.date(2026, 3, 20), "pass", False,
...                 None, supersedes="R1")
>>> [s.verdict for s in samples_as_of([e1, e2], dt.date(2026, 3, 10))]
['fail']
>>> s = samples_as_of([e1, e2], dt.date(2026, 3, 31))[0]
>>> s.verdict, s.dated, [c.report_number for c in s.cleared]
('pass', datetime.date(2026, 3, 20), ['R1'])
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "DEFECT_ZH",
    "Evaluation",
    "Notice",
    "Sample",
    "ShopKey",
    "add_months",
    "samples_as_of",
]

# (platform, external id): how merchant_credit names a shop.
ShopKey = tuple[str, str]
# evaluations.worst_defect, as transforms.intake stores defect classes.
DEFECT_ZH = {"critical": "严重缺陷", "major": "一般缺陷", "minor": "轻微缺陷"}


@dataclass(frozen=True)
class Evaluation:
    """The fields of an ``evaluations`` row the credit rules read."""

    id: int
    report_number: str
    task_id: str
    shop: ShopKey | None
    tested_on: dt.date
    verdict: str
    is_safety: bool
    worst_defect: str | None
    category_code: str | None = None
    supersedes: str | None = None
    superseded_by: str | None = None

    @property
    def failed(self) -> bool:
        return self.verdict == "fail"


@dataclass(frozen=True)
class Notice:
    """A notification about an evaluation: the day it was sent and its acknowledgements
    as (day, kind), days in Asia/Shanghai (``sent_on`` is ``None`` when not sent)."""

    evaluation_id: int | None
    report_number: str | None
    kind: str
    sent_on: dt.date | None
    acks: tuple[tuple[dt.date, str], ...] = ()


@dataclass(frozen=True)
class Sample:
    """One task's outcome as of a day."""

    task_id: str
    shop: ShopKey
    current: Evaluation
    # A failed sample: the unbroken run of failed reports ending in ``current``, oldest
    # first. A passed one: just ``current``.
    run: tuple[Evaluation, ...]
    # A passed sample: the failed reports it superseded (cleared), oldest first.
    cleared: tuple[Evaluation, ...] = ()

    @property
    def verdict(self) -> str:
        return self.current.verdict

    @property
    def failed(self) -> bool:
        return self.current.failed

    @property
    def dated(self) -> dt.date:
        """A failure: when it was first found. A pass: the day of its report."""
        return self.run[0].tested_on

    @property
    def report_numbers(self) -> tuple[str, ...]:
        return tuple(e.report_number for e in self.run)


def samples_as_of(evaluations: Iterable[Evaluation], as_of: dt.date) -> list[Sample]:
    """The samples known on ``as_of`` (reports tested after it do not exist yet), in task
    order. Reports without a shop give no sample (the caller counts them)."""
    groups = _chains([e for e in evaluations if e.tested_on <= as_of])
    out = []
    for members in groups:
        sample = _sample(members)
        if sample is not None:
            out.append(sample)
    return sorted(out, key=lambda s: (s.task_id, s.current.report_number))


def _chains(evaluations: list[Evaluation]) -> list[list[Evaluation]]:
    """Reports of one task, joined with the reports they supersede or are superseded by
    (a retest filed under another task number still belongs to its original)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    numbers = {e.report_number for e in evaluations}
    for e in evaluations:
        union("task:" + e.task_id, "report:" + e.report_number)
        for other in (e.supersedes, e.superseded_by):
            if other in numbers:
                union("report:" + e.report_number, "report:" + other)
    groups: dict[str, list[Evaluation]] = defaultdict(list)
    for e in evaluations:
        groups[find("report:" + e.report_number)].append(e)
    return [groups[k] for k in sorted(groups)]


def _sample(members: list[Evaluation]) -> Sample | None:
    numbers = {e.report_number for e in members}
    before: dict[str, set[str]] = defaultdict(set)  # report → the reports it supersedes
    for e in members:
        if e.supersedes in numbers and e.supersedes != e.report_number:
            before[e.report_number].add(e.supersedes)
        if e.superseded_by in numbers and e.superseded_by != e.report_number:
            before[e.superseded_by].add(e.report_number)
    superseded = set().union(*before.values()) if before else set()
    depth = _depths(numbers, before)
    # A retest comes after what it supersedes even when both carry the same test date.
    members = sorted(members, key=lambda e: (e.tested_on, depth[e.report_number], e.report_number))
    heads = [e for e in members if e.report_number not in superseded] or members
    current = heads[-1]
    behind: list[Evaluation] = []
    for e in reversed(members[: members.index(current)]):
        if not e.failed:
            break
        behind.insert(0, e)
    shop = current.shop or next((e.shop for e in reversed(members) if e.shop), None)
    if shop is None:
        return None
    if current.failed:
        return Sample(current.task_id, shop, current, (*behind, current))
    return Sample(current.task_id, shop, current, (current,), tuple(behind))


def _depths(numbers: set[str], before: dict[str, set[str]]) -> dict[str, int]:
    """How many supersessions lead to each report (0 for an original); a cycle in bad
    data stops counting instead of looping."""
    depth: dict[str, int] = {}

    def walk(n: str, seen: frozenset[str]) -> int:
        if n not in depth:
            prior = [walk(p, seen | {n}) for p in sorted(before.get(n, ())) if p not in seen]
            depth[n] = 1 + max(prior) if prior else 0
        return depth[n]

    for n in sorted(numbers):
        walk(n, frozenset())
    return depth


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (earlier when negative), at most the month's last.

    >>> add_months(dt.date(2024, 2, 29), 12), add_months(dt.date(2026, 3, 31), -1)
    (datetime.date(2025, 2, 28), datetime.date(2026, 2, 28))
    """
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
