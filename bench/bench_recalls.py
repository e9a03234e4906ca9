"""Recall matching: 100,000 listings against 10,000 recalls (the recalls read from the
simulator's files and notice pages the way the crawl reads them). Target on 2 cores:
index and match in under 30 seconds.

    python -m bench.bench_recalls [--listings N] [--recalls N]
"""

from __future__ import annotations

import argparse
import sys

from bench.common import record


def main(argv: list[str] | None = None) -> int:
    from risk_models.recalls.speed import measure

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listings", type=int, default=100_000)
    ap.add_argument("--recalls", type=int, default=10_000)
    args = ap.parse_args(argv)
    r = measure(args.listings, args.recalls)
    print(
        f"{r['listings']:,} listings × {r['recalls']:,} recalls: index {r['seconds_build']} s, "
        f"match {r['seconds_match']} s ({r['listings_per_second']:,} listings/s), "
        f"{r['matches']:,} matches; target {r['target_seconds']:.0f} s: "
        + ("OK" if r["meets_target"] else "BELOW TARGET")
    )
    record("recall matching", r)
    return 0 if r["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
