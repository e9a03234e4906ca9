"""Listings of a shop platform, with their reviews.

Start points (profile): the home page (every link followed once), sitemaps, keyword
searches (HTML or a JSON search API) and list pages; list pages are followed through
their pager. Each product page becomes a listing record, read by
:func:`crawlers.extract.listing.extract_listing`, and then its reviews are paged
through in the profile's review style: a JSON API with a cursor (``json-cursor``),
HTML pages (``html-pages``) or JSON pages (``json-pages``).

When the profile recognises shop pages (``links.shop``), the shop a product page links
to is requested once per crawl (one request per shop id, however many of its listings
are read) and its licence data becomes a shop record, read by
:func:`crawlers.parse.shops.parse_shop_page`. Shop pages reached from the home page or
a sitemap are read the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response
from w3lib.url import add_or_replace_parameter

from crawlers.extract.listing import extract_listing
from crawlers.items import ListingItem, ReviewItem, ShopItem
from crawlers.parse.common import ParseError
from crawlers.parse.navigation import parse_search_json, parse_sitemap
from crawlers.parse.reviews import parse_reviews_html, parse_reviews_json
from crawlers.parse.shops import parse_shop_page
from crawlers.profiles import Profile
from crawlers.spiders.base import ProfileSpider, response_headers


class ListingsSpider(ProfileSpider):
    name = "listings"
    item_kinds = ("listing", "review", "shop")

    def setup(self, profile: Profile) -> None:
        super().setup(profile)
        # Shop ids already requested (or read) in this crawl: each shop page once.
        self.shops_requested: set[str] = set()
        self.shops_read: set[str] = set()

    def route(self, url: str) -> Callable[..., Any] | None:
        if self.profile.links.is_shop(url):
            return self.parse_shop
        return super().route(url)

    # ------------------------------------------------------------------ navigation
    def parse_search(self, response: Response) -> Iterator[Any]:
        yield from self.parse_list(response)

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        try:
            page = parse_sitemap(response.body, response.url)
        except ParseError as exc:
            yield from self.parse_failed(response, "sitemap", exc, retry=True)
            return
        for url in page.urls:
            if page.kind == "sitemapindex":
                yield scrapy.Request(url, callback=self.parse_sitemap)
            elif self.profile.links.is_shop(url):
                if request := self.shop_request(url):
                    yield request
            elif callback := self.route(url):
                yield scrapy.Request(url, callback=callback)

    def parse_search_api(self, response: Response) -> Iterator[Any]:
        try:
            page = parse_search_json(response.body, response.url)
        except ParseError as exc:
            yield from self.parse_failed(response, "search_api", exc, retry=True)
            return
        for url in page.urls:
            if self.profile.links.is_detail(url):
                yield scrapy.Request(url, callback=self.parse_detail)
        if page.has_more:
            n = int(response.meta.get("search_page", 1)) + 1
            yield scrapy.Request(
                add_or_replace_parameter(response.url, "page", str(n)),
                callback=self.parse_search_api,
                meta={"search_page": n},
            )

    # ------------------------------------------------------------------ listings
    def parse_detail(self, response: Response) -> Iterator[Any]:
        headers = response_headers(response)
        selectors = self.profile.extraction.selectors
        if self.profile.extraction.mode == "structured":
            selectors = {}
        extract = extract_listing(
            response.body, response.url, headers=headers, selectors=selectors or None
        )
        listing_id = extract.sku or self.profile.links.detail_id(response.url)
        if getattr(extract, "error", None) or not listing_id:
            exc = ParseError(response.url, getattr(extract, "error", None) or "no listing id")
            yield from self.parse_failed(response, "listing", exc)
            return
        listing_id = str(listing_id)
        yield ListingItem(
            source=self.profile.name,
            platform=self.profile.platform,
            external_id=listing_id,
            payload=extract.to_payload(),
            **self.record_fields(response),
        )
        if self.profile.reviews is not None:
            yield self.review_request(listing_id, 1)
        shop_url = self.shop_link(response, extract.shop_id)
        if shop_url and (request := self.shop_request(shop_url)):
            yield request

    # ------------------------------------------------------------------ shops
    def shop_link(self, response: Response, shop_id: str | None = None) -> str | None:
        """The shop page a product page links to: the link whose id is the listing's
        shop id when the extractor found one, else the first shop link on the page."""
        links = self.profile.links
        if not links.shop:
            return None
        found = [u for u in self.page_links(response) if links.is_shop(u)]
        if shop_id:
            for url in found:
                if links.shop_id(url) == str(shop_id):
                    return url
        return found[0] if found else None

    def shop_request(self, url: str) -> scrapy.Request | None:
        """A request for a shop page, unless this crawl already asked for that shop."""
        shop_id = self.profile.links.shop_id(url)
        if not shop_id or shop_id in self.shops_requested:
            return None
        self.shops_requested.add(shop_id)
        return scrapy.Request(url, callback=self.parse_shop, meta={"shop_id": shop_id})

    def parse_shop(self, response: Response) -> Iterator[Any]:
        """A shop page: its licence data as a shop record (once per shop id), and the
        product pages it lists, as any other discovered page."""
        expected = response.meta.get("shop_id") or self.profile.links.shop_id(response.url)
        if expected:
            self.shops_requested.add(expected)
        try:
            shop = parse_shop_page(
                response.body,
                response.url,
                headers=response_headers(response),
                platform=self.profile.platform,
            )
        except ParseError as exc:
            # A cut-short or broken page: the next attempt is likely to be whole.
            yield from self.parse_failed(response, "shop", exc, retry=True)
            return
        if shop["external_id"] not in self.shops_read:
            self.shops_read.add(shop["external_id"])
            yield ShopItem(
                source=self.profile.name,
                platform=self.profile.platform,
                external_id=shop["external_id"],
                payload=shop,
                **self.record_fields(response),
            )
        yield from self.parse_discovered(response)

    # ------------------------------------------------------------------ reviews
    def review_url(self, listing_id: str, page: int, cursor: str | None = None) -> str:
        reviews = self.profile.reviews
        assert reviews is not None
        path = reviews.endpoint.replace("{id}", listing_id).replace("{page}", str(page))
        url = urljoin(self.base_url + "/", path.lstrip("/")) if "://" not in path else path
        if cursor:
            url = add_or_replace_parameter(url, "cursor", cursor)
        return url

    def review_request(self, listing_id: str, page: int, cursor: str | None = None):
        return scrapy.Request(
            self.review_url(listing_id, page, cursor),
            callback=self.parse_reviews,
            meta={"listing_id": listing_id, "review_page": page},
        )

    def parse_reviews(self, response: Response) -> Iterator[Any]:
        reviews = self.profile.reviews
        assert reviews is not None
        listing_id = response.meta["listing_id"]
        page_no = int(response.meta["review_page"])
        try:
            if reviews.style == "html-pages":
                page = parse_reviews_html(
                    response.body, response.url, headers=response_headers(response)
                )
            else:
                page = parse_reviews_json(response.body, response.url)
        except ParseError as exc:
            # A cut-short or broken body: the next attempt is likely to be whole.
            yield from self.parse_failed(response, "reviews", exc, retry=True)
            return
        fields = self.record_fields(response)
        for review in page.reviews:
            yield ReviewItem(
                source=self.profile.name,
                platform=self.profile.platform,
                external_id=review["id"],
                listing_external_id=listing_id,
                payload=review,
                **fields,
            )
        if page_no >= reviews.max_pages:
            if page.has_more:
                self.crawler.stats.inc_value("ecqm/reviews/max_pages_reached")
            return
        if reviews.style == "json-cursor":
            if page.next_cursor:
                yield self.review_request(listing_id, page_no + 1, page.next_cursor)
        elif page.has_more:
            yield self.review_request(listing_id, page_no + 1)
