"""``make demo``: the pipeline on the simulated marketplace, through the real Airflow DAGs.

Airflow's metadata database, with ecqm's DAGs synced into it and unpaused; the DAG
``prepare_warehouse`` (warehouse migrated, reference data loaded); the simulated
marketplace served on 127.0.0.1 and checked page by page against its planted truth; one
``crawl_<profile>`` DAG per enabled site; then whatever their Asset events trigger, read
from Airflow's asset queue as its scheduler reads it: ``process_staging``, which takes
staging into the core tables, and ``assess_risk`` on the core tables' events. Each
stage's output is measured against the planted truth.

The DAGs without an Asset schedule of their own (``prepare_warehouse``, the crawls, and
in :mod:`ecqm.demo_cycle` the plan, the inbox and the review) are triggered here, as a
person or their timetable would; every DAG downstream of them runs because the asset
queue says so (``ecqm.airflow_local.run_asset_triggered``).
"""

from __future__ import annotations

import html
import json
import os
import random
import re
import time
import urllib.error
import urllib.request
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ecqm import settings as ecqm_settings

PAGES_PER_KIND = 25
DEMO_PRODUCTS = 1000
DEMO_PORT = 8800
# The demo crawls its own simulator on 127.0.0.1, so the profiles' politeness (a delay
# of a second, two requests at a time: right for a real site) is relaxed for it.
LOCAL_CRAWL_SETTINGS = {
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
}


@dataclass
class SimulatorCheck:
    pages: int = 0
    by_site: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    planted: dict[str, int] = field(default_factory=dict)


def _fetch(url: str, agent: str) -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers={"User-Agent": agent})
    with urllib.request.urlopen(request, timeout=30) as resp:
        body = resp.read()
        charset = resp.headers.get_content_charset()
        status = resp.status
        ctype = resp.headers.get("Content-Type", "")
    if not charset:
        meta = re.search(rb'charset=["\']?([A-Za-z0-9_-]+)', body[:2048])
        charset = meta.group(1).decode() if meta else "utf-8"
    return status, ctype, body.decode(charset, errors="replace")


def check_simulator(base_url: str, truth: dict[str, Any], agent: str, seed: int) -> SimulatorCheck:
    """Fetch a sample of every kind of page the truth names; each must show what the truth says."""
    check = SimulatorCheck()
    rnd = random.Random(seed)
    listings = [lst for p in truth["products"] for lst in p["listings"]]
    samples: list[tuple[str, str, list[str]]] = []
    for platform in truth["platforms"]:
        mine = [x for x in listings if x["platform"] == platform]
        for lst in rnd.sample(mine, min(PAGES_PER_KIND, len(mine))):
            samples.append((platform, lst["url"], [lst["title"]]))
    for shop in rnd.sample(truth["shops"], min(PAGES_PER_KIND, len(truth["shops"]))):
        samples.append((shop["platform"], shop["url"], [shop["name"]]))
    for c in rnd.sample(truth["complaints"], min(PAGES_PER_KIND, len(truth["complaints"]))):
        samples.append(("tousu", c["url"], [c["number"]]))
    for r in rnd.sample(truth["recalls"], min(PAGES_PER_KIND, len(truth["recalls"]))):
        if r.get("url"):
            samples.append(("recall", r["url"], [r["number"]]))
    samples.append(("root", "/robots.txt", ["Disallow"]))
    for site, path, expected in samples:
        url = base_url.rstrip("/") + path
        try:
            status, _ctype, text = _fetch(url, agent)
        except (urllib.error.URLError, OSError) as exc:
            check.failures.append(f"{path}: {exc}")
            continue
        check.pages += 1
        check.by_site[site] += 1
        page = html.unescape(text)
        missing = [e for e in expected if e not in page]
        if status != 200 or missing:
            check.failures.append(f"{path}: status {status}, missing {missing}")
    check.planted = _planted(truth, listings)
    return check


def _planted(truth: dict[str, Any], listings: list[dict[str, Any]]) -> dict[str, int]:
    products = truth["products"]
    return {
        "products": len(products),
        "listings": len(listings),
        "shops": len(truth["shops"]),
        "complaints": len(truth["complaints"]),
        "recall notices": len(truth["recalls"]),
        "products with a defective batch": sum(1 for p in products if p["defect"]),
        "counterfeit listings": sum(1 for x in listings if x["counterfeit"]),
        "listings with banned advertising terms": sum(1 for x in listings if x["banned_terms"]),
        "listings missing a required CCC mark": sum(1 for x in listings if x["missing_ccc"]),
        "三无 listings (no producer or origin)": sum(1 for x in listings if x["sanwu"]),
        "listings of recalled products": sum(1 for x in listings if x["recalls"]),
    }


