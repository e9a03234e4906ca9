"""The ``review_monitoring`` DAG: monthly, reviews the month before (or the one given),
and a real run with ``dag.test()`` writes the indicators and the report."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ecqm.settings import DAGS_FOLDER
from ecqm.warehouse import migrate
from ecqm.warehouse.engine import make_engine
from ecqm.warehouse.schema import kpi_snapshots
from transforms.review.tasks import month_reviewed

TESTS = Path(__file__).resolve().parents[1]


def _dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER / "review_monitoring.py"))
    assert bag.import_errors == {}
    return bag.dags["review_monitoring"]


def test_runs_monthly_and_retrains_and_reports_after_the_indicators():
    dag = _dag()
    assert dag.timetable.expression == "0 6 1 * *"
    assert "Asia/Shanghai" in str(dag.timetable.timezone)
    upstream = {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}
    assert upstream == {
        "month": [],
        "indicators": ["month"],
        "retrain": ["indicators"],
        "report": ["indicators", "month"],
    }
    outlets = {t.task_id: [a.name for a in t.outlets] for t in dag.tasks}
    assert outlets["indicators"] == ["ecqm.kpi_snapshots"]


@pytest.mark.parametrize(
    ("moment", "month"),
    [
        # 06:00 on 1 December in Shanghai is 22:00 on 30 November in UTC.
        (dt.datetime(2026, 11, 30, 22, 0, tzinfo=dt.UTC), "2026-11"),
        (dt.datetime(2027, 1, 1, 0, 0, tzinfo=dt.UTC), "2026-12"),
        (dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC), "2026-02"),
    ],
)
def test_a_run_reviews_the_month_before_its_moment(moment, month):
    assert month_reviewed(moment) == month
    with pytest.raises(ValueError, match="time zone"):
        month_reviewed(moment.replace(tzinfo=None))


@pytest.mark.slow
def test_a_run_writes_the_indicators_and_the_report(airflow_db, tmp_path, monkeypatch):
    sys.path.insert(0, str(TESTS / "transforms" / "review"))
    from review_world import build_month  # type: ignore[import-not-found]

    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    home = tmp_path / "home"
    home.mkdir()
    engine = make_engine(url)
    migrate.upgrade(engine)
    build_month(engine)
    monkeypatch.delenv("AIRFLOW_CONN_ECQM_WAREHOUSE", raising=False)
    monkeypatch.setenv("ECQM_WAREHOUSE_URL", url)
    monkeypatch.setenv("ECQM_HOME", str(home))
    from ecqm.airflow_local import asset_events_of, run_dag

    run = run_dag("review_monitoring", conf={"month": "2026-11"})
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    assert set(states.values()) == {"success"}
    event = asset_events_of(run)["ecqm.kpi_snapshots"]
    assert event["period_start"] == "2026-11-01" and event["rows"] > 20
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(kpi_snapshots)).scalar_one()
    assert n == event["rows"]
    report = home / "outbox" / "reports" / "2026-11" / "监测月报_2026-11.html"
    assert report.exists() and report.with_suffix(".xlsx").exists()
    assert "定向监测" in report.read_text(encoding="utf-8")
    engine.dispose()
