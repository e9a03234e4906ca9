"""Every stage of the pipeline on the simulator at growing sizes, and an incremental run.

For each size (products in the simulated market, about 20 reviews each) the benchmark
runs the stages the DAGs run, each in a fresh process on a PostgreSQL warehouse of its
own, and records wall time, throughput and the process's peak resident memory:

``crawl``
    ``crawl_youpin`` (:func:`crawlers.runner.run_crawl`, extraction, evidence and
    landing files on, politeness relaxed as in ``scrapy bench``) against the simulator
    serving the market: completely at the smallest size (up to 2,000 products), on a
    budget of ``--crawl-pages`` pages at the others. The time of a complete crawl of
    every marketplace and the complaint portal is then estimated from the pages per
    second measured at that size and the pages such a crawl fetches (counted from the
    market; see :func:`crawl_estimate`). ``scrapy bench`` runs once as the reference.
``load``
    :func:`transforms.staging.load_crawl_run` of every profile's landing files into
    ``stg_*``. The landing files of the marketplaces and the complaint portal are
    written from the simulator's world (:mod:`bench.world_landing`, shaped like the
    crawlers' output), the recall registry is crawled for real. Beside it, up to
    ``--reference-rows`` of the staged reviews are loaded again into empty tables by
    :func:`ecqm.warehouse.bulk.upsert`, by plain ``COPY`` and by ``DataFrame.to_sql``.
``process``
    :func:`transforms.core.process_staging` (the ``process_staging`` DAG).
``score_reviews`` and ``assess``
    :func:`risk_models.assess.assess` (the ``assess_risk`` DAG); its first step scores
    the reviews the text model has not scored, reported on its own.
``plan``
    :func:`transforms.plans.make.make_plan`, the month's monitoring plan
    (``plan_sampling``).

Then 1% new products (with their listings, reviews and shops) and the newest 1% of
complaints arrive as the next day's landing files, and the incremental path of every
stage runs again: the load, processing from the watermarks, the next day's assessment,
and the plan made again. Reported: each stage's cost against the full run's. What new
data sets off (load → process → assess) is compared as a whole; the plan is monthly.

Targets: no stage's cost grows faster than linearly with size (the slope of
log(cost) against log(size), fitted over all sizes and between the two largest, at most
1.1 to allow for noise), and the incremental run at 1% new data costs under 10% of the
full run at the largest size. The exit status is 0 when both hold.

    python -m bench.bench_stages                                  # 1,000, 10,000, 100,000
    python -m bench.bench_stages --sizes 200,2000 --no-record --docs ''
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench.bench_crawl import scrapy_bench
from bench.common import RESULTS, machine, record

DEFAULT_SIZES = (1_000, 10_000, 100_000)
REVIEW_SCALE = 1 / 3  # the simulator's ~61 reviews per product → ~20
NEW_SHARE = 0.01
CRAWL_PROFILE = "youpin"
CRAWL_PAGES = 1_500
# The smallest size is crawled completely (to count the pages of a complete crawl) when it
# is at most this large; the others on the page budget.
COMPLETE_CRAWL_MAX_PRODUCTS = 2_000
# On a server without autovacuum, ANALYZE the benchmark's tables as it would, this often.
ANALYZE_EVERY = 60.0
REFERENCE_ROWS = 100_000
PLAN_BUDGET = 60
SEED = 7
TARGET_EXPONENT = 1.1
TARGET_INCREMENTAL = 0.10
FULL_DAY = dt.date(2026, 11, 1)
DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
DOCS_BEGIN = "<!-- bench_stages:begin -->"
DOCS_END = "<!-- bench_stages:end -->"
CRAWL_SETTINGS = {
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "LOG_LEVEL": "INFO",
}
# The stages whose cost is fitted against size, in the order of the pipeline.
STAGES = ("crawl", "load", "process", "score_reviews", "assess", "plan", "cycle")
# The stages of an incremental run (the crawl walks the whole site either way).
INCREMENTAL_STAGES = ("load", "process", "score_reviews", "assess", "plan", "triggered")
# What new data sets off: the crawl DAGs' load, process_staging, assess_risk. The plan is
# made monthly (or by hand), not on new data.
TRIGGERED = ("load", "process", "assess")
WHOLE_CYCLE = ("load", "process", "assess", "plan")


# ------------------------------------------------------------------------ arithmetic


def fit_exponent(sizes: Sequence[float], costs: Sequence[float]) -> float | None:
    """The least-squares slope of log(cost) against log(size): 1 is linear growth.

    >>> round(fit_exponent([1_000, 10_000, 100_000], [2.0, 20.0, 200.0]), 6)
    1.0
    >>> round(fit_exponent([10, 100], [1.0, 100.0]), 6)
    2.0
    >>> fit_exponent([10], [1.0]) is None
    True
    """
    points = [
        (math.log(s), math.log(c))
        for s, c in zip(sizes, costs, strict=True)
        if s and c and s > 0 and c > 0
    ]
    if len({x for x, _ in points}) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    sxy = sum((x - mx) * (y - my) for x, y in points)
    return sxy / sxx


def top_slope(sizes: Sequence[float], costs: Sequence[float]) -> float | None:
    """The slope between the two largest sizes (growth at the top of the range).

    >>> round(top_slope([1, 10, 100], [5.0, 6.0, 60.0]), 6)
    1.0
    """
    pairs = sorted((s, c) for s, c in zip(sizes, costs, strict=True) if s > 0 and c and c > 0)
    if len(pairs) < 2 or pairs[-1][0] == pairs[-2][0]:
        return None
    return fit_exponent([p[0] for p in pairs[-2:]], [p[1] for p in pairs[-2:]])


def incremental_ratio(incremental: float | None, full: float | None) -> float | None:
    """The cost of the incremental run as a share of the full run's.

    >>> incremental_ratio(3.0, 60.0)
    0.05
    >>> incremental_ratio(1.0, 0.0) is None
    True
    """
    if incremental is None or not full or full <= 0:
        return None
    return incremental / full


def crawl_estimate(measured: dict[str, Any], pages_per_unit: float, units: int) -> dict[str, Any]:
    """The time of a complete crawl of the market: the measured crawl's own time, then
    the pages it did not fetch at its steady rate.

    ``units`` counts the pages a complete crawl must fetch one by one — every listing's
    page, its review pages (10 reviews a page), every shop's page and every complaint's
    — and ``pages_per_unit`` the pages a complete crawl fetched per such unit where one
    was measured (navigation, search and sitemap pages come on top of them). The steady
    rate leaves out the start of the crawl (robots.txt, sitemaps, search pages), which a
    complete crawl goes through once.

    >>> crawl_estimate(
    ...     {"pages": 500, "seconds": 6.0, "steady_pages_per_second": 100.0}, 1.1, 1000
    ... )["seconds"]
    12.0
    """
    pages = round(units * pages_per_unit)
    rate = measured.get("steady_pages_per_second") or measured.get("pages_per_second") or 0
    done = measured.get("pages", 0)
    seconds = measured.get("seconds", 0.0) + max(0, pages - done) / rate if rate else None
    return {
        "pages": pages,
        "units": units,
        "pages_per_unit": round(pages_per_unit, 4),
        "seconds": None if seconds is None else round(seconds, 1),
    }


def steady_rate(fetched: Sequence[float], skip: float = 0.25) -> float | None:
    """Pages per second after the first ``skip`` share of a crawl's pages (by fetch time).

    >>> steady_rate([0, 5, 6, 7, 8, 9, 10, 11, 12])
    1.0
    """
    times = sorted(fetched)
    if len(times) < 8:
        return None
    k = int(len(times) * skip)
    span = times[-1] - times[k]
    return (len(times) - 1 - k) / span if span > 0 else None


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Growth exponents per stage and the incremental ratios at the largest size."""
    sizes = [r["products"] for r in runs]
    growth = {}
    for stage in STAGES:
        costs = [stage_seconds(r, stage) for r in runs]
        if any(c is None for c in costs):
            continue
        fitted = fit_exponent(sizes, costs)
        top = top_slope(sizes, costs)
        worst = max((x for x in (fitted, top) if x is not None), default=None)
        growth[stage] = {
            "seconds": costs,
            "exponent": None if fitted is None else round(fitted, 3),
            "top_slope": None if top is None else round(top, 3),
            "meets_target": worst is None or worst <= TARGET_EXPONENT,
        }
    largest = max(runs, key=lambda r: r["products"])
    inc = largest.get("incremental") or {}
    ratios = {
        stage: ratio
        for stage in INCREMENTAL_STAGES
        if (ratio := incremental_ratio(stage_seconds(inc, stage), stage_seconds(largest, stage)))
        is not None
    }
    cycle = ratios.get("triggered")
    return {
        "growth": growth,
        "incremental": {
            "products": largest["products"],
            "ratios": {k: round(v, 4) for k, v in ratios.items()},
            "cycle_ratio": None if cycle is None else round(cycle, 4),
            "meets_target": cycle is not None and cycle < TARGET_INCREMENTAL,
        },
        "linear": all(g["meets_target"] for g in growth.values()),
    }


