"""Risk assessment measured against the simulator's planted truth, on a market crawled
over HTTP and processed the way ``make demo`` does it (its 1,000 products and seed, SQLite)."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys

import pytest
from sqlalchemy import func, select, text

from ecqm.evaluate import recall_matching, risk_levels
from ecqm.warehouse.engine import make_engine
from ecqm.warehouse.schema import (
    complaints,
    inspection_results,
    listing_snapshots,
    listings,
    model_versions,
    products,
    recalls,
    reviews,
    risk_assessments,
    risk_signals,
    shops,
)
from risk_models.assess import assess
from simulator.truth import iter_truth
from simulator.world import World

pytestmark = pytest.mark.slow
PRODUCTS, SEED = 1000, 20191001
EVIDENCE = {
    "reviews": reviews,
    "complaints": complaints,
    "listings": listings,
    "listing_snapshots": listing_snapshots,
    "recalls": recalls,
    "shops": shops,
    "inspection_results": inspection_results,
}


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    home = tmp_path_factory.mktemp("assessed-market")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "ECQM_HOME": str(home)}
    env.pop("ECQM_WAREHOUSE_URL", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ecqm",
            "demo",
            "--products",
            str(PRODUCTS),
            "--seed",
            str(SEED),
            "--no-airflow",
            "--port",
            str(port),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    engine = make_engine(f"sqlite:///{home / 'warehouse.db'}")
    truth = json.loads("".join(iter_truth(World(products=PRODUCTS, seed=SEED))))
    yield {"engine": engine, "truth": truth, "home": home, "stdout": proc.stdout}
    engine.dispose()


def test_planted_defects_are_found_and_high_means_high(market):
    scores = risk_levels(market["engine"], market["truth"])
    # Every defect that left a trace in a monitored channel is high or elevated.
    assert scores.detectable >= 25
    assert scores.detectable_found == scores.detectable, scores.missed
    assert scores.precision_high >= 0.9, scores
    # The demo prints the same figures.
    assert f"{scores.detectable_found} of them are high or elevated" in market["stdout"]


def test_recalls_match_the_listings_of_the_recalled_products(market):
    m = recall_matching(market["engine"], market["truth"])
    assert m.planted >= 10
    assert m.precision >= 0.95 and m.recall >= 0.95, m


def test_every_explanation_points_at_rows_that_exist(market):
    with market["engine"].connect() as c:
        rows = c.execute(
            select(risk_assessments.c.product_id, risk_assessments.c.explanation)
        ).all()
        assert len(rows) == c.execute(select(func.count()).select_from(products)).scalar_one()
        cited: dict[str, set[int]] = {}
        for _, ex in rows:
            for top in ex["top_signals"]:
                assert top["channel"] and top["detail"]
                for table, ids in top["evidence"].items():
                    cited.setdefault(table, set()).update(ids)
        assert {"reviews", "complaints", "listings", "recalls"} <= set(cited)
        for table, ids in cited.items():
            t = EVIDENCE[table]
            ids = sorted(ids)
            found = set()
            for i in range(0, len(ids), 500):
                found |= {
                    r for (r,) in c.execute(select(t.c.id).where(t.c.id.in_(ids[i : i + 500])))
                }
            assert found == set(ids), f"{table}: {sorted(set(ids) - found)[:10]} do not exist"
        names = {n for (n,) in c.execute(select(model_versions.c.model_name))}
        assert names == {"review_text", "risk_score"}
        mart = c.execute(
            text("select level_zh, count(*) from mart_risk_current group by level_zh")
        ).all()
        assert sum(n for _, n in mart) == len(rows)


def test_assessing_the_same_date_again_changes_nothing(market):
    engine = market["engine"]
    with engine.connect() as c:
        as_of = c.execute(select(func.max(risk_assessments.c.as_of))).scalar_one()

    def snapshot():
        with engine.connect() as c:
            return {
                t.name: sorted(
                    map(
                        repr,
                        c.execute(select(*[x for x in t.columns if not x.name.endswith("_at")])),
                    )
                )
                for t in (risk_signals, risk_assessments)
            }

    before = snapshot()
    report = assess(engine, as_of, home=market["home"], now=dt.datetime.now(dt.UTC))
    assert report.reviews_scored == 0
    assert snapshot() == before
