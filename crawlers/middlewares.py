"""Downloader middlewares: evidence of every response, retries with backoff, redirect loops.

- :class:`EvidenceMiddleware` (next to the downloader) sees every response, whatever
  its status, before retries and redirects act on it: the body goes gzipped into the
  evidence archive under its SHA-256, and a line goes into the shard's pages file.
- :class:`BackoffRetryMiddleware` replaces Scrapy's retry middleware: the same
  retry rules, but a retried request waits — ``Retry-After`` for 429/503, otherwise
  exponentially longer each time. The wait holds back that request only.
- :class:`RedirectLoopMiddleware` notices a redirect back to a URL already in the
  chain and retries the original URL instead of going round until the limit.
"""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import hashlib
import logging
import random
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

from scrapy import Request, signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.utils.response import response_status_message

from crawlers import landing

logger = logging.getLogger(__name__)

META_SHA = "ecqm_evidence_sha256"
META_FETCHED_AT = "ecqm_fetched_at"
META_NOT_BEFORE = "ecqm_not_before"
_REDIRECT_CODES = (301, 302, 303, 307, 308)
_REDIRECT_META = ("redirect_urls", "redirect_reasons", "redirect_times", "redirect_ttl")


def run_paths(settings: BaseSettings) -> dict[str, Any]:
    """The landing/evidence folders and run coordinates from the settings.

    Raises ``NotConfigured`` naming what is missing or unusable.
    """
    missing = [
        k
        for k in ("ECQM_LANDING_DIR", "ECQM_EVIDENCE_DIR", "ECQM_PROFILE", "ECQM_RUN_ID")
        if not settings.get(k)
    ]
    if missing or not settings.get("ECQM_PARTITION_DATE"):
        raise NotConfigured(f"missing setting(s): {', '.join(missing or ['ECQM_PARTITION_DATE'])}")
    try:
        out = {
            "landing": landing.local_dir(settings.get("ECQM_LANDING_DIR")),
            "evidence": landing.local_dir(settings.get("ECQM_EVIDENCE_DIR")),
            "profile": settings.get("ECQM_PROFILE"),
            "run_id": settings.get("ECQM_RUN_ID"),
            "date": settings.get("ECQM_PARTITION_DATE"),
            "shard": settings.getint("ECQM_SHARD", 0),
        }
        landing.check_run(out["run_id"], out["date"], out["shard"])
    except ValueError as exc:
        raise NotConfigured(str(exc)) from None
    return out


def decoded_body(response: Response) -> bytes:
    """The body with its Content-Encoding undone (what the spider will read)."""
    body = response.body
    encodings = [
        e.strip().lower()
        for e in response.headers.getlist(b"Content-Encoding")
        for e in e.decode("latin-1").split(",")
        if e.strip()
    ]
    for enc in reversed(encodings):
        try:
            if enc in ("gzip", "x-gzip"):
                body = gzip.decompress(body)
            elif enc == "deflate":
                try:
                    body = zlib.decompress(body)
                except zlib.error:
                    body = zlib.decompress(body, -zlib.MAX_WBITS)
            elif enc == "br":
                import brotli  # optional, as in Scrapy

                body = brotli.decompress(body)
            elif enc != "identity":
                return response.body
        except Exception:  # noqa: BLE001 — an undecodable body is kept as received
            return response.body
    return body


def _headers(response: Response) -> dict[str, str]:
    return {
        k.decode("latin-1"): ", ".join(v.decode("latin-1") for v in vs)
        for k, vs in response.headers.items()
    }


class EvidenceMiddleware:
    """Every response: body into the evidence archive, one line into the pages file."""

    def __init__(self, crawler: Any, paths: dict[str, Any]) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.evidence_dir: Path = paths["evidence"]
        self.path = landing.pages_path(
            paths["landing"], paths["profile"], paths["date"], paths["run_id"], paths["shard"]
        )
        self.run_id = paths["run_id"]
        self.file: landing.ShardFile | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> EvidenceMiddleware:
        mw = cls(crawler, run_paths(crawler.settings))
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def spider_opened(self, spider: Any) -> None:
        self.file = landing.ShardFile(self.path)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.file is None:
            return
        if finished_normally(reason):
            self.file.commit()
        else:
            self.file.abort()
        self.file = None

    def process_response(self, request: Request, response: Response) -> Response:
        fetched_at = landing.utc_now()
        body = decoded_body(response)
        sha = hashlib.sha256(body).hexdigest()
        if landing.write_evidence(self.evidence_dir, sha, body):
            self.stats.inc_value("ecqm/evidence/stored")
        else:
            self.stats.inc_value("ecqm/evidence/already_stored")
        headers = _headers(response)
        line = {
            "sha256": sha,
            "url": response.url,
            "status": response.status,
            "headers": headers,
            "fetched_at": fetched_at,
            "crawl_run_id": self.run_id,
            "bytes": len(body),
            "content_type": headers.get("Content-Type"),
        }
        if self.file is not None:
            self.file.write(line)
        request.meta[META_SHA] = sha
        request.meta[META_FETCHED_AT] = fetched_at
        self.stats.inc_value("ecqm/pages")
        self.stats.inc_value(f"ecqm/pages/status/{response.status // 100}xx")
        return response

    def process_exception(self, request: Request, exception: BaseException) -> None:
        if isinstance(exception, IgnoreRequest):
            return None  # refused before download (robots.txt, offsite): nothing was fetched
        self.stats.inc_value(f"ecqm/errors/exception/{type(exception).__name__}")
        return None


