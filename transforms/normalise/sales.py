"""Sales counts as shops print them: :func:`parse_sales`.

``1.2万+``, ``10w+人付款``, ``月销3000+``, ``已售 2.3万 件``, ``销量 999+``, ``1千+``,
``已拼5.6万件``, ``热销 1,234``. Platforms shorten large counts by cutting digits off
(12,345 sold shows as ``1.2万``), so a shortened count is the lower bound of the true
one, as is any count with ``+``, 余, 多, 以上 or 超过.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from transforms.normalise.errors import PLACEHOLDERS, NormaliseError
from transforms.normalise.text import clean_text

__all__ = ["Sales", "parse_sales"]

_NO_SALES = PLACEHOLDERS | {"暂无销量", "暂无成交", "暂无销售"}
_MULTIPLIERS = {
    "万": Decimal(10_000),
    "w": Decimal(10_000),
    "亿": Decimal(100_000_000),
    "千": Decimal(1_000),
    "k": Decimal(1_000),
}
_MONTH = re.compile(r"月销量?|月售|月成交|本月|(?:近|最近)?30天")
# Other windows are refused rather than filed under the wrong one.
_OTHER_WINDOW = re.compile(
    r"(?:近|最近)?\d+\s*(?:天|日|小时|周|个月|年)|今日|今天|昨日|昨天|本周|本年|今年|年销量?|年售"
)
_NUMBER = re.compile(
    r"(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(?P<mul>[万w亿千k])?(?![a-z])"
    r"\s*(?P<plus>\+|余|多|以上)?",
    re.I,
)
_WORDS = re.compile(
    r"已售出?|已卖出?|已拼|已抢|已团|已付款|已买|已购|热销|累计|总销量|销量|销售|成交|售出|"
    r"人付款|人已付款|人收货|人已购买|人购买|人已买|人想要|付款|收货|购买|"
    r"超过|超|约|近|共|件|笔|单|份|人|个|次|"
    r"sold|sales|bought|orders?|\+",
    re.I,
)
_APPROXIMATE = re.compile(r"约|近(?!\d+\s*天)")
_AT_LEAST = re.compile(r"超过|超")


@dataclass(frozen=True)
class Sales:
    """A sales count.

    Attributes
    ----------
    count
        The number sold, or its lower bound.
    is_lower_bound
        True when the true count may be higher (``999+``, ``1.2万``).
    window
        ``month`` for 月销, 月售 and 30-day counts; ``total`` for all-time counts.
    """

    count: int
    is_lower_bound: bool
    window: str


def parse_sales(text: object) -> Sales | None:
    """Read a sales count with its window and whether it is a lower bound.

    Parameters
    ----------
    text
        The sales text, or an ``int`` from structured data.

    Returns
    -------
    Sales or None
        ``None`` for ``None``, empty text and placeholders such as 暂无销量.

    Raises
    ------
    NormaliseError
        For text with no number or several, a fractional count, a window other than a
        month or all time (年销, 近7天), or words that are not about sales.

    Examples
    --------
    >>> parse_sales("月销1.2万+")
    Sales(count=12000, is_lower_bound=True, window='month')
    >>> parse_sales("热销 1,234")
    Sales(count=1234, is_lower_bound=False, window='total')
    """
    if text is None:
        return None
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise NormaliseError("sales", text, "negative count")
        return Sales(text, False, "total")
    if not isinstance(text, str):
        raise NormaliseError("sales", text, f"expected text, got {type(text).__name__}")
    plain = clean_text(text)
    if plain is None or plain.lower() in _NO_SALES:
        return None
    window = "total"
    rest, months = _MONTH.subn(" ", plain)
    if months:
        window = "month"
    other = _OTHER_WINDOW.search(rest)
    if other:
        raise NormaliseError(
            "sales", text, f"counts over {other.group(0)!r}, neither a month nor all time"
        )
    numbers = list(_NUMBER.finditer(rest))
    if not numbers:
        raise NormaliseError("sales", text, "no number found")
    if len(numbers) > 1:
        shown = ", ".join(repr(m.group(0).strip()) for m in numbers)
        raise NormaliseError("sales", text, f"several numbers ({shown}); expected one count")
    m = numbers[0]
    words = rest[: m.start()] + " " + rest[m.end() :]
    leftover = _WORDS.sub(" ", words)
    leftover = re.sub(r"[\s:：,，.。·|/()（）\[\]【】]+", "", leftover)
    if leftover:
        raise NormaliseError("sales", text, f"unexpected words {leftover!r} around the count")
    number = Decimal(m.group("num").replace(",", ""))
    mul = m.group("mul")
    if mul:
        number *= _MULTIPLIERS[mul.lower()]
    elif number != number.to_integral_value():
        raise NormaliseError("sales", text, "a fractional count without 万, w, 千 or k")
    count = int(number.to_integral_value(rounding=ROUND_FLOOR))
    lower = bool(mul or m.group("plus") or _AT_LEAST.search(words))
    if _APPROXIMATE.search(words) and not m.group("plus"):
        lower = False
    return Sales(count, lower, window)
