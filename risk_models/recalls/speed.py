"""How fast recall matching runs: listings per second at a realistic size.

A simulated world large enough to hold ``recalls`` recalls (the registry plants one
per 40 products) gives both sides: its recall files and notice pages, read as the
crawl reads them (:func:`~risk_models.recalls.evaluate.world_recall_rows`), and its
first ``listings`` listings. Measured separately: building the matcher (indexing the
recalls) and :meth:`RecallMatcher.match_many` over the listings; the simulator's own
time to make listings and pages is not counted.

    python -m risk_models.recalls.speed --listings 100000 --recalls 10000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from risk_models.recalls.aliases import BrandAliases
from risk_models.recalls.evaluate import world_listings, world_recall_rows
from risk_models.recalls.matcher import RecallMatcher

__all__ = ["TARGET_SECONDS", "main", "measure"]

TARGET_SECONDS = 30.0
"""100,000 listings against 10,000 recalls must take well under a minute."""
PRODUCTS_PER_RECALL = 40


def measure(listings: int = 100_000, recalls: int = 10_000, seed: int = 20191001) -> dict[str, Any]:
    """Build a matcher over ``recalls`` recalls and match ``listings`` listings; timings."""
    from simulator.world import World

    world = World(max(recalls * PRODUCTS_PER_RECALL, 1), seed)
    t0 = time.perf_counter()
    rows = world_recall_rows(world)
    seconds_read = time.perf_counter() - t0
    items = []
    for lst in world_listings(world):
        if len(items) >= listings:
            break
        items.append((lst.title, lst.brand, lst.model, lst.gtin))
    t0 = time.perf_counter()
    matcher = RecallMatcher(rows, aliases=BrandAliases.shipped())
    seconds_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    results = matcher.match_many(items)
    seconds_match = time.perf_counter() - t0
    return {
        "seed": seed,
        "recalls": len(matcher),
        "listings": len(items),
        "matches": sum(len(r) for r in results),
        "seconds_read_recalls": round(seconds_read, 2),
        "seconds_build": round(seconds_build, 2),
        "seconds_match": round(seconds_match, 2),
        "listings_per_second": round(len(items) / seconds_match) if seconds_match else None,
        "target_seconds": TARGET_SECONDS,
        "meets_target": seconds_build + seconds_match < TARGET_SECONDS,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Print the measurement as JSON; exit status 1 when it misses the target."""
    parser = argparse.ArgumentParser(
        prog="python -m risk_models.recalls.speed", description=__doc__
    )
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--recalls", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20191001)
    args = parser.parse_args(argv)
    result = measure(args.listings, args.recalls, args.seed)
    print(json.dumps(result, indent=2))
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
