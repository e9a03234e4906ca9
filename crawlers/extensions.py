"""The per-shard statistics file, written when the spider closes.

``{landing}/{profile}/stats/{date}/{run_id}/shard-{shard:03d}.json`` holds pages
fetched, items by kind, errors by kind, retries, start and end times, and Scrapy's own
statistics. :func:`crawlers.runner.run_crawl` reads it back for its result.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scrapy import signals

from crawlers import landing
from crawlers.middlewares import run_paths


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def errors_by_kind(stats: dict[str, Any]) -> dict[str, int]:
    """Errors grouped the way people read them, from Scrapy's and our counters."""
    errors: dict[str, int] = {}

    def add(key: str, n: Any) -> None:
        if n:
            errors[key] = errors.get(key, 0) + int(n)

    for k, v in stats.items():
        if k.startswith("ecqm/pages/status/") and k[-3:] in ("4xx", "5xx"):
            add(f"http_{k[-3:]}", v)
        elif k.startswith("downloader/exception_type_count/"):
            name = k.rsplit("/", 1)[-1].rsplit(".", 1)[-1]
            if name == "IgnoreRequest":
                continue  # robots.txt and offsite refusals, counted below
            if "Timeout" in name:
                add("timeouts", v)
            elif "DataLoss" in name or name in ("ResponseFailed", "ConnectionLost"):
                add("truncated", v)
            else:
                add("connection", v)
        elif k.startswith("ecqm/errors/parse/"):
            add("parse", v)
            add(f"parse_{k.rsplit('/', 1)[-1]}", v)
        elif k == "ecqm/errors/redirect_loop":
            add("redirect_loop", v)
        elif k == "ecqm/errors/invalid_item":
            add("invalid_item", v)
        elif k.startswith("spider_exceptions/") and k != "spider_exceptions/count":
            add("spider_exception", v)
    add("robots_forbidden", stats.get("robotstxt/forbidden"))
    add("offsite_filtered", stats.get("offsite/filtered"))
    add("retries_exhausted", stats.get("retry/max_reached"))
    return dict(sorted(errors.items()))


class ShardStatsWriter:
    def __init__(self, crawler: Any, paths: dict[str, Any]) -> None:
        self.crawler = crawler
        self.paths = paths
        self.started_at: datetime | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ShardStatsWriter:
        ext = cls(crawler, run_paths(crawler.settings))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    @property
    def path(self):
        p = self.paths
        return landing.stats_path(p["landing"], p["profile"], p["date"], p["run_id"], p["shard"])

    def spider_opened(self, spider: Any) -> None:
        self.started_at = datetime.now(UTC)

    def spider_closed(self, spider: Any, reason: str) -> None:
        finished = datetime.now(UTC)
        started = self.started_at or finished
        stats = self.crawler.stats.get_stats()
        p = self.paths
        items = {
            kind: int(stats.get(f"ecqm/items/{kind}", 0))
            for kind in getattr(spider, "item_kinds", ())
        }
        item_files = {
            kind: str(
                landing.item_path(
                    p["landing"], p["profile"], kind, p["date"], p["run_id"], p["shard"]
                )
            )
            for kind in items
        }
        doc = {
            "profile": p["profile"],
            "spider": spider.name,
            "run_id": p["run_id"],
            "partition_date": p["date"],
            "shard": p["shard"],
            "shards": self.crawler.settings.getint("ECQM_SHARDS", 1),
            "finish_reason": reason,
            "started_at": _jsonable(started),
            "finished_at": _jsonable(finished),
            "duration_s": round((finished - started).total_seconds(), 3),
            "pages": int(stats.get("ecqm/pages", 0)),
            "items": items,
            "errors": errors_by_kind(stats),
            "retries": int(stats.get("retry/count", 0)),
            "item_files": item_files,
            "pages_file": str(
                landing.pages_path(p["landing"], p["profile"], p["date"], p["run_id"], p["shard"])
            ),
            "scrapy_stats": _jsonable(dict(sorted(stats.items()))),
        }
        landing.write_json_atomic(self.path, doc)
