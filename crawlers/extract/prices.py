"""The price of a listing read from its visible text, when no structured data gives it.

Every price with a currency sign in the page text is a candidate. A candidate inside
``<del>``/``<s>``/``<strike>``, in an element styled as crossed out or classed like a
list price (``orig``, ``old``, ``market``, ``list-price``), or labelled 原价/划线价/市场价
is a list price. One labelled 券后价/到手价 is a coupon price; one labelled 立减, 定金 or
运费 is not a price at all. Of the rest, the main price is the one labelled as a price
(优品价, 拼单价, 价格), sitting in a ``price`` box, early in the page and outside
headers, footers, reviews and lists of other products.

Pages that render the price with JavaScript often carry it in a JSON state blob inside a
``<script>``; :func:`script_price` reads the usual keys from there as a last resort.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml.html import HtmlElement

from .money import PriceParse, find_prices, parse_price
from .page import Page

__all__ = ["PagePrices", "script_price", "visible_prices"]

_STRUCK_TAGS = frozenset(("del", "s", "strike"))
_LIST_CLASS = re.compile(
    r"(^|[-_ ])(ori|orig|original|origin|old|market|del|strike|was|msrp|rrp|line-?through)"
    r"([-_ ]|$)|list-?price|price-?(old|ori|orig|origin|market)([-_ ]|$)|"
    r"(old|ori|orig|origin|market|line)-?price"
)
_COUPON_CLASS = re.compile(r"coupon|quan")
_EMPHASIS = frozenset(("em", "strong", "b", "big"))
_SCRIPT_PRICE = re.compile(
    r"""["']?(?P<key>[A-Za-z_]*(?:[Pp]rice|PRICE)[A-Za-z_]*)["']?\s*[:=]\s*"""
    r"""["']?(?P<value>[¥￥$€]?\s*\d[\d,]*(?:\.\d+)?)"""
)
_SCRIPT_CURRENCY = re.compile(
    r"""["']?(?:currency|priceCurrency|currencyCode)["']?\s*:\s*["']([A-Z]{3})["']"""
)
_SCRIPT_LIST_KEY = re.compile(r"orig|market|list|old|line|tag|was|before|reference|msrp", re.I)
_SCRIPT_SKIP_KEY = re.compile(r"coupon|discount|save|ship|freight|post|deposit|max|high|unit", re.I)


@dataclass
class PagePrices:
    """What the visible text says about the price."""

    price: PriceParse | None = None
    list_price: PriceParse | None = None
    coupon_price: PriceParse | None = None


def _context(page: Page, el: HtmlElement) -> tuple[bool, bool, bool, bool]:
    """(struck, in a price box, emphasised, coupon box) for an element and its ancestors."""
    struck = price_box = emphasised = coupon = False
    for depth, a in enumerate(page.ancestors(el, limit=12)):
        tag = a.tag if isinstance(a.tag, str) else ""
        if tag in _STRUCK_TAGS or "line-through" in (a.get("style") or ""):
            struck = True
        classes = f"{a.get('class') or ''} {a.get('id') or ''}".lower()
        if depth < 4 and classes.strip():
            if _LIST_CLASS.search(classes):
                struck = True
            if _COUPON_CLASS.search(classes):
                coupon = True
            if "price" in classes or a.get("itemprop") == "price":
                price_box = True
        if depth < 2 and tag in _EMPHASIS:
            emphasised = True
        if tag == "body":
            break
    return struck, price_box, emphasised, coupon


def visible_prices(page: Page) -> PagePrices:
    """Pick the main, list and coupon prices out of the page's visible text."""
    out = PagePrices()
    best: tuple[float, PriceParse] | None = None
    for rank, candidate in enumerate(find_prices(page.text)):
        digit = next((i for i, c in enumerate(candidate.text) if c.isdigit()), 0)
        el = page.owner(candidate.start + digit)
        struck, price_box, emphasised, coupon_box = _context(page, el)
        kind = candidate.kind
        if kind == "discount":
            continue
        if struck or kind == "list":
            if out.list_price is None and not page.off_main(el):
                out.list_price = candidate
            continue
        if kind == "coupon" or (coupon_box and kind is None):
            if out.coupon_price is None and not page.off_main(el):
                out.coupon_price = candidate
            continue
        score = 0.0
        if kind == "current":
            score += 4
        elif kind == "alternative":
            score -= 2
        if price_box:
            score += 3
        if emphasised:
            score += 0.5
        if page.off_main(el):
            score -= 8
        score -= rank * 0.01
        if best is None or score > best[0]:
            best = (score, candidate)
    if best is not None:
        out.price = best[1]
    return out


def script_price(page: Page) -> PagePrices:
    """Prices from JSON state in ``<script>`` (``"price": "89.00"``, ``originalPrice`` …)."""
    out = PagePrices()
    currency = None
    for script in page.tree.iter("script"):
        if (script.get("type") or "").lower() == "application/ld+json":
            continue
        text = script.text or ""
        if "rice" not in text and "RICE" not in text:
            continue
        m = _SCRIPT_CURRENCY.search(text)
        if m and currency is None:
            currency = m.group(1)
        for m in _SCRIPT_PRICE.finditer(text):
            key = m.group("key")
            parsed = parse_price(m.group("value"))
            if parsed is None or parsed.amount <= 0 or _SCRIPT_SKIP_KEY.search(key):
                continue
            if _SCRIPT_LIST_KEY.search(key):
                out.list_price = out.list_price or parsed
            elif out.price is None:
                out.price = parsed
    if out.price is not None and out.price.currency is None and currency:
        out.price = PriceParse(out.price.amount, currency, out.price.high, text=out.price.text)
    return out
