"""
### Deliver notifications — the outbox, reminders and escalation (信息传递及反馈)

Runs when `evaluate_results` queues notices (the `ecqm.notifications` Asset) and every
ten minutes besides, for retries and overdue acknowledgements:

1. **remind** — a delivered notice whose acknowledgement is overdue gets a reminder to
   the same recipient (`<key>:reminder:<n>`, at most `ECQM_NOTIFY_MAX_REMINDERS`, spaced
   `ECQM_NOTIFY_REMINDER_INTERVAL_H` hours), then an escalation to the monitoring centre
   (`ECQM_NOTIFY_ESCALATE_TO`). Both are queued in the outbox like any notice.
2. **deliver** — claims due rows (queued, retry, or in doubt after a crash), sends them by
   e-mail, signed webhook or file, each under its idempotency key, and records `sent`,
   `retry` (exponential backoff from `ECQM_NOTIFY_BACKOFF_S`) or `dead` (permanent, or
   after `ECQM_NOTIFY_MAX_ATTEMPTS`).

Delivery is at least once and receivers de-duplicate on the key: exactly once in effect.
A retry or re-run of this DAG never sends a notice recorded as sent; a notice in doubt
(its worker killed after the receiver accepted it) is sent again under the same key.
Both tasks read the current time, not the data interval: what is due is a matter of now.
`max_active_runs=1` keeps runs from overlapping, although concurrent workers would not
take the same row either. E-mail uses the `ECQM_SMTP_*` settings or the Airflow
connection `ecqm_smtp`. Details: `docs/notifications.md`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from ecqm.assets import RESULTS_ASSETS

NOTIFICATIONS = RESULTS_ASSETS["notifications"]


@dag(
    dag_id="deliver_notifications",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("*/10 * * * *", timezone="UTC"),
        assets=[NOTIFICATIONS],
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["ecqm", "notifications"],
    doc_md=__doc__,
)
def deliver_notifications():
    @task
    def remind() -> dict:
        from ecqm.settings import warehouse_url_for_task
        from transforms.notify.tasks import remind

        return remind(warehouse_url_for_task())

    @task
    def deliver() -> dict:
        from ecqm.settings import warehouse_url_for_task
        from transforms.notify.tasks import deliver

        return deliver(warehouse_url_for_task())

    remind() >> deliver()


deliver_notifications()
