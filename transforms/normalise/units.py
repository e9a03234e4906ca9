"""Product attributes with a unit: :func:`parse_quantity`.

``1.5L``, ``500ml``, ``1500W``, ``2.2kW``, ``20000mAh``, ``5V/2A``, ``55英寸``, ``2斤``.
Each unit is brought to one base unit per dimension so that attributes compare:

========  ==========================================================
base      read from
========  ==========================================================
``L``     L, l, 升, ml, mL, 毫升
``W``     W, 瓦, kW, 千瓦
``kg``    kg, 公斤, 千克, g, 克, 斤 (0.5 kg)
``mAh``   mAh, 毫安, 毫安时, Ah
``V``     V, 伏
``m``     m, 米, cm, 厘米, mm, 毫米
``inch``  英寸, 寸, 吋, ", inch (in TV and screen sizes 寸 means 英寸)
========  ==========================================================

The first quantity in the text wins (``5V/2A`` gives 5 V); values are exact Decimals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from transforms.normalise.errors import PLACEHOLDERS, NormaliseError
from transforms.normalise.text import clean_text

__all__ = ["Quantity", "parse_quantity"]

# unit as written (lower case for Latin letters) -> (base unit, factor to the base)
_UNITS: dict[str, tuple[str, Decimal]] = {
    "l": ("L", Decimal(1)),
    "升": ("L", Decimal(1)),
    "ml": ("L", Decimal("0.001")),
    "毫升": ("L", Decimal("0.001")),
    "w": ("W", Decimal(1)),
    "瓦": ("W", Decimal(1)),
    "kw": ("W", Decimal(1000)),
    "千瓦": ("W", Decimal(1000)),
    "kg": ("kg", Decimal(1)),
    "公斤": ("kg", Decimal(1)),
    "千克": ("kg", Decimal(1)),
    "g": ("kg", Decimal("0.001")),
    "克": ("kg", Decimal("0.001")),
    "斤": ("kg", Decimal("0.5")),
    "mah": ("mAh", Decimal(1)),
    "毫安时": ("mAh", Decimal(1)),
    "毫安": ("mAh", Decimal(1)),
    "ah": ("mAh", Decimal(1000)),
    "v": ("V", Decimal(1)),
    "伏": ("V", Decimal(1)),
    "m": ("m", Decimal(1)),
    "米": ("m", Decimal(1)),
    "cm": ("m", Decimal("0.01")),
    "厘米": ("m", Decimal("0.01")),
    "mm": ("m", Decimal("0.001")),
    "毫米": ("m", Decimal("0.001")),
    "英寸": ("inch", Decimal(1)),
    "寸": ("inch", Decimal(1)),
    "吋": ("inch", Decimal(1)),
    "inch": ("inch", Decimal(1)),
    "inches": ("inch", Decimal(1)),
    '"': ("inch", Decimal(1)),
}
_UNIT_ALTERNATION = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
_QUANTITY = re.compile(
    rf"(?<![\d.])(?P<num>{_NUMBER})\s*(?P<unit>{_UNIT_ALTERNATION})(?![a-z²³])", re.I
)
_RANGE = re.compile(rf"(?<![\d.])(?:{_NUMBER})\s*(?:-|~|～|至|到)\s*$")
_NUMBER_THEN_WORD = re.compile(rf"(?P<num>{_NUMBER})\s*(?P<unit>[a-zA-Z]+|[^\s\d])?")


@dataclass(frozen=True)
class Quantity:
    """An amount in a base unit (``L``, ``W``, ``kg``, ``mAh``, ``V``, ``m``, ``inch``)."""

    value: Decimal
    unit: str


def parse_quantity(text: object) -> Quantity | None:
    """Read the first quantity with a unit in a product attribute.

    Returns
    -------
    Quantity or None
        ``None`` for ``None``, empty text and placeholders.

    Raises
    ------
    NormaliseError
        For text with no number, a number without a known unit, or a range (``1-1.5L``).

    Examples
    --------
    >>> parse_quantity("500ml")
    Quantity(value=Decimal('0.5'), unit='L')
    >>> parse_quantity("5V/2A")
    Quantity(value=Decimal('5'), unit='V')
    """
    if text is None:
        return None
    if not isinstance(text, str):
        raise NormaliseError("quantity", text, f"expected text, got {type(text).__name__}")
    plain = clean_text(text)
    if plain is None or plain.lower() in PLACEHOLDERS:
        return None
    m = _QUANTITY.search(plain)
    if m is None:
        found = _NUMBER_THEN_WORD.search(plain)
        if found is None:
            raise NormaliseError("quantity", text, "no number found")
        unit = found.group("unit")
        problem = f"unknown unit {unit!r}" if unit else "a number without a unit"
        raise NormaliseError("quantity", text, f"{problem} after {found.group('num')!r}")
    if _RANGE.search(plain, 0, m.start()):
        raise NormaliseError("quantity", text, "a range, not one quantity")
    base, factor = _UNITS[m.group("unit").lower()]
    value = (Decimal(m.group("num").replace(",", "")) * factor).normalize()
    if value.as_tuple().exponent > 0:  # 1.5E+3 -> 1500
        value = value.quantize(Decimal(1))
    return Quantity(value, base)