def finished_normally(reason: str) -> bool:
    """Whether a close reason means the shard's files are complete enough to publish.

    A crawl that ran out of work, or stopped at a configured limit, publishes; one that
    was interrupted (shutdown, cancelled) leaves the final names as they were.
    """
    return reason == "finished" or reason.startswith("closespider_")


def retry_after_seconds(value: bytes | str | None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry rules, plus a wait before each retry (see the module docstring)."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("ECQM_RETRY_BACKOFF_BASE", 1.0)
        self.cap = settings.getfloat("ECQM_RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_cap = settings.getfloat("ECQM_RETRY_AFTER_MAX", 300.0)

    async def process_request(self, request: Request) -> None:
        not_before = request.meta.get(META_NOT_BEFORE)
        if not_before is not None:
            wait = not_before - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        return None

    def backoff(self, retry_times: int) -> float:
        delay = min(self.cap, self.base * 2 ** max(0, retry_times - 1))
        return delay * random.uniform(0.8, 1.2)  # spread retries that failed together

    def _schedule(self, new: Request, delay: float) -> Request:
        new.meta[META_NOT_BEFORE] = time.monotonic() + delay
        self.crawler.stats.inc_value("ecqm/retry/wait_seconds", round(delay, 3))
        return new

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        new = self._retry(request, response_status_message(response.status))
        if new is None:
            return response
        delay = None
        if response.status in (429, 503):
            delay = retry_after_seconds(response.headers.get(b"Retry-After"))
            if delay is not None:
                delay = min(delay, self.retry_after_cap)
                self.crawler.stats.inc_value("ecqm/retry/retry_after_honoured")
        if delay is None:
            delay = self.backoff(new.meta["retry_times"])
        return self._schedule(new, delay)

    def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get(
            "dont_retry", False
        ):
            return None
        new = self._retry(request, exception)
        if new is None:
            return None
        return self._schedule(new, self.backoff(new.meta["retry_times"]))


def retry_later(spider: Any, request: Request, reason: str) -> Request | None:
    """A retry of ``request`` after the backoff wait, or None when retries are used up.

    For callbacks that find a 200 response unusable (a JSON body cut short, say).
    """
    new = get_retry_request(request, spider=spider, reason=reason)
    if new is None:
        return None
    settings = spider.crawler.settings
    base = settings.getfloat("ECQM_RETRY_BACKOFF_BASE", 1.0)
    cap = settings.getfloat("ECQM_RETRY_BACKOFF_MAX", 60.0)
    delay = min(cap, base * 2 ** max(0, new.meta["retry_times"] - 1)) * random.uniform(0.8, 1.2)
    new.meta[META_NOT_BEFORE] = time.monotonic() + delay
    return new


class RedirectLoopMiddleware:
    """Stop a redirect chain that comes back to a URL it already visited."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> RedirectLoopMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        location = response.headers.get(b"Location")
        if response.status not in _REDIRECT_CODES or not location:
            return response
        target = urldefrag(urljoin(request.url, location.decode("latin-1")))[0]
        chain = [urldefrag(u)[0] for u in (*request.meta.get("redirect_urls", ()), request.url)]
        if target not in chain:
            return response
        self.crawler.stats.inc_value("ecqm/errors/redirect_loop")
        original = chain[0]
        logger.warning("Redirect loop from %s; retrying it from the start", original)
        fresh = request.replace(url=original)
        for key in _REDIRECT_META:
            fresh.meta.pop(key, None)
        new = retry_later(self.crawler.spider, fresh, "redirect_loop")
        if new is None:
            raise IgnoreRequest(f"redirect loop at {original}")
        return new


class ShardMiddleware:
    """Splits the expensive work of a sharded crawl: detail pages (and so their reviews).

    Every shard walks all of the profile's navigation (searches, lists, sitemaps: a small
    share of the pages), and follows only the detail pages it owns: those whose id (or
    URL) hashes to its shard number. Shards are therefore disjoint where it matters and
    together complete, whichever start point happens to reach a listing first.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> ShardMiddleware:
        return cls(crawler)

    def _keep(self, item_or_request: Any) -> bool:
        if not isinstance(item_or_request, Request):
            return True
        spider = self.crawler.spider
        shards = getattr(spider, "shards", 1)
        if shards <= 1 or not spider.profile.links.is_detail(item_or_request.url):
            return True
        if (
            owner_shard(
                spider.profile.links.detail_id(item_or_request.url) or item_or_request.url, shards
            )
            == spider.shard
        ):
            return True
        self.crawler.stats.inc_value("ecqm/shard/detail_left_to_other_shards")
        return False

    def process_spider_output(self, response: Response, result: Any) -> Any:
        for r in result:
            if self._keep(r):
                yield r

    async def process_spider_output_async(self, response: Response, result: Any) -> Any:
        async for r in result:
            if self._keep(r):
                yield r


def owner_shard(key: str, shards: int) -> int:
    """The shard that owns ``key``: stable across processes and machines (CRC-32)."""
    return zlib.crc32(key.encode("utf-8")) % shards
