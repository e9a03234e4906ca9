"""Listing fields from embedded structured data: JSON-LD, microdata, RDFa, Open Graph.

extruct reads the syntaxes; this module finds the schema.org ``Product`` among what it
returns (inside ``@graph`` wrappers, lists, ``mainEntity``, ``@id`` references) and
maps it to listing fields. Each ``*_fields`` function returns a plain dict of the
fields it found, already typed (``Decimal`` prices, ``int`` counts, schema.org
availability terms).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urljoin

import extruct
from lxml.html import HtmlElement

from .money import parse_price
from .values import availability_term, clean_text, gtin_value, to_count, to_rating

__all__ = [
    "jsonld_items",
    "microdata_items",
    "opengraph_fields",
    "product_fields",
    "rdfa_items",
]

_PRODUCT_TYPES = {"Product", "ProductGroup", "IndividualProduct", "ProductModel", "SomeProducts"}
_LIST_PRICE_TYPES = ("ListPrice", "StrikethroughPrice", "MSRP", "SRP", "InvoicePrice")
_SCHEMA_KEY = re.compile(r"^(?:https?://schema\.org/|schema:)")
_JS_COMMENT = re.compile(r"^\s*(//.*|<!--.*-->)\s*$", re.M)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


# --------------------------------------------------------------------------- reading
def jsonld_items(tree: HtmlElement, base_url: str, problems: list[str]) -> list[Any]:
    """JSON-LD items of the page; a broken script is skipped (and noted), not fatal."""
    scripts = tree.xpath(
        "//script[contains(translate(@type,'LDJSON','ldjson'),'application/ld+json')]"
    )
    if not scripts:
        return []
    try:
        return extruct.extract(tree, base_url=base_url, syntaxes=["json-ld"], errors="strict")[
            "json-ld"
        ]
    except Exception:  # noqa: BLE001 — extruct gives up on the first bad script; we do not
        pass
    items: list[Any] = []
    for node in scripts:
        data = _lenient_json(node.text_content())
        if data is None:
            problems.append("invalid JSON-LD script skipped")
        elif isinstance(data, list):
            items.extend(data)
        else:
            items.append(data)
    return items


def _lenient_json(text: str) -> Any:
    text = text.strip().removeprefix("<![CDATA[").removesuffix("]]>").strip()
    text = text.removeprefix("<!--").removesuffix("-->")
    for attempt in (text, _TRAILING_COMMA.sub(r"\1", _JS_COMMENT.sub("", text))):
        try:
            data = json.loads(attempt, strict=False)
        except ValueError:
            continue
        return data if isinstance(data, dict | list) else None
    return None


def microdata_items(tree: HtmlElement, base_url: str) -> list[Any]:
    """schema.org microdata, in the same shape as JSON-LD (extruct ``uniform=True``)."""
    if not tree.xpath("boolean(//*[@itemscope])"):
        return []
    return extruct.extract(
        tree, base_url=base_url, syntaxes=["microdata"], uniform=True, errors="log"
    ).get("microdata", [])


def rdfa_items(html: str, tree: HtmlElement, base_url: str) -> list[Any]:
    """schema.org RDFa, compacted to JSON-LD-like dicts (only parsed when present)."""
    if not tree.xpath("boolean(//*[@typeof or @vocab])"):
        return []
    raw = extruct.extract(
        html.encode("utf-8"), base_url=base_url, syntaxes=["rdfa"], errors="log"
    ).get("rdfa", [])
    return _compact_rdfa(raw)


def _compact_rdfa(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {n.get("@id"): n for n in nodes if isinstance(n, dict)}

    def value(v: Any, depth: int) -> Any:
        if isinstance(v, list):
            vals = [value(x, depth) for x in v]
            return vals[0] if len(vals) == 1 else vals
        if isinstance(v, dict):
            if "@value" in v:
                return v["@value"]
            ref = v.get("@id")
            if ref in by_id and depth < 6:
                return node(by_id[ref], depth + 1)
            return ref
        return v

    def node(n: dict[str, Any], depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, v in n.items():
            if key == "@type":
                types = v if isinstance(v, list) else [v]
                out["@type"] = [_local_name(t) for t in types]
            elif key == "@id":
                out["@id"] = v
            elif _SCHEMA_KEY.match(key) or key.startswith("http://ogp.me/"):
                out[_SCHEMA_KEY.sub("", key)] = value(v, depth)
        return out

    return [node(n, 0) for n in nodes if isinstance(n, dict) and "@type" in n]


def opengraph_fields(tree: HtmlElement, base_url: str) -> dict[str, Any]:
    """Fields from Open Graph ``og:*`` and ``product:*`` meta tags in the head."""
    props: dict[str, list[str]] = {}
    for el in tree.xpath("//meta[@property and @content]"):
        props.setdefault(el.get("property").strip().lower(), []).append(el.get("content"))
    if not props:
        return {}

    def first(*keys: str) -> str | None:
        for key in keys:
            for v in props.get(key, []):
                if clean_text(v):
                    return clean_text(v)
        return None

    is_product = first("og:type") in ("product", "product.item", "og:product") or any(
        k.startswith("product:") for k in props
    )
    if not is_product:
        return {}
    out: dict[str, Any] = {}
    _put(out, "name", first("og:title", "product:title"))
    _put(out, "description", first("og:description"))
    _put(out, "brand", first("product:brand", "og:brand"))
    _put(out, "sku", first("product:retailer_item_id", "product:sku", "og:sku"))
    _put(out, "gtin", gtin_value(first("product:gtin", "product:ean", "product:upc")))
    _put(out, "availability", availability_term(first("product:availability", "og:availability")))
    _put(out, "category_path", _split_path(first("product:category")))
    images = [urljoin(base_url, u) for k in ("og:image", "og:image:url") for u in props.get(k, [])]
    _put(out, "image_urls", list(dict.fromkeys(i for i in images if i)))
    amount = first("product:sale_price:amount", "product:price:amount", "og:price:amount")
    currency = first("product:sale_price:currency", "product:price:currency", "og:price:currency")
    _put_price(out, parse_price(amount), currency)
    original = parse_price(first("product:original_price:amount"))
    if original is not None:
        out["list_price"] = original.amount
    return out


# --------------------------------------------------------------------------- products
def _local_name(t: Any) -> str:
    return re.split(r"[/#:]", str(t))[-1]


def _types(node: dict[str, Any]) -> set[str]:
    t = node.get("@type", [])
    return {_local_name(x) for x in (t if isinstance(t, list) else [t])}


def _walk(value: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 12:
        return
    if isinstance(value, list):
        for v in value:
            yield from _walk(v, depth + 1)
    elif isinstance(value, dict):
        yield value
        for key, v in value.items():
            if key != "@context" and isinstance(v, dict | list):
                yield from _walk(v, depth + 1)


class _Graph:
    """All nodes of one syntax, with ``@id`` references resolvable."""

    def __init__(self, items: list[Any]) -> None:
        self.nodes = list(_walk(items))
        self.by_id: dict[str, dict[str, Any]] = {}
        for n in self.nodes:
            ref = n.get("@id")
            if isinstance(ref, str) and len(n) > 1:
                self.by_id.setdefault(ref, n)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and set(value) <= {"@id", "@type"} and "@id" in value:
            return self.by_id.get(value["@id"], value)
        return value

    def product(self) -> dict[str, Any] | None:
        products = [n for n in self.nodes if _types(n) & _PRODUCT_TYPES]
        if not products:
            return None
        # The page's own product carries offers or a name; related ones are often bare.
        return next((p for p in products if "offers" in p), None) or products[0]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _name_of(graph: _Graph, value: Any) -> str | None:
    for v in _as_list(value):
        v = graph.resolve(v)
        if isinstance(v, dict):
            text = clean_text(_first_text(v.get("name")))
        else:
            text = clean_text(v)
        if text:
            return text
    return None


def _first_text(value: Any) -> Any:
    for v in _as_list(value):
        if isinstance(v, dict):
            v = v.get("@value")
        if v not in (None, ""):
            return v
    return None


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value not in (None, "", [], {}):
        out.setdefault(key, value)


def _put_price(out: dict[str, Any], parsed: Any, currency: str | None) -> None:
    if parsed is None or "price" in out:
        return
    out["price"] = parsed.amount
    if parsed.high is not None:
        out["price_high"] = parsed.high
    cur = clean_text(currency)
    _put(out, "currency", cur.upper() if cur else parsed.currency)


def _split_path(text: str | None) -> list[str]:
    if not text:
        return []
    parts = re.split(r"\s*(?:>|›|»|＞|/|\|)\s*", text)
    return [p for p in (clean_text(x) for x in parts) if p]


def _offer_fields(graph: _Graph, offers: Any, out: dict[str, Any]) -> None:
    lows: list[Decimal] = []
    highs: list[Decimal] = []
    currencies: list[str] = []
    availabilities: list[str] = []
    for offer in _as_list(offers):
        offer = graph.resolve(offer)
        if not isinstance(offer, dict):
            parsed = parse_price(offer)
            if parsed is not None:
                lows.append(parsed.amount)
            continue
        nested = offer.get("offers")
        if nested is not None:
            _offer_fields(graph, nested, out)
        currency = clean_text(_first_text(offer.get("priceCurrency")))
        price_value = _first_text(offer.get("price"))
        if price_value is None:
            price_value = _first_text(offer.get("lowPrice"))
        for spec in _as_list(offer.get("priceSpecification")):
            spec = graph.resolve(spec)
            if not isinstance(spec, dict):
                continue
            spec_price = parse_price(_first_text(spec.get("price")))
            if spec_price is None:
                continue
            kind = _local_name(_first_text(spec.get("priceType")) or "")
            if kind in _LIST_PRICE_TYPES:
                out.setdefault("list_price", spec_price.amount)
            elif price_value is None:
                price_value = _first_text(spec.get("price"))
                currency = currency or clean_text(_first_text(spec.get("priceCurrency")))
        parsed = parse_price(price_value)
        if parsed is not None:
            lows.append(parsed.amount)
            if parsed.high is not None:
                highs.append(parsed.high)
            if currency or parsed.currency:
                currencies.append((currency or parsed.currency or "").upper())
        high = parse_price(_first_text(offer.get("highPrice")))
        if high is not None:
            highs.append(high.amount)
        term = availability_term(_first_text(offer.get("availability")))
        if term:
            availabilities.append(term)
        seller = offer.get("seller")
        if seller is not None:
            _put(out, "shop_name", _name_of(graph, seller))
    if lows and "price" not in out:
        low = min(lows)
        out["price"] = low
        top = max(highs + lows)
        if top > low:
            out["price_high"] = top
    if currencies:
        out.setdefault("currency", currencies[0])
    if availabilities:
        # Any purchasable variant makes the listing available.
        out.setdefault(
            "availability", "InStock" if "InStock" in availabilities else availabilities[0]
        )


def _images(graph: _Graph, value: Any, base_url: str) -> list[str]:
    urls = []
    for v in _as_list(value):
        v = graph.resolve(v)
        if isinstance(v, dict):
            v = _first_text(v.get("contentUrl")) or _first_text(v.get("url"))
        if isinstance(v, str) and v.strip():
            urls.append(urljoin(base_url, v.strip()))
    return list(dict.fromkeys(urls))


def _breadcrumbs(graph: _Graph) -> list[str]:
    for node in graph.nodes:
        if "BreadcrumbList" not in _types(node):
            continue
        elements = []
        for i, el in enumerate(_as_list(node.get("itemListElement"))):
            el = graph.resolve(el)
            if not isinstance(el, dict):
                continue
            name = clean_text(_first_text(el.get("name"))) or _name_of(graph, el.get("item"))
            try:
                position = float(_first_text(el.get("position")) or i)
            except (TypeError, ValueError):
                position = float(i)
            if name:
                elements.append((position, i, name))
        if elements:
            return [name for _, _, name in sorted(elements)]
    return []


def product_fields(items: list[Any], base_url: str) -> dict[str, Any]:
    """Listing fields from the schema.org ``Product`` among ``items`` (JSON-LD shape).

    Parameters
    ----------
    items
        What extruct returned for one syntax (JSON-LD, uniform microdata, compacted
        RDFa): dicts, lists, ``@graph`` wrappers.
    base_url
        For relative image URLs.

    Returns
    -------
    dict
        Only the fields found. ``category_path`` comes from a ``BreadcrumbList`` (with
        its leading home entry) or the product's ``category``.
    """
    graph = _Graph(items)
    out: dict[str, Any] = {}
    crumbs = _breadcrumbs(graph)
    if crumbs:
        out["breadcrumbs"] = crumbs
    product = graph.product()
    if product is None:
        return out
    _put(out, "name", clean_text(_first_text(product.get("name"))))
    _put(out, "brand", _name_of(graph, product.get("brand")))
    _put(out, "model", _name_of(graph, product.get("model")) or _first_text(product.get("mpn")))
    _put(out, "sku", clean_text(_first_text(product.get("sku") or product.get("productID"))))
    for key in ("gtin13", "gtin", "gtin14", "gtin12", "gtin8", "ean"):
        _put(out, "gtin", gtin_value(_first_text(product.get(key))))
    offers = product.get("offers")
    if offers is None:
        variants = [graph.resolve(v) for v in _as_list(product.get("hasVariant"))]
        offers = [v.get("offers") for v in variants if isinstance(v, dict) and v.get("offers")]
    _offer_fields(graph, offers, out)
    rating = graph.resolve(product.get("aggregateRating"))
    if isinstance(rating, dict):
        _put(out, "rating", to_rating(_first_text(rating.get("ratingValue"))))
        count = _first_text(rating.get("reviewCount")) or _first_text(rating.get("ratingCount"))
        _put(out, "review_count", to_count(count))
    _put(out, "manufacturer", _name_of(graph, product.get("manufacturer")))
    _put(
        out,
        "origin",
        _name_of(graph, product.get("countryOfOrigin") or product.get("countryOfAssembly")),
    )
    _put(out, "image_urls", _images(graph, product.get("image"), base_url))
    _put(out, "description", clean_text(_first_text(product.get("description"))))
    category = _first_text(product.get("category"))
    if isinstance(category, str):
        _put(out, "category_path", _split_path(category))
    return out
