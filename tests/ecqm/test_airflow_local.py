"""``ecqm.airflow_local``'s asset queue: runs triggered by Assets as Airflow's scheduler
triggers them, on throwaway DAGs in a DAGs folder of their own."""

from __future__ import annotations

import textwrap
import uuid

import pytest

DAGS = """
from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

A = Asset(name="{p}.a", uri="test://{p}/a")
B = Asset(name="{p}.b", uri="test://{p}/b")
START = pendulum.datetime(2026, 1, 1, tz="UTC")


def producer(dag_id, asset):
    @dag(dag_id=dag_id, schedule=None, start_date=START, catchup=False)
    def produce():
        @task(outlets=[asset])
        def emit(*, outlet_events=None):
            outlet_events[asset].extra = {{"rows": 1}}

        emit()

    return produce()


def consumer(dag_id, schedule):
    @dag(dag_id=dag_id, schedule=schedule, start_date=START, catchup=False)
    def consume():
        @task
        def read(*, dag_run=None, triggering_asset_events=None):
            assert dag_run.run_type == "asset_triggered", dag_run.run_type
            return sorted(asset.name for asset in triggering_asset_events)

        read()

    return consume()


producer("{p}_make_a", A)
producer("{p}_make_b", B)
consumer("{p}_on_a", [A])
consumer("{p}_on_a_and_b", A & B)
consumer("{p}_paused_on_a", [A])
"""


@pytest.fixture
def dags(airflow_db, tmp_path, monkeypatch):
    """The throwaway DAGs synced and unpaused, then one of them paused; their id prefix."""
    from airflow import settings as airflow_settings
    from airflow.api.common.delete_dag import delete_dag
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session
    from sqlalchemy import update

    from ecqm import airflow_local

    prefix = f"t{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "chain.py").write_text(textwrap.dedent(DAGS.format(p=prefix)), encoding="utf-8")
    # The folder Airflow syncs (its bundle) and the one the runner reads are the same.
    monkeypatch.setattr(airflow_settings, "DAGS_FOLDER", str(folder))
    monkeypatch.setenv("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    ids = airflow_local.prepare_dags()
    assert sorted(ids) == sorted(
        f"{prefix}_{name}" for name in ("make_a", "make_b", "on_a", "on_a_and_b", "paused_on_a")
    )
    with create_session() as session:
        session.execute(
            update(DagModel)
            .where(DagModel.dag_id == f"{prefix}_paused_on_a")
            .values(is_paused=True)
        )
    yield prefix
    for dag_id in ids:
        delete_dag(dag_id)


def _consumed(dag_id: str, run_id: str) -> list[str]:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
        ).one()
        return sorted(e.asset.name for e in run.consumed_asset_events)


def test_asset_events_trigger_their_consumers_as_the_scheduler_does(dags):
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from ecqm import airflow_local

    p = dags
    assert airflow_local.asset_queue() == {}
    assert airflow_local.ready_dags() == []

    # a → the unpaused consumer of a runs; a & b waits for b; the paused one is not queued.
    runs = airflow_local.trigger(f"{p}_make_a")
    assert [(r.dag_id, r.state, r.run_type) for r in runs] == [
        (f"{p}_make_a", "success", "manual"),
        (f"{p}_on_a", "success", "asset_triggered"),
    ]
    on_a = runs[1]
    assert on_a.assets == (f"{p}.a",) and on_a.sources == (f"{p}_make_a",)
    assert _consumed(on_a.dag_id, on_a.run_id) == [f"{p}.a"]
    with create_session() as session:
        dag_run = session.scalars(
            select(DagRun).where(DagRun.dag_id == on_a.dag_id, DagRun.run_id == on_a.run_id)
        ).one()
        assert dag_run.triggered_by.value == "asset" and dag_run.logical_date is None
        # The task saw the run as asset-triggered and the event that triggered it.
        assert dag_run.get_task_instance("read").xcom_pull(task_ids="read") == [f"{p}.a"]
    assert airflow_local.asset_queue() == {f"{p}_on_a_and_b": [f"{p}.a"]}
    assert airflow_local.ready_dags() == []
    assert airflow_local.run_asset_triggered() == []

    # b completes a & b: it runs on both events, and the queue is empty.
    runs = airflow_local.trigger(f"{p}_make_b")
    assert [(r.dag_id, r.state, r.run_type) for r in runs] == [
        (f"{p}_make_b", "success", "manual"),
        (f"{p}_on_a_and_b", "success", "asset_triggered"),
    ]
    both = runs[1]
    assert both.assets == (f"{p}.a", f"{p}.b")
    assert both.sources == (f"{p}_make_a", f"{p}_make_b")
    assert _consumed(both.dag_id, both.run_id) == [f"{p}.a", f"{p}.b"]
    assert airflow_local.asset_queue() == {}

    # The paused consumer never ran.
    with create_session() as session:
        assert not session.scalars(select(DagRun).where(DagRun.dag_id == f"{p}_paused_on_a")).all()


def test_unpausing_is_what_queues_a_consumer(dags):
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session
    from sqlalchemy import update

    from ecqm import airflow_local

    p = dags
    with create_session() as session:
        session.execute(
            update(DagModel).where(DagModel.dag_id.like(f"{p}_%")).values(is_paused=True)
        )
    runs = airflow_local.trigger(f"{p}_make_a")
    assert [r.dag_id for r in runs] == [f"{p}_make_a"]
    assert airflow_local.asset_queue() == {}

    # prepare_dags unpauses every DAG of the folder; the next event queues them all.
    airflow_local.prepare_dags()
    runs = airflow_local.trigger(f"{p}_make_a")
    assert sorted(r.dag_id for r in runs[1:]) == [f"{p}_on_a", f"{p}_paused_on_a"]
    assert airflow_local.asset_queue() == {f"{p}_on_a_and_b": [f"{p}.a"]}
