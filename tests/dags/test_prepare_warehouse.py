"""The DAG ``prepare_warehouse`` run for real with ``dag.test()``, on both warehouses."""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select

from ecqm.warehouse import migrate
from ecqm.warehouse.engine import make_engine
from ecqm.warehouse.schema import REFERENCE_TABLES, ref_categories

pytestmark = pytest.mark.slow


def _run(monkeypatch, env: dict[str, str]):
    for key in ("ECQM_WAREHOUSE_URL", "AIRFLOW_CONN_ECQM_WAREHOUSE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from ecqm.airflow_local import run_dag

    return run_dag("prepare_warehouse")


def _reference_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        counts = {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in REFERENCE_TABLES
        }
    engine.dispose()
    return counts


def _asset_extras(dag_run) -> dict[str, dict]:
    from ecqm.airflow_local import asset_events_of

    return asset_events_of(dag_run)


def test_prepares_the_warehouse_idempotently(airflow_db, database_url, monkeypatch):
    run = _run(monkeypatch, {"ECQM_WAREHOUSE_URL": database_url})
    assert run.state == "success"
    engine = make_engine(database_url)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()
    counts = _reference_counts(database_url)
    assert counts["ref_categories"] >= 30 and counts["ref_regions"] >= 31
    assert counts["ref_banned_terms"] >= 30 and counts["ref_labs"] >= 5

    extras = _asset_extras(run)
    assert set(extras) == {
        "ecqm.ref_categories",
        "ecqm.ref_banned_terms",
        "ecqm.ref_regions",
        "ecqm.ref_labs",
    }
    assert extras["ecqm.ref_categories"]["inserted"] == counts["ref_categories"]

    again = _run(monkeypatch, {"ECQM_WAREHOUSE_URL": database_url})
    assert again.state == "success"
    assert _reference_counts(database_url) == counts
    second = _asset_extras(again)["ecqm.ref_categories"]
    assert second["inserted"] == 0 and second["updated"] == 0
    assert second["unchanged"] == counts["ref_categories"]


def test_the_airflow_connection_wins_over_the_variable(airflow_db, tmp_path, monkeypatch):
    used = tmp_path / "from-connection.db"
    ignored = tmp_path / "from-variable.db"
    run = _run(
        monkeypatch,
        {
            "ECQM_WAREHOUSE_URL": f"sqlite:///{ignored}",
            "AIRFLOW_CONN_ECQM_WAREHOUSE": f"sqlite:///{used}",
        },
    )
    assert run.state == "success"
    assert used.exists() and not ignored.exists()
    engine = make_engine(f"sqlite:///{used}")
    assert ref_categories.name in inspect(engine).get_table_names()
    engine.dispose()
