"""Listing extraction throughput: pages per second of ``extract_listing``.

Listing pages of a simulated world (all three platforms: JSON-LD, GBK microdata, plain
HTML) are fetched once over HTTP and saved, a third of them gzipped, with a manifest.
Then:

- ``sequential``: :func:`crawlers.extract.extract_listing` on the bodies in memory, one
  process — the cost of extraction alone;
- ``cli, 1 job`` and ``cli, N jobs``: what ``ecqm extract-listing --manifest`` does
  (read, un-gzip, extract, serialise a JSON line, keep manifest order), in this process
  and with a pool of N worker processes.

Target: a few thousand pages in a minute on 2 cores, i.e. at least 50 pages/s with the
pool.

    python -m bench.bench_extract --products 1000 --jobs 2
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import resource
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.common import record
from crawlers.extract import extract_listing
from crawlers.extract.batch import extract_lines, read_manifest
from simulator.server import SimulatorServer
from simulator.world import World, listing_path

TARGET_PAGES_PER_SECOND = 50


def fetch_pages(products: int, seed: int, limit: int) -> list[tuple[str, bytes, str]]:
    """(url, body, content type) of up to ``limit`` listing pages of a world."""
    world = World(products=products, seed=seed)
    pages: list[tuple[str, bytes, str]] = []
    with SimulatorServer(world) as srv:
        for pid in range(products):
            for platform, _, j in world.listings_of(pid):
                lst = world.listing(platform, pid, j)
                url = srv.base_url + listing_path(platform, lst.ext_id)
                with urllib.request.urlopen(url, timeout=30) as resp:
                    pages.append((url, resp.read(), resp.headers.get("Content-Type", "")))
                if len(pages) >= limit:
                    return pages
    return pages


def save_pages(pages: list[tuple[str, bytes, str]], folder: Path) -> Path:
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "url"])
        for i, (url, body, _) in enumerate(pages):
            name = f"{i:06d}.html" + (".gz" if i % 3 == 0 else "")
            (folder / name).write_bytes(gzip.compress(body) if i % 3 == 0 else body)
            writer.writerow([name, url])
    return manifest


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else float("inf")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_extract", description=__doc__)
    parser.add_argument("--products", type=int, default=1000, help="world size (default 1000)")
    parser.add_argument("--seed", type=int, default=20191001)
    parser.add_argument("--pages", type=int, default=3000, help="pages to extract (default 3000)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="pool size")
    parser.add_argument("--no-record", action="store_true", help="do not write bench/results.json")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    pages = fetch_pages(args.products, args.seed, args.pages)
    print(f"fetched {len(pages)} listing pages in {time.perf_counter() - start:.1f}s")

    start = time.perf_counter()
    errors = 0
    for url, body, ctype in pages:
        errors += extract_listing(body, url, headers={"Content-Type": ctype}).error is not None
    sequential = time.perf_counter() - start

    with tempfile.TemporaryDirectory(prefix="ecqm-bench-extract-") as tmp:
        manifest = save_pages(pages, Path(tmp))
        timings = {}
        for jobs in (1, args.jobs):
            start = time.perf_counter()
            lines = sum(1 for _ in extract_lines(read_manifest(manifest), jobs=jobs))
            timings[jobs] = time.perf_counter() - start
            assert lines == len(pages)

    n = len(pages)
    result = {
        "pages": n,
        "page_errors": errors,
        "jobs": args.jobs,
        "sequential_pages_per_s": _rate(n, sequential),
        "cli_1_job_pages_per_s": _rate(n, timings[1]),
        f"cli_{args.jobs}_jobs_pages_per_s": _rate(n, timings[args.jobs]),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "target_pages_per_s": TARGET_PAGES_PER_SECOND,
    }
    print(f"{'method':<22}{'seconds':>9}{'pages/s':>10}")
    print(f"{'sequential':<22}{sequential:>9.2f}{result['sequential_pages_per_s']:>10}")
    for jobs, seconds in timings.items():
        label = f"cli, {jobs} job{'s' if jobs > 1 else ''}"
        print(f"{label:<22}{seconds:>9.2f}{_rate(n, seconds):>10}")
    best = max(_rate(n, s) for s in timings.values())
    verdict = "met" if best >= TARGET_PAGES_PER_SECOND else "NOT met"
    print(
        f"target {TARGET_PAGES_PER_SECOND} pages/s: {verdict}; parent peak RSS {result['max_rss_mib']} MiB"
    )
    if not args.no_record:
        record("listing extraction", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
