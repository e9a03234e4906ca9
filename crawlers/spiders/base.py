"""What every ecqm spider shares: its profile, start points, link routing, evidence."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

import scrapy
from scrapy.http import Response, TextResponse

from crawlers import landing
from crawlers.middlewares import META_FETCHED_AT, META_SHA, retry_later
from crawlers.parse.common import ParseError
from crawlers.profiles import Profile, ResolvedStart, category_keywords, load_profile

logger = logging.getLogger(__name__)

# spider argument -> setting, so that pipelines and middlewares read one place
ARG_SETTINGS = {
    "profile": "ECQM_PROFILE",
    "run_id": "ECQM_RUN_ID",
    "partition_date": "ECQM_PARTITION_DATE",
    "shard": "ECQM_SHARD",
    "shards": "ECQM_SHARDS",
    "target_url": "ECQM_TARGET_URL",
    "categories": "ECQM_CATEGORIES",
}
_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "#")


class ProfileSpider(scrapy.Spider):
    """A spider driven by a site profile (``crawlers/profiles/<name>.yaml``)."""

    item_kinds: ClassVar[tuple[str, ...]] = ()
    profile: Profile

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ProfileSpider:
        settings = crawler.settings
        for arg, key in ARG_SETTINGS.items():
            value = kwargs.pop(arg, None)
            if value not in (None, ""):
                settings.set(key, value, priority="spider")
        name = settings.get("ECQM_PROFILE")
        if not name:
            raise ValueError("no site profile: pass -s ECQM_PROFILE=NAME or -a profile=NAME")
        profile = load_profile(name, settings.get("ECQM_PROFILES_DIR"))
        if profile.spider != cls.name:
            raise ValueError(
                f"profile {name!r} ({profile.kind}) is crawled by spider {profile.spider!r}, "
                f"not {cls.name!r}"
            )
        now = datetime.now(UTC)
        if not settings.get("ECQM_RUN_ID"):
            settings.set("ECQM_RUN_ID", f"manual-{now:%Y%m%dT%H%M%SZ}", priority="spider")
        if not settings.get("ECQM_PARTITION_DATE"):
            settings.set("ECQM_PARTITION_DATE", f"{now:%Y-%m-%d}", priority="spider")
        # The profile's politeness; -s on the command line still wins (higher priority).
        for key, value in profile.scrapy_settings().items():
            settings.set(key, value, priority="spider")
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.setup(profile)
        return spider

    def setup(self, profile: Profile) -> None:
        s = self.crawler.settings
        self.profile = profile
        self.run_id = s.get("ECQM_RUN_ID")
        self.shard = s.getint("ECQM_SHARD", 0)
        self.shards = s.getint("ECQM_SHARDS", 1)
        self.target_url = s.get("ECQM_TARGET_URL") or None
        self.base_url = profile.resolve_base_url(self.target_url)
        self.allowed_domains = profile.resolve_allowed_domains(self.target_url)
        self.categories = [c for c in s.getlist("ECQM_CATEGORIES") if c]

    # ------------------------------------------------------------------ start
    def start_points(self) -> list[ResolvedStart]:
        needs_keywords = any("{keyword}" in sp.url for sp in self.profile.start_points)
        keywords = category_keywords(self.categories or None) if needs_keywords else None
        # Every shard walks all navigation; ShardMiddleware splits the detail pages.
        return self.profile.start_points_for(0, 1, target_url=self.target_url, keywords=keywords)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        points = self.start_points()
        logger.info(
            "Profile %s, shard %d of %d: %d start point(s)",
            self.profile.name,
            self.shard,
            self.shards,
            len(points),
        )
        for sp in points:
            yield scrapy.Request(sp.url, callback=self.start_callback(sp.type))

    def start_callback(self, page_type: str) -> Callable[..., Any]:
        callback = getattr(self, f"parse_{page_type}", None)
        if callback is None:
            raise ValueError(f"spider {self.name!r} cannot read start points of type {page_type!r}")
        return callback

    # ------------------------------------------------------------------ evidence
    def evidence(self, response: Response) -> tuple[str, str]:
        """(fetched_at, evidence_sha256) recorded for this response by the evidence middleware."""
        fetched_at = response.meta.get(META_FETCHED_AT) or landing.utc_now()
        sha = response.meta.get(META_SHA) or hashlib.sha256(response.body).hexdigest()
        return fetched_at, sha

    def record_fields(self, response: Response) -> dict[str, Any]:
        fetched_at, sha = self.evidence(response)
        return {
            "url": response.url,
            "fetched_at": fetched_at,
            "evidence_sha256": sha,
            "crawl_run_id": self.run_id,
        }

    def parse_failed(
        self, response: Response, what: str, exc: Exception, *, retry: bool = False
    ) -> Iterator[scrapy.Request]:
        """Count a page that could not be read; retry it when the cause may be passing."""
        self.crawler.stats.inc_value(f"ecqm/errors/parse/{what}")
        # Only the URL and the reason: records may hold personal data.
        reason = exc.what if isinstance(exc, ParseError) else type(exc).__name__
        logger.warning("Could not read %s (%s): %s", response.url, what, reason)
        if retry:
            new = retry_later(self, response.request, f"parse_{what}")
            if new is not None:
                yield new

    # ------------------------------------------------------------------ navigation
    def page_links(self, response: Response) -> list[str]:
        if not isinstance(response, TextResponse):
            return []
        out = []
        for href in response.css("a::attr(href)").getall():
            href = href.strip()
            if href and not href.lower().startswith(_SKIP_SCHEMES):
                out.append(response.urljoin(href))
        return list(dict.fromkeys(out))

    def route(self, url: str) -> Callable[..., Any] | None:
        links = self.profile.links
        if links.is_detail(url):
            return self.parse_detail
        if links.is_list(url):
            return self.parse_list
        return None

    def parse_home(self, response: Response) -> Iterator[scrapy.Request]:
        """A site's home page: every link on it is followed once.

        Known pages go to their callbacks; other pages are only scanned for detail
        links. Off-site links are dropped by the offsite middleware and links that
        robots.txt disallows by the robots middleware, each counted in the stats.
        """
        for url in self.page_links(response):
            yield scrapy.Request(url, callback=self.route(url) or self.parse_discovered)

    def parse_discovered(self, response: Response) -> Iterator[scrapy.Request]:
        for url in self.page_links(response):
            if self.profile.links.is_detail(url):
                yield scrapy.Request(url, callback=self.parse_detail)

    def detail_and_pager_requests(
        self, response: Response, detail_urls: list[str] | None = None
    ) -> Iterator[scrapy.Request]:
        links = self.profile.links
        urls = detail_urls if detail_urls is not None else self.page_links(response)
        for url in urls:
            if links.is_detail(url):
                yield scrapy.Request(url, callback=self.parse_detail)
        if links.pagination and isinstance(response, TextResponse):
            for href in response.css(links.pagination).xpath("@href").getall():
                url = response.urljoin(href.strip())
                if links.is_list(url):
                    yield scrapy.Request(url, callback=self.parse_list)

    def parse_list(self, response: Response) -> Iterator[Any]:
        yield from self.detail_and_pager_requests(response)

    def parse_detail(self, response: Response) -> Iterator[Any]:
        raise NotImplementedError


def response_headers(response: Response) -> dict[str, str]:
    return {
        k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()
    }
