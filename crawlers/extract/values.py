"""Small normalisers shared by every extraction method: text, availability, codes, counts."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from .money import fold_width

__all__ = [
    "AVAILABILITY_TERMS",
    "availability_term",
    "ccc_value",
    "clean_text",
    "gtin_value",
    "to_count",
    "to_rating",
]

AVAILABILITY_TERMS = (
    "InStock",
    "OutOfStock",
    "PreOrder",
    "PreSale",
    "BackOrder",
    "Discontinued",
    "LimitedAvailability",
    "SoldOut",
    "InStoreOnly",
    "OnlineOnly",
    "MadeToOrder",
    "Reserved",
)
_TERM_BY_KEY = {t.lower(): t for t in AVAILABILITY_TERMS}
_ENGLISH = {
    "instock": "InStock",
    "available": "InStock",
    "outofstock": "OutOfStock",
    "oos": "OutOfStock",
    "unavailable": "OutOfStock",
    "preorder": "PreOrder",
    "presale": "PreSale",
    "backorder": "BackOrder",
    "discontinued": "Discontinued",
    "soldout": "SoldOut",
    "limitedavailability": "LimitedAvailability",
}
# Checked in order: negative and special states before the plain "in stock" words, so
# that 没有库存 is not read as 有库存 and 预售 is not read as 售.
_CHINESE = (
    ("PreOrder", ("预售", "预定", "预订", "支付定金", "付定金", "定金预约", "pre-order")),
    (
        "SoldOut",
        ("售罄", "已售完", "已抢光", "抢光了", "卖光", "sold out", "ausverkauft", "épuisé"),
    ),
    (
        "OutOfStock",
        (
            "无货",
            "缺货",
            "没货",
            "暂无库存",
            "没有库存",
            "无库存",
            "库存不足",
            "到货通知",
            "out of stock",
            "nicht lieferbar",
            "nicht verfügbar",
            "rupture de stock",
        ),
    ),
    ("Discontinued", ("已下架", "下架", "停售", "停产", "discontinued")),
    ("LimitedAvailability", ("仅剩", "库存紧张", "少量库存", "即将售罄", "left in stock")),
    ("BackOrder", ("补货中", "订货", "backorder", "back-order")),
    (
        "InStock",
        (
            "有货",
            "现货",
            "在售",
            "库存充足",
            "有库存",
            "in stock",
            "lieferbar",
            "auf lager",
            "en stock",
        ),
    ),
)
# Traditional forms of the characters in the shop words above and in spec labels, so
# Big5 (Taiwan, Hong Kong) pages read the same as simplified ones.
TRADITIONAL = str.maketrans(
    "号产厂业制库证书编条码认称态货现无预订卖铺标罄缺后价质纪录单买选择优惠详说发运费",
    "號產廠業製庫證書編條碼認稱態貨現無預訂賣鋪標罄缺後價質紀錄單買選擇優惠詳說發運費",
)


def with_traditional(words: tuple[str, ...]) -> tuple[str, ...]:
    """``words`` followed by their traditional spellings (where they differ)."""
    return tuple(dict.fromkeys((*words, *(w.translate(TRADITIONAL) for w in words))))


_CHINESE = tuple((term, with_traditional(words)) for term, words in _CHINESE)
_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
_ASCII_DIGITS = re.compile(r"[0-9]+")
_CCC_NUMBER = re.compile(r"(?<!\d)(\d{16})(?!\d)")
_CCC_MARK = re.compile(r"CCC|3C", re.I)
_COUNT = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(万|千)?")
_RATING = re.compile(r"\d+(?:\.\d+)?")


def clean_text(value: object) -> str | None:
    """Collapse runs of whitespace (including the ideographic space) and strip.

    Examples
    --------
    >>> clean_text("  美的\\u3000(Midea)\\n ")
    '美的 (Midea)'
    """
    if value is None:
        return None
    text = _SPACE.sub(" ", str(value)).strip()
    return text or None


def availability_term(value: object) -> str | None:
    """The schema.org ``ItemAvailability`` term for a URL, a term or shop text.

    Parameters
    ----------
    value
        ``https://schema.org/InStock``, ``instock``, ``in stock``, ``有货``, ``暂时缺货``,
        ``预售``, ``已售罄`` …

    Returns
    -------
    str or None
        One of :data:`AVAILABILITY_TERMS`, or ``None`` when the text says nothing about
        stock.

    Examples
    --------
    >>> availability_term("http://schema.org/OutOfStock"), availability_term("现货速发")
    ('OutOfStock', 'InStock')
    """
    text = clean_text(value)
    if not text:
        return None
    tail = re.split(r"[/#:]", text)[-1]
    key = re.sub(r"[\s_\-]", "", tail).lower()
    if key in _TERM_BY_KEY:
        return _TERM_BY_KEY[key]
    if key in _ENGLISH:
        return _ENGLISH[key]
    lowered = text.lower()
    for term, words in _CHINESE:
        if any(w in lowered for w in words):
            return term
    return None


def gtin_value(value: object, check: bool = False) -> str | None:
    """Digits of a GTIN-8/12/13/14; with ``check``, only if the check digit is right.

    Examples
    --------
    >>> gtin_value("69 32978 52044 7", check=True)
    '6932978520447'
    """
    if value is None:
        return None
    digits = "".join(_ASCII_DIGITS.findall(fold_width(str(value))))
    if len(digits) not in (8, 12, 13, 14):
        return None
    if check and not gtin_check_ok(digits):
        return None
    return digits


def gtin_check_ok(digits: str) -> bool:
    """Whether the last of ``digits`` (ASCII) is the GS1 check digit of the others:
    weights 3 and 1 alternating from the right of the body.

    >>> gtin_check_ok("6932978520447"), gtin_check_ok("6932978520446")
    (True, False)
    """
    body, last = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == last


def ccc_value(text: object) -> str | None:
    """A 16-digit CCC certificate number in ``text``, else ``"CCC"`` if the mark is named.

    Examples
    --------
    >>> ccc_value("CCC 2021010701234567"), ccc_value("3C认证"), ccc_value("无")
    ('2021010701234567', 'CCC', None)
    """
    if text is None:
        return None
    folded = fold_width(str(text))
    m = _CCC_NUMBER.search(folded)
    if m:
        return m.group(1)
    return "CCC" if _CCC_MARK.search(folded) else None


def to_count(value: object) -> int | None:
    """An integer count from ``17``, ``"1,234"``, ``"1.2万+"`` or ``"(36)"``.

    Examples
    --------
    >>> to_count("1.2万+"), to_count("累计评价 1,234")
    (12000, 1234)
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    m = _COUNT.search(fold_width(str(value)))
    if not m:
        return None
    try:
        number = Decimal(m.group(1).replace(",", ""))
    except InvalidOperation:
        return None
    if m.group(2) == "万":
        number *= 10_000
    elif m.group(2) == "千":
        number *= 1_000
    return int(number)


def to_rating(value: object) -> float | None:
    """A rating value (``"4.8"``, ``4.8``, ``"评分 4.8"``) as a float in [0, 100]."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        rating = float(value)
    else:
        m = _RATING.search(fold_width(str(value)))
        if not m:
            return None
        rating = float(m.group(0))
    return rating if 0 <= rating <= 100 else None
