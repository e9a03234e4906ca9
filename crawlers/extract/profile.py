"""Per-site selectors from a site profile: ``field → CSS`` or ``field → "xpath:…"``.

Selectors are parsel's (the ones Scrapy spiders use), so ``::text`` and ``::attr(name)``
work in CSS. A selector that matches an element takes the element's visible text (or,
for ``image_urls``, its ``src``). Values are converted like every other method's: prices
to ``Decimal``, counts to ``int``, stock text to schema.org terms.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lxml.html import HtmlElement
from parsel import Selector

from .money import parse_price
from .page import Page
from .values import availability_term, ccc_value, clean_text, gtin_value, to_count, to_rating

__all__ = ["SELECTABLE_FIELDS", "selector_fields", "validate_selectors"]

SELECTABLE_FIELDS = frozenset(
    "name brand model sku gtin price currency list_price coupon_price availability shop_id "
    "shop_name category_path rating review_count sales_volume ccc manufacturer origin "
    "image_urls description".split()
)
_VALIDATED: set[tuple[tuple[str, str], ...]] = set()
_CRUMB_SEP = re.compile(r"\s*(?:>|›|»|＞|/)\s*")


def _values(page: Page, root: Selector, field: str, query: str) -> list[str]:
    try:
        if query.startswith("xpath:"):
            matches = root.xpath(query[len("xpath:") :].strip())
        else:
            matches = root.css(query)
    except Exception as exc:  # parsel raises several types for a bad expression
        raise ValueError(f"bad selector for {field!r}: {query!r} ({exc})") from exc
    out = []
    for match in matches:
        node = match.root
        if isinstance(node, HtmlElement):
            if field == "image_urls":
                value = node.get("data-src") or node.get("src") or node.get("href")
            else:
                value = page.text_of(node)
        else:
            value = str(node)
        value = clean_text(value)
        if value:
            out.append(value)
    return out


def validate_selectors(selectors: Mapping[str, str]) -> None:
    """Check a profile's selectors once, before any page is read.

    Raises
    ------
    ValueError
        Naming the unknown field or the selector that does not compile.
    """
    unknown = set(selectors) - SELECTABLE_FIELDS
    if unknown:
        raise ValueError(f"unknown field(s) in selectors: {', '.join(sorted(unknown))}")
    probe = Selector(text="<html><body></body></html>")
    for field, query in selectors.items():
        if not isinstance(query, str) or not query.strip():
            raise ValueError(f"selector for {field!r} must be a non-empty string")
        try:
            if query.startswith("xpath:"):
                probe.xpath(query[len("xpath:") :].strip())
            else:
                probe.css(query)
        except Exception as exc:  # parsel raises several types for a bad expression
            raise ValueError(f"bad selector for {field!r}: {query!r} ({exc})") from exc


def selector_fields(page: Page, selectors: Mapping[str, str]) -> dict[str, Any]:
    """Fields read with a site profile's selectors.

    Parameters
    ----------
    page
        The parsed page.
    selectors
        ``{field: selector}``; CSS by default, XPath with an ``xpath:`` prefix.

    Returns
    -------
    dict
        Only the fields whose selector matched something usable.

    Raises
    ------
    ValueError
        For an unknown field name or a selector that does not compile: a profile bug,
        reported on the first page rather than silently ignored.
    """
    key = tuple(sorted(selectors.items()))
    if key not in _VALIDATED:
        validate_selectors(selectors)
        _VALIDATED.add(key)
    root = Selector(root=page.tree, type="html")
    out: dict[str, Any] = {}
    for field, query in selectors.items():
        values = _values(page, root, field, query)
        if not values:
            continue
        first = values[0]
        if field in ("price", "list_price", "coupon_price"):
            parsed = parse_price(first)
            if parsed is None:
                continue
            out[field] = parsed.amount
            if field == "price":
                if parsed.high is not None:
                    out["price_high"] = parsed.high
                if parsed.currency:
                    out.setdefault("currency", parsed.currency)
        elif field == "currency":
            if re.fullmatch(r"[A-Za-z]{3}", first):
                out["currency"] = first.upper()
            else:
                sign = parse_price(f"{first}1")  # a bare sign such as ¥ or €
                out["currency"] = sign.currency if sign is not None else None
        elif field == "rating":
            out[field] = to_rating(first)
        elif field == "review_count":
            out[field] = to_count(first)
        elif field == "availability":
            out[field] = availability_term(first)
        elif field == "ccc":
            out[field] = ccc_value(first)
        elif field == "gtin":
            out[field] = gtin_value(first)
        elif field == "image_urls":
            out[field] = list(dict.fromkeys(u for u in map(page.absolute, values) if u))
        elif field == "category_path":
            crumbs = values if len(values) > 1 else _CRUMB_SEP.split(first)
            out["breadcrumbs"] = [c for c in map(clean_text, crumbs) if c]
        elif field == "description":
            out[field] = "\n".join(values)
        else:
            out[field] = first
    return {k: v for k, v in out.items() if v not in (None, "", [])}