def _crawl_everything(total: int, use_airflow: bool) -> list[str]:
    """Run every enabled crawl DAG once, as their nightly timetables would (or its tasks
    directly); the profiles that failed."""
    from ecqm.crawl_profiles import profile_summaries

    failed = []
    profiles = [p for p in profile_summaries() if p.enabled]
    names = ", ".join(f"crawl_{p.name}" for p in profiles)
    _step(5, total, f"crawling the simulator through {len(profiles)} DAGs: {names}")
    print("      (politeness relaxed for the local simulator: ECQM_CRAWL_SETTINGS)")
    for profile in profiles:
        started = time.perf_counter()
        state, new_rows = (
            _crawl_with_airflow(profile.name) if use_airflow else _crawl_directly(profile)
        )
        note = "new rows published" if new_rows else "nothing new, no downstream work"
        seconds = time.perf_counter() - started
        print(f"      crawl_{profile.name:14s} {state:8s} {seconds:6.1f} s  ({note})")
        if state != "success":
            failed.append(profile.name)
    return failed


def _crawl_with_airflow(profile: str) -> tuple[str, bool]:
    from ecqm import airflow_local

    run = airflow_local.run_dag(f"crawl_{profile}")
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    return run.state, states.get("publish") == "success"


def _crawl_directly(profile: Any) -> tuple[str, bool]:
    import datetime as dt

    from ecqm.crawl import crawl_shard, load_run, plan_shards

    specs = plan_shards(profile.name, dt.datetime.now(dt.UTC), profile.default_shards)
    for spec in specs:
        crawl_shard(spec)
    loaded = load_run(specs[0], ecqm_settings.load().warehouse_url)
    return "success", loaded["new_rows"] > 0


def collected_by_source(warehouse_url: str) -> dict[str, dict[str, set[str]]]:
    """Distinct external ids in staging: kind → source (platform for listings, reviews and
    shops) → ids."""
    from sqlalchemy import select

    from ecqm.warehouse.engine import make_engine
    from ecqm.warehouse.schema import (
        stg_complaints,
        stg_listings,
        stg_recalls,
        stg_reviews,
        stg_shops,
    )

    engine = make_engine(warehouse_url)
    out: dict[str, dict[str, set[str]]] = {}
    queries = {
        "listings": select(stg_listings.c.platform, stg_listings.c.external_id),
        "reviews": select(stg_reviews.c.platform, stg_reviews.c.external_id),
        "shops": select(stg_shops.c.platform, stg_shops.c.external_id),
        "complaints": select(stg_complaints.c.source, stg_complaints.c.complaint_number),
        "recalls": select(stg_recalls.c.source, stg_recalls.c.recall_number),
    }
    with engine.connect() as conn:
        for kind, query in queries.items():
            for source, key in conn.execute(query.distinct()):
                out.setdefault(kind, {}).setdefault(source, set()).add(key)
    engine.dispose()
    return out


def planted_ids(truth: dict[str, Any]) -> dict[str, dict[str, set[str]]]:
    """The same shape as :func:`collected_by_source`, from the planted truth (shops: those
    with a listing, whose pages the listings link to)."""
    out: dict[str, dict[str, set[str]]] = {
        "listings": {},
        "reviews": {},
        "shops": {},
        "complaints": {},
        "recalls": {},
    }
    for product in truth["products"]:
        for lst in product["listings"]:
            out["listings"].setdefault(lst["platform"], set()).add(lst["id"])
            for review in lst.get("reviews", []):
                out["reviews"].setdefault(lst["platform"], set()).add(review["id"])
    for shop in truth.get("shops", []):
        if shop.get("listing_count"):
            out["shops"].setdefault(shop["platform"], set()).add(shop["id"])
    for c in truth["complaints"]:
        out["complaints"].setdefault("tousu", set()).add(c["number"])
    for r in truth["recalls"]:
        source = {"eu_safety_gate": "safety_gate"}.get(r["source"], r["source"])
        out["recalls"].setdefault(source, set()).add(r["number"])
    return out


