"""Listing extraction as plain functions of (HTML, URL), testable on saved pages.

Spiders hold navigation; this package turns a fetched product page into a
:class:`ListingExtract`::

    from crawlers.extract import extract_listing

    x = extract_listing(response.body, response.url, headers={"Content-Type": ctype})
    x.price, x.currency, x.sources["price"]   # Decimal('89.00'), 'CNY', 'jsonld'

``ecqm extract-listing`` (:mod:`crawlers.extract.cli`) runs it over saved pages.
"""

from __future__ import annotations

from .encoding import decode_html
from .listing import FIELDS, ListingExtract, extract_listing
from .money import PriceParse, find_prices, parse_price, to_fen

__all__ = [
    "FIELDS",
    "ListingExtract",
    "PriceParse",
    "decode_html",
    "extract_listing",
    "find_prices",
    "parse_price",
    "to_fen",
]
