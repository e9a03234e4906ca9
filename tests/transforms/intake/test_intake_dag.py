"""The ``ingest_inbox`` DAG run for real with ``dag.test()``: an Asset event only for the
table that received rows, none when nothing is new."""

from __future__ import annotations

import os
import time

import pytest
from intake_world import (  # type: ignore[import-not-found]
    PURCHASE_HEADER_ZH,
    purchase,
    seed,
    statuses,
    write_csv,
)

from ecqm.warehouse import migrate
from ecqm.warehouse.engine import make_engine

pytestmark = pytest.mark.slow


def _run(monkeypatch, url: str, home) -> tuple:
    monkeypatch.delenv("AIRFLOW_CONN_ECQM_WAREHOUSE", raising=False)
    monkeypatch.setenv("ECQM_WAREHOUSE_URL", url)
    monkeypatch.setenv("ECQM_HOME", str(home))
    from ecqm.airflow_local import asset_events_of, run_dag

    run = run_dag("ingest_inbox")
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    return run, states, asset_events_of(run)


def test_events_only_for_tables_that_received_rows(airflow_db, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        seed(conn)
    home = tmp_path / "home"
    dropped = write_csv(home / "inbox" / "purchases" / "采购.csv", PURCHASE_HEADER_ZH, [purchase()])
    then = time.time() - 600  # settled: not still being copied
    os.utime(dropped, (then, then))

    run, states, events = _run(monkeypatch, url, home)
    assert run.state == "success"
    assert states == {
        "scan": "success",
        "publish_purchases": "success",
        "publish_inspection_results": "skipped",
        "check": "success",
    }
    assert set(events) == {"ecqm.purchases"}
    extra = events["ecqm.purchases"]
    assert (extra["files"], extra["inserted"], extra["task_ids"]) == (["采购.csv"], 1, ["T-KETTLE"])
    assert statuses(engine)["T-KETTLE"] == "purchased" and not dropped.exists()

    run, states, events = _run(monkeypatch, url, home)
    assert run.state == "success" and events == {}
    assert states["publish_purchases"] == "skipped"
    engine.dispose()
