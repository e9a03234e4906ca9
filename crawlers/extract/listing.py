"""Extract a product listing from one HTML page: :func:`extract_listing`.

The page is decoded (:mod:`~crawlers.extract.encoding`), parsed once with lxml, and read
by several methods in order of trust; for each field the first method that finds it
wins, and :attr:`ListingExtract.sources` records which one:

1. ``jsonld``, ``microdata``, ``rdfa``, ``opengraph`` — embedded structured data;
2. ``selector`` — the site profile's selectors, if given;
3. ``generic`` — the visible page: spec tables, price text, breadcrumbs, stock words;
4. ``meta`` — ``<meta>`` tags and the ``<title>``.

The price, its range end and its currency are taken together from one method, so a
JSON-LD price is never paired with a range end read from the page text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from .encoding import REPLACED_SUFFIX, decode_html
from .generic import generic_fields, meta_fields
from .page import Page, parse_tree
from .profile import selector_fields
from .structured import (
    jsonld_items,
    microdata_items,
    opengraph_fields,
    product_fields,
    rdfa_items,
)
from .values import clean_text

__all__ = ["FIELDS", "ListingExtract", "extract_listing"]

FIELDS = (
    "name",
    "brand",
    "model",
    "sku",
    "gtin",
    "price",
    "currency",
    "price_high",
    "list_price",
    "coupon_price",
    "availability",
    "shop_id",
    "shop_name",
    "category_path",
    "rating",
    "review_count",
    "sales_volume",
    "ccc",
    "manufacturer",
    "origin",
    "image_urls",
    "description",
)
_PRICE_GROUP = ("price", "price_high", "currency")
_HOME = re.compile(
    r"^(首页|首頁|主页|主頁|网站首页|商城首页|全部分类|所有分类|全部商品|home|homepage)$", re.I
)
_MARKUP = re.compile(r"<[A-Za-z!?/]")
_BAD_CHARS = re.compile(r"[\ufffd\x00-\x08\x0b\x0e-\x1f]")
_BINARY_SHARE = 0.05


@dataclass
class ListingExtract:
    """What one listing page says about the product on offer.

    Money is ``Decimal`` in the page's currency (``price`` is the selling price shown,
    the low end of a range; ``price_high`` the high end; ``list_price`` the crossed-out
    or 原价 price; ``coupon_price`` the 券后价/到手价). ``availability`` is a schema.org
    ``ItemAvailability`` term. ``sales_volume`` is kept as shown (``月销1.2万+``).
    ``sources`` maps each field found to the method that found it. ``error`` is set
    when the bytes are not an HTML page at all (empty, binary); ``problems`` lists
    what was skipped on the way (an invalid JSON-LD block, undecodable bytes).
    """

    url: str
    name: str | None = None
    brand: str | None = None
    model: str | None = None
    sku: str | None = None
    gtin: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    price_high: Decimal | None = None
    list_price: Decimal | None = None
    coupon_price: Decimal | None = None
    availability: str | None = None
    shop_id: str | None = None
    shop_name: str | None = None
    category_path: list[str] = field(default_factory=list)
    rating: float | None = None
    review_count: int | None = None
    sales_volume: str | None = None
    ccc: str | None = None
    manufacturer: str | None = None
    origin: str | None = None
    image_urls: list[str] = field(default_factory=list)
    description: str | None = None
    sources: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    problems: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_payload(self) -> dict[str, Any]:
        """A JSON-safe dict for the landing zone (Decimals as strings, ``None`` kept)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, Decimal):
                out[key] = str(value)
        if self.error is None:
            out.pop("error")
        return out


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _binary_share(text: str) -> float:
    sample = text[:20000]
    return len(_BAD_CHARS.findall(sample)) / len(sample) if sample else 0.0


def _trim_path(crumbs: list[str], name: str | None, brand: str | None) -> list[str]:
    path = [c for c in (clean_text(x) for x in crumbs) if c]
    while path and _HOME.match(path[0]):
        path = path[1:]
    if path:
        last = path[-1]
        # A trail often ends with the product itself (its title, cut short, or its
        # brand); category names are short and may well occur inside the title.
        title = clean_text(name) or ""
        cut = last.rstrip(".…")
        if last in (clean_text(brand), title) or (len(cut) >= 15 and title.startswith(cut)):
            path = path[:-1]
    return path


