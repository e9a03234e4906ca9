"""Brand, model and barcode keys: a catalogue of real-world spellings, and properties."""

from __future__ import annotations

import doctest
import importlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transforms.resolve import (
    brand_parts,
    is_strong_model,
    normalise_brand,
    normalise_gtin,
    normalise_model,
)
from transforms.resolve.keys import model_display, title_codes, title_key

# --------------------------------------------------------------------------- brands


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("美度", "美度"),
        ("MEIDOO/美度", "美度"),
        ("美度/MEIDOO", "美度"),
        ("美度（MEIDOO）", "美度"),
        ("美度(MEIDOO)", "美度"),
        ("MEIDOO 美度", "美度"),
        ("MEIDOO美度", "美度"),
        ("【美度】", "美度"),
        ("美度官方旗舰店", "美度"),
        ("美度旗舰店", "美度"),
        ("美度品牌", "美度"),
        ("美度专卖店", "美度"),
        ("官方正品 美度", "美度"),
        ("<b>美度</b>&nbsp;", "美度"),
        ("美度®", "美度"),
        ("美度\u200b", "美度"),
        ("MEIDOO", "meidoo"),
        ("meidoo", "meidoo"),
        ("Meidoo", "meidoo"),
        ("ＭＥＩＤＯＯ", "meidoo"),  # full-width
        ("MEIDOO™", "meidoo"),  # not "meidootm"
        ("MEIDOO Official Store", "meidoo"),
        ("DR.LEBO", "drlebo"),
        ("Dr. Lebo", "drlebo"),
        ("DR.LEBO 乐博士", "乐博士"),
        ("YAYA KIDS/小丫丫", "小丫丫"),
        ("YAYA KIDS", "yayakids"),
        ("Nestlé/雀巢", "雀巢"),
        ("Nestle", "nestle"),
        ("Nestlé", "nestle"),
        ("美的 Midea 官方旗舰店", "美的"),
        ("3M", "3m"),
        ("361度", "361度"),
        ("小米10", "小米10"),
        ("暖居｜WARMJU", "暖居"),
        ("暖居、WARMJU", "暖居"),
    ],
)
def test_brand_spellings(text, key):
    assert normalise_brand(text) == key


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [("澜博", "澜博"), ("瀾博", "澜博"), ("聯創", "联创"), ("萌寶貝", "萌宝贝"), ("電速", "电速")],
)
def test_traditional_brand_names_meet_simplified(traditional, simplified):
    assert normalise_brand(traditional) == normalise_brand(simplified) == simplified
    assert normalise_brand(f"LANBOR/{traditional}") == simplified


@pytest.mark.parametrize(
    "text",
    [None, "", "   ", "无", "無品牌", "无品牌", "其他", "N/A", "none", "OEM", "品牌", "旗舰店"],
)
def test_no_brand(text):
    assert normalise_brand(text) is None
    assert brand_parts(text) == ()


def test_brand_parts_keep_every_name_for_alias_learning():
    assert brand_parts("MEIDOO/美度") == ("meidoo", "美度")
    assert brand_parts("美度（MEIDOO）") == ("美度", "meidoo")
    assert brand_parts("YAYA KIDS 小丫丫") == ("yayakids", "小丫丫")
    assert brand_parts("MEIDOO/meidoo") == ("meidoo",)
    # A year or a size next to the brand is not a second name.
    assert brand_parts("MEIDOO 2026") == ("meidoo",)


def test_different_brands_stay_apart():
    assert normalise_brand("美度") != normalise_brand("美的")
    assert normalise_brand("MEIDOO") != normalise_brand("MEIDO")
    assert normalise_brand("LANBOR") != normalise_brand("LANB0R")  # a counterfeit spelling


# --------------------------------------------------------------------------- models


