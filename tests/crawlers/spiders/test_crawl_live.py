"""Crawls against the live simulator over HTTP, with faults on, through ``run_crawl``.

The fast test crawls a 20-product world; the ``slow`` ones crawl the 100-product world
every profile, compare what landed with the simulator's truth, and check politeness
(robots.txt, off-site links, Retry-After) on the simulator's request log.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from crawl_helpers import (
    DISALLOWED,
    LINE_KEYS,
    PAGE_KEYS,
    coverage,
    crawl,
    items_of,
    read_jsonl,
    serve,
    truth_listings,
)

from crawlers.runner import CrawlError

PLATFORMS = ("youpin", "lehuo", "pinjia")
RECALL_SOURCES = {"samr": "samr", "cpsc": "cpsc", "eu_safety_gate": "safety_gate"}


def check_landing(result, site, evidence_dir: Path) -> None:
    """Item lines follow the schema; every page line has its evidence file."""
    pages = read_jsonl(result.pages_file)
    assert pages and all(set(p) == PAGE_KEYS for p in pages)
    shas = set()
    host = urlsplit(site.base_url).netloc
    for p in pages:
        assert urlsplit(p["url"]).netloc == host  # nothing off-site was fetched
        assert p["crawl_run_id"] == result.run_id
        assert p["fetched_at"].endswith("Z") and datetime.fromisoformat(p["fetched_at"])
        ev = evidence_dir / p["sha256"][:2] / f"{p['sha256']}.gz"
        body = gzip.decompress(ev.read_bytes())
        assert hashlib.sha256(body).hexdigest() == p["sha256"] and len(body) == p["bytes"]
        shas.add(p["sha256"])
    for path in result.item_files:
        for line in read_jsonl(path):
            assert set(line) == LINE_KEYS
            assert line["kind"] + "s" == Path(path).parts[-4]
            assert line["crawl_run_id"] == result.run_id
            assert isinstance(line["external_id"], str) and line["external_id"]
            assert isinstance(line["payload"], dict) and line["payload"]
            assert line["evidence_sha256"] in shas
            assert line["url"].startswith(site.base_url)
            assert datetime.fromisoformat(line["fetched_at"]).utcoffset().total_seconds() == 0
            if line["kind"] == "review":
                assert line["listing_external_id"]
            else:
                assert line["listing_external_id"] is None


def check_politeness(site) -> None:
    log = site.log_entries()
    assert log
    assert not [e["path"] for e in log if e["path"].startswith(DISALLOWED)]
    assert {e["user_agent"] for e in log} == {os.environ.get("ECQM_USER_AGENT") or _default_ua()}


def _default_ua() -> str:
    from ecqm.settings import DEFAULT_USER_AGENT

    return DEFAULT_USER_AGENT


# --------------------------------------------------------------------------- fast
def test_small_world_crawl_end_to_end(tmp_path):
    for site in serve(tmp_path, products=20):
        first = crawl(site, "youpin", tmp_path)
        truth = site.truth
        listings = truth_listings(truth, "youpin")
        got = items_of(first, "listing")
        assert coverage({x["id"] for x in listings}, {x["external_id"] for x in got}) >= 0.99
        reviews = {r["id"] for x in listings for r in x["reviews"]}
        got_reviews = items_of(first, "review")
        assert coverage(reviews, {x["external_id"] for x in got_reviews}) >= 0.99
        by_id = {x["id"]: x for x in listings}
        for r in got_reviews:
            assert r["external_id"] in {v["id"] for v in by_id[r["listing_external_id"]]["reviews"]}
        got_shops = items_of(first, "shop")
        assert {x["shop_id"] for x in listings} <= {x["external_id"] for x in got_shops}
        assert first.items == {
            "listing": len(got),
            "review": len(got_reviews),
            "shop": len(got_shops),
        }
        assert first.pages == len(read_jsonl(first.pages_file))
        assert first.retries > 0 and first.errors.get("http_5xx", 0) > 0  # faults were met
        assert first.errors.get("offsite_filtered", 0) >= 3
        assert first.errors.get("robots_forbidden", 0) >= 1
        check_landing(first, site, tmp_path / "evidence")
        check_politeness(site)

        # The same run and shard again: files replaced, nothing doubled, evidence untouched.
        evidence = {p: p.stat().st_mtime_ns for p in (tmp_path / "evidence").rglob("*.gz")}
        before = {f: len(read_jsonl(f)) for f in first.item_files}
        second = crawl(site, "youpin", tmp_path)
        assert second.item_files == first.item_files
        for f in second.item_files:
            lines = read_jsonl(f)
            keys = [(x["kind"], x["external_id"]) for x in lines]
            assert len(keys) == len(set(keys)) == before[f]
        for p, mtime in evidence.items():
            assert p.stat().st_mtime_ns == mtime
        assert not list((tmp_path / "landing").rglob("*.partial"))


def test_complaints_and_recalls_small(tmp_path):
    for site in serve(tmp_path, products=20):
        log_file = tmp_path / "tousu.log"
        complaints = crawl(
            site, "tousu", tmp_path, settings={"LOG_FILE": str(log_file), "LOG_LEVEL": "DEBUG"}
        )
        expected = {c["number"] for c in site.truth["complaints"]}
        got = items_of(complaints, "complaint")
        assert coverage(expected, {c["external_id"] for c in got}) >= 0.99
        sample = next(c for c in got if c["payload"]["id_number"])
        truth = next(c for c in site.truth["complaints"] if c["number"] == sample["external_id"])
        assert sample["payload"]["phone"] == truth["phone"]  # kept as found, masked later
        assert sample["payload"]["id_number"] == truth["id_number"]

        recalls = crawl(site, "sim_recalls", tmp_path)
        got = items_of(recalls, "recall")
        expected = {(RECALL_SOURCES[r["source"]], r["number"]) for r in site.truth["recalls"]}
        assert coverage(expected, {(r["source"], r["external_id"]) for r in got}) >= 0.99
        cpsc = [r for r in got if r["source"] == "cpsc"]
        assert {urlsplit(r["url"]).path for r in cpsc} == {
            "/recall/download/cpsc_recalls.csv",
            "/recall/download/cpsc_recalls.json",
        }
        for result in (complaints, recalls):
            check_landing(result, site, tmp_path / "evidence")
        check_politeness(site)
        # Even at DEBUG, the log names complaints by number only: no personal data.
        log = log_file.read_text(encoding="utf-8")
        assert "Scraped complaint" in log
        for c in site.truth["complaints"]:
            for value in (c["phone"], c["id_number"], c["complainant"], c["email"]):
                assert not value or value not in log


def test_runner_errors(tmp_path):
    for site in serve(tmp_path, products=5, faults="none"):
        with pytest.raises(CrawlError, match="disabled"):
            crawl(site, "cpsc_recalls", tmp_path)
        with pytest.raises(CrawlError, match="nosuch_module"):
            crawl(
                site,
                "tousu",
                tmp_path,
                settings={"DOWNLOADER_MIDDLEWARES": {"nosuch_module.Middleware": 1}},
            )
        with pytest.raises(ValueError, match="partition date"):
            crawl(site, "tousu", tmp_path, partition_date="01/11/2026")
        assert site.log_entries() == []  # nothing was fetched by the failed attempts


def test_interrupted_crawl_publishes_nothing(tmp_path):
    for site in serve(tmp_path, products=20, faults="slow=1.0,slow_seconds=2"):
        with pytest.raises(CrawlError, match="timed out"):
            crawl(site, "tousu", tmp_path, timeout=3)
        assert not list((tmp_path / "landing").rglob("shard-*.jsonl"))
        assert not list((tmp_path / "landing").rglob("*.partial"))


# --------------------------------------------------------------------------- slow
@pytest.fixture(scope="module")
def full(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("full")
    for site in serve(tmp, products=100):
        results = {p: crawl(site, p, tmp) for p in (*PLATFORMS, "tousu", "sim_recalls")}
        yield site, results, tmp


@pytest.mark.slow
@pytest.mark.parametrize("platform", PLATFORMS)
def test_full_crawl_covers_listings_and_reviews(full, platform):
    site, results, tmp = full
    result = results[platform]
    listings = truth_listings(site.truth, platform)
    got = {x["external_id"] for x in items_of(result, "listing")}
    assert coverage({x["id"] for x in listings}, got) >= 0.99
    reviews = {r["id"] for x in listings for r in x["reviews"]}
    got_reviews = items_of(result, "review")
    assert coverage(reviews, {x["external_id"] for x in got_reviews}) >= 0.99
    assert all(r["platform"] == platform and r["source"] == platform for r in got_reviews)
    check_landing(result, site, tmp / "evidence")


@pytest.mark.slow
def test_full_crawl_covers_complaints_and_recalls(full):
    site, results, tmp = full
    got = {c["external_id"] for c in items_of(results["tousu"], "complaint")}
    assert coverage({c["number"] for c in site.truth["complaints"]}, got) >= 0.99
    expected = {(RECALL_SOURCES[r["source"]], r["number"]) for r in site.truth["recalls"]}
    got = {(r["source"], r["external_id"]) for r in items_of(results["sim_recalls"], "recall")}
    assert coverage(expected, got) >= 0.99
    for p in ("tousu", "sim_recalls"):
        check_landing(results[p], site, tmp / "evidence")


@pytest.mark.slow
def test_full_crawl_is_polite(full):
    site, results, tmp = full
    check_politeness(site)
    for p in ("youpin", "lehuo", "tousu"):
        assert results[p].errors.get("robots_forbidden", 0) > 0, p
    for p in (*PLATFORMS, "tousu"):
        stats = __import__("json").loads(Path(results[p].stats_file).read_text())
        assert stats["scrapy_stats"]["offsite/domains"] == 2  # 127.0.0.2 and www.example.com
        assert stats["errors"]["offsite_filtered"] >= 3

    # 429: the retry of that request waited for Retry-After; other requests went on.
    log = site.log_entries()
    by_path = defaultdict(list)
    for e in log:
        by_path[e["path"]].append(datetime.fromisoformat(e["time"]))
    waits, overlapping = [], 0
    for i, e in enumerate(log):
        if e["status"] != 429:
            continue
        t0 = datetime.fromisoformat(e["time"])
        later = [t for t in by_path[e["path"]] if t > t0]
        if later:
            waits.append((later[0] - t0).total_seconds())
            overlapping += any(
                t0 < datetime.fromisoformat(x["time"]) < later[0] for x in log[i + 1 : i + 50]
            )
    assert len(waits) > 20
    assert min(waits) >= 0.9  # Retry-After: 1
    assert overlapping >= len(waits) * 0.9


@pytest.mark.slow
def test_full_crawl_statistics(full):
    site, results, tmp = full
    import json

    for name, result in results.items():
        doc = json.loads(Path(result.stats_file).read_text())
        assert doc["profile"] == name and doc["finish_reason"] == "finished"
        assert doc["pages"] == result.pages == len(read_jsonl(result.pages_file))
        assert doc["items"] == result.items
        assert doc["retries"] == doc["scrapy_stats"]["retry/count"] == result.retries
        assert datetime.fromisoformat(doc["finished_at"]) >= datetime.fromisoformat(
            doc["started_at"]
        )
        assert doc["duration_s"] >= 0
        assert set(doc["errors"]) <= {
            "http_4xx",
            "http_5xx",
            "timeouts",
            "truncated",
            "connection",
            "parse",
            "robots_forbidden",
            "offsite_filtered",
            "redirect_loop",
            "retries_exhausted",
            "invalid_item",
            "spider_exception",
        } | {k for k in doc["errors"] if k.startswith("parse_")}
        assert "spider_exception" not in doc["errors"]


def test_redirect_loops_and_broken_json_are_retried(tmp_path):
    faults = "redirect_loop=0.05,malformed_json=0.1,5xx=0.02"
    for site in serve(tmp_path, products=12, faults=faults):
        result = crawl(site, "youpin", tmp_path)
        listings = truth_listings(site.truth, "youpin")
        reviews = {r["id"] for x in listings for r in x["reviews"]}
        got = {x["external_id"] for x in items_of(result, "review")}
        assert coverage(reviews, got) >= 0.99
        got = {x["external_id"] for x in items_of(result, "listing")}
        assert coverage({x["id"] for x in listings}, got) >= 0.99
        assert result.errors["redirect_loop"] > 0
        assert result.errors["parse_reviews"] > 0  # counted, retried, not a crash
        log = site.log_entries()
        assert {e["fault"] for e in log} >= {"redirect_loop", "malformed_json"}
        # A loop is cut as soon as it comes round: at most a few hops per looping URL.
        loops = [e for e in log if "__loop=" in e["path"]]
        starts = [e for e in log if e["fault"] == "redirect_loop"]
        assert len(loops) <= 2 * len(starts)


@pytest.mark.slow
def test_shards_split_the_work_and_land_side_by_side(tmp_path):
    for site in serve(tmp_path, products=100):
        parts = [crawl(site, "tousu", tmp_path, shard=i, shards=2) for i in range(2)]
        assert parts[0].item_files != parts[1].item_files
        assert [Path(r.item_files[0]).name for r in parts] == ["shard-000.jsonl", "shard-001.jsonl"]
        per_shard = [{c["external_id"] for c in items_of(r, "complaint")} for r in parts]
        got = per_shard[0] | per_shard[1]
        assert coverage({c["number"] for c in site.truth["complaints"]}, got) >= 0.99
        assert all(r.items["complaint"] > 0 for r in parts)
        assert not per_shard[0] & per_shard[1], "two shards fetched the same complaint"