def _merge(layers: list[tuple[str, dict[str, Any]]], result: ListingExtract) -> None:
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for method, found in layers:
        if "price" not in values and found.get("price") is not None:
            for key in _PRICE_GROUP:
                if found.get(key) is not None:
                    values[key], sources[key] = found[key], method
        for key, value in found.items():
            if key in ("price", "price_high", "breadcrumbs", "category_path"):
                continue
            if key not in values and value not in (None, "", []):
                values[key], sources[key] = value, method
    paths = []
    for rank, (method, found) in enumerate(layers):
        for key in ("breadcrumbs", "category_path"):
            trimmed = _trim_path(found.get(key) or [], values.get("name"), values.get("brand"))
            if trimmed:
                paths.append((len(trimmed), -rank, trimmed, method))
    values.pop("category_path", None)
    sources.pop("category_path", None)
    if paths:
        # Structured breadcrumbs are often shorter than the visible trail; the most
        # specific trail wins, and on a tie the more trusted method.
        _, _, path, method = max(paths, key=lambda p: (p[0], p[1]))
        values["category_path"], sources["category_path"] = path, method
    for key in FIELDS:
        if key in values:
            setattr(result, key, values[key])
    result.sources = {k: sources[k] for k in FIELDS if k in sources}


def extract_listing(
    body: bytes | str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    selectors: Mapping[str, str] | None = None,
) -> ListingExtract:
    """Extract the listing fields of one product page.

    Parameters
    ----------
    body
        The page as fetched (bytes, decoded here) or as text.
    url
        The page's URL, for relative links and ids carried in the URL.
    headers
        HTTP response headers; ``Content-Type`` helps decoding.
    selectors
        A site profile's ``{field: selector}`` (CSS, or XPath with an ``xpath:`` prefix),
        tried after structured data and before the generic rules.

    Returns
    -------
    ListingExtract
        Never raises for bad content: an empty or binary body gives an extract with
        ``error`` set, an invalid JSON-LD block is skipped and noted in ``problems``.

    Raises
    ------
    ValueError
        Only for bad ``selectors`` (unknown field, invalid expression).

    Examples
    --------
    >>> x = extract_listing('<h1>电热水壶</h1><span class="price">¥89.00</span>', "https://shop.example/item/1")
    >>> x.name, x.price, x.currency, x.sources["price"]
    ('电热水壶', Decimal('89.00'), 'CNY', 'generic')
    """
    result = ListingExtract(url=url)
    if isinstance(body, bytes | bytearray | memoryview):
        raw = bytes(body)
        if not raw.strip():
            result.error = "empty body"
            return result
        text, result.encoding = decode_html(raw, _header(headers, "content-type"))
        if result.encoding.endswith(REPLACED_SUFFIX):
            result.problems.append("undecodable bytes replaced")
    else:
        text = body
    if not text.strip():
        result.error = "empty body"
        return result
    share = _binary_share(text)
    if share > _BINARY_SHARE or not _MARKUP.search(text[:65536]):
        result.error = (
            f"not an HTML page: {share:.0%} of the characters are undecodable or control bytes"
            if share > _BINARY_SHARE
            else "not an HTML page: no markup found"
        )
        return result
    tree = parse_tree(text)
    if tree is None:
        result.error = "not an HTML page: nothing to parse"
        return result
    page = Page(tree, url)
    layers: list[tuple[str, dict[str, Any]]] = [
        (
            "jsonld",
            product_fields(jsonld_items(tree, page.base_url, result.problems), page.base_url),
        ),
        ("microdata", product_fields(microdata_items(tree, page.base_url), page.base_url)),
        ("rdfa", product_fields(rdfa_items(text, tree, page.base_url), page.base_url)),
        ("opengraph", opengraph_fields(tree, page.base_url)),
    ]
    if selectors:
        layers.append(("selector", selector_fields(page, selectors)))
    layers.append(("generic", generic_fields(page)))
    layers.append(("meta", meta_fields(page)))
    _merge(layers, result)
    return result
