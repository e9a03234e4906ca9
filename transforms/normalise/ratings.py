"""Ratings on one scale: :func:`to_five_scale`.

Every rating becomes a number from 1 to 5, the scale of a five-star review:

- a score on five points (``4.8``, ``4.8分``, ``4.8/5``, ``★★★★☆``, ``4星``) is kept as it
  is and must lie between 1 and 5 (one star is the lowest a buyer can give);
- a share of positive reviews (``98%``, ``好评率98%``) maps 0 % to 1 and 100 % to 5,
  so 98 % gives 1 + 4 × 0.98 = 4.92;
- a score on any other scale (``9.6/10``, or ``96`` with ``scale_max=100``) is read as
  that share of the scale and mapped the same way: 9.6/10 gives 4.84.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from transforms.normalise.errors import PLACEHOLDERS, NormaliseError
from transforms.normalise.text import clean_text

__all__ = ["to_five_scale"]

_NO_RATING = PLACEHOLDERS | {
    "暂无评分",
    "暂无评价",
    "暂无评论",
    "无评分",
    "no rating",
    "no ratings",
}
_LABEL = re.compile(
    r"^(?:好评率|好评度|满意度|评分|综合评分|店铺评分|商品评分|宝贝评分|描述相符|服务态度|"
    r"物流服务|rating|score)\s*[:：]?\s*",
    re.I,
)
_NUMBER = r"\d+(?:\.\d+)?"
_PERCENT = re.compile(rf"(?P<v>{_NUMBER})\s*%")
_OUT_OF = re.compile(
    rf"(?P<v>{_NUMBER})\s*分?\s*(?:/|out of|满分)\s*(?P<max>{_NUMBER})\s*分?", re.I
)
_SCORE = re.compile(rf"(?P<v>{_NUMBER})\s*(?:分|星|stars?)?", re.I)
_STARS = re.compile(r"(?P<full>★*)(?P<half>½?)(?P<empty>☆*)")
_CHINESE_STARS = re.compile(r"(?P<n>[一二三四五])\s*星(?:好评)?")
_CHINESE = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}
_FIVE = Decimal(5)
_ONE = Decimal(1)
_FOUR = Decimal(4)


def _share(value: object, v: Decimal, top: Decimal) -> Decimal:
    if top <= 0:
        raise NormaliseError("rating", value, f"scale maximum {top} is not positive")
    if not 0 <= v <= top:
        raise NormaliseError("rating", value, f"{v} is outside the scale 0–{top}")
    return _ONE + _FOUR * v / top


def _on_scale(value: object, v: Decimal, top: Decimal) -> Decimal:
    if top == _FIVE:
        if not _ONE <= v <= _FIVE:
            raise NormaliseError("rating", value, f"{v} is outside the five-point scale 1–5")
        return v
    return _share(value, v, top)


def _from_text(value: object, text: str, scale_max: Decimal | None) -> Decimal:
    text = _LABEL.sub("", text)
    if m := _PERCENT.fullmatch(text):
        return _share(value, Decimal(m.group("v")), Decimal(100))
    if m := _OUT_OF.fullmatch(text):
        top = Decimal(m.group("max"))
        if scale_max is not None and top != scale_max:
            raise NormaliseError("rating", value, f"says out of {top} but scale_max is {scale_max}")
        return _on_scale(value, Decimal(m.group("v")), top)
    if (m := _STARS.fullmatch(text)) and text:
        full, half = len(m.group("full")), 0.5 if m.group("half") else 0
        top = Decimal(full + len(m.group("half")) + len(m.group("empty")))
        return _on_scale(value, Decimal(full) + Decimal(str(half)), top)
    if m := _CHINESE_STARS.fullmatch(text):
        return Decimal(_CHINESE[m.group("n")])
    if m := _SCORE.fullmatch(text):
        v = Decimal(m.group("v"))
        if scale_max is None and v > _FIVE:
            raise NormaliseError(
                "rating", value, f"{v} is above 5 and the text names no scale; pass scale_max"
            )
        return _on_scale(value, v, scale_max or _FIVE)
    raise NormaliseError("rating", value, "not a score, percentage or star rating")


def to_five_scale(value: object, scale_max: float | int | None = None) -> float | None:
    """A rating mapped onto the five-star scale, 1 to 5.

    Parameters
    ----------
    value
        ``4.8``, ``"4.8分"``, ``"98%"``, ``"好评率98%"``, ``"9.6/10"``, ``"★★★★☆"``, an int
        from 1 to 5.
    scale_max
        The top of the scale for a bare number that is not on five points (``10``,
        ``100``). A text that names its own scale (``9.6/10``) must agree with it.

    Returns
    -------
    float or None
        ``None`` for ``None``, empty text and placeholders such as 暂无评分.

    Raises
    ------
    NormaliseError
        For a value outside its scale, a bare number above 5 without ``scale_max``, or
        text that is not a rating.

    Examples
    --------
    >>> to_five_scale("好评率98%"), to_five_scale("9.6/10"), to_five_scale("★★★★☆")
    (4.92, 4.84, 4.0)
    """
    if value is None:
        return None
    top = None
    if scale_max is not None:
        try:
            top = Decimal(str(scale_max))
        except InvalidOperation:
            raise NormaliseError(
                "rating", value, f"scale_max {scale_max!r} is not a number"
            ) from None
        if not top.is_finite() or top <= 0:
            raise NormaliseError("rating", value, f"scale_max {scale_max!r} is not positive")
    if isinstance(value, bool):
        raise NormaliseError("rating", value, "a boolean is not a rating")
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
        if not number.is_finite():
            raise NormaliseError("rating", value, "not a finite number")
        if top is None and number > _FIVE:
            raise NormaliseError("rating", value, f"{number} is above 5 and no scale_max was given")
        return float(_on_scale(value, number, top or _FIVE))
    if not isinstance(value, str):
        raise NormaliseError(
            "rating", value, f"expected text or a number, got {type(value).__name__}"
        )
    plain = clean_text(value)
    if plain is None or plain.lower() in _NO_RATING:
        return None
    return float(_from_text(value, plain.lower(), top))