def coverage_lines(collected: dict[str, dict[str, set[str]]], truth: dict[str, Any]) -> list[str]:
    lines = []
    for kind, by_source in planted_ids(truth).items():
        for source, wanted in sorted(by_source.items()):
            got = collected.get(kind, {}).get(source, set())
            found = len(wanted & got)
            share = found / len(wanted) if wanted else 1.0
            lines.append(
                f"{kind:10s} {source:12s} {len(got):>8,} collected, {found:,} of {len(wanted):,} planted ({share:.1%})"
            )
    return lines


def _step(n: int, total: int, text: str) -> None:
    print(f"[{n}/{total}] {text}", flush=True)


def run_demo(
    products: int = DEMO_PRODUCTS,
    seed: int = 20191001,
    use_airflow: bool = True,
    port: int = DEMO_PORT,
) -> int:
    try:
        return _run_demo(products, seed, use_airflow, port)
    finally:
        if use_airflow:
            from ecqm import airflow_local

            # Unpaused only while the demo drives them: `make up` finds them paused.
            try:
                airflow_local.pause_dags()
            except Exception as exc:  # noqa: BLE001 — never hide the demo's own outcome
                print(f"(could not pause the DAGs again: {exc})")


def _run_demo(products: int, seed: int, use_airflow: bool, port: int) -> int:
    # Airflow's in-process runner imports FastAPI's test client, which warns about httpx.
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    s = ecqm_settings.load()
    started = time.perf_counter()
    total = 13
    print(f"ecqm demo — home {s.home}, warehouse {s.warehouse_url}\n", flush=True)

    from ecqm import airflow_local

    # The runs that Asset events triggered, for the closing summary.
    asset_triggered: list[Any] = []
    if use_airflow:
        airflow_local.migrate_metadata_db(s)
        dag_ids = airflow_local.prepare_dags()
        _step(
            1,
            total,
            f"Airflow metadata database ready ({s.airflow_home}): {len(dag_ids)} DAGs "
            "synced and unpaused, so Asset events queue their consumers",
        )
        runs = airflow_local.trigger("prepare_warehouse")
        if _failed(runs, s):
            return 1
        asset_triggered += runs[1:]
        counts = _reference_counts_from_run(runs[0].dag_run)
        _step(
            2,
            total,
            "DAG prepare_warehouse: success — warehouse at the newest schema, reference data loaded",
        )
    else:
        from ecqm.warehouse.tasks import load_reference_data, upgrade_warehouse

        _step(1, total, "Airflow skipped (--no-airflow): calling the tasks directly")
        upgrade_warehouse(s.warehouse_url)
        counts = load_reference_data(s.warehouse_url)
        _step(2, total, "warehouse at the newest schema, reference data loaded")
    for table, c in sorted(counts.items()):
        print(
            f"      {table:18s} inserted {c['inserted']:>4}, updated {c['updated']:>4}, unchanged {c['unchanged']:>4}"
        )

    from simulator.server import SimulatorServer
    from simulator.truth import iter_truth
    from simulator.world import World

    world = World(products=products, seed=seed)
    # A stable address, as a real site has: page URLs are part of what is collected, so a
    # new port would make every record look changed on the next run.
    server = SimulatorServer(world, port=port)
    try:
        server.start()
    except OSError as exc:
        print(
            f"cannot serve the simulator on port {port} ({exc.strerror}); pick another with --port"
        )
        return 1
    try:
        _step(
            3,
            total,
            f"simulated marketplace serving {server.base_url} ({products:,} products, seed {seed})",
        )
        truth = json.loads("".join(iter_truth(world, reviews=True)))
        check = check_simulator(server.base_url, truth, s.user_agent, seed)
        sites = ", ".join(f"{site} {n}" for site, n in sorted(check.by_site.items()))
        if check.failures:
            _step(
                4, total, f"simulator check FAILED on {len(check.failures)} of {check.pages} pages:"
            )
            for failure in check.failures[:20]:
                print(f"      {failure}")
            return 1
        _step(
            4,
            total,
            f"simulator checked: {check.pages} pages fetched over HTTP ({sites}), all match the planted truth",
        )
        os.environ["ECQM_SIMULATOR_URL"] = server.base_url
        os.environ.setdefault("ECQM_CRAWL_SETTINGS", json.dumps(LOCAL_CRAWL_SETTINGS))
        if _crawl_everything(total, use_airflow):
            return 1
    finally:
        server.stop()
    collected = collected_by_source(s.warehouse_url)
    _step(6, total, "staging now holds, per source (against the planted truth):")
    for line in coverage_lines(collected, truth):
        print(f"      {line}")
    # What the crawls' Asset events trigger, as the scheduler would pick it up.
    runs = airflow_local.run_asset_triggered() if use_airflow else []
    if _failed(runs, s):
        return 1
    asset_triggered += runs
    if _process(total, use_airflow, s, truth, runs):
        return 1
    if _assess(total, use_airflow, s, truth, runs):
        return 1
    from ecqm.demo_cycle import run_cycle

    try:
        cycle = run_cycle(9, total, use_airflow, s, world, seed)
    except RuntimeError as exc:
        print(exc)
        return 1
    asset_triggered += cycle.triggered
    print("\nPlanted in the simulated world (what later stages must find):")
    for name, n in check.planted.items():
        print(f"      {name:40s} {n:>7,}")
    print(
        f"\nThe cycle: plan {cycle.plan_id} of {cycle.tasks} purchases ({cycle.targeted} "
        f"targeted, {cycle.audit} audit); this run bought and tested {cycle.samples} "
        f"(simulated: {cycle.failed} 不合格); notices sent "
        + (", ".join(f"{k} {v}" for k, v in sorted(cycle.notices.items())) or "none")
        + f"; report {cycle.report}"
    )
    if use_airflow:
        print("\nDAG runs triggered by Assets (from Airflow's asset queue, as its scheduler):")
        for run in asset_triggered:
            print(f"      {triggered_line(run)}")
        if not asset_triggered:
            print("      none: no Asset that a DAG is scheduled on got an event")
    print(
        f"\nDone in {time.perf_counter() - started:.0f} s.\n"
        f"  warehouse   {s.warehouse_url}\n"
        f"  Airflow     {s.airflow_home} (make up for the UI)\n"
        f"  run again   make demo — nothing changes the second time"
    )
    return 0


