"""The item pipeline that writes the landing zone: one JSON line per record.

Each kind the spider yields goes to its own shard file
``{landing}/{profile}/{kind}s/{date}/{run_id}/shard-{shard:03d}.jsonl``, written under
a temporary name and renamed when the shard finishes (see :mod:`crawlers.landing`).
Every kind the spider declares gets a file, even an empty one, so a re-run of the
same run and shard always replaces what an earlier attempt wrote.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured

from crawlers import landing
from crawlers.items import LINE_FIELDS
from crawlers.middlewares import finished_normally, run_paths

logger = logging.getLogger(__name__)

_REQUIRED = ("source", "external_id", "url", "fetched_at", "crawl_run_id")


class LandingPipeline:
    def __init__(self, crawler: Any, paths: dict[str, Any]) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.paths = paths
        self.files: dict[str, landing.ShardFile] = {}
        self._seen: set[bytes] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> LandingPipeline:
        paths = run_paths(crawler.settings)
        if not crawler.settings.getbool("ECQM_LANDING_ENABLED", True):
            raise NotConfigured("ECQM_LANDING_ENABLED is off")
        pipeline = cls(crawler, paths)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def item_path(self, kind: str):
        p = self.paths
        return landing.item_path(
            p["landing"], p["profile"], kind, p["date"], p["run_id"], p["shard"]
        )

    def open_spider(self) -> None:
        for kind in getattr(self.crawler.spider, "item_kinds", ()):
            self._file(kind)

    def _file(self, kind: str) -> landing.ShardFile:
        if kind not in self.files:
            self.files[kind] = landing.ShardFile(self.item_path(kind))
        return self.files[kind]

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        kind = getattr(type(item), "kind", None) or adapter.get("kind")
        if kind not in landing.ITEM_KINDS:
            self.stats.inc_value("ecqm/errors/invalid_item")
            raise DropItem(f"unknown item kind {kind!r}")
        empty = [k for k in _REQUIRED if not adapter.get(k)]
        if empty or not isinstance(adapter.get("payload"), dict):
            self.stats.inc_value("ecqm/errors/invalid_item")
            raise DropItem(f"{kind} without {', '.join(empty or ['payload'])}")
        record = {"kind": kind, **{k: adapter.get(k) for k in LINE_FIELDS if k != "kind"}}
        # One line per record and run: the same page reached twice adds nothing. A
        # recall published in two formats (CSV, JSON) keeps one line per document.
        key = (kind, record["source"], record["external_id"], record["listing_external_id"])
        if kind == "recall":
            key += (record["url"],)
        digest = hashlib.blake2b(repr(key).encode(), digest_size=12).digest()
        if digest in self._seen:
            self.stats.inc_value(f"ecqm/items_duplicate/{kind}")
            raise DropItem(f"duplicate {kind} {record['external_id']}")
        try:
            self._file(kind).write(record)
        except (TypeError, ValueError) as exc:
            self.stats.inc_value("ecqm/errors/invalid_item")
            raise DropItem(
                f"{kind} {record['external_id']}: payload not JSON-safe: {exc}"
            ) from None
        self._seen.add(digest)
        self.stats.inc_value(f"ecqm/items/{kind}")
        return item

    def spider_closed(self, spider: Any, reason: str) -> None:
        publish = finished_normally(reason)
        for f in self.files.values():
            if publish:
                f.commit()
            else:
                f.abort()
        if not publish:
            logger.warning("Crawl ended with %r: item files left unpublished", reason)
        self.files = {}
