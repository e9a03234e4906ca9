"""Helpers for the crawler tests: saved pages, a live simulator with faults, landing files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from simulator.faults import FaultSpec
from simulator.server import SimulatorServer
from simulator.truth import iter_truth
from simulator.world import World

PAGES = Path(__file__).resolve().parent / "pages"
SEED = 11
FAULTS = "429=0.05,5xx=0.03,truncate=0.02"
# Politeness relaxed for the loopback simulator, so crawls finish in seconds.
FAST = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_START_DELAY": 0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 16,
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
    "ECQM_RETRY_BACKOFF_BASE": 0.05,
    "ECQM_RETRY_BACKOFF_MAX": 1.0,
}


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fp:
        return [json.loads(line) for line in fp]


def truth_of(world: World) -> dict[str, Any]:
    return json.loads("".join(iter_truth(world)))


class LiveSite:
    """A simulator served for a test module, with its truth and request log."""

    def __init__(self, server: SimulatorServer, truth: dict[str, Any], log: Path) -> None:
        self.server = server
        self.truth = truth
        self.log = log

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def log_entries(self) -> list[dict[str, Any]]:
        return read_jsonl(self.log)


def serve(tmp: Path, products: int, faults: str = FAULTS) -> Iterator[LiveSite]:
    world = World(products=products, seed=SEED)
    log = tmp / "requests.jsonl"
    with SimulatorServer(world, FaultSpec.parse(faults), request_log=log) as srv:
        yield LiveSite(srv, truth_of(world), log)


LINE_KEYS = {
    "kind",
    "source",
    "platform",
    "external_id",
    "listing_external_id",
    "url",
    "fetched_at",
    "evidence_sha256",
    "crawl_run_id",
    "payload",
}
PAGE_KEYS = {
    "sha256",
    "url",
    "status",
    "headers",
    "fetched_at",
    "crawl_run_id",
    "bytes",
    "content_type",
}
DISALLOWED = (
    "/youpin/cart/",
    "/lehuo/member/",
    "/pinjia/api/internal/",
    "/tousu/user/",
    "/recall/manage/",
)


def crawl(site: LiveSite, profile: str, tmp: Path, run_id: str = "run1", **kwargs: Any):
    from crawlers.runner import run_crawl

    settings = {**FAST, **kwargs.pop("settings", {})}
    return run_crawl(
        profile,
        run_id=run_id,
        partition_date=kwargs.pop("partition_date", "2026-11-01"),
        target_url=site.base_url,
        landing_dir=tmp / "landing",
        evidence_dir=tmp / "evidence",
        settings=settings,
        timeout=kwargs.pop("timeout", 300),
        **kwargs,
    )


def truth_listings(truth: dict[str, Any], platform: str) -> list[dict[str, Any]]:
    return [lst for p in truth["products"] for lst in p["listings"] if lst["platform"] == platform]


def coverage(expected: set[str], got: set[str]) -> float:
    return len(expected & got) / len(expected) if expected else 1.0


def items_of(result: Any, kind: str) -> list[dict[str, Any]]:
    files = [f for f in result.item_files if f"/{kind}s/" in f]
    assert len(files) == 1, result.item_files
    return read_jsonl(files[0])