def triggered_line(run: Any) -> str:
    """``dag_id ← the Assets that triggered it (the DAGs whose runs emitted them)``."""
    return f"{run.dag_id:22s} ← {', '.join(run.assets)} (events of {', '.join(run.sources)})"


def _failed(runs: list[Any], s: Any) -> bool:
    """Print the runs that did not succeed; whether there was one."""
    failed = [r for r in runs if r.state != "success"]
    for r in failed:
        print(f"DAG {r.dag_id} ended {r.state}; see the logs under {s.airflow_home / 'logs'}")
    return bool(failed)


def _run_of(runs: list[Any], dag_id: str) -> Any:
    return next((r for r in runs if r.dag_id == dag_id), None)


def _process(total: int, use_airflow: bool, s: Any, truth: dict[str, Any], runs: list[Any]) -> int:
    """Staging → core through the ``process_staging`` DAG, when the crawls' Asset events
    triggered it (one of ``runs``); print what it did."""
    from ecqm.evaluate import product_resolution, spam_detection
    from ecqm.warehouse.engine import make_engine
    from transforms.core import tasks

    run_id: str | None
    if use_airflow:
        run = _run_of(runs, "process_staging")
        if run is None:
            run_id = None
            _step(
                7,
                total,
                "no ecqm.stg_* Asset event (the crawls found nothing new): "
                "process_staging was not triggered",
            )
        else:
            run_id = run.run_id
            _step(
                7,
                total,
                f"DAG process_staging (on {', '.join(run.assets)}): success — "
                "staging taken into the core tables",
            )
            print(
                f"      asset-triggered: Airflow records the events of {', '.join(run.sources)} "
                "as its trigger (those up to when it was queued); it takes every staging row "
                "added since its last run"
            )
    else:
        import datetime as dt

        run_id = "demo__" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        tasks.process(s.warehouse_url, run_id)
        _step(7, total, "staging taken into the core tables")
    problems = tasks.check_reconciliation(s.warehouse_url, run_id) if run_id else []
    for line in _process_lines(s.warehouse_url, run_id):
        print(f"      {line}")
    if problems:
        for p in problems:
            print(f"      reconciliation: {p}")
        return 1
    engine = make_engine(s.warehouse_url)
    try:
        resolved = product_resolution(engine, truth)
        spam = spam_detection(engine, truth)
    finally:
        engine.dispose()
    print(
        f"      products   {resolved.predicted_groups:,} resolved from {resolved.items:,} listings "
        f"(planted {resolved.true_groups:,}): pairwise precision {resolved.precision:.3f}, "
        f"recall {resolved.recall:.3f}"
    )
    print(
        f"      刷单 reviews {spam.found:,} of {spam.planted:,} planted copies flagged "
        f"({spam.recall:.1%}); genuine reviews flagged {spam.genuine_flagged:,} of {spam.genuine:,} "
        f"({spam.false_positive_rate:.2%})"
    )
    docs = s.home / "data_docs" / "index.html"
    if docs.exists():
        print(f"      data docs  {docs}")
    return 0


