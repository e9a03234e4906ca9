"""price_to_fen: integer fen, currency and kind from the prices shops print."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.normalise import NormaliseError, Price, price_to_fen


@pytest.mark.parametrize(
    ("raw", "fen", "high", "currency", "kind"),
    [
        ("¥89", 8900, None, "CNY", "current"),
        ("￥１，２９９．００", 129900, None, "CNY", "current"),
        ("¥ 1 299,00", 129900, None, "CNY", "current"),
        ("¥1\u00a0299", 129900, None, "CNY", "current"),
        ("¥89-129", 8900, 12900, "CNY", "current"),
        ("¥89.00 - ¥129.00", 8900, 12900, "CNY", "current"),
        ("89~129元", 8900, 12900, "CNY", "current"),
        ("券后¥59.9 原价¥99", 5990, None, "CNY", "coupon"),
        ("原价¥199 现价¥99", 9900, None, "CNY", "current"),
        ("原价：¥199", 19900, None, "CNY", "list"),
        ("划线价¥299", 29900, None, "CNY", "list"),
        ("吊牌价 ¥599", 59900, None, "CNY", "list"),
        ("到手价￥１，２９９．００起", 129900, None, "CNY", "coupon"),
        ("立减10元 到手价¥89", 8900, None, "CNY", "coupon"),
        ("秒杀价 ¥19.9", 1990, None, "CNY", "promo"),
        ("活动价：¥88", 8800, None, "CNY", "promo"),
        ("拼团价¥25.8", 2580, None, "CNY", "promo"),
        ("限时特惠¥50", 5000, None, "CNY", "promo"),
        ("单独购买价¥30", 3000, None, "CNY", "current"),
        ("<span class=price>&yen;</span><em>99</em>.<i>90</i>", 9990, None, "CNY", "current"),
        ("89.00", 8900, None, "CNY", "current"),
        ("价格: 89", 8900, None, "CNY", "current"),
        ("1.2万元", 1200000, None, "CNY", "current"),
        ("RMB 88.50", 8850, None, "CNY", "current"),
        ("¥0.01", 1, None, "CNY", "current"),
        ("¥0", 0, None, "CNY", "current"),
        ("$1,299.99", 129999, None, "USD", "current"),
        ("1.299,00 €", 129900, None, "EUR", "current"),
        ("HK$ 328", 32800, None, "HKD", "current"),
        ("¥1,000円", 100000, None, "JPY", "current"),
        (1299, 129900, None, "CNY", "current"),
        (Decimal("19.99"), 1999, None, "CNY", "current"),
    ],
)
def test_price_to_fen(raw, fen, high, currency, kind):
    price = price_to_fen(raw)
    assert (price.fen, price.high_fen, price.currency, price.kind) == (fen, high, currency, kind)
    assert isinstance(price.fen, int)


@pytest.mark.parametrize("raw", [None, "", "   ", "--", "-", "暂无报价", "面议", "N/A", "<br>"])
def test_nothing_to_read(raw):
    assert price_to_fen(raw) is None


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("¥abc", "no amount found"),
        ("garbage", "no amount found"),
        ("立减10元", "saving or fee"),
        ("运费¥10", "saving or fee"),
        ("¥ 1 299", "grouped with spaces or two numbers"),
        ("-¥5", "negative"),
        (19.99, "not an exact amount"),
        (-5, "non-negative"),
        (["¥5"], "expected text"),
    ],
)
def test_errors_name_the_value_and_the_problem(raw, problem):
    with pytest.raises(NormaliseError) as info:
        price_to_fen(raw)
    assert problem in str(info.value)
    assert repr(raw)[:20] in str(info.value)


def test_bare_number_needs_a_currency_when_no_default():
    with pytest.raises(NormaliseError, match="no default currency"):
        price_to_fen("89.00", default_currency=None)
    assert price_to_fen("89.00", default_currency="USD") == Price(8900, None, "USD", "current")
    assert price_to_fen("¥89", default_currency=None).currency == "CNY"


def _wide(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


def _grouped(yuan: int, sep: str) -> str:
    return f"{yuan:,}".replace(",", sep)


STYLES = {
    "plain": lambda y, f: f"¥{y}.{f:02d}",
    "full-width": lambda y, f: "￥" + _wide(f"{y:,}.{f:02d}"),
    "yuan word": lambda y, f: f"{y:,}.{f:02d}元",
    "rmb": lambda y, f: f"RMB {y:,}.{f:02d}",
    "space and decimal comma": lambda y, f: f"¥ {_grouped(y, ' ')},{f:02d}",
    "no-break space": lambda y, f: f"¥{_grouped(y, chr(0xA0))}.{f:02d}",
    "label": lambda y, f: f"售价：¥{y:,}.{f:02d}",
    "html": lambda y, f: f"<span>&yen;</span><b>{y:,}</b>.{f:02d}",
    "bare": lambda y, f: f"{y}.{f:02d}",
}


@settings(max_examples=400, deadline=None)
@given(st.integers(min_value=0, max_value=10**11), st.sampled_from(sorted(STYLES)))
def test_formatted_fen_parses_back(fen, style):
    text = STYLES[style](*divmod(fen, 100))
    price = price_to_fen(text)
    assert price.fen == fen, text
    assert price.currency == "CNY"


KINDS = {"券后价": "coupon", "到手价": "coupon", "原价": "list", "划线价": "list"}
KINDS |= {"秒杀价": "promo", "活动价": "promo", "价格": "current", "": "current"}


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=1, max_value=10**8),
    st.integers(min_value=1, max_value=10**8),
    st.sampled_from(sorted(KINDS)),
)
def test_labelled_ranges_keep_both_ends_and_the_kind(low, extra, label):
    high = low + extra
    text = f"{label}¥{low // 100}.{low % 100:02d}-{high // 100}.{high % 100:02d}"
    price = price_to_fen(text)
    assert (price.fen, price.high_fen, price.kind) == (low, high, KINDS[label])
