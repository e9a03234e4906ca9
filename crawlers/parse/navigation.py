"""Reading the pages that only lead elsewhere: sitemaps and JSON search results."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

from crawlers.parse.common import ParseError, load_json

MAX_SITEMAP_BYTES = 64 * 1024 * 1024


@dataclass
class LinkPage:
    """The URLs a page points to, and whether there is a next page of them."""

    kind: str
    urls: list[str] = field(default_factory=list)
    has_more: bool = False


def parse_sitemap(body: bytes, url: str) -> LinkPage:
    """A sitemap index (``kind="sitemapindex"``) or URL set (``"urlset"``), gzipped or not."""
    if body[:2] == b"\x1f\x8b":
        try:
            body = gunzip(body, max_size=MAX_SITEMAP_BYTES)
        except (OSError, ValueError) as exc:
            raise ParseError(url, f"broken gzip sitemap: {exc}") from None
    try:
        sitemap = Sitemap(body)
    except Exception as exc:  # lxml raises several types for broken XML
        raise ParseError(url, f"not a sitemap: {exc}") from None
    if sitemap.type not in ("sitemapindex", "urlset"):
        raise ParseError(url, f"not a sitemap (root element {sitemap.type!r})")
    urls = [urljoin(url, e["loc"].strip()) for e in sitemap if e.get("loc")]
    return LinkPage(sitemap.type, urls)


def parse_search_json(body: bytes | str, url: str) -> LinkPage:
    """A JSON search result page: ``{"items": [{"link_url": ...}], "has_more": bool}``."""
    data = load_json(body, url)
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise ParseError(url, "not a search result (no items list)")
    urls = []
    for it in data["items"]:
        link = it.get("link_url") if isinstance(it, dict) else None
        if not link:
            raise ParseError(url, "a search result has no link_url")
        urls.append(urljoin(url, link))
    return LinkPage("search", urls, bool(data.get("has_more")))
