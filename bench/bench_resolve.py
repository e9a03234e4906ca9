"""Product entity resolution: listings per second, memory, state round trip, accuracy.

Listings of a simulated world are streamed into
:class:`transforms.resolve.ProductResolver` as :class:`ListingFacts` (title, brand and
model text as shown on the page, barcode where the platform shows one, category, producer),
at two sizes, each in a fresh process so that its peak resident memory is its own. The
simulator's own time to make the listings is measured and taken out.

Per size: resolution time, listings per second, peak RSS, products found against the
planted truth (pairwise precision and recall of the clusters), and the state round trip
the warehouse does between runs: every ``product_state`` serialised to JSON, and
``ProductResolver.from_states`` rebuilding the resolver from it.

Targets on 2 cores: at least 5,000 listings/s (1,000,000 listings in under 3.5 minutes),
memory at 1,000,000 listings, extrapolated linearly from the two sizes, under 2 GiB, and
pairwise precision and recall of at least 0.98.

    python -m bench.bench_resolve --sizes 100000,300000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import time
from collections import Counter
from collections.abc import Iterator
from math import comb

from bench.common import record

TARGET_LISTINGS_PER_SECOND = 5_000
TARGET_PEAK_MIB_AT_1M = 2048
TARGET_PRECISION = TARGET_RECALL = 0.98
LISTINGS_PER_PRODUCT = 2.8  # a little under the world's average, so it is big enough


class _Stream:
    """Listings of a world as (truth product id, facts), up to ``limit``."""

    def __init__(self, limit: int, seed: int) -> None:
        self.limit, self.seed = limit, seed
        self.seconds = 0.0
        self.count = 0

    def __iter__(self) -> Iterator[tuple[int, object]]:
        from simulator.world import World
        from transforms.resolve import ListingFacts

        world = World(products=int(self.limit / LISTINGS_PER_PRODUCT) + 10, seed=self.seed)
        start = time.perf_counter()
        for pid in range(world.products):
            for key in world.listings_of(pid):
                if self.count >= self.limit:
                    self.seconds += time.perf_counter() - start
                    return
                listing = world.listing(*key)
                product = listing.product
                facts = ListingFacts(
                    platform=listing.platform,
                    external_id=str(listing.ext_id),
                    title=listing.title,
                    brand=listing.brand_text,
                    model=listing.model_text,
                    # 拼佳 pages show no barcode.
                    gtin=product.gtin if listing.platform != "pinjia" else None,
                    category_code=product.category.code,
                    producer=listing.manufacturer,
                )
                self.count += 1
                self.seconds += time.perf_counter() - start
                yield pid, facts
                start = time.perf_counter()
        self.seconds += time.perf_counter() - start


def _pairwise(pairs: list[tuple[str, int]]) -> tuple[float, float]:
    both = sum(comb(n, 2) for n in Counter(pairs).values())
    found = sum(comb(n, 2) for n in Counter(k for k, _ in pairs).values())
    true = sum(comb(n, 2) for n in Counter(p for _, p in pairs).values())
    return both / max(1, found), both / max(1, true)


def _measure(size: int, seed: int) -> dict:
    from transforms.resolve import ProductResolver

    before_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stream = _Stream(size, seed)
    resolver = ProductResolver()
    pairs: list[tuple[str, int]] = []
    methods: Counter[str] = Counter()
    start = time.perf_counter()
    for pid, facts in stream:
        res = resolver.resolve(facts)  # type: ignore[arg-type]
        pairs.append((res.product_key, pid))
        methods[res.method] += 1
    seconds = time.perf_counter() - start - stream.seconds
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    start = time.perf_counter()
    stored = [
        (key, json.dumps(resolver.product_state(key), ensure_ascii=False))
        for key in resolver.product_keys()
    ]
    save_seconds = time.perf_counter() - start
    start = time.perf_counter()
    rebuilt = ProductResolver.from_states((key, json.loads(state)) for key, state in stored)
    load_seconds = time.perf_counter() - start
    assert len(rebuilt) == len(resolver)

    precision, recall = _pairwise(pairs)
    return {
        "listings": stream.count,
        "products_true": len({p for _, p in pairs}),
        "products_found": len(resolver),
        "seconds": round(seconds, 2),
        "simulator_seconds": round(stream.seconds, 2),
        "listings_per_second": round(stream.count / seconds),
        "peak_rss_mib": round(peak_mib, 1),
        "start_rss_mib": round(before_mib, 1),
        "methods": dict(methods),
        "precision": round(precision, 5),
        "recall": round(recall, 5),
        "state_mib": round(sum(len(s.encode()) for _, s in stored) / 2**20, 1),
        "state_save_seconds": round(save_seconds, 2),
        "state_load_seconds": round(load_seconds, 2),
    }


def _in_child(size: int, seed: int) -> dict:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(_measure, (size, seed))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_resolve", description=__doc__)
    parser.add_argument("--sizes", default="100000,300000", help="listing counts, comma-separated")
    parser.add_argument("--seed", type=int, default=20191001)
    parser.add_argument("--no-record", action="store_true", help="do not write bench/results.json")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))

    runs = []
    for size in sizes:
        result = _in_child(size, args.seed)
        runs.append(result)
        print(
            f"{result['listings']:>9,} listings  {result['seconds']:7.1f} s  "
            f"{result['listings_per_second']:>7,}/s  peak {result['peak_rss_mib']:7.1f} MiB  "
            f"products {result['products_found']:,} of {result['products_true']:,}  "
            f"precision {result['precision']:.4f}  recall {result['recall']:.4f}  "
            f"state {result['state_mib']} MiB saved {result['state_save_seconds']} s, "
            f"loaded {result['state_load_seconds']} s"
        )

    slowest = min(r["listings_per_second"] for r in runs)
    if len(runs) >= 2:
        a, b = runs[0], runs[-1]
        per_listing = (b["peak_rss_mib"] - a["peak_rss_mib"]) / (b["listings"] - a["listings"])
        peak_1m = b["peak_rss_mib"] + per_listing * (1_000_000 - b["listings"])
    else:
        peak_1m = runs[0]["peak_rss_mib"] * 1_000_000 / runs[0]["listings"]
    precision = min(r["precision"] for r in runs)
    recall = min(r["recall"] for r in runs)
    ok = (
        slowest >= TARGET_LISTINGS_PER_SECOND
        and peak_1m <= TARGET_PEAK_MIB_AT_1M
        and precision >= TARGET_PRECISION
        and recall >= TARGET_RECALL
    )
    print(
        f"slowest {slowest:,} listings/s (target {TARGET_LISTINGS_PER_SECOND:,}); peak memory at "
        f"1,000,000 listings about {peak_1m:,.0f} MiB (target {TARGET_PEAK_MIB_AT_1M:,}); "
        f"precision {precision:.4f}, recall {recall:.4f} (target {TARGET_PRECISION}): "
        + ("ok" if ok else "BELOW TARGET")
    )
    if not args.no_record:
        record(
            "product resolution",
            {
                "seed": args.seed,
                "runs": runs,
                "estimated_peak_mib_at_1m": round(peak_1m),
                "target_listings_per_second": TARGET_LISTINGS_PER_SECOND,
                "target_peak_mib_at_1m": TARGET_PEAK_MIB_AT_1M,
                "target_precision": TARGET_PRECISION,
                "target_recall": TARGET_RECALL,
                "meets_target": ok,
            },
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
