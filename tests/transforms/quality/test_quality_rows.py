"""Row validation: every planted defect is reported with its key, rule and value, and
nothing else is; GX and the pandas masks agree; results are ready for ``dq_results``."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from conftest import CASES, FETCHED, GX_IMPORTED_BY_PACKAGE, GX_PRELOADED, HASH

from ecqm.warehouse.schema import dq_results
from transforms.quality import (
    SUITES,
    FrameError,
    combine_results,
    expected_columns,
    validate_rows,
)

TABLES = sorted(CASES)


@pytest.mark.parametrize("table", TABLES)
def test_every_bad_row_is_reported_and_no_good_row(validated, table):
    case, v = validated(table)
    found = {(f.key, f.rule, f.value) for f in v.failures}
    assert found == case.expected
    assert not {f.key for f in v.failures} & case.good_keys
    assert v.skipped == ()


@pytest.mark.parametrize("table", TABLES)
def test_gx_complete_route_finds_the_same_rows(validated, table):
    """GX's own COMPLETE result (unexpected_index_column_names) and the pandas masks
    read the same rules; they must flag exactly the same rows."""
    _, by_pandas = validated(table, "pandas")
    _, by_gx = validated(table, "gx")
    assert by_gx.failures == by_pandas.failures
    for r in by_pandas.results:
        assert r["unexpected_count"] == r["observed"]["flagged_rows"], r["expectation"]
        assert "exception" not in r["observed"], r["observed"].get("exception")


def test_failure_details_name_column_value_rule_and_position(validated):
    case, v = validated("reviews")
    by = {(f.key, f.rule): f for f in v.failures}

    rating = by[("lehuo|r4", "expect_column_values_to_be_between:rating")]
    assert rating.column == "rating" and rating.value == "7"
    assert (
        rating.reason == "rating = 7 is outside [1, 5] (expect_column_values_to_be_between:rating)"
    )
    assert rating.position == 4 and case.frame.index[rating.position] == "s4"

    late = by[("lehuo|r7", "expect_column_pair_values_a_to_be_greater_than_b:posted_at")]
    assert "posted_at = 2026-11-02T02:00:01+00:00 is later than fetched_at" in late.reason
    assert "+ 1 day" in late.reason

    long_text = by[("lehuo|r14", "expect_column_value_lengths_to_be_between:text")]
    assert "has 5001 characters, expected [1, 5000]" in long_text.reason
    assert len(long_text.value or "") == 2000  # quarantine keeps a bounded value

    dupes = [f for f in v.failures if f.key == "pinjia|dup"]
    assert [f.position for f in dupes] == [9, 10]
    assert all("occurs 2 times in this batch" in f.reason for f in dupes)

    # A row without its key still gets a distinct key (its index label).
    assert by[("|r11#s11", "expect_column_values_to_not_be_null:platform")].value is None
    assert ("youpin|#s12", "expect_column_values_to_not_be_null:external_id") in by


def test_split_separates_failing_rows(validated):
    case, v = validated("listings")
    good, bad = v.split(case.frame)
    assert len(good) + len(bad) == len(case.frame)
    assert set(bad.index) == {case.frame.index[p] for p in v.failed_positions}
    assert "s0" in good.index and "s3" in bad.index


def test_results_are_dq_results_rows(validated):
    _, v = validated("listings")
    suite = SUITES["listings"]
    assert [r["expectation"] for r in v.results] == [rule.name for rule in suite.rules]
    columns = {c.name for c in dq_results.columns} - {"id"}
    price = next(
        r for r in v.results if r["expectation"] == "expect_column_values_to_be_between:price_fen"
    )
    for r in v.results:
        assert set(r) == columns
        assert r["run_id"] == "run-20261101" and r["table_name"] == "listings"
        assert r["suite"] == "core.listings"
        assert isinstance(r["success"], bool)
        assert r["element_count"] == 17
        assert r["checked_at"].tzinfo is not None and r["checked_at"].utcoffset() == dt.timedelta(0)
        json.dumps(r["observed"], allow_nan=False)
    assert price["success"] is False
    assert price["unexpected_count"] == 2
    assert price["observed"]["missing_count"] == 1
    assert price["unexpected_percent"] == pytest.approx(100 * 2 / 16)
    assert price["observed"]["expectation_kwargs"] == {
        "column": "price_fen",
        "min_value": 0,
        "max_value": 10**10,
        "strict_max": True,
    }
    assert sorted(price["observed"]["partial_unexpected_list"]) == [-100, 10**10]
    category = next(r for r in v.results if r["column_name"] == "category_code")
    assert category["observed"]["expectation_kwargs"]["value_set"] == [
        "electric_kettle",
        "hair_dryer",
        "power_bank",
    ]

    engine = sa.create_engine("sqlite://")
    dq_results.create(engine)
    with engine.begin() as conn:
        conn.execute(dq_results.insert(), combine_results(v.results))
        assert conn.execute(sa.select(sa.func.count()).select_from(dq_results)).scalar() == len(
            v.results
        )
    engine.dispose()


def test_empty_dataframe_passes_with_zero_counts():
    columns = {c: pd.Series([], dtype="str") for c in ("platform", "external_id")}
    columns["fetched_at"] = pd.Series([], dtype="datetime64[us, UTC]")
    v = validate_rows(
        "reviews", pd.DataFrame(columns), key_columns=["platform", "external_id"], run_id="r0"
    )
    assert v.failures == [] and v.rows == 0
    assert len(v.results) == len(SUITES["reviews"].rules)
    for r in v.results:
        assert (r["success"], r["element_count"], r["unexpected_count"]) == (True, 0, 0)
        assert r["unexpected_percent"] is None


def test_chunks_combine_to_the_whole(validated):
    case, whole = validated("listings")
    first, second = case.frame.iloc[:9], case.frame.iloc[9:]
    parts = [
        validate_rows(
            "listings",
            chunk,
            key_columns=case.key_columns,
            run_id="run-20261101",
            reference=case.reference,
        )
        for chunk in (first, second)
    ]
    assert {(f.key, f.rule) for p in parts for f in p.failures} == {
        (f.key, f.rule) for f in whole.failures
    }
    combined = combine_results([r for p in parts for r in p.results])
    assert len(combined) == len(whole.results)
    for c, w in zip(combined, whole.results, strict=True):
        assert c["expectation"] == w["expectation"]
        assert (c["element_count"], c["unexpected_count"], c["success"]) == (
            w["element_count"],
            w["unexpected_count"],
            w["success"],
        )
        assert c["observed"]["missing_count"] == w["observed"]["missing_count"]
        assert c["observed"]["chunks"] == 2
        if w["unexpected_percent"] is None:
            assert c["unexpected_percent"] is None
        else:
            assert c["unexpected_percent"] == pytest.approx(w["unexpected_percent"])
    # Folding in further chunks, or re-combining, is consistent.
    assert combine_results(combined) == combined
    again = combine_results([*combined, *parts[0].results])
    assert again[0]["observed"]["chunks"] == 3
    assert again[0]["element_count"] == 17 + 9


def test_reference_rules_without_a_reference_set_are_skipped():
    case = CASES["listings"]()
    v = validate_rows("listings", case.frame, key_columns=case.key_columns, run_id="r")
    assert v.skipped == ("expect_column_values_to_be_in_set:category_code",)
    assert all(f.column != "category_code" for f in v.failures)
    assert all(r["column_name"] != "category_code" for r in v.results)


def test_reference_overrides_defaults():
    case = CASES["reviews"]()
    v = validate_rows(
        "reviews",
        case.frame.iloc[:1],
        key_columns=case.key_columns,
        run_id="r",
        reference={"platform": ["pinjia"]},
    )
    assert [(f.key, f.value) for f in v.failures] == [("lehuo|r0", "lehuo")]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fetched_at": pd.Series([dt.datetime(2026, 11, 1)])}, "naive"),
        ({"rating": pd.Series(["five"], dtype="object")}, "not numbers"),
        ({"posted_at": pd.Series(["2026-11-01"], dtype="object")}, "expected datetimes"),
    ],
)
def test_contract_violations_raise(change, message):
    frame = pd.DataFrame(
        {
            "platform": ["lehuo"],
            "external_id": ["r1"],
            "fetched_at": [FETCHED],
            "author_hash": [HASH],
        }
    )
    for column, values in change.items():
        frame[column] = values
    with pytest.raises(FrameError, match=message):
        validate_rows("reviews", frame, key_columns=["platform", "external_id"], run_id="r")


def test_missing_required_column_raises_and_optional_ones_are_optional():
    with pytest.raises(FrameError, match="fetched_at"):
        validate_rows(
            "reviews",
            pd.DataFrame({"platform": ["lehuo"], "external_id": ["r1"]}),
            key_columns=["platform", "external_id"],
            run_id="r",
        )
    with pytest.raises(KeyError, match="no data-quality suite"):
        validate_rows("quarantine", pd.DataFrame(), key_columns=[], run_id="r")
    assert expected_columns("reviews")["posted_at"] == "datetime"


def test_100k_reviews_timing(capsys):
    """The volume the pipeline sees per chunk; the time is printed for the record."""
    from transforms.quality.benchmark import KEY, review_frame

    df = review_frame(100_000, bad=0.02)
    started = time.perf_counter()
    v = validate_rows("reviews", df, key_columns=KEY, run_id="bench")
    took = time.perf_counter() - started
    with capsys.disabled():
        print(f"\nvalidate_rows: 100,000 reviews, 2% broken: {took:.2f} s")
    rules = Counter(f.rule.split(":")[1] for f in v.failures)
    assert 1500 < len(v.failed_positions) < 2500
    assert set(rules) == {
        "rating",
        "text",
        "posted_at",
        "platform",
        "platform,external_id",
        "author_hash",
    }
    assert took < 30
    for r in v.results:
        assert r["unexpected_count"] == r["observed"]["flagged_rows"]


def test_importing_the_package_does_not_import_gx():
    if not GX_PRELOADED:
        assert not GX_IMPORTED_BY_PACKAGE
        return
    code = "import sys, transforms.quality; sys.exit('great_expectations' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_suites_cover_every_core_table_and_schema_not_nulls():
    from ecqm.warehouse.schema import CORE_TABLES

    core = {t.name for t in CORE_TABLES} - {"quarantine"}
    assert set(SUITES) == core
    for table in CORE_TABLES:
        if table.name == "quarantine":
            continue
        names = {r.name for r in SUITES[table.name].rules}
        for column in table.columns:
            if not column.nullable and column.name != "id":
                assert f"expect_column_values_to_not_be_null:{column.name}" in names
        assert np.all([len(n) <= 128 for n in names])
