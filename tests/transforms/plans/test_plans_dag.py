"""The ``plan_sampling`` DAG: its schedule and parameters, and one real run with
``dag.test()`` on a small SQLite warehouse."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from plans_world import build
from sqlalchemy import func, select

from ecqm.settings import DAGS_FOLDER
from ecqm.warehouse import migrate
from ecqm.warehouse.engine import make_engine
from ecqm.warehouse.schema import purchases, sampling_tasks


def _dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER / "plan_sampling.py"))
    assert bag.import_errors == {}
    return bag.dags["plan_sampling"]


def test_the_dag_runs_monthly_in_shanghai_and_takes_a_budget():
    dag = _dag()
    assert dag.timetable.expression == "0 8 1 * *"
    assert "Asia/Shanghai" in str(dag.timetable.timezone)
    assert {"budget", "yuan", "seed", "categories", "platforms", "period", "plan_id"} <= set(
        dag.params.keys()
    )
    (only,) = dag.tasks
    assert [a.name for a in only.outlets] == ["ecqm.sampling_tasks"]


@pytest.mark.slow
def test_a_triggered_run_makes_the_plan(airflow_db, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        build(conn)
    monkeypatch.delenv("AIRFLOW_CONN_ECQM_WAREHOUSE", raising=False)
    monkeypatch.setenv("ECQM_WAREHOUSE_URL", url)
    monkeypatch.setenv("ECQM_HOME", str(tmp_path / "home"))
    from ecqm.airflow_local import asset_events_of, run_dag

    run = run_dag(
        "plan_sampling",
        conf={"budget": 8, "yuan": 3000, "seed": 3, "period": "2026-12", "platforms": ["lehuo"]},
    )
    assert run.state == "success"
    with engine.connect() as conn:
        n, platforms = conn.execute(select(func.count(), func.min(sampling_tasks.c.platform))).one()
    engine.dispose()
    extra = asset_events_of(run)["ecqm.sampling_tasks"]
    assert extra["plan_id"] == "plan-2026-12" and extra["tasks"] == n > 0
    assert platforms == "lehuo"
    assert (
        Path(tmp_path) / "home" / "outbox" / "plans" / "plan-2026-12" / "采购任务.xlsx"
    ).exists()
    # Once a purchase is recorded the plan is in execution: a second run keeps it and is
    # skipped, with no Asset event.
    engine = make_engine(url)
    with engine.begin() as conn:
        task_id = conn.execute(select(func.min(sampling_tasks.c.task_id))).scalar_one()
        conn.execute(
            purchases.insert().values(
                task_id=task_id,
                order_number="O-1",
                paid_fen=100,
                ordered_at=dt.datetime(2026, 12, 2, tzinfo=dt.UTC),
                evidence={},
                source_file="x.csv",
                file_sha256="0" * 64,
            )
        )
    again = run_dag("plan_sampling", conf={"budget": 8, "seed": 4, "period": "2026-12"})
    assert again.state == "success"
    assert [ti.state for ti in again.get_task_instances()] == ["skipped"]
    assert "ecqm.sampling_tasks" not in asset_events_of(again)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(sampling_tasks)).scalar_one() == n
    engine.dispose()
