"""Prices as shops print them: ``¥1,299.00``, ``券后价￥89``, ``89~129元``, ``1.299,00 €``.

Amounts are :class:`~decimal.Decimal`, never float. :func:`find_prices` scans a text for
every price with its currency, range end and the label in front of it (原价, 券后价 …);
:func:`parse_price` reads one price string; :func:`to_fen` turns an amount into integer
hundredths for storage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = [
    "PriceParse",
    "classify_label",
    "find_prices",
    "fold_width",
    "parse_amount",
    "parse_price",
    "to_fen",
]

# Full-width ASCII, the ideographic space and the full-width currency signs, mapped one
# character to one character so that offsets into the folded text stay valid.
_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FOLD.update({0x3000: 0x20, 0xFFE5: ord("¥"), 0xFFE1: ord("£"), 0xFFE0: ord("¢")})

_PREFIXES = {
    "US$": "USD",
    "USD": "USD",
    "HK$": "HKD",
    "HKD": "HKD",
    "NT$": "TWD",
    "TWD": "TWD",
    "S$": "SGD",
    "SGD": "SGD",
    "A$": "AUD",
    "AU$": "AUD",
    "AUD": "AUD",
    "C$": "CAD",
    "CA$": "CAD",
    "CAD": "CAD",
    "JP¥": "JPY",
    "JPY": "JPY",
    "CN¥": "CNY",
    "RMB": "CNY",
    "CNY": "CNY",
    "人民币": "CNY",
    "EUR": "EUR",
    "GBP": "GBP",
    "KRW": "KRW",
    "€": "EUR",
    "£": "GBP",
    "₩": "KRW",
    "₹": "INR",
    "¥": "CNY",
    "$": "USD",
}
_SUFFIXES = {
    "美元": "USD",
    "欧元": "EUR",
    "港元": "HKD",
    "港币": "HKD",
    "日元": "JPY",
    "英镑": "GBP",
    "人民币": "CNY",
    "元": "CNY",
    "块": "CNY",
    "円": "JPY",
    "€": "EUR",
    "EUR": "EUR",
    "USD": "USD",
    "RMB": "CNY",
    "CNY": "CNY",
    "GBP": "GBP",
    "HKD": "HKD",
    "JPY": "JPY",
}
# Currencies whose prices are conventionally written with a decimal comma.
_DECIMAL_COMMA = {"EUR"}
_MULTIPLIERS = {"万": Decimal(10_000), "亿": Decimal(100_000_000), "千": Decimal(1_000)}


def _alternation(tokens: dict[str, str]) -> str:
    parts = []
    for tok in sorted(tokens, key=len, reverse=True):
        esc = re.escape(tok)
        parts.append(rf"(?<![A-Za-z]){esc}(?![A-Za-z])" if tok.isalpha() and tok.isascii() else esc)
    return "|".join(parts)


_PRE = _alternation(_PREFIXES)
_SUF = _alternation(_SUFFIXES)
# Grouped thousands first (1,299.00 / 1.299,00 / 1 299,00 with a no-break space), then plain.
_NUM = (
    r"\d{1,3}(?: \d{3})+,\d{1,2}(?!\d)"  # 1 299,00 (a plain space only before a decimal comma)
    r"|\d{1,3}(?:[,.'\u00a0\u202f\u2009]\d{3})+(?:[.,]\d+)?(?!\d)"
    r"|\d+(?:[.,]\d+)?"
)
_MUL = r"[万亿千]"
_RSEP = r"\s*(?:-|–|—|~|～|至|到)\s*"
_PRICE_RE = re.compile(
    rf"(?P<pcur>{_PRE})\s*(?P<pn1>{_NUM})(?P<pm1>{_MUL})?"
    rf"(?:{_RSEP}(?:{_PRE})?\s*(?P<pn2>{_NUM})(?P<pm2>{_MUL})?)?"
    rf"(?:\s*(?P<psuf>{_SUF}))?"
    rf"|(?<![\d.,])(?P<sn1>{_NUM})(?P<sm1>{_MUL})?"
    rf"(?:\s*(?:{_SUF})?{_RSEP}(?P<sn2>{_NUM})(?P<sm2>{_MUL})?)?\s*(?P<ssuf>{_SUF})"
)
_BARE_RE = re.compile(
    rf"^\s*(?P<cur>{_PRE})?\s*(?P<n1>{_NUM})(?P<m1>{_MUL})?"
    rf"(?:{_RSEP}(?:{_PRE})?\s*(?P<n2>{_NUM})(?P<m2>{_MUL})?)?\s*(?P<suf>{_SUF})?\s*$"
)

_COUPON = re.compile(r"(券后价?|到手价?|预估到手价?|折后价?|用券后|final price)$", re.I)
_LIST = re.compile(
    r"(原价|划线价|市场价|参考价|吊牌价|专柜价|零售价|指导价|门市价|日常价|官方价|定价|"
    r"was|rrp|msrp|list price|regular price|original price|uvp|statt)$",
    re.I,
)
_ALTERNATIVE = re.compile(r"(单独购买|单买价?|单件价)$")
_CURRENT = re.compile(r"(价|价格|售价|现价|到手|price|now|sale|preis|prix)$", re.I)
_DISCOUNT = re.compile(
    r"(券|减|立减|直降|省|节省|优惠|红包|定金|订金|运费|邮费|配送费|返现|返|补贴|赠|送|抵|满|"
    r"save|off|shipping|deposit)$",
    re.I,
)
_LABEL_STRIP = " \t\r\n:：(（[【|·"
_LABEL_CUT = re.compile(r"[\d¥$€£\n%]")


@dataclass(frozen=True)
class PriceParse:
    """One price read from text.

    Attributes
    ----------
    amount
        The price, or the low end of a range.
    currency
        ISO 4217 code (``CNY`` for ¥, ￥, 元, RMB, 人民币), or ``None`` for a bare number.
    high
        The high end of a range (``¥89-129``), else ``None``.
    label
        The words just before the price (``券后价``, ``原价``), if any.
    kind
        What the label says the price is: ``current``, ``list`` (原价, 划线价),
        ``coupon`` (券后价, 到手价), ``alternative`` (单独购买), ``discount`` (a saving,
        deposit or fee such as 立减10元, not a price) or ``None`` when unlabelled.
    text, start, end
        The matched text and its offsets in the scanned string.
    """

    amount: Decimal
    currency: str | None
    high: Decimal | None = None
    label: str | None = None
    kind: str | None = None
    text: str = ""
    start: int = 0
    end: int = 0

    @property
    def low(self) -> Decimal:
        return self.amount


def fold_width(text: str) -> str:
    """Map full-width letters, digits, punctuation and ￥ to ASCII, keeping offsets.

    Examples
    --------
    >>> fold_width("￥１，２９９．００")
    '¥1,299.00'
    """
    return text.translate(_FOLD)


def parse_amount(number: str, decimal_comma: bool = False) -> Decimal | None:
    """Read a number with thousands separators or a decimal comma.

    A single ``,`` followed by one or two digits is a decimal comma (``12,50``); followed
    by three it groups thousands (``1,299``). A single ``.`` followed by three digits
    groups thousands only when ``decimal_comma`` is set (``1.299 €``). With both signs
    present the last one is the decimal point.

    Examples
    --------
    >>> parse_amount("1,299.00"), parse_amount("1.299,00"), parse_amount("12,50")
    (Decimal('1299.00'), Decimal('1299.00'), Decimal('12.50'))
    """
    s = fold_width(number).strip()
    for space in ("'", "\u00a0", "\u202f", "\u2009", " "):
        s = s.replace(space, "")
    if not s:
        return None
    commas, dots = s.count(","), s.count(".")
    if commas and dots:
        point = "," if s.rfind(",") > s.rfind(".") else "."
        group = "." if point == "," else ","
        s = s.replace(group, "").replace(point, ".")
    elif commas or dots:
        sep = "," if commas else "."
        count = commas or dots
        after = len(s) - s.rfind(sep) - 1
        if count > 1:
            s = s.replace(sep, "")
        elif after == 3 and (sep == "," or decimal_comma):
            s = s.replace(sep, "")
        else:
            s = s.replace(sep, ".")
    try:
        value = Decimal(s)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def classify_label(label: str | None) -> str | None:
    """The kind of price a label announces (see :class:`PriceParse`), or ``None``.

    Examples
    --------
    >>> classify_label("券后价"), classify_label("原价："), classify_label("优品价")
    ('coupon', 'list', 'current')
    """
    if not label:
        return None
    text = label.strip(_LABEL_STRIP)
    if not text:
        return None
    for kind, pattern in (
        ("coupon", _COUPON),
        ("list", _LIST),
        ("alternative", _ALTERNATIVE),
        ("current", _CURRENT),
        ("discount", _DISCOUNT),
    ):
        if pattern.search(text):
            return kind
    return None


def _label_before(text: str, start: int) -> str | None:
    window = text[max(0, start - 16) : start]
    window = _LABEL_CUT.split(window)[-1].strip(_LABEL_STRIP)
    return window[-10:] or None


def _scaled(number: str | None, mult: str | None, decimal_comma: bool) -> Decimal | None:
    if number is None:
        return None
    value = parse_amount(number, decimal_comma)
    if value is None:
        return None
    if mult:
        value = (value * _MULTIPLIERS[mult]).quantize(Decimal("0.01"))
    return value


def _build(
    text: str,
    start: int,
    end: int,
    currency: str | None,
    parts: tuple[str | None, str | None, str | None, str | None],
) -> PriceParse | None:
    n1, m1, n2, m2 = parts
    comma = currency in _DECIMAL_COMMA
    low = _scaled(n1, m1, comma)
    if low is None:
        return None
    high = _scaled(n2, m2, comma)
    if high is not None and high <= low:
        high = None
    label = _label_before(text, start)
    return PriceParse(
        low, currency, high, label, classify_label(label), text[start:end], start, end
    )


def find_prices(text: str) -> list[PriceParse]:
    """Every price in ``text`` that carries a currency sign or word, in order.

    Parameters
    ----------
    text
        Any text; full-width characters are read as their ASCII forms.

    Returns
    -------
    list of PriceParse
        With offsets into ``text`` and the label in front of each price.

    Examples
    --------
    >>> [(p.amount, p.kind) for p in find_prices("原价￥129.00 券后价￥89.00")]
    [(Decimal('129.00'), 'list'), (Decimal('89.00'), 'coupon')]
    """
    folded = fold_width(text)
    out = []
    for m in _PRICE_RE.finditer(folded):
        if m.group("pcur") is not None:
            currency = _PREFIXES[m.group("pcur")]
            suffix = m.group("psuf")
            if suffix is not None and currency == "CNY" and _SUFFIXES[suffix] == "JPY":
                currency = "JPY"  # ¥1,000円
            parts = (m.group("pn1"), m.group("pm1"), m.group("pn2"), m.group("pm2"))
        else:
            currency = _SUFFIXES[m.group("ssuf")]
            parts = (m.group("sn1"), m.group("sm1"), m.group("sn2"), m.group("sm2"))
        price = _build(folded, m.start(), m.end(), currency, parts)
        if price is not None:
            out.append(price)
    return out


def parse_price(text: object) -> PriceParse | None:
    """Read the price in a short text such as a price element or a JSON-LD value.

    The first price with a currency sign or word wins; a text that is nothing but a
    number or a range (``"89.00"``, ``5``, ``"89-129"``, with an optional label such as
    ``价格：``) gives that number with ``currency=None``.

    Parameters
    ----------
    text
        A string, or a number as found in JSON (``19.99``, ``5``).

    Returns
    -------
    PriceParse or None
        ``None`` when the text holds no price.

    Examples
    --------
    >>> p = parse_price("券后价￥1,299.00")
    >>> p.amount, p.currency, p.kind
    (Decimal('1299.00'), 'CNY', 'coupon')
    >>> parse_price("1.299,00 €").amount
    Decimal('1299.00')
    >>> p = parse_price("¥89.00 - ¥129.00")
    >>> p.amount, p.high
    (Decimal('89.00'), Decimal('129.00'))
    """
    if text is None or isinstance(text, bool):
        return None
    if isinstance(text, int | float | Decimal):
        if isinstance(text, float) and text != text:  # NaN
            return None
        value = Decimal(str(text))
        return (
            PriceParse(value, None, text=str(text), end=len(str(text)))
            if value.is_finite()
            else None
        )
    s = str(text)
    found = find_prices(s)
    if found:
        return found[0]
    folded = fold_width(s)
    label_match = re.match(r"^\s*([^\d¥$€£.,]{0,12}?)\s*[:：]?\s*(?=\d)", folded)
    label = label_match.group(1).strip(_LABEL_STRIP) if label_match else ""
    rest = folded[label_match.end() :] if label_match else folded
    m = _BARE_RE.match(rest)
    if not m:
        return None
    currency = _PREFIXES.get(m.group("cur") or "") or _SUFFIXES.get(m.group("suf") or "")
    offset = len(folded) - len(rest)
    price = _build(
        folded,
        offset,
        len(folded),
        currency,
        (m.group("n1"), m.group("m1"), m.group("n2"), m.group("m2")),
    )
    if price is None:
        return None
    kind = classify_label(label)
    return PriceParse(price.amount, currency, price.high, label or None, kind, s, 0, len(s))


def to_fen(amount: Decimal) -> int:
    """An amount in integer hundredths (fen, cents), rounding half up.

    Examples
    --------
    >>> to_fen(Decimal("1299.005")), to_fen(Decimal("89"))
    (129901, 8900)
    """
    return int((Decimal(amount) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