def stage_seconds(run: dict[str, Any], stage: str) -> float | None:
    """A stage's cost in one run (the crawl: a complete crawl's, measured or estimated)."""
    if stage == "crawl":
        crawl = run.get("crawl") or {}
        return (crawl.get("complete_crawl") or {}).get("seconds")
    return (run.get(stage) or {}).get("seconds")


# ---------------------------------------------------------------- child processes


def _peak_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# False (``--in-process``, the tests): run every stage in this process, faster, with
# peak memory that is the whole run's, not the stage's.
ISOLATE = True


def _in_child(func: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``func`` in a fresh process, so that its peak memory is its own."""
    if not ISOLATE:
        return func(*args)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(func, *args).result()


def _in_children(calls: list[tuple[Callable[..., dict[str, Any]], tuple]]) -> list[dict]:
    if not ISOLATE:
        return [f(*a) for f, a in calls]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(1, len(calls)), mp_context=ctx) as pool:
        futures = [pool.submit(f, *a) for f, a in calls]
        return [f.result() for f in futures]


def _world(products: int, seed: int):
    from simulator.world import World

    return World(products=products, seed=seed, review_scale=REVIEW_SCALE)


def crawl_stage(
    products: int, seed: int, profile: str, max_pages: int, workdir: str
) -> dict[str, Any]:
    """Crawl ``profile`` on the simulator serving a market of ``products`` products."""
    from crawlers.runner import run_crawl
    from simulator.server import SimulatorServer

    settings = dict(CRAWL_SETTINGS)
    if max_pages:
        settings["CLOSESPIDER_PAGECOUNT"] = max_pages
    with SimulatorServer(_world(products, seed)) as srv:
        result = run_crawl(
            profile,
            run_id="bench-crawl",
            partition_date=FULL_DAY.isoformat(),
            target_url=srv.base_url,
            landing_dir=Path(workdir) / "landing",
            evidence_dir=Path(workdir) / "evidence",
            settings=settings,
        )
    fetched = []
    with open(result.pages_file, encoding="utf-8") as fh:
        for line in fh:
            stamp = json.loads(line)["fetched_at"].replace("Z", "+00:00")
            fetched.append(dt.datetime.fromisoformat(stamp).timestamp())
    steady = steady_rate(fetched)
    return {
        "profile": profile,
        "page_budget": max_pages or None,
        "pages": result.pages,
        "items": result.items,
        "seconds": round(result.duration_s, 2),
        "pages_per_second": round(result.pages / result.duration_s, 1),
        "steady_pages_per_second": None if steady is None else round(steady, 1),
        "complete": result.finish_reason == "finished",
        "finish_reason": result.finish_reason,
        "peak_mib": _peak_mib(),
    }


def write_landing_shard(
    world_products: int,
    seed: int,
    landing: str,
    run_id: str,
    day: str,
    fetched_at: str,
    products: tuple[int, int],
    complaints: tuple[int, int],
    shard: int,
) -> dict[str, Any]:
    """One shard of a run's landing files, written from the world (not a stage)."""
    from bench.world_landing import Run, write_world

    start = time.perf_counter()
    run = Run(Path(landing), run_id, day, dt.datetime.fromisoformat(fetched_at))
    out = write_world(
        _world(world_products, seed),
        run,
        products=products,
        complaints=complaints,
        shard=shard,
    )
    out["seconds"] = round(time.perf_counter() - start, 1)
    return out


def crawl_recalls(world_products: int, seed: int, landing: str, run_id: str, day: str) -> dict:
    """Crawl the simulated recall registry into the run's landing zone (not a stage)."""
    from crawlers.runner import run_crawl
    from simulator.server import SimulatorServer

    with SimulatorServer(_world(world_products, seed)) as srv:
        result = run_crawl(
            "sim_recalls",
            run_id=run_id,
            partition_date=day,
            target_url=srv.base_url,
            landing_dir=Path(landing),
            evidence_dir=Path(landing).parent / "evidence",
            settings=CRAWL_SETTINGS,
        )
    return {"recalls": result.items.get("recall", 0), "pages": result.pages}


def setup_warehouse(url: str, model_products: int | None) -> dict[str, Any]:
    """Migrate, load the reference data, and train or load the review text model."""
    from ecqm.warehouse import migrate
    from ecqm.warehouse.engine import make_engine
    from risk_models.text import default_scorer
    from transforms.reference.load import load_reference

    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        load_reference(conn)
    with engine.connect() as conn:
        version = conn.exec_driver_sql("show server_version").scalar_one()
    engine.dispose()
    start = time.perf_counter()
    scorer = default_scorer(**_model_args(model_products))
    return {
        "postgresql": version,
        "text_model": scorer.version,
        "text_model_seconds": round(time.perf_counter() - start, 1),
    }


def _model_args(model_products: int | None) -> dict[str, Any]:
    return {"products": model_products, "seed": 11} if model_products else {}


def load_stage(url: str, landing: str, run_id: str, day: str) -> dict[str, Any]:
    """Every profile's landing files of the run into ``stg_*`` (the crawl DAGs' load)."""
    from bench.world_landing import Run, profiles_written
    from ecqm.warehouse.engine import make_engine
    from transforms.staging import load_crawl_run

    engine = make_engine(url)
    run = Run(Path(landing), run_id, day, dt.datetime.now(dt.UTC))
    lines = inserted = unchanged = quarantined = 0
    start = time.perf_counter()
    for profile in profiles_written(run):
        with engine.begin() as conn:
            loaded = load_crawl_run(
                conn,
                landing=Path(landing),
                profile=profile,
                run_id=run_id,
                partition_date=day,
            )
        lines += loaded.lines
        quarantined += loaded.quarantined
        for name, r in loaded.tables.items():
            if name.startswith("stg_"):
                inserted += r.inserted
                unchanged += r.unchanged
    seconds = time.perf_counter() - start
    engine.dispose()
    return {
        "rows": lines,
        "inserted": inserted,
        "unchanged": unchanged,
        "quarantined": quarantined,
        "seconds": round(seconds, 2),
        "rows_per_second": round(lines / seconds) if seconds else None,
        "peak_mib": _peak_mib(),
    }


def load_references(url: str, reference_url: str, limit: int) -> dict[str, Any]:
    """The same staged review rows loaded into empty tables three ways."""
    import pandas as pd
    from sqlalchemy import select, text

    from ecqm.warehouse.bulk import upsert
    from ecqm.warehouse.engine import json_dumps, make_engine
    from ecqm.warehouse.schema import stg_reviews

    source = make_engine(url)
    with source.connect() as conn:
        cols = [c for c in stg_reviews.columns if c.name != "id"]
        rows = [dict(r._mapping) for r in conn.execute(select(*cols).order_by("id").limit(limit))]
    source.dispose()
    names = [c.name for c in cols]
    engine = make_engine(reference_url)

    def fresh(name: str) -> None:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
            conn.execute(text(f"CREATE TABLE {name} (LIKE stg_reviews INCLUDING ALL)"))

    def timed(fn: Callable[[], Any]) -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    def plain_copy() -> None:
        with engine.begin() as conn, conn.connection.driver_connection.cursor() as cur:
            with cur.copy(f"COPY bench_copy ({', '.join(names)}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row([json_dumps(r[c]) if c == "payload" else r[c] for c in names])

    def to_sql() -> None:
        df = pd.DataFrame(rows, columns=names)
        df["payload"] = df["payload"].map(json.dumps)
        df.to_sql("bench_to_sql", engine, if_exists="append", index=False, chunksize=10_000)

    fresh("bench_copy")
    t_copy = timed(plain_copy)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE stg_reviews"))
    t_upsert = timed(lambda: upsert(engine, stg_reviews, rows, update=()))
    fresh("bench_to_sql")
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE bench_to_sql ALTER COLUMN payload TYPE text")
    t_to_sql = timed(to_sql)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_copy"))
        conn.execute(text("DROP TABLE bench_to_sql"))
        conn.execute(text("TRUNCATE stg_reviews"))
    engine.dispose()
    n = len(rows)
    return {
        "table": "stg_reviews",
        "rows": n,
        "rows_per_second": {
            "ecqm_upsert": round(n / t_upsert),
            "copy": round(n / t_copy),
            "dataframe_to_sql": round(n / t_to_sql),
        },
        "ratio_upsert_to_copy": round(t_copy / t_upsert, 3),
        "ratio_upsert_to_to_sql": round(t_to_sql / t_upsert, 2),
    }


def process_stage(url: str, home: str, run_id: str) -> dict[str, Any]:
    """Staging → core (the ``process_staging`` DAG's task)."""
    from ecqm.warehouse.engine import make_engine
    from transforms.core import process_staging

    engine = make_engine(url)
    start = time.perf_counter()
    report = process_staging(engine, run_id=run_id, salt=b"bench-salt", home=Path(home))
    seconds = time.perf_counter() - start
    engine.dispose()
    return {
        "rows": report.rows_in,
        "tables": {k: v.rows_in for k, v in report.tables.items()},
        "core_counts": report.core_counts,
        "quarantined": sum(t.quarantined for t in report.tables.values()),
        "balanced": all(t.balanced for t in report.tables.values()),
        "seconds": round(seconds, 2),
        "rows_per_second": round(report.rows_in / seconds) if seconds else None,
        "peak_mib": _peak_mib(),
    }


def assess_stage(url: str, home: str, as_of: str, model_products: int | None) -> dict[str, Any]:
    """The day's risk assessment (the ``assess_risk`` DAG's task), model loading included."""
    from ecqm.warehouse.engine import make_engine
    from risk_models.assess import assess
    from risk_models.text import default_scorer

    engine = make_engine(url)
    start = time.perf_counter()
    scorer = default_scorer(**_model_args(model_products))
    report = assess(engine, dt.date.fromisoformat(as_of), home=Path(home), text_scorer=scorer)
    seconds = time.perf_counter() - start
    engine.dispose()
    scoring = report.seconds.get("score_reviews", 0.0)
    return {
        "products": report.products,
        "signals": report.signals,
        "levels": report.levels,
        "steps": report.seconds,
        "seconds": round(seconds, 2),
        "peak_mib": _peak_mib(),
        "score_reviews": {
            "reviews": report.reviews_scored,
            "seconds": round(scoring, 2),
            "reviews_per_second": round(report.reviews_scored / scoring) if scoring else None,
        },
    }


def plan_stage(url: str, home: str, as_of: str) -> dict[str, Any]:
    """The month's monitoring plan (the ``plan_sampling`` DAG's task)."""
    from ecqm.warehouse.engine import make_engine
    from transforms.plans.make import make_plan

    day = dt.date.fromisoformat(as_of)
    engine = make_engine(url)
    start = time.perf_counter()
    report = make_plan(
        engine,
        period=f"{day:%Y-%m}",
        budget_purchases=PLAN_BUDGET,
        seed=int(f"{day:%Y%m}"),
        home=Path(home),
        as_of=day,
    )
    seconds = time.perf_counter() - start
    engine.dispose()
    return {
        "tasks": report.tasks,
        "targeted": report.targeted,
        "audit": report.audit,
        "seconds": round(seconds, 2),
        "peak_mib": _peak_mib(),
    }


# ------------------------------------------------------------------------- databases


@contextlib.contextmanager
def scratch_database(server_url: str, name: str, template: str | None = None) -> Iterator[str]:
    """A database of the benchmark's own on the server of ``server_url`` (a copy of
    ``template`` when given), dropped after."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from ecqm.settings import normalise_database_url

    admin_url = make_url(normalise_database_url(server_url))
    if admin_url.get_backend_name() != "postgresql":
        raise SystemExit("the stage benchmark runs on PostgreSQL: give a PostgreSQL URL")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(
            f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        )
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


class Analyzer:
    """ANALYZE the tables of the benchmark's database the way autovacuum would, for a
    server whose autovacuum is off (``autovacuum = off`` in a CI configuration).

    Without statistics, PostgreSQL plans a look-up of 2,000 natural keys in a table that
    grew since it was created as a scan of the whole table instead of index probes, so
    every chunk of processing costs more the larger the table and the stage grows faster
    than linearly. A standard server's autovacuum analyzes a table once its changes since
    the last analyze pass 50 rows + 10% of its rows; this does the same, every
    ``every`` seconds (autovacuum's default nap is 60 s), in a thread of the benchmark.
    """

    def __init__(self, url: str, every: float = 60.0) -> None:
        import threading

        self.url = url
        self.every = every
        self.runs = 0
        self.tables = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="analyzer", daemon=True)

    def __enter__(self) -> Analyzer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        from sqlalchemy import create_engine

        engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        try:
            while not self._stop.wait(self.every):
                with engine.connect() as conn:
                    due = conn.exec_driver_sql(
                        "SELECT s.relname FROM pg_stat_user_tables s "
                        "JOIN pg_class c ON c.oid = s.relid "
                        "WHERE s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)"
                    ).scalars()
                    names = list(due)
                    for name in names:
                        conn.exec_driver_sql(f'ANALYZE "{name}"')
                self.runs += 1
                self.tables += len(names)
        finally:
            engine.dispose()


def server_autovacuum(url: str) -> bool:
    """Whether the PostgreSQL server at ``url`` runs autovacuum."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SHOW autovacuum").scalar_one() == "on"
    finally:
        engine.dispose()


# ------------------------------------------------------------------------- one size


def _landing(
    world_products: int,
    seed: int,
    landing: Path,
    run_id: str,
    day: dt.date,
    products: tuple[int, int],
    complaints: tuple[int, int],
    shards: int,
) -> dict[str, Any]:
    """Write a run's landing files from the world, ``shards`` processes side by side."""
    fetched = dt.datetime.combine(day, dt.time(2, 0), dt.UTC).isoformat()

    def part(span: tuple[int, int], i: int) -> tuple[int, int]:
        a, b = span
        step = -(-(b - a) // shards)
        return (min(b, a + i * step), min(b, a + (i + 1) * step))

    calls = [
        (
            write_landing_shard,
            (
                world_products,
                seed,
                str(landing),
                run_id,
                day.isoformat(),
                fetched,
                part(products, i),
                part(complaints, i),
                i,
            ),
        )
        for i in range(shards)
    ]
    start = time.perf_counter()
    parts = _in_children(calls)
    counts: dict[str, Any] = {"units": {}}
    shops: set[tuple[str, int]] = set()
    for p in parts:
        for k, v in p.items():
            if k == "units":
                for profile, n in v.items():
                    counts["units"][profile] = counts["units"].get(profile, 0) + n
            elif k == "shops":
                shops.update(map(tuple, v))
            elif k != "seconds":
                counts[k] = counts.get(k, 0) + v
    # A shop page is one more page to crawl, once however many shards wrote the shop.
    for platform, _ in shops:
        counts["units"][platform] = counts["units"].get(platform, 0) + 1
    counts["shops"] = len(shops)
    counts["seconds"] = round(time.perf_counter() - start, 1)
    return counts


def run_size(
    products: int,
    *,
    server_url: str,
    template: str,
    reference_url: str,
    seed: int,
    crawl_pages: int,
    reference_rows: int,
    model_products: int | None,
    shards: int,
    workdir: Path,
    analyze_every: float | None,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """The full run and the incremental run at one size."""
    new = max(1, round(products * NEW_SHARE))
    world_products = products + new
    out: dict[str, Any] = {"products": products, "new_products": new}
    total = time.perf_counter()
    name = f"ecqm_bench_stages_{os.getpid()}_{products}"
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(scratch_database(server_url, name, template))
        if analyze_every:
            analyzer = stack.enter_context(Analyzer(url, analyze_every))
        crawl = _in_child(
            crawl_stage, world_products, seed, CRAWL_PROFILE, crawl_pages, str(workdir / "crawl")
        )
        out["crawl"] = crawl
        log(
            f"  crawl {crawl['pages']:,} pages in {crawl['seconds']} s "
            f"({crawl['pages_per_second']} pages/s, {'complete' if crawl['complete'] else 'budget'})"
        )
        from simulator.world import World

        complaints = World(products=world_products, seed=seed).complaint_count()
        old_complaints = complaints - max(0, round(complaints * NEW_SHARE))
        landing = workdir / "landing"
        home = workdir / "home"
        t = time.perf_counter()
        written = _landing(
            world_products,
            seed,
            landing,
            "bench-full",
            FULL_DAY,
            (0, products),
            (0, old_complaints),
            shards,
        )
        written.update(
            _in_child(
                crawl_recalls,
                world_products,
                seed,
                str(landing),
                "bench-full",
                FULL_DAY.isoformat(),
            )
        )
        written["seconds"] = round(time.perf_counter() - t, 1)
        out["landing"] = written
        out["landing"]["shape_differences"] = compare_shapes(
            workdir / "crawl" / "landing", landing, CRAWL_PROFILE
        )
        log(
            f"  landing written in {written['seconds']} s: {written.get('listing', 0):,} listings, "
            f"{written.get('review', 0):,} reviews, {written.get('shops', 0):,} shops, "
            f"{written.get('complaint', 0):,} complaints, {written.get('recalls', 0):,} recalls"
        )
        cycle_start = time.perf_counter()
        out["load"] = _in_child(load_stage, url, str(landing), "bench-full", FULL_DAY.isoformat())
        log(_line("load", out["load"]))
        out["process"] = _in_child(process_stage, url, str(home), "bench-full")
        log(_line("process", out["process"]))
        assessed = _in_child(assess_stage, url, str(home), FULL_DAY.isoformat(), model_products)
        out["score_reviews"] = assessed.pop("score_reviews")
        out["assess"] = assessed
        log(_line("score_reviews", out["score_reviews"]))
        log(_line("assess", out["assess"]))
        out["plan"] = _in_child(plan_stage, url, str(home), FULL_DAY.isoformat())
        log(_line("plan", out["plan"]))
        _cycle(out, time.perf_counter() - cycle_start)
        out["load"]["reference"] = _in_child(load_references, url, reference_url, reference_rows)
        ref = out["load"]["reference"]["rows_per_second"]
        log(
            f"  load references on {out['load']['reference']['rows']:,} review rows: upsert "
            f"{ref['ecqm_upsert']:,}/s, COPY {ref['copy']:,}/s, to_sql {ref['dataframe_to_sql']:,}/s"
        )
        out["incremental"] = _incremental(
            url,
            world_products=world_products,
            products=products,
            complaints=(old_complaints, complaints),
            seed=seed,
            landing=landing,
            home=home,
            model_products=model_products,
            shards=shards,
            log=log,
        )
        if analyze_every:
            out["analyzer"] = {"passes": analyzer.runs, "tables_analyzed": analyzer.tables}
    out["wall_seconds"] = round(time.perf_counter() - total, 1)
    return out


def _incremental(
    url: str,
    *,
    world_products: int,
    products: int,
    complaints: tuple[int, int],
    seed: int,
    landing: Path,
    home: Path,
    model_products: int | None,
    shards: int,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """The next day: 1% new products and complaints, every stage's incremental path."""
    day = FULL_DAY + dt.timedelta(days=1)
    inc: dict[str, Any] = {}
    inc["landing"] = _landing(
        world_products,
        seed,
        landing,
        "bench-next-day",
        day,
        (products, world_products),
        complaints,
        min(shards, max(1, world_products - products)),
    )
    start = time.perf_counter()
    inc["load"] = _in_child(load_stage, url, str(landing), "bench-next-day", day.isoformat())
    inc["process"] = _in_child(process_stage, url, str(home), "bench-next-day")
    assessed = _in_child(assess_stage, url, str(home), day.isoformat(), model_products)
    inc["score_reviews"] = assessed.pop("score_reviews")
    inc["assess"] = assessed
    inc["plan"] = _in_child(plan_stage, url, str(home), day.isoformat())
    _cycle(inc, time.perf_counter() - start)
    log(
        "  incremental ("
        + ", ".join(f"{s} {inc[s]['seconds']} s" for s in WHOLE_CYCLE)
        + f"; load → assess {inc['triggered']['seconds']} s)"
    )
    return inc


def _cycle(run: dict[str, Any], wall: float) -> None:
    """Set ``cycle`` (load → process → assess → plan: the stages' own times, the wall
    time with each stage's process start-up, and with the complete crawl when known) and
    ``triggered`` (load → process → assess, what new data sets off)."""
    seconds = sum(run[s]["seconds"] for s in WHOLE_CYCLE)
    cycle = {"seconds": round(seconds, 2), "wall_seconds": round(wall, 1)}
    crawl = run.get("crawl", {}).get("complete_crawl")
    if crawl and crawl.get("seconds"):
        cycle["crawl_seconds"] = crawl["seconds"]
        cycle["with_crawl_seconds"] = round(seconds + crawl["seconds"], 1)
    run["cycle"] = cycle
    run["triggered"] = {"seconds": round(sum(run[s]["seconds"] for s in TRIGGERED), 2)}


def _line(stage: str, r: dict[str, Any]) -> str:
    rate = r.get("rows_per_second") or r.get("reviews_per_second")
    peak = f", peak {r['peak_mib']:,.0f} MiB" if "peak_mib" in r else ""
    return f"  {stage:<14}{r['seconds']:>9.2f} s" + (f"  {rate:>9,}/s" if rate else "") + peak


def compare_shapes(crawled: Path, written: Path, profile: str) -> dict[str, dict[str, list]]:
    """Fields in the real crawl's items but not in the written ones, and the reverse, by
    kind (empty when the written landing files look like the crawl's)."""
    from bench.world_landing import payload_shape

    out = {}
    for kind in ("listing", "review", "shop"):
        real = payload_shape(crawled, kind, profile)
        ours = payload_shape(written, kind, profile)
        if real and real != ours:
            out[kind] = {"only_crawled": sorted(real - ours), "only_written": sorted(ours - real)}
    return out


def add_crawl_estimates(runs: list[dict[str, Any]]) -> None:
    """Give every run the time of a complete crawl of its market, measured or estimated.

    Pages per unit (listing, review, shop and complaint pages; :func:`crawl_estimate`)
    come from the largest size whose crawl was complete; with none, from the landing
    counts alone (one page per unit, an underestimate, and said so).
    """
    complete = [r for r in runs if r["crawl"]["complete"]]
    if complete:
        ref = max(complete, key=lambda r: r["products"])
        ppu = ref["crawl"]["pages"] / ref["landing"]["units"][CRAWL_PROFILE]
        basis = f"pages per unit of the complete crawl at {ref['products']:,} products"
    else:
        ppu, basis = 1.0, "one page per unit (no complete crawl was measured: an underestimate)"
    for r in runs:
        units = sum(r["landing"]["units"].values())
        est = crawl_estimate(r["crawl"], ppu, units)
        est["profiles"] = sorted(r["landing"]["units"])
        est["basis"] = basis
        est["measured"] = False
        r["crawl"]["complete_crawl"] = est
        _cycle(r, r["cycle"]["wall_seconds"])


# ------------------------------------------------------------------------- report


def markdown(result: dict[str, Any]) -> str:
    """The results as the generated part of docs/benchmarks.md: the machine, the table of
    full runs with each stage's growth, the incremental runs, and the verdicts."""
    runs = result["sizes"]
    m = result["machine"]
    growth = result["summary"]["growth"]
    sizes = " | ".join(f"{r['products']:,} products" for r in runs)

    def exp(stage: str | None) -> str:
        g = growth.get(stage or "")
        if not g or g["exponent"] is None:
            return ""
        top = f" (top {g['top_slope']:.2f})" if g.get("top_slope") is not None else ""
        return f"{g['exponent']:.2f}{top}" + ("" if g["meets_target"] else " **> 1.1**")

    def row(name: str, stage: str | None, cell: Callable[[dict], str]) -> str:
        return f"| {name} | " + " | ".join(cell(r) for r in runs) + f" | {exp(stage)} |"

    def mib(x: dict) -> str:
        return f"{x['peak_mib']:,.0f} MiB"

    def est(r: dict) -> str:
        c = r["crawl"]["complete_crawl"]
        return f"{c['seconds']:,.0f} s ({c['pages']:,} pages)" if c.get("seconds") else "—"

    full = [
        f"| stage | {sizes} | growth exponent |",
        "|---|" + "---|" * len(runs) + "---|",
        row(
            "market",
            None,
            lambda r: (
                f"{r['landing'].get('listing', 0):,} listings, "
                f"{r['landing'].get('review', 0):,} reviews, "
                f"{r['landing'].get('complaint', 0):,} complaints"
            ),
        ),
        row(
            f"crawl `{CRAWL_PROFILE}` (measured)",
            None,
            lambda r: (
                f"{r['crawl']['pages_per_second']:,} pages/s"
                + (
                    f" ({r['crawl']['steady_pages_per_second']:,} after the start)"
                    if r["crawl"].get("steady_pages_per_second")
                    else ""
                )
                + (
                    f" ({r['crawl']['ratio_to_scrapy_bench']:.2f}× `scrapy bench`)"
                    if r["crawl"].get("ratio_to_scrapy_bench")
                    else ""
                )
                + f", {r['crawl']['pages']:,} pages"
                + (" (complete)" if r["crawl"]["complete"] else " (page budget)")
            ),
        ),
        row("complete crawl of every site (estimated)", "crawl", est),
        row(
            "load: landing → staging",
            "load",
            lambda r: f"{r['load']['seconds']:,.1f} s, {r['load']['rows_per_second']:,} rows/s",
        ),
        row(
            "load: bulk upsert / `COPY` / `to_sql`",
            None,
            lambda r: "{ecqm_upsert:,} / {copy:,} / {dataframe_to_sql:,} rows/s".format(
                **r["load"]["reference"]["rows_per_second"]
            ),
        ),
        row(
            "process: staging → core",
            "process",
            lambda r: (
                f"{r['process']['seconds']:,.1f} s, {r['process']['rows_per_second']:,} "
                f"rows/s, peak {mib(r['process'])}"
            ),
        ),
        row(
            "score reviews (in assess)",
            "score_reviews",
            lambda r: (
                f"{r['score_reviews']['seconds']:,.1f} s, "
                f"{r['score_reviews']['reviews_per_second'] or 0:,} reviews/s"
            ),
        ),
        row(
            "assess risk (all steps)",
            "assess",
            lambda r: f"{r['assess']['seconds']:,.1f} s, peak {mib(r['assess'])}",
        ),
        row(
            "plan the month",
            "plan",
            lambda r: f"{r['plan']['seconds']:,.1f} s, peak {mib(r['plan'])}",
        ),
        row(
            "whole cycle, load → plan (wall)",
            "cycle",
            lambda r: f"{r['cycle']['seconds']:,.1f} s ({r['cycle']['wall_seconds']:,.1f} s)",
        ),
        row(
            "whole cycle with the complete crawl (estimated)",
            None,
            lambda r: (
                f"{r['cycle']['with_crawl_seconds']:,.0f} s"
                if r["cycle"].get("with_crawl_seconds")
                else "—"
            ),
        ),
    ]
    names = {
        "load": "load",
        "process": "process",
        "score_reviews": "score reviews",
        "assess": "assess risk",
        "plan": "plan, made again (monthly, not set off by data)",
        "triggered": "**load → process → assess** (what new data sets off)",
    }
    incremental = [
        f"| incremental run, 1% new | {sizes} |",
        "|---|" + "---|" * len(runs),
        *(
            f"| {names[stage]} | " + " | ".join(_ratio_cell(r, stage) for r in runs) + " |"
            for stage in INCREMENTAL_STAGES
        ),
    ]
    s = result["summary"]
    inc = s["incremental"]
    sb = result["scrapy_bench"]
    verdicts = [
        "- Growth: "
        + ("every stage at most linear" if s["linear"] else "**not every stage at most linear**")
        + f" (target: slope of log cost on log size at most {TARGET_EXPONENT}, fitted over all "
        "sizes and between the two largest).",
        f"- Incremental run at 1% new data, {inc['products']:,} products: load → assess "
        + (f"{inc['cycle_ratio']:.1%}" if inc["cycle_ratio"] is not None else "not measured")
        + f" of the full run (target under {TARGET_INCREMENTAL:.0%}): "
        + ("met." if inc["meets_target"] else "**not met**."),
        f"- `scrapy bench` on the same machine: {sb['pages_per_second']:,} pages/s."
        if sb
        else "- `scrapy bench` was not run.",
        f"- The whole benchmark took {result['wall_seconds'] / 60:,.1f} minutes.",
    ]
    machine_line = (
        f"{m['cpus']} CPUs, {m['memory_gib']} GiB memory, Python {m['python']}, "
        f"{m['platform']}, PostgreSQL {result.get('postgresql') or '?'}"
    )
    return "\n".join(
        [
            f"Measured {result['when']} on {machine_line}; about "
            f"{result['reviews_per_product']} reviews per product.",
            "",
            *full,
            "",
            *incremental,
            "",
            *verdicts,
        ]
    )


def _ratio_cell(run: dict[str, Any], stage: str) -> str:
    inc = run.get("incremental") or {}
    a, b = stage_seconds(inc, stage), stage_seconds(run, stage)
    ratio = incremental_ratio(a, b)
    if ratio is None:
        return "—"
    return f"{a:,.1f} s, {ratio:.1%}"


def update_docs(path: Path, table: str) -> bool:
    """Replace the generated part of ``path`` (between the markers); False without them."""
    if not path.exists():
        return False
    text = path.read_text(encoding="utf-8")
    if DOCS_BEGIN not in text or DOCS_END not in text:
        return False
    before, rest = text.split(DOCS_BEGIN, 1)
    _, after = rest.split(DOCS_END, 1)
    path.write_text(f"{before}{DOCS_BEGIN}\n{table}\n{DOCS_END}{after}", encoding="utf-8")
    return True


# ------------------------------------------------------------------------- main


def run(
    sizes: Sequence[int],
    *,
    server_url: str,
    seed: int = SEED,
    crawl_pages: int = CRAWL_PAGES,
    reference_rows: int = REFERENCE_ROWS,
    bench_seconds: int = 10,
    model_products: int | None = None,
    shards: int = 2,
    isolate: bool = True,
    complete_crawl_max: int = COMPLETE_CRAWL_MAX_PRODUCTS,
    analyze_every: float | None = ANALYZE_EVERY,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run every size; the results (see the module's documentation)."""
    global ISOLATE
    ISOLATE = isolate
    start = time.perf_counter()
    result: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "config": {
            "sizes": list(sizes),
            "seed": seed,
            "review_scale": round(REVIEW_SCALE, 4),
            "new_share": NEW_SHARE,
            "crawl_profile": CRAWL_PROFILE,
            "crawl_page_budget": crawl_pages,
            "complete_crawl_up_to_products": complete_crawl_max,
            "crawl_settings": CRAWL_SETTINGS,
            "reference_rows": reference_rows,
            "plan_budget": PLAN_BUDGET,
            "database": "postgresql",
            "stage_processes": "one fresh process per stage" if isolate else "all in one",
        },
    }
    result["scrapy_bench"] = None
    if bench_seconds > 0:
        log(f"scrapy bench ({bench_seconds} s)")
        result["scrapy_bench"] = scrapy_bench(bench_seconds)
        log(f"  {result['scrapy_bench']['pages_per_second']} pages/s")
    runs = []
    prefix = f"ecqm_bench_stages_{os.getpid()}"
    with contextlib.ExitStack() as stack:
        # Migrated once, with the reference data; every other database is a copy of it.
        template_url = stack.enter_context(scratch_database(server_url, f"{prefix}_template"))
        result["setup"] = _in_child(setup_warehouse, template_url, model_products)
        result["postgresql"] = result["setup"]["postgresql"]
        autovacuum = server_autovacuum(template_url)
        analyze = analyze_every if not autovacuum else None
        result["config"]["server_autovacuum"] = autovacuum
        result["config"]["analyze_every_seconds"] = analyze
        if analyze:
            log(
                f"the server's autovacuum is off: the benchmark analyzes its tables as "
                f"autovacuum would, every {analyze:g} s"
            )
        template = f"{prefix}_template"
        reference_url = stack.enter_context(
            scratch_database(server_url, f"{prefix}_reference", template)
        )
        for i, size in enumerate(sorted(sizes)):
            log(f"== {size:,} products")
            complete = i == 0 and size <= complete_crawl_max
            with tempfile.TemporaryDirectory(prefix=f"ecqm-bench-stages-{size}-") as tmp:
                r = run_size(
                    size,
                    server_url=server_url,
                    template=template,
                    reference_url=reference_url,
                    seed=seed,
                    crawl_pages=0 if complete else crawl_pages,
                    reference_rows=reference_rows,
                    model_products=model_products,
                    shards=shards,
                    workdir=Path(tmp),
                    analyze_every=analyze,
                    log=log,
                )
            runs.append(r)
    add_crawl_estimates(runs)
    if result["scrapy_bench"]:
        for r in runs:
            r["crawl"]["ratio_to_scrapy_bench"] = round(
                r["crawl"]["pages_per_second"] / result["scrapy_bench"]["pages_per_second"], 3
            )
    result["machine"]["postgresql"] = result["postgresql"]
    result["sizes"] = runs
    result["reviews_per_product"] = round(
        sum(r["landing"].get("review", 0) for r in runs) / max(1, sum(r["products"] for r in runs)),
        1,
    )
    result["summary"] = summarise(runs)
    result["wall_seconds"] = round(time.perf_counter() - start, 1)
    result["meets_target"] = (
        result["summary"]["linear"] and result["summary"]["incremental"]["meets_target"]
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_stages", description=__doc__)
    parser.add_argument(
        "--sizes",
        default=",".join(str(s) for s in DEFAULT_SIZES),
        help="market sizes in products, comma-separated",
    )
    parser.add_argument(
        "--url",
        default=os.environ.get(
            "ECQM_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server; the benchmark creates and drops databases of its own",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--crawl-pages", type=int, default=CRAWL_PAGES, help="0: no budget")
    parser.add_argument("--reference-rows", type=int, default=REFERENCE_ROWS)
    parser.add_argument(
        "--bench-seconds", type=int, default=10, help="length of scrapy bench (0: skip it)"
    )
    parser.add_argument(
        "--model-products",
        type=int,
        help="train the review text model on this many simulated products (tests); "
        "default: the shipped recipe, cached under ECQM_HOME",
    )
    parser.add_argument("--shards", type=int, default=2, help="processes writing landing files")
    parser.add_argument(
        "--analyze-every",
        type=float,
        default=ANALYZE_EVERY,
        help="on a server with autovacuum off, ANALYZE the benchmark's tables as autovacuum "
        "would, every this many seconds (0: never, to measure the server as it is)",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the stages in this process (faster; peak memory is then the whole run's)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="results file")
    parser.add_argument("--no-record", action="store_true", help="do not write the results file")
    parser.add_argument(
        "--docs",
        default=str(DOCS),
        help="markdown file whose generated table is replaced ('' for none)",
    )
    args = parser.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    result = run(
        sizes,
        server_url=args.url,
        seed=args.seed,
        crawl_pages=args.crawl_pages,
        reference_rows=args.reference_rows,
        bench_seconds=args.bench_seconds,
        model_products=args.model_products,
        shards=args.shards,
        isolate=not args.in_process,
        analyze_every=args.analyze_every or None,
    )
    table = markdown(result)
    print()
    print(table)
    if not args.no_record:
        record(
            "stages",
            {k: v for k, v in result.items() if k not in ("when", "machine")},
            args.results,
        )
    if args.docs and update_docs(Path(args.docs), table):
        print(f"table written to {args.docs}")
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
