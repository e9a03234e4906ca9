"""Samples from chains of reports (pure, no database): retests, odd links, bad data."""

from __future__ import annotations

import datetime as dt

import pytest

from transforms.credit.lists import _after_window
from transforms.credit.samples import Evaluation, add_months, samples_as_of

SHOP = ("youpin", "s1")
_ids = iter(range(1, 10_000))


def ev(
    report, tested_on, verdict="fail", *, task="T1", supersedes=None, superseded_by=None, shop=SHOP
):
    return Evaluation(
        next(_ids),
        report,
        task,
        shop,
        dt.date.fromisoformat(tested_on),
        verdict,
        False,
        "major" if verdict == "fail" else None,
        supersedes=supersedes,
        superseded_by=superseded_by,
    )


def test_a_same_day_retest_still_comes_after_what_it_supersedes():
    # "A-2" sorts before "B-1", yet it is the retest.
    chain = [ev("B-1", "2026-03-01"), ev("A-2", "2026-03-01", "pass", supersedes="B-1")]
    [s] = samples_as_of(chain, dt.date(2026, 3, 31))
    assert s.verdict == "pass" and [c.report_number for c in s.cleared] == ["B-1"]


def test_a_retest_filed_under_another_task_belongs_to_its_original():
    chain = [
        ev("R1", "2026-03-01", task="T1"),
        ev("R1b", "2026-03-09", "pass", task="T9", supersedes="R1"),
    ]
    [s] = samples_as_of(chain, dt.date(2026, 3, 31))
    assert s.verdict == "pass"


def test_only_the_superseded_by_link_is_enough():
    chain = [ev("R1", "2026-03-01", superseded_by="R1b"), ev("R1b", "2026-03-09", "fail")]
    [s] = samples_as_of(chain, dt.date(2026, 3, 31))
    assert s.report_numbers == ("R1", "R1b") and s.dated == dt.date(2026, 3, 1)


def test_fail_fail_pass_clears_both_failures():
    chain = [
        ev("R1", "2026-03-01"),
        ev("R2", "2026-03-10", supersedes="R1"),
        ev("R3", "2026-03-20", "pass", supersedes="R2"),
    ]
    [s] = samples_as_of(chain, dt.date(2026, 3, 31))
    assert [c.report_number for c in s.cleared] == ["R1", "R2"]
    [s] = samples_as_of(chain, dt.date(2026, 3, 15))
    assert s.failed and s.report_numbers == ("R1", "R2")


def test_a_failing_retest_of_a_pass_dates_the_failure_from_the_retest():
    chain = [ev("R1", "2026-03-01", "pass"), ev("R2", "2026-03-10", supersedes="R1")]
    [s] = samples_as_of(chain, dt.date(2026, 3, 31))
    assert s.failed and s.dated == dt.date(2026, 3, 10) and s.report_numbers == ("R2",)


def test_a_cycle_in_bad_data_does_not_hang():
    chain = [
        ev("R1", "2026-03-01", supersedes="R2"),
        ev("R2", "2026-03-05", "pass", supersedes="R1"),
    ]
    assert len(samples_as_of(chain, dt.date(2026, 3, 31))) == 1


def test_separate_tasks_are_separate_samples_and_a_report_without_shop_is_none():
    reports = [
        ev("R1", "2026-03-01", task="T1"),
        ev("R2", "2026-03-02", task="T2"),
        ev("R3", "2026-03-03", task="T3", shop=None),
    ]
    assert [s.task_id for s in samples_as_of(reports, dt.date(2026, 3, 31))] == ["T1", "T2"]


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ("2024-02-29", 12, "2025-02-28"),
        ("2024-02-29", 48, "2028-02-29"),
        ("2026-01-31", 1, "2026-02-28"),
        ("2026-03-31", -1, "2026-02-28"),
        ("2026-01-15", -13, "2024-12-15"),
        ("2026-12-10", 24, "2028-12-10"),
    ],
)
def test_add_months(day, months, expected):
    assert add_months(dt.date.fromisoformat(day), months) == dt.date.fromisoformat(expected)


@pytest.mark.parametrize(
    ("day", "months", "leaves"),
    [
        ("2024-06-01", 24, "2026-06-02"),
        ("2023-02-28", 1, "2023-04-01"),  # 29–31 March reach back only to 28 February
        ("2024-01-31", 1, "2024-03-01"),
    ],
)
def test_a_day_leaves_the_window_on_the_first_day_that_no_longer_reaches_it(day, months, leaves):
    day_, leaves_ = dt.date.fromisoformat(day), dt.date.fromisoformat(leaves)
    assert _after_window(day_, months) == leaves_
    assert (
        add_months(leaves_, -months) > day_ >= add_months(leaves_ - dt.timedelta(days=1), -months)
    )
