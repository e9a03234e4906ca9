"""Model keys with variants, codes in free text and titles, barcodes, brand spellings."""

from __future__ import annotations

import pytest

from risk_models.recalls.keys import (
    ModelKey,
    codes_in_text,
    gtins_in_text,
    is_plausible_code,
    model_key,
    models_in_text,
    near_spelling,
    split_models,
    title_model_keys,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MD-1520", ModelKey("MD1520")),
        ("md 1520型", ModelKey("MD1520")),
        ("ＭＤ－１５２０", ModelKey("MD1520")),
        ("型号：MD-1520", ModelKey("MD1520")),
        ("Model No.: MD-1520", ModelKey("MD1520")),
        ("MD-1520标准版", ModelKey("MD1520")),
        ("MD-1520-A", ModelKey("MD1520", "A")),
        ("MD-1520 Pro", ModelKey("MD1520", "PRO")),
        ("MD1520PRO", ModelKey("MD1520", "PRO")),
        ("MD-1520升级版", ModelKey("MD1520", "升级版")),
        ("MD-1520（第二代）", ModelKey("MD1520", "二代")),
        ("MD-1520/1", ModelKey("MD1520", "1")),
        # letters and digits of the code itself are never a variant
        ("MD-53P13A", ModelKey("MD53P13A")),
        ("MD 53P13A", ModelKey("MD53P13A")),
        ("X5", ModelKey("X5")),
        ("A-1", ModelKey("A1")),
    ],
)
def test_model_key(text, expected):
    assert model_key(text) == expected


@pytest.mark.parametrize("text", [None, "", "1", "/", "暂无", "型号：", "A"])
def test_no_model(text):
    assert model_key(text) is None


def test_key_property():
    assert model_key("AB-12 Pro").key == "AB12+PRO"
    assert model_key("AB-12").key == "AB12"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AB-12、AB-13；AB-15", ["AB-12", "AB-13", "AB-15"]),
        ("AB-12, AB-13 and AB-15", ["AB-12", "AB-13", "AB-15"]),
        ("AB-12 or AB-13", ["AB-12", "AB-13"]),
        ("AB-12和AB-13", ["AB-12", "AB-13"]),
        ("XY-7 to XY-9", ["XY-7", "XY-8", "XY-9"]),
        ("XY-07~09", ["XY-07", "XY-08", "XY-09"]),
        ("XY-100 printed on the label of the product", ["XY-100"]),
        ("MD 1520", ["MD 1520"]),
    ],
)
def test_split_models(text, expected):
    assert split_models(text) == expected


def test_huge_ranges_are_not_expanded():
    assert split_models("AB-1 to AB-9999") == ["AB-1 to AB-9999"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "This recall involves MEIDU hair dryers. Model numbers include AB-12, AB-13 and AB-15.",
            ["AB-12", "AB-13", "AB-15"],
        ),
        ("The recalled heaters have model number XY-100 printed on the back.", ["XY-100"]),
        ("Model: XY-100", ["XY-100"]),
        ("涉及型号：MD-1520、MD-1521。生产日期为2024年。", ["MD-1520", "MD-1521"]),
        ("The products were made in 2024 and sold for $20.", []),
        ("This recall involves kettles.", []),
    ],
)
def test_models_in_text(text, expected):
    assert models_in_text(text) == expected


def test_codes_in_text_skip_years_and_quantities():
    assert codes_in_text("AB-12 1500W 2024 5100 sold") == ["AB-12", "5100"]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("美度电热水壶 MD-1530 家用 1.7L", ("MD1530",)),
        ("美度电热水壶MD1530型304不锈钢", ("MD1530",)),
        ("美度 电热水壶 ＭＤ－１５３０", ("MD1530",)),
        ("美度电水壶MD31K79A304不锈钢", ("MD31K79A304", "MD31K79A")),
        ("拓普厨 TC Top365 炒锅", ("TCTOP365", "TOP365")),
        ("2026新款 1500W 大容量", ()),
    ],
)
def test_title_model_keys(title, expected):
    assert title_model_keys(title) == expected


@pytest.mark.parametrize(
    ("key", "plausible"),
    [("MD1520", True), ("X5", False), ("1500W", False), ("2024", False), ("ABCD", False)],
)
def test_plausible_codes(key, plausible):
    assert is_plausible_code(key) is plausible


def test_gtins_in_text():
    assert gtins_in_text("2025年02月至2026年07月生产; Barcode 6932978520447") == ["6932978520447"]
    assert gtins_in_text("UPC 0 12345 67890 5") == ["0012345678905"]
    assert gtins_in_text("Batch 20240512, barcode 6932978520446") == []  # wrong check digit


@pytest.mark.parametrize(
    ("a", "b", "near"),
    [
        ("meidoo", "meid0o", True),
        ("meidoo", "mfidoo", True),
        ("kangtoo", "kamgtoo", True),
        ("skysteed", "sky5teed", True),
        ("gulu", "gulus", True),
        ("anker", "ankerinnovations", True),
        ("meidu", "meidoo", False),
        ("mi", "mo", False),
        ("midea", "media", False),
        ("gree", "bull", False),
    ],
)
def test_near_spelling(a, b, near):
    assert near_spelling(a, b) is near
    assert near_spelling(b, a) is near
