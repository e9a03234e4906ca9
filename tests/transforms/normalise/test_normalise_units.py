"""parse_quantity: product attributes in base units."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.normalise import NormaliseError, Quantity, parse_quantity

D = Decimal


@pytest.mark.parametrize(
    ("raw", "value", "unit"),
    [
        ("1.5L", D("1.5"), "L"),
        ("1.5升", D("1.5"), "L"),
        ("500ml", D("0.5"), "L"),
        ("500ML", D("0.5"), "L"),
        ("250毫升", D("0.25"), "L"),
        ("１．５Ｌ", D("1.5"), "L"),
        ("1500W", D("1500"), "W"),
        ("1500w", D("1500"), "W"),
        ("1,500 W", D("1500"), "W"),
        ("2.2kW", D("2200"), "W"),
        ("2200瓦", D("2200"), "W"),
        ("20000mAh", D("20000"), "mAh"),
        ("10000毫安", D("10000"), "mAh"),
        ("2Ah", D("2000"), "mAh"),
        ("5V/2A", D("5"), "V"),
        ("3.7V 2Ah", D("3.7"), "V"),
        ("220伏", D("220"), "V"),
        ("2.5kg", D("2.5"), "kg"),
        ("500g", D("0.5"), "kg"),
        ("500克", D("0.5"), "kg"),
        ("2斤", D("1"), "kg"),
        ("5公斤装", D("5"), "kg"),
        ("1.5m", D("1.5"), "m"),
        ("1.5M数据线", D("1.5"), "m"),
        ("180cm", D("1.8"), "m"),
        ("3mm", D("0.003"), "m"),
        ("55英寸", D("55"), "inch"),
        ("65寸", D("65"), "inch"),
        ('27"', D("27"), "inch"),
        ("规格: 1.5L 容量", D("1.5"), "L"),
        ("容量1.5L/功率1500W", D("1.5"), "L"),
    ],
)
def test_parse_quantity(raw, value, unit):
    got = parse_quantity(raw)
    assert got == Quantity(value, unit)
    assert isinstance(got.value, Decimal)


@pytest.mark.parametrize("raw", [None, "", " ", "--", "无"])
def test_nothing_to_read(raw):
    assert parse_quantity(raw) is None


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("大容量", "no number"),
        ("1500", "a number without a unit"),
        ("12 pcs", "unknown unit 'pcs'"),
        ("2A", "unknown unit 'A'"),
        ("1.2m²", "unknown unit"),
        ("1-1.5L", "a range"),
        ("5~10W", "a range"),
        (1500, "expected text"),
    ],
)
def test_errors_name_the_value_and_the_problem(raw, problem):
    with pytest.raises(NormaliseError) as info:
        parse_quantity(raw)
    assert problem in str(info.value)
    assert repr(raw) in str(info.value)


UNITS = [
    ("ml", D("0.001"), "L"),
    ("L", D(1), "L"),
    ("W", D(1), "W"),
    ("kW", D(1000), "W"),
    ("g", D("0.001"), "kg"),
    ("kg", D(1), "kg"),
    ("斤", D("0.5"), "kg"),
    ("mAh", D(1), "mAh"),
    ("V", D(1), "V"),
    ("cm", D("0.01"), "m"),
    ("mm", D("0.001"), "m"),
    ("英寸", D(1), "inch"),
]


@settings(max_examples=400, deadline=None)
@given(
    st.decimals(min_value=0, max_value=10**7, places=3, allow_nan=False),
    st.sampled_from(UNITS),
    st.sampled_from(["{}{}", "{} {}", "约{}{}", "{}{}/2A"]),
)
def test_quantities_convert_exactly(number, unit, frame):
    written, factor, base = unit
    got = parse_quantity(frame.format(number, written))
    assert got.unit == base
    assert got.value == number * factor
