"""Delivery and reminders as plain functions of a warehouse URL, for the
``deliver_notifications`` DAG and the ``ecqm deliver`` / ``ecqm remind`` commands.

Unlike most tasks these read the clock: what is due is a matter of the current time
(leases, retry schedules, acknowledgement deadlines), not of a data interval. A re-run
of an old DAG run therefore acts on the present, which is what a retry should do. ``now``
is a parameter for tests and for replaying a moment deliberately.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ecqm import settings as ecqm_settings
from ecqm.warehouse.engine import make_engine


def _now(now: dt.datetime | None) -> dt.datetime:
    return dt.datetime.now(dt.UTC) if now is None else now


def airflow_smtp_connection() -> dict[str, Any] | None:
    """Host, port, login and password of the Airflow connection ``ecqm_smtp``, when
    Airflow is installed and the connection is defined."""
    try:
        from airflow.sdk import Connection
    except ImportError:
        return None
    try:
        conn = Connection.get(ecqm_settings.AIRFLOW_SMTP_CONN_ID)
    except Exception:  # noqa: BLE001 — AirflowNotFoundException and friends
        return None
    return {"host": conn.host, "port": conn.port, "login": conn.login, "password": conn.password}


def channel_factory(s: ecqm_settings.Settings, *, use_airflow: bool = False):
    """The channels the settings describe (inside Airflow, with ``ecqm_smtp``)."""
    from transforms.notify.outbox import ChannelFactory

    return ChannelFactory.from_settings(
        s, smtp_connection=airflow_smtp_connection() if use_airflow else None
    )


def deliver(
    url: str,
    now: dt.datetime | None = None,
    *,
    use_airflow: bool = True,
    batch: int | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Send what is due in the outbox at ``url``; the report as a dict."""
    from transforms.notify import outbox

    s = ecqm_settings.load()
    factory = channel_factory(s, use_airflow=use_airflow)
    engine = make_engine(url)
    try:
        report = outbox.deliver(
            engine,
            _now(now),
            factory,
            batch=batch or outbox.DEFAULT_BATCH,
            limit=limit,
            max_attempts=s.notify_max_attempts,
            backoff_s=s.notify_backoff_s,
        )
    finally:
        engine.dispose()
    return {**report.as_dict(), "summary": report.summary()}


def remind(url: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """Queue the reminders and escalations due; the report as a dict."""
    from transforms.notify.reminders import EscalationTarget
    from transforms.notify.reminders import remind as queue_reminders

    s = ecqm_settings.load()
    engine = make_engine(url)
    try:
        report = queue_reminders(
            engine,
            _now(now),
            max_reminders=s.notify_max_reminders,
            interval=dt.timedelta(hours=s.notify_reminder_interval_h),
            escalate_to=EscalationTarget.parse(s.notify_escalate_to),
        )
    finally:
        engine.dispose()
    return {**report.as_dict(), "summary": report.summary()}