@pytest.mark.parametrize(
    "text",
    [
        "MD-53P13A",
        "md-53p13a",
        "MD53P13A",
        "md53p13a",
        "MD 53P13A",
        "md 53p13a",
        "MD_53P13A",
        "MD.53P13A",
        "MD–53P13A",  # en dash
        "MD－53P13A",  # full-width hyphen
        "ＭＤ－５３Ｐ１３Ａ",
        "ｍｄ５３ｐ１３ａ",
        "MD-53P13A型",
        "MD-53P13A 型",
        "型号：MD-53P13A",
        "型号:MD-53P13A",
        "Model No.: MD-53P13A",
        "MD-53P13A（白色）",
        "MD-53P13A【升级款】",
        "新款MD-53P13A",
        " MD-53P13A\u200b ",
        "<span>MD-53P13A</span>",
    ],
)
def test_model_spellings_meet(text):
    assert normalise_model(text) == "MD53P13A"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("MD-53P13A", "MD-53P13"),  # a suffix letter is another model
        ("MD-53P13A", "MD-53P13B"),
        ("MD-53P13A", "MD-53P18A"),
        ("MD-53P13A", "MD-58P13A"),
        ("KT-31S32C", "KT-31S32E"),
        ("TC-Top10", "TC-Top101"),
        ("MD-53P13A", "MD-53P13A/B"),
        ("X1", "X1S"),
        ("A1", "AI"),
        ("MD-53P13A", "ND-53P13A"),
        ("V1.5", "V1.6"),
    ],
)
def test_models_that_differ_in_one_character_stay_apart(a, b):
    assert normalise_model(a) != normalise_model(b)


@pytest.mark.parametrize(
    "text", [None, "", " ", "无", "暂无", "型号：暂无", "N/A", "/", "-", "见详情", "其他", "?"]
)
def test_no_model(text):
    assert normalise_model(text) is None


def test_chinese_only_model_is_kept():
    assert normalise_model("经典款") == "经典款"
    assert normalise_model("經典款") == "经典款"


def test_model_display_keeps_separators():
    assert model_display("md-53p13a型") == "MD-53P13A"
    assert model_display("ＭＤ－５３Ｐ１３Ａ") == "MD-53P13A"
    assert model_display("型号：md 53p13a") == "MD 53P13A"
    assert model_display("暂无") is None


@pytest.mark.parametrize(
    ("key", "strong"),
    [("MD53P13A", True), ("TCTOP10", True), ("X1", False), ("PRO", False), ("2020", False)],
)
def test_strong_models(key, strong):
    assert is_strong_model(key) is strong


def test_codes_in_titles():
    assert title_codes("美度 电水壶 MD-53P13A 家用") == ("MD53P13A",)
    assert title_codes("Xunlei 强光手电 XL 45X38 平头") == ("XL45X38", "45X38")
    # Glued to a figure of the next word (304不锈钢), the code is also read without it.
    assert title_codes("电热水壶MD31K79A304不锈钢") == ("MD31K79A304", "MD31K79A")
    # Sizes and capacities are not codes.
    assert title_codes("电热水壶 1.7L 1500W 304不锈钢") == ()


def test_title_key_drops_marketing_codes_and_own_brand():
    a = title_key("官方正品 MEIDOO/美度 电水壶 MD-53P13A 家用大容量 包邮", ("meidoo", "美度"))
    b = title_key("美度电水壶家用大容量 顺丰包邮 2026新款", ("美度",))
    assert a == b == "电水壶家用大容量"


# --------------------------------------------------------------------------- GTIN


@pytest.mark.parametrize(
    ("text", "gtin"),
    [
        ("6910843372643", "6910843372643"),
        ("6910 8433 72643", "6910843372643"),
        ("6910-8433-72643", "6910843372643"),
        ("６９１０８４３３７２６４３", "6910843372643"),  # full-width digits
        (" 6910843372643\n", "6910843372643"),
        ("036000291452", "0036000291452"),  # UPC-A
        ("00036000291452", "0036000291452"),  # GTIN-14 with indicator 0
        ("4006381333931", "4006381333931"),
        ("9787111213826", "9787111213826"),  # ISBN as EAN-13
    ],
)
def test_valid_gtins(text, gtin):
    assert normalise_gtin(text) == gtin


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "6910843372644",  # check digit off by one
        "6910843372640",
        "6901843372643",  # two digits swapped
        "691084337264",  # 12 digits that are not a UPC-A
        "69108433726431",  # 14 digits, indicator not 0
        "0000000000000",
        "2000000000008",  # restricted circulation (in-store)
        "6910843372643A",
        "暂无",
        "-",
    ],
)
def test_invalid_gtins_are_ignored(text):
    assert normalise_gtin(text) is None