def _assess(total: int, use_airflow: bool, s: Any, truth: dict[str, Any], runs: list[Any]) -> int:
    """Core → risk assessments through the ``assess_risk`` DAG, when the core tables'
    Asset events triggered it (one of ``runs``); print the levels and how they compare
    with the planted defects."""
    import datetime as dt

    from ecqm.evaluate import risk_levels
    from ecqm.warehouse.engine import make_engine
    from risk_models.tasks import as_of_for, assess

    if use_airflow:
        from ecqm import airflow_local

        run = _run_of(runs, "assess_risk")
        if run is None:
            report = airflow_local.latest_asset_event("ecqm.risk_assessments")
            _step(
                8,
                total,
                "no Asset event of the core tables: assess_risk was not triggered, "
                "the last assessment stands",
            )
        else:
            report = airflow_local.asset_events_of(run.dag_run).get("ecqm.risk_assessments")
            _step(
                8,
                total,
                f"DAG assess_risk (on {', '.join(run.assets)}): success — "
                "every product assessed, with explanations",
            )
            print(f"      asset-triggered by the events of {', '.join(run.sources)}")
    else:
        report = assess(s.warehouse_url, as_of_for(dt.datetime.now(dt.UTC)))
        _step(8, total, "every product assessed, with explanations")
    if report:
        levels = report["levels"]
        print(
            f"      risk levels as of {report['as_of']}: 高风险 {levels['high']:,}, "
            f"较高风险 {levels['elevated']:,}, 一般风险 {levels['moderate']:,}, "
            f"低风险 {levels['low']:,}; confirmed {report['confirmed']:,}"
        )
        print(
            f"      reviews scored {report['reviews_scored']:,}, recall matches "
            f"{report['recall_matches']:,}, signals {report['signals']:,}; "
            f"risk model {report['model_version']}"
        )
    engine = make_engine(s.warehouse_url)
    try:
        scores = risk_levels(engine, truth)
    finally:
        engine.dispose()
    print(
        f"      planted defects {scores.planted}: {scores.detectable} left a trace (a review, "
        f"complaint or recall) and {scores.detectable_found} of them are high or elevated; "
        f"missed {len(scores.missed)}"
    )
    print(
        f"      high-risk products {scores.high}: {scores.high_correct} truly likely to fail "
        f"(precision {scores.precision_high:.3f}), {scores.high_defect} with a planted defect"
    )
    print("      BI view  mart_risk_current (one row per product, with the explanation)")
    return 0


def _process_lines(url: str, run_id: str | None) -> list[str]:
    from sqlalchemy import func, select

    from ecqm.warehouse.engine import make_engine
    from ecqm.warehouse.schema import CORE_TABLES, process_runs

    engine = make_engine(url)
    lines = []
    try:
        with engine.connect() as conn:
            runs = (
                conn.execute(select(process_runs).where(process_runs.c.run_id == run_id))
                .mappings()
                .all()
                if run_id
                else []
            )
            for r in runs:
                lines.append(
                    f"{r['staging_table']:15s} {r['rows_in']:>8,} in: {r['to_core']:>8,} core, "
                    f"{r['merged']:>6,} merged, {r['quarantined']:>5,} quarantined"
                    + ("" if r["balanced"] else "  NOT BALANCED")
                )
            if not lines:
                lines.append("nothing new in staging: the core tables are unchanged")
            counts = {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in CORE_TABLES
            }
    finally:
        engine.dispose()
    lines.append("core: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return lines


def _reference_counts_from_run(run: Any) -> dict[str, dict[str, int]]:
    """The reference-load counts as the run's Asset events carry them."""
    from ecqm.airflow_local import asset_events_of

    return {name.removeprefix("ecqm."): extra for name, extra in asset_events_of(run).items()}
