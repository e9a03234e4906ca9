"""Crawl throughput against the simulator, side by side with ``scrapy bench``.

Both run on this machine in one invocation:

- ``scrapy bench``: Scrapy's own benchmark (a local server of link-only pages, a spider
  that follows links and extracts nothing), the ceiling for this Scrapy on this machine;
- ``ecqm``: the real ``crawl_<platform>`` crawl of the simulated marketplace, with listing
  extraction, review collection, robots.txt, offsite filtering, landing files and the
  gzipped evidence archive all on — politeness relaxed to what ``scrapy bench`` uses
  (16 concurrent requests, no delay, AutoThrottle off), because the simulator is local.

Target: ecqm's pages per second at least half of ``scrapy bench``'s.

    python -m bench.bench_crawl --products 2000 --platform youpin
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import record

BENCH_SETTINGS = {
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "LOG_LEVEL": "INFO",
}


def scrapy_bench(seconds: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "SCRAPY_SETTINGS_MODULE"}
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.run(
            [sys.executable, "-m", "scrapy", "bench", "-s", f"CLOSESPIDER_TIMEOUT={seconds}"],
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            timeout=seconds + 120,
        )
    log = proc.stdout + proc.stderr
    responses = int(re.search(r"'response_received_count': (\d+)", log).group(1))
    elapsed = float(re.search(r"'elapsed_time_seconds': ([\d.]+)", log).group(1))
    return {
        "pages": responses,
        "seconds": round(elapsed, 2),
        "pages_per_second": round(responses / elapsed, 1),
    }


def ecqm_crawl(products: int, platform: str, seed: int) -> dict:
    from crawlers.runner import run_crawl
    from simulator.server import SimulatorServer
    from simulator.world import World

    with (
        tempfile.TemporaryDirectory() as tmp,
        SimulatorServer(World(products=products, seed=seed)) as srv,
    ):
        result = run_crawl(
            platform,
            run_id="bench",
            partition_date="2026-11-01",
            target_url=srv.base_url,
            landing_dir=Path(tmp) / "landing",
            evidence_dir=Path(tmp) / "evidence",
            settings=BENCH_SETTINGS,
        )
        evidence_files = sum(1 for _ in (Path(tmp) / "evidence").rglob("*.gz"))
    return {
        "products": products,
        "platform": platform,
        "pages": result.pages,
        "items": result.items,
        "evidence_files": evidence_files,
        "seconds": round(result.duration_s, 2),
        "pages_per_second": round(result.pages / result.duration_s, 1),
        "listing_pages_per_second": round(result.items.get("listing", 0) / result.duration_s, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--platform", default="youpin", choices=["youpin", "lehuo", "pinjia"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bench-seconds", type=int, default=20)
    args = parser.parse_args(argv)
    reference = scrapy_bench(args.bench_seconds)
    ours = ecqm_crawl(args.products, args.platform, args.seed)
    ratio = ours["pages_per_second"] / reference["pages_per_second"]
    result = {
        "scrapy_bench": reference,
        "ecqm": ours,
        "ratio_to_scrapy_bench": round(ratio, 3),
        "target": "ecqm pages/s >= 0.5 x scrapy bench",
        "meets_target": ratio >= 0.5,
        "settings": BENCH_SETTINGS,
    }
    record(f"crawl_{args.platform}", result)
    print(f"crawl of the simulator ({args.products:,} products, {args.platform}) vs scrapy bench:")
    print(
        f"  scrapy bench      {reference['pages_per_second']:>8.1f} pages/s ({reference['pages']:,} pages)"
    )
    print(
        f"  ecqm crawl        {ours['pages_per_second']:>8.1f} pages/s ({ours['pages']:,} pages, "
        f"{ours['items'].get('listing', 0):,} listings, {ours['items'].get('review', 0):,} reviews, "
        f"{ours['evidence_files']:,} evidence files)"
    )
    print(f"  ratio             {ratio:>8.2f}  (target >= 0.50)")
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
