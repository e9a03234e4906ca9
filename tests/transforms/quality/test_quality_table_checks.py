"""Table-level checks fail a run on volume collapse, never on bad rows."""

from __future__ import annotations

import pytest

from transforms.quality import TableBreakage, TableCheck, check_table


@pytest.mark.parametrize(
    ("current", "previous", "ok"),
    [
        (100, None, True),  # first run: nothing to compare with
        (0, None, True),
        (100, 0, True),  # the last run was empty
        (150, 100, True),  # growth
        (50, 100, True),  # exactly the allowed 50 % drop
        (49, 100, False),  # just past it
        (0, 100, False),
    ],
)
def test_volume_drop_against_last_run(current, previous, ok):
    check = check_table("reviews", current_count=current, previous_count=previous)
    assert check.ok is ok
    if ok:
        assert check.reason is None
    else:
        assert check.reason and "reviews" in check.reason and str(previous) in check.reason


def test_max_drop_is_configurable():
    assert check_table("listings", current_count=80, previous_count=100, max_drop=0.1).ok is False
    assert check_table("listings", current_count=10, previous_count=100, max_drop=0.95).ok
    assert check_table("listings", current_count=0, previous_count=100, max_drop=1.0).ok


def test_every_input_row_rejected_is_breakage_but_some_are_not():
    broken = check_table("complaints", current_count=0, previous_count=None, input_count=40)
    assert not broken.ok and "none of the 40 input rows" in (broken.reason or "")
    assert check_table("complaints", current_count=1, previous_count=None, input_count=40).ok
    assert check_table("complaints", current_count=0, previous_count=None, input_count=0).ok


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="max_drop"):
        check_table("shops", current_count=1, previous_count=1, max_drop=1.5)
    with pytest.raises(ValueError, match="current_count"):
        check_table("shops", current_count=-1, previous_count=1)


def test_breakage_is_raised_by_the_caller():
    TableCheck(True).raise_for("recalls")
    with pytest.raises(TableBreakage, match="recalls: down") as info:
        TableCheck(False, "down 90%").raise_for("recalls")
    assert info.value.table == "recalls" and info.value.reason == "down 90%"