@pytest.mark.parametrize("name", ["keys", "resolver"])
def test_docstring_examples(name):
    module = importlib.import_module(f"transforms.resolve.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# --------------------------------------------------------------------------- properties

_LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_FULLWIDTH = {ord(c): ord(c) + 0xFEE0 for c in _LATIN + "-/()"}
_CJK_NAMES = ["美度", "沁源", "暖居", "澜博", "乐博士", "小熊猫", "童乐园", "瓷韵坊", "聯創"]
_NOISE = ["", "旗舰店", "官方旗舰店", "品牌", "官方", "专卖店"]

latin_word = st.text(alphabet=_LATIN, min_size=1, max_size=10)
brand_text = st.one_of(
    latin_word,
    st.builds(lambda c, n: c + n, st.sampled_from(_CJK_NAMES), st.sampled_from(_NOISE)),
    st.builds(
        lambda a, c, sep: f"{a}{sep}{c}",
        latin_word,
        st.sampled_from(_CJK_NAMES),
        st.sampled_from(["/", " ", "|", "、"]),
    ),
    st.builds(lambda c, a: f"{c}（{a}）", st.sampled_from(_CJK_NAMES), latin_word),
    st.text(max_size=12),
)
model_text = st.one_of(
    st.text(alphabet=_LATIN + "-. _", min_size=1, max_size=14),
    st.builds(
        lambda p, d, s: f"{p}-{d}{s}",
        st.text(alphabet="ABCDEFGHJKMNPRSTWXYZ", min_size=1, max_size=3),
        st.integers(0, 99999).map(str),
        st.sampled_from(["", "型", "（白色）", " 升级款"]),
    ),
    st.text(max_size=14),
)


def _ascii_upper(s: str) -> str:
    return "".join(c.upper() if c.isascii() else c for c in s)


def _ascii_lower(s: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in s)


@given(brand_text)
def test_brand_key_is_idempotent(text):
    key = normalise_brand(text)
    if key is not None:
        assert normalise_brand(key) == key


@given(brand_text)
def test_brand_key_ignores_case_and_width(text):
    key = normalise_brand(text)
    assert normalise_brand(_ascii_upper(text)) == key
    assert normalise_brand(_ascii_lower(text)) == key
    assert normalise_brand(text.translate(_FULLWIDTH)) == key


@given(brand_text)
def test_brand_parts_agree_with_the_key(text):
    parts = brand_parts(text)
    key = normalise_brand(text)
    assert (key is None) == (not parts)
    if key is not None:
        assert key in parts


@given(model_text)
def test_model_key_is_idempotent(text):
    key = normalise_model(text)
    if key is not None:
        assert normalise_model(key) == key


@given(model_text)
def test_model_key_ignores_case_width_and_separators(text):
    key = normalise_model(text)
    assert normalise_model(_ascii_upper(text)) == key
    assert normalise_model(_ascii_lower(text)) == key
    assert normalise_model(text.translate(_FULLWIDTH)) == key


@given(
    st.text(alphabet="ABCDEFGHJKMNPRSTWXYZ", min_size=1, max_size=3),
    st.text(alphabet="0123456789ABCDEFGHJKMNPRSTWXYZ", min_size=2, max_size=8),
    st.sampled_from(["-", " ", "", "－", "_", " - "]),
)
def test_model_separators_do_not_matter(prefix, body, sep):
    assert normalise_model(f"{prefix}{sep}{body}") == normalise_model(prefix + body)


@given(
    st.text(alphabet="ABCDEFGHJKMNPRSTWXYZ0123456789", min_size=3, max_size=10),
    st.integers(0, 9),
    st.sampled_from("ABCDEFGHJKMNPRSTWXYZ0123456789"),
)
def test_changing_one_code_character_changes_the_model(code, i, char):
    changed = code[: i % len(code)] + char + code[i % len(code) + 1 :]
    if changed != code:
        assert normalise_model(changed) != normalise_model(code)


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_exactly_the_check_digit_is_valid(body):
    # Independent EAN-13 rule: weights 1, 3, 1, 3 … from the left of the 12-digit body.
    check = str((10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10) % 10)
    valid = [d for d in "0123456789" if normalise_gtin(body + d) is not None]
    restricted = body.startswith(("2", "02", "04", "05", "98", "99"))
    expected = [] if restricted or len(set(body + check)) == 1 else [check]
    assert valid == expected


@given(st.text(max_size=20))
def test_gtin_key_is_idempotent(text):
    gtin = normalise_gtin(text)
    if gtin is not None:
        assert normalise_gtin(gtin) == gtin and len(gtin) == 13
