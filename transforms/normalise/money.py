"""Scraped prices as integer fen: :func:`price_to_fen`.

Reading the number is the job of :mod:`crawlers.extract.money` (full-width digits,
thousands and decimal commas, ranges, currency signs and words, the label in front).
This module decides what the caller stores: which price of several counts, what kind of
price it is, which currency applies to a bare number, and which texts are errors.

Amounts in other currencies keep their currency code and are stored in hundredths of
that currency's unit (cents for USD, "sen" for JPY): converting currencies needs a rate
for a date, which is not a normaliser's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from crawlers.extract.money import PriceParse, find_prices, parse_price, to_fen
from transforms.normalise.errors import PLACEHOLDERS, NormaliseError
from transforms.normalise.text import _drop_invisible, _strip_markup, clean_text

__all__ = ["Price", "price_to_fen"]

_NO_PRICE = PLACEHOLDERS | {"暂无报价", "暂无价格", "价格待定", "面议", "询价", "待询价"}
_PROMO = re.compile(
    r"活动|秒杀|限时|特价|特惠|促销|抢购|拼团|团购|直播|新人|预售|闪购|大促|狂欢|聚划算|"
    r"会员|百亿补贴|flash|deal|promo",
    re.I,
)
# "¥ 1 299": a plain space before three digits could group thousands or separate two
# numbers, and reading it as ¥1 would be silently wrong by a factor of a thousand.
_SPACE_GROUPED = re.compile(r"\s\d{3}(?![\d.,])")


@dataclass(frozen=True)
class Price:
    """A price ready for ``listing_snapshots``.

    Attributes
    ----------
    fen
        The price, or the low end of a range, in hundredths of ``currency``.
    high_fen
        The high end of a range (``¥89-129``), else ``None``.
    currency
        ISO 4217 code.
    kind
        ``current`` (the selling price), ``coupon`` (券后价, 到手价: after a coupon or
        discount), ``list`` (原价, 划线价, 吊牌价: the struck-through reference price) or
        ``promo`` (活动价, 秒杀价, 拼团价: a time-limited or conditional price).
    label
        The words in front of the price in the source (``券后``, ``原价``), if any.
    """

    fen: int
    high_fen: int | None
    currency: str
    kind: str
    label: str | None = None


def _kind(price: PriceParse) -> str:
    if price.kind in ("coupon", "list"):
        return price.kind
    if price.label and _PROMO.search(price.label):
        return "promo"
    # Unlabelled, 价格/售价, and 单独购买价 (the price without joining a group) are all
    # what a single buyer pays now.
    return "current"


def _choose(value: object, text: str) -> PriceParse:
    found = find_prices(text)
    prices = [p for p in found if p.kind != "discount"]
    selling = [p for p in prices if p.kind != "list"]
    if selling or prices:
        return (selling or prices)[0]
    if found:
        raise NormaliseError(
            "price", value, f"holds only a saving or fee ({found[0].text!r}), not a price"
        )
    bare = parse_price(text)
    if bare is None:
        raise NormaliseError("price", value, "no amount found")
    return bare


def price_to_fen(text: object, *, default_currency: str | None = "CNY") -> Price | None:
    """Read a scraped price into integer fen, its currency and its kind.

    Parameters
    ----------
    text
        The price text (``"券后¥59.9 原价¥99"``, ``"￥１，２９９．００"``, ``"¥89-129"``), or
        an ``int`` or ``Decimal`` (yuan) from structured data. When the text holds
        several prices, the first selling price wins (``原价¥199 现价¥99`` gives 99);
        a list price is returned only when there is nothing else, and savings such as
        立减10元 are never prices.
    default_currency
        The currency of a bare number (``"89.00"``). ``None`` makes a bare number an
        error.

    Returns
    -------
    Price or None
        ``None`` when there is nothing to read: ``None``, an empty text, or a placeholder
        such as ``--``, 暂无报价 or 面议.

    Raises
    ------
    NormaliseError
        For text that holds no amount, only a saving or fee, a negative amount, a
        space-grouped amount that could be read two ways, or a bare number without
        ``default_currency``.

    Examples
    --------
    >>> price_to_fen("券后¥59.9 原价¥99")
    Price(fen=5990, high_fen=None, currency='CNY', kind='coupon', label='券后')
    >>> price_to_fen("¥89-129").high_fen
    12900
    >>> price_to_fen("秒杀价 ￥１，２９９．００").kind
    'promo'
    """
    if text is None:
        return None
    if isinstance(text, bool) or isinstance(text, float):
        # A float has already lost the exact amount the page showed.
        raise NormaliseError("price", text, f"{type(text).__name__} is not an exact amount")
    if isinstance(text, int | Decimal):
        if not Decimal(text).is_finite() or text < 0:
            raise NormaliseError("price", text, "not a finite, non-negative amount")
        text = str(text)
    if not isinstance(text, str):
        raise NormaliseError("price", text, f"expected text, got {type(text).__name__}")
    plain = clean_text(text)
    if plain is None or plain.lower() in _NO_PRICE:
        return None
    # The thousands separator may be a no-break space, which clean_text would make an
    # ordinary one, so the amount is read from the text with only markup removed.
    source = _drop_invisible(_strip_markup(text))
    price = _choose(text, source)
    if _SPACE_GROUPED.match(source, price.end):
        raise NormaliseError(
            "price",
            text,
            f"{source[price.start : price.end + 4].strip()!r} could be one amount grouped "
            "with spaces or two numbers",
        )
    before = source[: price.start].rstrip()
    if before.endswith(("-", "\u2212")) and not before[:-1].rstrip()[-1:].isdigit():
        raise NormaliseError("price", text, "negative amount")
    currency = price.currency or default_currency
    if currency is None:
        raise NormaliseError("price", text, "a bare number and no default currency")
    high = to_fen(price.high) if price.high is not None else None
    return Price(to_fen(price.amount), high, currency, _kind(price), price.label)
