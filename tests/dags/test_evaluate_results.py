"""The ``evaluate_results`` DAG: runs on new inspection results, publishes evaluations and
notifications only when it wrote some, and a real run with ``dag.test()``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ecqm.settings import DAGS_FOLDER
from ecqm.warehouse import migrate
from ecqm.warehouse.engine import make_engine
from ecqm.warehouse.schema import evaluations, notifications

TESTS = Path(__file__).resolve().parents[1]


def _dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER / "evaluate_results.py"))
    assert bag.import_errors == {}
    return bag.dags["evaluate_results"]


def test_runs_on_inspection_results_and_publishes_what_it_writes():
    dag = _dag()
    assert [a.name for a in dag.timetable.asset_condition.objects] == ["ecqm.inspection_results"]
    outlets = {t.task_id: [a.name for a in t.outlets] for t in dag.tasks}
    assert outlets == {
        "evaluate": [],
        "publish_evaluations": ["ecqm.evaluations"],
        "publish_notifications": ["ecqm.notifications"],
        "update_credit": ["ecqm.merchant_credit"],
        "check": [],
    }
    upstream = {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}
    # Credit follows the evaluation itself, not the publishing (which may be skipped).
    assert upstream["update_credit"] == ["evaluate"]
    assert dag.max_active_runs == 1


@pytest.mark.slow
def test_a_run_evaluates_queues_and_publishes(airflow_db, tmp_path, monkeypatch):
    sys.path.insert(0, str(TESTS / "transforms" / "intake"))
    sys.path.insert(0, str(TESTS / "transforms" / "results"))
    from results_world import build, result, send  # type: ignore[import-not-found]

    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    home = tmp_path / "home"
    home.mkdir()
    engine = make_engine(url)
    migrate.upgrade(engine)
    build(engine, home)
    send(engine, home, "results", [result(item="发热", verdict="不合格", defect_class="严重")])
    monkeypatch.delenv("AIRFLOW_CONN_ECQM_WAREHOUSE", raising=False)
    monkeypatch.delenv("ECQM_SMTP_HOST", raising=False)
    monkeypatch.setenv("ECQM_WAREHOUSE_URL", url)
    monkeypatch.setenv("ECQM_HOME", str(home))
    from ecqm.airflow_local import asset_events_of, run_dag

    run = run_dag("evaluate_results")
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    assert states["evaluate"] == states["publish_evaluations"] == "success"
    assert states["publish_notifications"] == states["check"] == "success"
    events = asset_events_of(run)
    assert events["ecqm.evaluations"]["inserted"] == 1
    assert events["ecqm.evaluations"]["verdicts"] == {"fail": 1}
    assert events["ecqm.notifications"]["queued"] == 5
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(evaluations)).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(notifications)).scalar_one() == 5

    # Nothing new: the publishing tasks skip, no events for the deliverer.
    run = run_dag("evaluate_results")
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    assert states["publish_evaluations"] == states["publish_notifications"] == "skipped"
    assert "ecqm.evaluations" not in asset_events_of(run)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(notifications)).scalar_one() == 5
    engine.dispose()
