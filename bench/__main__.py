"""``python -m bench``: every stage at growing sizes (:mod:`bench.bench_stages`), written to
bench/results.json and docs/benchmarks.md; ``make bench`` runs this.

``python -m bench --components`` runs the per-component benchmarks instead (each against
its own reference, at its own size; they take longer); other arguments go to
:mod:`bench.bench_stages` (``python -m bench --sizes 1000,10000``).
"""

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
    bench_stages,
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


def components() -> int:
    failed = []
    for name, run in BENCHMARKS:
        print(f"== {name}")
        if run([]) != 0:
            failed.append(name)
    if failed:
        print(f"below target: {', '.join(failed)}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--components"]:
        return components()
    return bench_stages.main(args)


if __name__ == "__main__":
    sys.exit(main())
