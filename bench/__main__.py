"""``python -m bench``: run every benchmark and write bench/results.json."""

from __future__ import annotations

import sys

from bench import (
    bench_assess,
    bench_crawl,
    bench_extract,
    bench_process,
    bench_recalls,
    bench_resolve,
    bench_review_duplicates,
    bench_score_reviews,
    bench_upsert,
)

BENCHMARKS = [
    ("bulk upsert (PostgreSQL)", bench_upsert.main),
    ("listing extraction", bench_extract.main),
    ("crawl against scrapy bench", bench_crawl.main),
    ("near-duplicate reviews", bench_review_duplicates.main),
    ("staging to core", bench_process.main),
    ("product resolution", bench_resolve.main),
    ("review text scoring", bench_score_reviews.main),
    ("recall matching", bench_recalls.main),
    ("risk assessment", bench_assess.main),
]


def main() -> int:
    failed = []
    for name, run in BENCHMARKS:
        print(f"== {name}")
        if run([]) != 0:
            failed.append(name)
    if failed:
        print(f"below target: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
