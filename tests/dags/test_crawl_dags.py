"""The generated ``crawl_<profile>`` DAGs, run for real with ``dag.test()`` against the live
simulator: complete, idempotent, and quiet when nothing changed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import distinct, func, select

from ecqm.crawl_profiles import profile_summaries
from ecqm.warehouse import migrate
from ecqm.warehouse.engine import make_engine
from ecqm.warehouse.schema import crawl_pages, crawl_runs, stg_complaints, stg_listings, stg_reviews

FAST = json.dumps(
    {
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    }
)


@pytest.fixture(scope="module")
def simulator():
    from simulator.faults import FaultSpec
    from simulator.server import SimulatorServer
    from simulator.truth import iter_truth
    from simulator.world import World

    world = World(products=60, seed=23)
    truth = json.loads("".join(iter_truth(world)))
    with SimulatorServer(world, FaultSpec.parse("429=0.03,5xx=0.02,truncate=0.01")) as srv:
        yield srv, truth


@pytest.fixture
def crawl_env(monkeypatch, tmp_path, database_url, simulator):
    srv, _ = simulator
    for key, value in {
        "ECQM_HOME": str(tmp_path / "home"),
        "ECQM_LANDING_URL": str(tmp_path / "home" / "landing"),
        "ECQM_WAREHOUSE_URL": database_url,
        "ECQM_SIMULATOR_URL": srv.base_url,
        "ECQM_CRAWL_SETTINGS": FAST,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AIRFLOW_CONN_ECQM_WAREHOUSE", raising=False)
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def _states(run) -> dict[str, str]:
    states: dict[str, str] = {}
    for ti in run.get_task_instances():
        states.setdefault(ti.task_id, ti.state)
        if ti.state != "success":
            states[ti.task_id] = ti.state
    return states


def test_one_dag_per_enabled_profile(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    from ecqm.settings import DAGS_FOLDER

    bag = DagBag(dag_folder=str(DAGS_FOLDER / "crawl.py"))
    assert bag.import_errors == {}
    enabled = {f"crawl_{p.name}" for p in profile_summaries() if p.enabled}
    assert {"crawl_youpin", "crawl_lehuo", "crawl_pinjia", "crawl_tousu"} <= enabled
    assert set(bag.dag_ids) == enabled
    disabled = {f"crawl_{p.name}" for p in profile_summaries() if not p.enabled}
    assert disabled and not disabled & set(bag.dag_ids), "disabled profiles must not become DAGs"
    for dag_id in enabled:
        dag = bag.get_dag(dag_id)
        assert {t.task_id for t in dag.tasks} == {"plan", "crawl", "load", "publish"}
        assert {o.name for o in dag.get_task("publish").outlets} >= {
            "ecqm.stg_listings",
            "ecqm.stg_reviews",
            "ecqm.stg_shops",
        }


def test_processing_runs_on_every_staging_table_the_crawls_publish(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    from ecqm.assets import STAGING_ASSETS
    from ecqm.settings import DAGS_FOLDER

    bag = DagBag(dag_folder=str(DAGS_FOLDER / "process_staging.py"))
    assert bag.import_errors == {}
    condition = bag.dags["process_staging"].timetable.asset_condition
    assert {a.name for a in condition.objects} == {a.name for a in STAGING_ASSETS.values()}
    assert "ecqm.stg_shops" in {a.name for a in condition.objects}


@pytest.mark.slow
def test_complaints_crawl_twice_is_complete_and_quiet_the_second_time(
    airflow_db, crawl_env, simulator
):
    from ecqm.airflow_local import asset_events_of, run_dag

    _, truth = simulator
    first = run_dag("crawl_tousu")
    assert first.state == "success", _states(first)
    assert _states(first)["publish"] == "success"
    events = asset_events_of(first)
    assert events["ecqm.stg_complaints"]["inserted"] > 0

    planted = {c["number"] for c in truth["complaints"]}
    with crawl_env.connect() as conn:
        got = set(conn.execute(select(stg_complaints.c.complaint_number)).scalars())
        rows = conn.execute(select(func.count()).select_from(stg_complaints)).scalar_one()
        pages = conn.execute(select(func.count()).select_from(crawl_pages)).scalar_one()
    assert len(planted & got) >= 0.99 * len(planted)
    assert rows == len(got), "duplicates in staging"
    assert pages > len(got)

    second = run_dag("crawl_tousu")
    assert second.state == "success"
    assert _states(second)["publish"] == "skipped", (
        "an unchanged site must create no downstream work"
    )
    assert asset_events_of(second) == {}
    with crawl_env.connect() as conn:
        assert conn.execute(select(func.count()).select_from(stg_complaints)).scalar_one() == rows
        assert conn.execute(select(func.count()).select_from(crawl_runs)).scalar_one() == 2


@pytest.mark.slow
def test_marketplace_crawl_twice_is_complete_without_duplicates(airflow_db, crawl_env, simulator):
    from ecqm.airflow_local import run_dag

    _, truth = simulator
    run = run_dag("crawl_lehuo", conf={"shards": 2})
    assert run.state == "success", _states(run)
    again = run_dag("crawl_lehuo", conf={"shards": 2})
    assert again.state == "success" and _states(again)["publish"] == "skipped"
    listings = {
        x["id"] for p in truth["products"] for x in p["listings"] if x["platform"] == "lehuo"
    }
    reviews = {
        r["id"]
        for p in truth["products"]
        for x in p["listings"]
        if x["platform"] == "lehuo"
        for r in x["reviews"]
    }
    with crawl_env.connect() as conn:
        got_listings = set(
            conn.execute(
                select(stg_listings.c.external_id).where(stg_listings.c.platform == "lehuo")
            ).scalars()
        )
        got_reviews = set(
            conn.execute(
                select(stg_reviews.c.external_id).where(stg_reviews.c.platform == "lehuo")
            ).scalars()
        )
        distinct_keys = conn.execute(
            select(func.count(distinct(stg_listings.c.external_id)))
        ).scalar_one()
        listing_rows = conn.execute(select(func.count()).select_from(stg_listings)).scalar_one()
        review_rows = conn.execute(select(func.count()).select_from(stg_reviews)).scalar_one()
        shards = set(conn.execute(select(crawl_runs.c.shards)).scalars())
    assert len(listings & got_listings) >= 0.99 * len(listings)
    assert len(reviews & got_reviews) >= 0.99 * len(reviews)
    assert listing_rows == distinct_keys, "a listing was staged twice"
    assert review_rows == len(got_reviews), "a review was staged twice"
    assert shards == {2}
