"""parse_sales: counts, lower bounds and windows from the sales texts shops print."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.normalise import NormaliseError, Sales, parse_sales


@pytest.mark.parametrize(
    ("raw", "count", "lower", "window"),
    [
        ("1.2万+", 12000, True, "total"),
        ("10w+", 100000, True, "total"),
        ("10W+", 100000, True, "total"),
        ("10w+人付款", 100000, True, "total"),
        ("月销3000+", 3000, True, "month"),
        ("月销量 3000", 3000, False, "month"),
        ("已售 2.3万 件", 23000, True, "total"),
        ("销量 999+", 999, True, "total"),
        ("1千+", 1000, True, "total"),
        ("1.5k", 1500, True, "total"),
        ("100+人付款", 100, True, "total"),
        ("已拼5.6万件", 56000, True, "total"),
        ("月售 88", 88, False, "month"),
        ("热销 1,234", 1234, False, "total"),
        ("近30天销量 1.5k", 1500, True, "month"),
        ("１．２万＋", 12000, True, "total"),
        ("1万余件", 10000, True, "total"),
        ("超过1000人购买", 1000, True, "total"),
        ("约2万人付款", 20000, False, "total"),
        ("0人付款", 0, False, "total"),
        ("1.2亿+", 120000000, True, "total"),
        ("sold 1.2k", 1200, True, "total"),
        ("<em>月销</em>&nbsp;2.5万+", 25000, True, "month"),
        ("1.23456万", 12345, True, "total"),
        (1234, 1234, False, "total"),
    ],
)
def test_parse_sales(raw, count, lower, window):
    assert parse_sales(raw) == Sales(count, lower, window)


@pytest.mark.parametrize("raw", [None, "", " ", "--", "暂无销量"])
def test_nothing_to_read(raw):
    assert parse_sales(raw) is None


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("已售罄", "no number"),
        ("年销10万+", "neither a month nor all time"),
        ("近7天售出 300", "neither a month nor all time"),
        ("今日已售 50", "neither a month nor all time"),
        ("月销3000+ 评价500", "several numbers"),
        ("价格12元", "unexpected words"),
        ("12.5", "fractional count"),
        ("1,23", "several numbers"),
        (-3, "negative"),
        (3.0, "expected text"),
    ],
)
def test_errors_name_the_value_and_the_problem(raw, problem):
    with pytest.raises(NormaliseError) as info:
        parse_sales(raw)
    assert problem in str(info.value)
    assert repr(raw) in str(info.value)


def _shortened(n: int, unit: int, mark: str, digits: int) -> str:
    """How a shop abbreviates n: cut (not rounded) to ``digits`` decimals of ``unit``."""
    whole, rest = divmod(n, unit)
    frac = rest * 10**digits // unit
    number = f"{whole}.{frac:0{digits}d}".rstrip("0").rstrip(".") if digits else str(whole)
    return number + mark


FORMS = [
    (10_000, "万", 1),
    (10_000, "万", 2),
    (10_000, "w", 1),
    (10_000, "W", 0),
    (1_000, "千", 1),
    (1_000, "k", 1),
    (100_000_000, "亿", 2),
]
FRAMES = ["{}", "{}+", "已售{}件", "月销{}+", "{}+人付款", "销量 {}", "已拼{}件", "热销{}"]


@settings(max_examples=500, deadline=None)
@given(
    st.integers(min_value=0, max_value=10**10),
    st.sampled_from(FORMS),
    st.sampled_from(FRAMES),
)
def test_shortened_counts_are_lower_bounds_within_the_rounding(n, form, frame):
    unit, mark, digits = form
    text = frame.format(_shortened(n, unit, mark, digits))
    sales = parse_sales(text)
    assert sales.is_lower_bound
    assert sales.count <= n < sales.count + unit // 10**digits, text
    assert sales.window == ("month" if text.startswith("月销") else "total")


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**9), st.booleans(), st.sampled_from(FRAMES))
def test_exact_counts_parse_back(n, grouped, frame):
    text = frame.format(f"{n:,}" if grouped else str(n))
    sales = parse_sales(text)
    assert sales.count == n
    assert sales.is_lower_bound == ("+" in frame)
