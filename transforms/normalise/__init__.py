"""Normalisers: pure functions that turn messy scraped values into clean typed ones.

Each takes the raw value and returns a typed result, ``None`` when the value carries
nothing (``None``, empty text, placeholders such as ``--`` or 暂无), or raises
:class:`NormaliseError` naming the value and what is wrong with it, so the caller can
quarantine the row.

=====================  ==================================================================
:func:`clean_text`     entities, tags, full-width forms, invisible characters, whitespace
:func:`to_simplified`  Traditional → Simplified Chinese
:func:`price_to_fen`   ``券后¥59.9 原价¥99`` → :class:`Price` (integer fen, currency, kind)
:func:`parse_sales`    ``月销1.2万+`` → :class:`Sales` (count, lower bound, window)
:func:`parse_posted`   ``昨天 23:59``, ``2026年3月5日`` → aware UTC datetime
:func:`to_five_scale`  ``好评率98%``, ``9.6/10``, ``★★★★☆`` → 1 to 5
:func:`parse_quantity` ``1.5L``, ``1500W``, ``55英寸`` → :class:`Quantity` in a base unit
=====================  ==================================================================
"""

from __future__ import annotations

from transforms.normalise.dates import parse_posted
from transforms.normalise.errors import NormaliseError
from transforms.normalise.money import Price, price_to_fen
from transforms.normalise.ratings import to_five_scale
from transforms.normalise.sales import Sales, parse_sales
from transforms.normalise.text import clean_text, to_simplified
from transforms.normalise.units import Quantity, parse_quantity

__all__ = [
    "NormaliseError",
    "Price",
    "Quantity",
    "Sales",
    "clean_text",
    "parse_posted",
    "parse_quantity",
    "parse_sales",
    "price_to_fen",
    "to_five_scale",
    "to_simplified",
]
