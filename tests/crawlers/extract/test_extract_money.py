"""Prices as shops print them, and formatting then parsing round-trips."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawlers.extract.money import classify_label, find_prices, parse_amount, parse_price, to_fen

D = Decimal


@pytest.mark.parametrize(
    ("text", "amount", "currency", "high"),
    [
        ("¥89", D("89"), "CNY", None),
        ("￥1,299.00", D("1299.00"), "CNY", None),
        ("￥１，２９９．００", D("1299.00"), "CNY", None),
        ("1299元", D("1299"), "CNY", None),
        ("RMB 88.50", D("88.50"), "CNY", None),
        ("人民币 1,000", D("1000"), "CNY", None),
        ("¥89-129", D("89"), "CNY", D("129")),
        ("89~129元", D("89"), "CNY", D("129")),
        ("89元-129元", D("89"), "CNY", D("129")),
        ("¥89.00 - ¥129.00", D("89.00"), "CNY", D("129.00")),
        ("￥８９～１２９", D("89"), "CNY", D("129")),
        ("$1,299.99", D("1299.99"), "USD", None),
        ("US$ 15", D("15"), "USD", None),
        ("HK$1,280", D("1280"), "HKD", None),
        ("NT$1,280", D("1280"), "TWD", None),
        ("1.299,00 €", D("1299.00"), "EUR", None),
        ("12,50 €", D("12.50"), "EUR", None),
        ("€ 12,50", D("12.50"), "EUR", None),
        ("1 299,00 €", D("1299.00"), "EUR", None),
        ("1.299 €", D("1299"), "EUR", None),
        ("£9.99", D("9.99"), "GBP", None),
        ("12.5美元", D("12.5"), "USD", None),
        ("¥1.2万", D("12000.00"), "CNY", None),
        ("3.5万元", D("35000.00"), "CNY", None),
        ("JPY 1,500", D("1500"), "JPY", None),
        ("1,500円", D("1500"), "JPY", None),
        ("89.00", D("89.00"), None, None),
        ("价格：59.9", D("59.9"), None, None),
        (5, D("5"), None, None),
        (19.99, D("19.99"), None, None),
    ],
)
def test_parse_price(text, amount, currency, high):
    p = parse_price(text)
    assert p is not None
    assert (p.amount, p.currency, p.high) == (amount, currency, high)


@pytest.mark.parametrize(
    "text",
    ["", "暂无报价", "¥ --", "月销1.2万+", "满199减20", None, True, float("nan"), "价格面议"],
)
def test_parse_price_none(text):
    assert parse_price(text) is None


@pytest.mark.parametrize(
    ("text", "kind", "label"),
    [
        ("券后价￥89.00", "coupon", "券后价"),
        ("到手价 ¥79", "coupon", "到手价"),
        ("原价：¥129", "list", "原价"),
        ("划线价 ¥169.00", "list", "划线价"),
        ("活动价¥99", "current", "活动价"),
        ("优品价¥29.90", "current", "优品价"),
        ("拼单价 ¥219", "current", "拼单价"),
        ("单独购买 ¥279", "alternative", "单独购买"),
        ("领券立减20元", "discount", "领券立减"),
        ("Was $1,499", "list", "Was"),
        ("UVP 1.499,00 €", "list", "UVP"),
    ],
)
def test_labels(text, kind, label):
    p = parse_price(text)
    assert p is not None and p.kind == kind and p.label == label


def test_find_prices_in_running_text():
    found = find_prices("原价￥129.00 券后价￥89.00 满199减20 月销1.2万+ 领券立减10元")
    assert [(p.amount, p.kind) for p in found] == [
        (D("129.00"), "list"),
        (D("89.00"), "coupon"),
        (D("10"), "discount"),
    ]
    # Offsets point into the original (full-width) text.
    text = "售价：￥１２９"
    (p,) = find_prices(text)
    assert text[p.start : p.end] == "￥１２９"


def test_no_price_from_quantities():
    assert find_prices("共3件 200ml 1.5L 2025-03-05 1800W") == []
    (p,) = find_prices("3 件 ¥59 200ml")
    assert p.amount == D("59")


def test_parse_amount_separators():
    assert parse_amount("1,299") == D("1299")
    assert parse_amount("1.299") == D("1.299")
    assert parse_amount("1.299", decimal_comma=True) == D("1299")
    assert parse_amount("1.299.000") == D("1299000")
    assert parse_amount("1'299.50") == D("1299.50")
    assert parse_amount("") is None


def test_classify_label_edges():
    assert classify_label(None) is None
    assert classify_label("：") is None
    assert classify_label("优惠价") == "current"  # a price, although 优惠 alone is a saving
    assert classify_label("优惠") == "discount"


def test_to_fen_rounds_half_up():
    assert to_fen(D("1299.005")) == 129901
    assert to_fen(D("0.004")) == 0
    assert to_fen(D("89")) == 8900
    assert to_fen(D("59.9")) == 5990


# ------------------------------------------------------------------ round trips
CURRENCY_STYLES = {
    "CNY": ["¥{n}", "￥{n}", "{n}元", "RMB {n}", "人民币{n}"],
    "USD": ["${n}", "US${n}", "{n} USD"],
    "EUR": ["{n} €", "€{n}", "{n} EUR"],
    "HKD": ["HK${n}"],
    "GBP": ["£{n}"],
}
LABELS = ["", "价格：", "券后价", "到手价 ", "原价", "活动价：", "Price: "]
amounts = st.decimals(min_value=D("0.01"), max_value=D("9999999.99"), places=2)


def _group(digits: str, sep: str) -> str:
    out = []
    while len(digits) > 3:
        out.insert(0, digits[-3:])
        digits = digits[:-3]
    out.insert(0, digits)
    return sep.join(out)


def format_amount(amount: Decimal, currency: str, grouped: bool, keep_cents: bool) -> str:
    whole, cents = f"{amount:.2f}".split(".")
    if currency == "EUR":
        number = _group(whole, ".") if grouped else whole
        return f"{number},{cents}" if keep_cents or cents != "00" else number
    number = _group(whole, ",") if grouped else whole
    return f"{number}.{cents}" if keep_cents or cents != "00" else number


def to_fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text).replace("¥", "￥")


@settings(max_examples=400, deadline=None)
@given(
    amount=amounts,
    currency=st.sampled_from(sorted(CURRENCY_STYLES)),
    style=st.integers(0, 4),
    label=st.sampled_from(LABELS),
    grouped=st.booleans(),
    keep_cents=st.booleans(),
    fullwidth=st.booleans(),
)
def test_format_then_parse_round_trips(
    amount, currency, style, label, grouped, keep_cents, fullwidth
):
    styles = CURRENCY_STYLES[currency]
    text = label + styles[style % len(styles)].format(
        n=format_amount(amount, currency, grouped, keep_cents)
    )
    if fullwidth and currency == "CNY":
        text = to_fullwidth(text)
    p = parse_price(text)
    assert p is not None, text
    assert (p.amount, p.currency, p.high) == (amount, currency, None), text
    assert to_fen(p.amount) == int(amount * 100)


@settings(max_examples=200, deadline=None)
@given(low=amounts, step=amounts, sep=st.sampled_from(["-", " - ", "~", "～", "至"]))
def test_ranges_round_trip(low, step, sep):
    high = low + step
    for text in (f"¥{low}{sep}{high}", f"{low}{sep}{high}元", f"¥{low}{sep}¥{high}"):
        p = parse_price(text)
        assert p is not None and (p.amount, p.high, p.currency) == (low, high, "CNY"), text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_safe(text):
    for p in find_prices(text):
        assert p.amount >= 0 and p.currency
    parse_price(text)
