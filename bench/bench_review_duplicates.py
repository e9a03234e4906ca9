"""Near-duplicate review clustering: reviews per second and peak memory.

Reviews of a simulated world are streamed (never held as a list) into
:func:`transforms.duplicates.find_review_clusters`, at two sizes, each in a fresh
process so that its peak resident memory is its own. Beside it, the obvious way —
count each normalised text and flag those seen three times, in a dict — as the
reference: cheaper, but it keeps every text and flags genuine stock reviews.

Per size: clustering time (the simulator's own time to make the reviews is measured
and taken out), reviews per second, peak RSS, the index's own arrays, and against the
planted truth the share of spam reviews found and of genuine reviews flagged.

Targets on 2 cores: at least 10,000 reviews/s, and memory that stays bounded — the
peak, extrapolated linearly from the two sizes to 1,000,000 reviews, under 2 GiB.

    python -m bench.bench_review_duplicates --sizes 100000,300000
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
from collections.abc import Iterator

from bench.common import record

TARGET_REVIEWS_PER_SECOND = 10_000
TARGET_PEAK_MIB_AT_1M = 2048
REVIEWS_PER_PRODUCT = 40  # fewer than the world's average, so the world is big enough


class _Stream:
    """Reviews of a world as (id, text), up to ``limit``; remembers the spam labels only."""

    def __init__(self, limit: int, seed: int) -> None:
        self.limit, self.seed = limit, seed
        self.seconds = 0.0
        self.spam: set[str] = set()
        self.count = 0

    def __iter__(self) -> Iterator[tuple[str, str]]:
        from simulator.world import World

        world = World(products=self.limit // REVIEWS_PER_PRODUCT + 1, seed=self.seed)
        start = time.perf_counter()
        for pid in range(world.products):
            for key in world.listings_of(pid):
                for review in world.reviews(world.listing(*key)):
                    if self.count >= self.limit:
                        self.seconds += time.perf_counter() - start
                        return
                    self.count += 1
                    rid = str(review.id)
                    if review.spam_cluster:
                        self.spam.add(rid)
                    self.seconds += time.perf_counter() - start
                    yield rid, review.text
                    start = time.perf_counter()
        self.seconds += time.perf_counter() - start


def _exact_copies(reviews) -> dict[str, str]:
    from transforms.duplicates import normalise_review_text

    texts: dict[str, list[str]] = {}
    for rid, text in reviews:
        norm = normalise_review_text(text)
        if norm:
            texts.setdefault(norm, []).append(rid)
    return {rid: ids[0] for ids in texts.values() if len(ids) >= 3 for rid in ids}


def _measure(method: str, size: int, seed: int, batch_size: int) -> dict:
    from transforms.duplicates import ReviewClusterIndex

    before_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stream = _Stream(size, seed)
    start = time.perf_counter()
    index_mib = None
    if method == "ecqm":
        index = ReviewClusterIndex()
        index.extend(stream, batch_size)
        clusters = index.clusters()
        index_mib = round(index.nbytes / 2**20, 1)
    else:
        clusters = _exact_copies(stream)
    total = time.perf_counter() - start
    seconds = total - stream.seconds
    genuine = stream.count - len(stream.spam)
    return {
        "reviews": stream.count,
        "seconds": round(seconds, 2),
        "simulator_seconds": round(stream.seconds, 2),
        "reviews_per_second": round(stream.count / seconds),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "start_rss_mib": round(before_mib, 1),
        "index_mib": index_mib,
        "clusters": len(set(clusters.values())),
        "spam_recall": round(sum(r in clusters for r in stream.spam) / max(1, len(stream.spam)), 4),
        "genuine_flagged": round(sum(r not in stream.spam for r in clusters) / max(1, genuine), 5),
    }


def _in_child(method: str, size: int, seed: int, batch_size: int) -> dict:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(_measure, (method, size, seed, batch_size))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_review_duplicates", description=__doc__
    )
    parser.add_argument("--sizes", default="100000,300000", help="review counts, comma-separated")
    parser.add_argument("--seed", type=int, default=20191001)
    parser.add_argument("--batch-size", type=int, default=50_000)
    parser.add_argument("--no-reference", action="store_true", help="skip the exact-copy reference")
    parser.add_argument("--no-record", action="store_true", help="do not write bench/results.json")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))

    runs: dict[str, list[dict]] = {"ecqm": [], "exact copies (reference)": []}
    for size in sizes:
        for method, key in (("ecqm", "ecqm"), ("exact", "exact copies (reference)")):
            if method == "exact" and args.no_reference:
                continue
            result = _in_child(method, size, args.seed, args.batch_size)
            runs[key].append(result)
            print(
                f"{key:26} {result['reviews']:>9,} reviews  {result['seconds']:7.1f} s  "
                f"{result['reviews_per_second']:>8,}/s  peak {result['peak_rss_mib']:7.1f} MiB  "
                f"recall {result['spam_recall']:.3f}  genuine flagged {result['genuine_flagged']:.4f}"
            )

    ours = runs["ecqm"]
    slowest = min(r["reviews_per_second"] for r in ours)
    if len(ours) >= 2:
        a, b = ours[0], ours[-1]
        per_review = (b["peak_rss_mib"] - a["peak_rss_mib"]) / (b["reviews"] - a["reviews"])
        peak_1m = b["peak_rss_mib"] + per_review * (1_000_000 - b["reviews"])
    else:
        peak_1m = ours[0]["peak_rss_mib"] * 1_000_000 / ours[0]["reviews"]
    ok = slowest >= TARGET_REVIEWS_PER_SECOND and peak_1m <= TARGET_PEAK_MIB_AT_1M
    print(
        f"slowest {slowest:,} reviews/s (target {TARGET_REVIEWS_PER_SECOND:,}); peak memory at "
        f"1,000,000 reviews about {peak_1m:,.0f} MiB (target {TARGET_PEAK_MIB_AT_1M:,}): "
        + ("ok" if ok else "BELOW TARGET")
    )
    if not args.no_record:
        record(
            "review duplicates",
            {
                "seed": args.seed,
                "batch_size": args.batch_size,
                "runs": runs,
                "estimated_peak_mib_at_1m": round(peak_1m),
                "target_reviews_per_second": TARGET_REVIEWS_PER_SECOND,
                "target_peak_mib_at_1m": TARGET_PEAK_MIB_AT_1M,
                "meets_target": ok,
            },
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
