"""Staging → core for reviews: rows per second and peak memory at two sizes.

A simulated world's listings and reviews are written to ``stg_listings`` and
``stg_reviews`` the way the crawl loads write them (payloads shaped like the
crawler's), in one process; then a fresh process runs :func:`process_staging` over
them — normalising, scrubbing personal data, pseudonymising authors, validating with
Great Expectations, linking to listings, upserting, clustering copied reviews and
reconciling — and reports its time and its own peak resident memory.

Processing is chunked (``--chunk-rows``), so memory should not grow with the input
apart from what must span the whole input: the product resolver's state (one entry
per product) and the near-duplicate review index, which keeps in memory only its
look-up tables (about 70 bytes per review) and the rest in working files.

Targets on 2 cores: at least 5,000 rows (reviews and their listings) per second
through staging → core at every size, and the peak at 1,000,000 reviews under 2 GiB.
The peak at 1,000,000 is measured when that size is run; otherwise it is estimated
from the sizes that were run, and the summary says which.

    python -m bench.bench_process --sizes 200000,1000000          # SQLite in a temp folder
    python -m bench.bench_process --sizes 100000 --url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.common import record

TARGET_ROWS_PER_SECOND = 5_000
TARGET_PEAK_MIB_AT_1M = 2048
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _stage(url: str, size: int, seed: int) -> dict:
    """Write ``size`` reviews (and their listings) into staging; returns counts."""
    from ecqm.warehouse import migrate
    from ecqm.warehouse.bulk import upsert
    from ecqm.warehouse.engine import make_engine
    from ecqm.warehouse.schema import stg_listings, stg_reviews
    from simulator.world import World
    from transforms.reference.load import load_reference

    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        load_reference(conn)
    world = World(products=size // 40 + 1, seed=seed)
    fetched = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)
    listings_out, reviews_out, n = [], [], 0

    def flush(force: bool = False) -> None:
        if force or len(reviews_out) >= 50_000:
            with engine.begin() as conn:
                upsert(conn, stg_listings, listings_out, update=())
                upsert(conn, stg_reviews, reviews_out, update=())
            listings_out.clear()
            reviews_out.clear()

    for pid in range(world.products):
        for key in world.listings_of(pid):
            li = world.listing(*key)
            ext = str(li.ext_id)
            listings_out.append(
                {
                    "source": li.platform,
                    "platform": li.platform,
                    "external_id": ext,
                    "payload_sha256": f"{li.platform}-{ext}".ljust(64, "0")[:64],
                    "crawl_run_id": "bench",
                    "url": f"http://sim/{li.platform}/item/{ext}.html",
                    "fetched_at": fetched,
                    "payload": {
                        "name": li.title,
                        "brand": li.brand_text,
                        "model": li.model_text,
                        "price": f"{li.price_fen / 100:.2f}",
                        "list_price": f"{li.list_price_fen / 100:.2f}",
                        "currency": "CNY",
                        "shop_id": str(li.shop.ext_id),
                        "shop_name": li.shop.name,
                        "sales_volume": f"月销{li.sales_month}",
                        "manufacturer": li.manufacturer,
                        "origin": li.origin,
                        "description": "\n".join(li.description),
                        "category_path": [],
                    },
                }
            )
            for r in world.reviews(li):
                if n >= size:
                    break
                n += 1
                rid = str(r.id)
                reviews_out.append(
                    {
                        "source": li.platform,
                        "platform": li.platform,
                        "external_id": rid,
                        "listing_external_id": ext,
                        "payload_sha256": rid.ljust(64, "0")[:64],
                        "crawl_run_id": "bench",
                        "url": None,
                        "fetched_at": fetched,
                        "payload": {
                            "id": rid,
                            "user": r.nickname,
                            "rating": r.rating,
                            "posted": r.posted.astimezone(SHANGHAI).date().isoformat(),
                            "posted_text": None,
                            "content": r.text,
                            "variant": r.sku,
                            "images": list(r.images),
                            "followup_days": r.followup[0] if r.followup else None,
                            "followup_content": r.followup[1] if r.followup else None,
                        },
                    }
                )
            flush()
            if n >= size:
                break
        if n >= size:
            break
    flush(force=True)
    engine.dispose()
    return {"reviews": n}


def _process(url: str, home: str, chunk_rows: int) -> dict:
    from ecqm.warehouse.engine import make_engine
    from transforms.core import process_staging, reconcile

    engine = make_engine(url)
    start_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start, cpu = time.perf_counter(), time.process_time()
    report = process_staging(
        engine, run_id="bench", salt=b"bench-salt", home=Path(home), chunk_rows=chunk_rows
    )
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    processing_peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with engine.connect() as conn:
        balanced = all(r.ok for r in reconcile(conn, "bench"))
    engine.dispose()
    reviews = report.tables["stg_reviews"]
    return {
        "reviews_in": reviews.rows_in,
        "listings_in": report.tables["stg_listings"].rows_in,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "rows_per_second": round(
            (reviews.rows_in + report.tables["stg_listings"].rows_in) / seconds
        ),
        "reviews_per_second": round(reviews.rows_in / seconds),
        # The peak over processing and the reconciliation check that follows it.
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "processing_peak_rss_mib": round(processing_peak_mib, 1),
        "start_rss_mib": round(start_mib, 1),
        "quarantined": reviews.quarantined,
        "spam_flagged": report.spam_flagged,
        "reconciled": balanced,
    }


def _in_child(func, *args):
    """Run ``func`` in a fresh process, so that its peak memory is its own."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(func, *args).result()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_process", description=__doc__)
    parser.add_argument("--sizes", default="200000,1000000", help="review counts, comma-separated")
    parser.add_argument("--seed", type=int, default=20191001)
    parser.add_argument("--chunk-rows", type=int, default=20_000)
    parser.add_argument("--url", help="an empty database to use (default: SQLite in a temp folder)")
    parser.add_argument("--no-record", action="store_true", help="do not write bench/results.json")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    runs = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="ecqm-bench-process-") as tmp:
            url = args.url or f"sqlite:///{tmp}/warehouse.db"
            if args.url:
                _reset(args.url)
            staged = _in_child(_stage, url, size, args.seed)
            result = _in_child(_process, url, f"{tmp}/home", args.chunk_rows)
            result["size"] = staged["reviews"]
            runs.append(result)
            print(
                f"{result['reviews_in']:>9,} reviews + {result['listings_in']:,} listings  "
                f"{result['seconds']:7.1f} s (CPU {result['cpu_seconds']:.1f} s)  "
                f"{result['rows_per_second']:>7,} rows/s ({result['reviews_per_second']:,} "
                f"reviews/s)  peak {result['peak_rss_mib']:7.1f} MiB  "
                f"reconciled {result['reconciled']}"
            )
    slowest = min(r["rows_per_second"] for r in runs)
    peak_1m, how = peak_at_1m(runs)
    reconciled = all(r["reconciled"] for r in runs)
    fast_enough = slowest >= TARGET_ROWS_PER_SECOND
    small_enough = peak_1m <= TARGET_PEAK_MIB_AT_1M
    ok = fast_enough and small_enough and reconciled
    peaks = ", ".join(f"{r['peak_rss_mib']:,.0f} MiB at {r['reviews_in']:,}" for r in runs)
    missed = [
        name
        for name, met in (
            ("speed", fast_enough),
            ("memory", small_enough),
            ("reconciliation", reconciled),
        )
        if not met
    ]
    print(
        f"slowest {slowest:,} rows/s (target {TARGET_ROWS_PER_SECOND:,}); peak {peaks} reviews; "
        f"at 1,000,000 reviews {peak_1m:,.0f} MiB, {how} (target under "
        f"{TARGET_PEAK_MIB_AT_1M:,}): "
        + ("targets met" if ok else "BELOW TARGET (" + ", ".join(missed) + ")")
    )
    if not args.no_record:
        record(
            "staging to core",
            {
                "database": "postgresql" if args.url else "sqlite",
                "chunk_rows": args.chunk_rows,
                "runs": runs,
                "peak_mib_at_1m": round(peak_1m, 1),
                "peak_at_1m_is": how,
                "target_rows_per_second": TARGET_ROWS_PER_SECOND,
                "target_peak_mib_at_1m": TARGET_PEAK_MIB_AT_1M,
                "meets_target": ok,
            },
        )
    return 0 if ok else 1


