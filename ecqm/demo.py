"""``make demo``: the pipeline on the simulated marketplace, through the real Airflow DAGs.

So far the pipeline is its foundation: Airflow's metadata database, the DAG
``prepare_warehouse`` (warehouse migrated, reference data loaded), and the simulated
marketplace served on 127.0.0.1 and checked page by page against its planted truth.
"""

from __future__ import annotations

import html
import json
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


def _step(n: int, total: int, text: str) -> None:
    print(f"[{n}/{total}] {text}", flush=True)


def run_demo(products: int = 5000, seed: int = 20191001, use_airflow: bool = True) -> int:
    # Airflow's in-process runner imports FastAPI's test client, which warns about httpx.
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    s = ecqm_settings.load()
    started = time.perf_counter()
    total = 4
    print(f"ecqm demo — home {s.home}, warehouse {s.warehouse_url}\n", flush=True)

    from ecqm import airflow_local

    if use_airflow:
        airflow_local.migrate_metadata_db(s)
        _step(1, total, f"Airflow metadata database ready ({s.airflow_home})")
        run = airflow_local.run_dag("prepare_warehouse")
        if run.state != "success":
            print(
                f"DAG prepare_warehouse ended {run.state}; see the logs under {s.airflow_home / 'logs'}"
            )
            return 1
        counts = _reference_counts_from_run(run)
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
    with SimulatorServer(world) as server:
        _step(
            3,
            total,
            f"simulated marketplace serving {server.base_url} ({products:,} products, seed {seed})",
        )
        truth = json.loads("".join(iter_truth(world, reviews=False)))
        check = check_simulator(server.base_url, truth, s.user_agent, seed)
    sites = ", ".join(f"{site} {n}" for site, n in sorted(check.by_site.items()))
    if check.failures:
        _step(4, total, f"simulator check FAILED on {len(check.failures)} of {check.pages} pages:")
        for failure in check.failures[:20]:
            print(f"      {failure}")
        return 1
    _step(
        4,
        total,
        f"simulator checked: {check.pages} pages fetched over HTTP ({sites}), all match the planted truth",
    )
    print("\nPlanted in the simulated world (what later stages must find):")
    for name, n in check.planted.items():
        print(f"      {name:40s} {n:>7,}")
    print(
        f"\nDone in {time.perf_counter() - started:.0f} s.\n"
        f"  warehouse   {s.warehouse_url}\n"
        f"  Airflow     {s.airflow_home} (make up for the UI)\n"
        f"  run again   make demo — nothing changes the second time"
    )
    return 0


def _reference_counts_from_run(run: Any) -> dict[str, dict[str, int]]:
    """The reference-load counts as the run's Asset events carry them."""
    from ecqm.airflow_local import asset_events_of

    return {name.removeprefix("ecqm."): extra for name, extra in asset_events_of(run).items()}
