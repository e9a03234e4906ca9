"""``ecqm demo`` end to end, as ``make demo`` runs it: twice, and the warehouse is the same;
everything downstream of the demo's own triggers runs because Airflow's asset queue
made it ready."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, select, text

from ecqm.evaluate import product_resolution, spam_detection
from ecqm.warehouse.engine import make_engine
from ecqm.warehouse.schema import (
    CORE_TABLES,
    MONITORING_TABLES,
    REFERENCE_TABLES,
    RESULTS_TABLES,
    REVIEW_TABLES,
    RISK_TABLES,
    STAGING_TABLES,
    process_runs,
)
from transforms.core.reconcile import reconcile
from transforms.pii import assert_no_pii

SNAPSHOT_TABLES = (*REFERENCE_TABLES, *STAGING_TABLES, *CORE_TABLES)
# Columns holding numbers that look like phone numbers but are the sources' own ids
# (complaint numbers such as 17370001483) or URLs built from them.
NOT_PERSONAL = (
    "complaint_number",
    "record_key",
    "external_id",
    "listing_external_id",
    "url",
    "listing_url",
    "shop_url",
)

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# When a step last looked: a second run recomputes the same rows at another moment.
MOMENTS = {"computed_at", "loaded_at", "assessed_at", "scored_at", "trained_at"}


def _snapshot(url: str) -> dict[str, list]:
    engine = make_engine(url)
    with engine.connect() as conn:
        snap = {}
        for t in (
            *REFERENCE_TABLES,
            *CORE_TABLES,
            *RISK_TABLES,
            *MONITORING_TABLES,
            *RESULTS_TABLES,
            *REVIEW_TABLES,
        ):
            if t.name == "quarantine":
                continue
            cols = [c for c in t.c if c.name not in MOMENTS]
            snap[t.name] = sorted(map(tuple, conn.execute(select(*cols)).all()), key=repr)
    engine.dispose()
    return snap


# Run by the demo itself, as a person or a timetable would; every other DAG run must be
# asset-triggered.
TRIGGERED_BY_THE_DEMO = {
    "prepare_warehouse",
    "crawl_lehuo",
    "crawl_pinjia",
    "crawl_sim_recalls",
    "crawl_tousu",
    "crawl_youpin",
    "plan_sampling",
    "ingest_inbox",
    "review_monitoring",
}
ASSET_TRIGGERED = {
    "process_staging": "ecqm.stg_",
    "assess_risk": "ecqm.listings",
    "evaluate_results": "ecqm.inspection_results",
    "deliver_notifications": "ecqm.notifications",
}


def _airflow_runs(airflow_db: str) -> tuple[list[tuple], list[tuple], int]:
    """From Airflow's metadata database: every DAG run (dag_id, run_type, triggered_by),
    the Assets each asset-triggered run consumed, and the rows left in the asset queue."""
    engine = create_engine(f"sqlite:///{airflow_db}")
    with engine.connect() as conn:
        runs = conn.execute(
            text("select dag_id, run_type, triggered_by from dag_run order by id")
        ).all()
        consumed = conn.execute(
            text(
                "select distinct r.dag_id, a.name from dag_run r"
                " join dagrun_asset_event c on c.dag_run_id = r.id"
                " join asset_event e on e.id = c.event_id"
                " join asset a on a.id = e.asset_id"
            )
        ).all()
        queued = conn.execute(text("select count(*) from asset_dag_run_queue")).scalar_one()
    engine.dispose()
    return [tuple(r) for r in runs], [tuple(r) for r in consumed], queued


def test_demo_runs_twice_and_changes_nothing_the_second_time(database_url, tmp_path):
    env = {
        **os.environ,
        "ECQM_HOME": str(tmp_path / "home"),
        "ECQM_WAREHOUSE_URL": database_url,
        "AIRFLOW_HOME": str(tmp_path / "home" / "airflow"),
    }
    outputs, snapshots = [], []
    port = _free_port()
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-m", "ecqm", "demo", "--products", "150", "--port", str(port)],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        outputs.append(proc.stdout)
        snapshots.append(_snapshot(database_url))
    first, second = outputs
    assert "DAG prepare_warehouse: success" in first
    assert "ref_categories     inserted   41" in first
    assert "ref_categories     inserted    0, updated    0, unchanged   41" in second
    assert "all match the planted truth" in second
    for site in ("youpin", "lehuo", "pinjia", "tousu", "recall"):
        assert f"{site} " in first.split("pages fetched over HTTP")[1].splitlines()[0]
    assert "products with a defective batch" in first
    # The whole cycle ran the first time and found nothing to do the second: the DAGs
    # the demo triggers ran both times, those on Assets only when an event queued them.
    for dag in ("plan_sampling", "ingest_inbox", "review_monitoring"):
        assert f"DAG {dag}" in first and f"DAG {dag}" in second, dag
    assert "DAG evaluate_results (on ecqm.inspection_results): success" in first
    assert "DAG deliver_notifications (on ecqm.notifications): success" in first
    assert "asset-triggered by the events of ingest_inbox" in first
    assert "asset-triggered by the events of evaluate_results" in first
    assert "SIMULATED buyers and lab" in first and "bought " in first
    assert "nothing left to buy" in second and "in execution since the last run" in second
    assert "no new inspection results" in second
    assert "evaluate_results was not triggered" in second
    assert "deliver_notifications was not triggered" in second
    assert "this run's SMTP sink received 0 e-mails" in second
    # The summary says which runs which Assets triggered.
    summary = first.split("DAG runs triggered by Assets")[1].split("\nDone in")[0]
    lines = [line.split() for line in summary.strip().splitlines()[1:]]
    assert [words[0] for words in lines] == list(ASSET_TRIGGERED), summary
    for words, asset in zip(lines, ASSET_TRIGGERED.values(), strict=True):
        assert words[1] == "←" and any(w.startswith(asset) for w in words[2:]), summary
    assert "none: no Asset that a DAG is scheduled on got an event" in second
    assert re.search(r"this run's SMTP sink received [1-9]\d* e-mails", first), first
    assert (tmp_path / "home" / "outbox" / "reports").is_dir()
    for table, rows in snapshots[0].items():
        assert rows == snapshots[1][table], table
    assert snapshots[0]["evaluations"] and snapshots[0]["notifications"]
    assert snapshots[0]["kpi_snapshots"]
    crawled = [line for line in first.splitlines() if line.strip().startswith("crawl_")]
    assert len(crawled) >= 5 and all(" success " in line for line in crawled)
    again = [line for line in second.splitlines() if line.strip().startswith("crawl_")]
    assert again and all("nothing new" in line for line in again), again
    shares = [float(m) for m in re.findall(r"of [\d,]+ planted \(([\d.]+)%\)", first)]
    assert len(shares) >= 10 and min(shares) >= 99.0, first
    airflow_db = tmp_path / "home" / "airflow" / "airflow.db"
    assert airflow_db.exists()

    # In Airflow's records: the demo's own triggers are runs by hand (dag.test()), every
    # other run is asset-triggered, once (the first time), on the Assets it is scheduled
    # on; and nothing is left in the asset queue.
    runs, consumed, queued = _airflow_runs(airflow_db)
    by_hand = [r for r in runs if r[1] != "asset_triggered"]
    assert {r[0] for r in by_hand} == TRIGGERED_BY_THE_DEMO
    assert len(by_hand) == 2 * len(TRIGGERED_BY_THE_DEMO)
    assert {(r[1], r[2]) for r in by_hand} == {("manual", "TEST")}
    by_assets = [r for r in runs if r[1] == "asset_triggered"]
    assert [r[0] for r in by_assets] == list(ASSET_TRIGGERED), runs
    assert {r[2] for r in by_assets} == {"ASSET"}
    for dag_id, asset in ASSET_TRIGGERED.items():
        assert any(d == dag_id and name.startswith(asset) for d, name in consumed), consumed
    assert {d for d, _ in consumed} == set(ASSET_TRIGGERED)
    assert queued == 0

    # Staging → core through the process_staging DAG, measured against the truth.
    assert "DAG process_staging (on ecqm.stg_complaints, ecqm.stg_listings" in first
    assert "process_staging was not triggered" in second
    assert "assess_risk was not triggered, the last assessment stands" in second
    assert "nothing new in staging: the core tables are unchanged" in second
    from simulator.truth import iter_truth
    from simulator.world import World

    truth = json.loads("".join(iter_truth(World(products=150, seed=20191001), reviews=True)))
    engine = make_engine(database_url)
    try:
        # The summary's found and missed figures are the simulator's truth's.
        from ecqm.evaluate import risk_levels

        scores = risk_levels(engine, truth)
        for out in (first, second):
            assert (
                f"planted defects {scores.planted}: {scores.detectable} left a trace (a review, "
                f"complaint or recall) and {scores.detectable_found} of them are high or "
                f"elevated; missed {len(scores.missed)}"
            ) in out
        assert scores.planted > 0
        resolved = product_resolution(engine, truth)
        assert resolved.items >= 400
        assert resolved.precision >= 0.98 and resolved.recall >= 0.98, resolved
        spam = spam_detection(engine, truth)
        assert spam.planted > 100 and spam.recall >= 0.95, spam
        assert spam.false_positive_rate <= 0.02, spam
        with engine.connect() as conn:
            runs = conn.execute(select(process_runs.c.run_id).distinct()).scalars().all()
            assert runs
            for run_id in runs:
                problems = [p for r in reconcile(conn, run_id) for p in r.problems()]
                assert not problems, problems
            # No raw phone number, ID number or e-mail address in any core table.
            for t in CORE_TABLES:
                for row in conn.execute(select(t)).mappings():
                    if t.name == "quarantine" and row["table_name"].startswith("stg_"):
                        continue  # raw lines the staging load refused: still the raw layer
                    found = assert_no_pii(dict(row), skip_keys=NOT_PERSONAL)
                    assert not found, (t.name, found, dict(row))
    finally:
        engine.dispose()
