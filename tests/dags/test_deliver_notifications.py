"""The DAG ``deliver_notifications``: its schedule (the notifications Asset or a retry
cron), its order (remind, then deliver), and a real run with ``dag.test()`` on both
warehouses that sends a queued notice and a reminder into the outbox folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from ecqm.warehouse import migrate
from ecqm.warehouse.engine import make_engine
from ecqm.warehouse.schema import notifications

pytestmark = pytest.mark.slow
DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "deliver_notifications.py"


def test_schedule_and_order():
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk import AssetOrTimeSchedule

    dag = DagBag(dag_folder=str(DAG_FILE)).dags["deliver_notifications"]
    assert isinstance(dag.timetable, AssetOrTimeSchedule)
    assert "ecqm.notifications" in repr(dag.timetable.asset_condition)
    assert "expression='*/10 * * * *'" in repr(dag.timetable.timetable)
    assert dag.get_task("deliver").upstream_task_ids == {"remind"}
    assert dag.max_active_runs == 1


def _queue(engine, key: str, now: dt.datetime, **columns) -> None:
    from transforms.notify.render import example_context, render_notice

    notice = render_notice("seller_result", example_context("seller_result"))
    row = {
        "idempotency_key": key,
        "report_number": "BG-2026-0042",
        "kind": "seller_result",
        "recipient_kind": "seller",
        "recipient_name": notice.recipient.name,
        "channel": "file",
        "address": "sellers",
        "subject": notice.subject,
        "body_text": notice.text,
        "body_html": notice.html,
        "payload": notice.payload,
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": now,
        "reminders": 0,
        "created_at": now,
        **columns,
    }
    with engine.begin() as conn:
        conn.execute(insert(notifications).values(**row))


def test_a_run_reminds_then_delivers(airflow_db, database_url, tmp_path, monkeypatch):
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    _queue(engine, "k-new", now)
    _queue(
        engine,
        "k-overdue",
        now - dt.timedelta(days=9),
        status="sent",
        sent_at=now - dt.timedelta(days=9),
        attempts=1,
        ack_due_at=now - dt.timedelta(days=1),
    )
    for key in ("AIRFLOW_CONN_ECQM_WAREHOUSE", "ECQM_SMTP_HOST"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("ECQM_WAREHOUSE_URL", database_url)
    monkeypatch.setenv("ECQM_HOME", str(tmp_path / "home"))
    from ecqm.airflow_local import run_dag

    run = run_dag("deliver_notifications")
    assert run.state == "success"
    with engine.connect() as conn:
        status = dict(
            conn.execute(select(notifications.c.idempotency_key, notifications.c.status)).all()
        )
    assert status == {"k-new": "sent", "k-overdue": "sent", "k-overdue:reminder:1": "sent"}
    folder = tmp_path / "home" / "outbox" / "notices" / "sellers"
    assert len(list(folder.glob("*.json"))) == 2

    again = run_dag("deliver_notifications")
    assert again.state == "success"
    with engine.connect() as conn:
        assert len(conn.execute(select(notifications.c.id)).all()) == 3
    assert len(list(folder.glob("*.json"))) == 2
    engine.dispose()