def peak_at_1m(runs: list[dict]) -> tuple[float, str]:
    """The peak at 1,000,000 reviews and how it was found.

    Measured when a run had at least that many reviews (the smallest such run);
    otherwise extrapolated along the line through the two largest runs, or, from a
    single run, scaled in proportion to its size (as if all of its memory grew with
    the input).

    >>> peak_at_1m([{"reviews_in": 200_000, "peak_rss_mib": 600.0},
    ...             {"reviews_in": 1_000_000, "peak_rss_mib": 700.0}])
    (700.0, 'measured')
    >>> peak_at_1m([{"reviews_in": 100_000, "peak_rss_mib": 500.0},
    ...             {"reviews_in": 200_000, "peak_rss_mib": 520.0}])
    (680.0, 'extrapolated from 2 sizes')
    """
    big = [r for r in runs if r["reviews_in"] >= 1_000_000]
    if big:
        return min(big, key=lambda r: r["reviews_in"])["peak_rss_mib"], "measured"
    by_size = sorted(runs, key=lambda r: r["reviews_in"])
    if len(by_size) >= 2 and by_size[-1]["reviews_in"] > by_size[-2]["reviews_in"]:
        a, b = by_size[-2], by_size[-1]
        slope = (b["peak_rss_mib"] - a["peak_rss_mib"]) / (b["reviews_in"] - a["reviews_in"])
        peak = b["peak_rss_mib"] + max(0.0, slope) * (1_000_000 - b["reviews_in"])
        return peak, "extrapolated from 2 sizes"
    r = by_size[-1]
    return r["peak_rss_mib"] * 1_000_000 / max(1, r["reviews_in"]), "scaled from 1 size"


def _reset(url: str) -> None:
    from ecqm.warehouse.engine import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
