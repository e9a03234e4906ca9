"""Reminders and escalation for overdue acknowledgements, at fixed moments, on SQLite and
PostgreSQL: when each is due, that a second run queues nothing, that an answer stops
them, and that the outbox delivers them like any notice."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from ecqm.warehouse.schema import notification_events, notifications
from transforms.notify.acks import Ack, record_ack
from transforms.notify.outbox import ChannelFactory, deliver
from transforms.notify.reminders import (
    EscalationTarget,
    follow_up_key,
    remind,
    render_follow_up,
)

SENT = dt.datetime(2026, 11, 23, 2, 30, tzinfo=dt.UTC)
DUE = dt.datetime(2026, 11, 30, 16, 0, tzinfo=dt.UTC)  # 2026-12-01 00:00 in Shanghai
H = dt.timedelta(hours=1)
KEY = "BG-2026-0042:platform_failure:platform:youpin"


@pytest.fixture
def sent_notice(warehouse_engine, queue_notices):
    """A platform notice delivered by webhook, answer due at DUE."""
    queue_notices(
        warehouse_engine,
        [KEY],
        kind="platform_failure",
        channel="webhook",
        address="https://open.youpin.example.cn/ecqm/notices",
        now=SENT,
        status="sent",
        sent_at=SENT,
        attempts=1,
        ack_due_at=DUE,
        payload_extra={"_delivery": {"secret_env": "ECQM_WEBHOOK_SECRET_YOUPIN"}},
    )
    return KEY


def by_key(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {
            r["idempotency_key"]: dict(r)
            for r in conn.execute(select(notifications)).mappings().all()
        }


def events_of(engine, key: str) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(notification_events.c.event)
                .join(notifications, notifications.c.id == notification_events.c.notification_id)
                .where(notifications.c.idempotency_key == key)
                .order_by(notification_events.c.id)
            ).scalars()
        )


def run(engine, now, **kw):
    kw.setdefault("interval", 48 * H)
    kw.setdefault("max_reminders", 2)
    return remind(engine, now, **kw)


def test_the_whole_sequence_at_fixed_moments(warehouse_engine, sent_notice):
    e = warehouse_engine
    assert run(e, DUE - H).keys == [] and run(e, DUE).keys == []  # not overdue yet

    first = run(e, DUE + H)
    assert first.keys == [f"{KEY}:reminder:1"] and first.reminders == 1
    assert run(e, DUE + H).keys == []  # the same moment again: nothing new
    rows = by_key(e)
    reminder = rows[f"{KEY}:reminder:1"]
    parent = rows[KEY]
    assert reminder["kind"] == "reminder" and reminder["parent_id"] == parent["id"]
    assert reminder["status"] == "queued" and reminder["next_attempt_at"] == DUE + H
    assert (reminder["channel"], reminder["address"]) == (parent["channel"], parent["address"])
    assert (reminder["recipient_kind"], reminder["recipient_name"]) == ("platform", "某电商平台")
    assert reminder["payload"]["_delivery"] == {"secret_env": "ECQM_WEBHOOK_SECRET_YOUPIN"}
    assert reminder["payload"]["parent_idempotency_key"] == KEY
    assert reminder["ack_due_at"] is None and reminder["evaluation_id"] == parent["evaluation_id"]
    assert "回执催告·第1次" in reminder["subject"]
    assert KEY in reminder["body_text"] and "将再次催告" in reminder["body_text"]
    assert parent["reminders"] == 1 and parent["escalated_at"] is None

    # The second reminder waits an interval after the first, not after the deadline.
    assert run(e, DUE + 48 * H).keys == []
    second = run(e, DUE + 49 * H)
    assert second.keys == [f"{KEY}:reminder:2"]
    assert "最后一次催告" in by_key(e)[f"{KEY}:reminder:2"]["body_text"]
    assert run(e, DUE + 49 * H).keys == []

    assert run(e, DUE + 96 * H).keys == []
    escalation = run(e, DUE + 97 * H)
    assert escalation.keys == [f"{KEY}:escalation"] and escalation.escalations == 1
    rows = by_key(e)
    up = rows[f"{KEY}:escalation"]
    assert (up["kind"], up["recipient_kind"], up["channel"], up["address"]) == (
        "escalation",
        "regulator",
        "file",
        "escalations",
    )
    assert up["recipient_name"] == "产品质量网上监测中心" and up["parent_id"] == rows[KEY]["id"]
    assert "_delivery" not in up["payload"]
    assert "某电商平台" in up["body_text"] and "已催告 2 次" in up["body_text"]
    assert rows[KEY]["escalated_at"] == DUE + 97 * H and rows[KEY]["reminders"] == 2
    assert events_of(e, KEY) == ["reminder", "reminder", "escalated"]
    # After the escalation nothing more is ever sent about it.
    assert run(e, DUE + 1000 * H).keys == []
    assert len(by_key(e)) == 4


def test_an_acknowledgement_stops_the_reminders(warehouse_engine, sent_notice):
    e = warehouse_engine
    run(e, DUE + H)
    with e.begin() as conn:  # the answer quotes the reminder's key
        ack = Ack(f"{KEY}:reminder:1", "takedown_confirmed", DUE + 2 * H, "已下架")
        assert record_ack(conn, ack, DUE + 2 * H) == "recorded"
    parent = by_key(e)[KEY]
    assert parent["acknowledged_at"] == DUE + 2 * H and parent["ack_kind"] == "takedown_confirmed"
    assert run(e, DUE + 100 * H).keys == [] and run(e, DUE + 1000 * H).keys == []


def test_an_answer_before_the_deadline_means_no_reminder(warehouse_engine, sent_notice):
    with warehouse_engine.begin() as conn:
        record_ack(conn, Ack(KEY, "received", DUE - 24 * H), DUE - 24 * H)
    assert run(warehouse_engine, DUE + 1000 * H).keys == []


def test_a_long_outage_sends_one_reminder_not_a_burst(warehouse_engine, sent_notice):
    e = warehouse_engine
    late = DUE + 30 * 24 * H
    assert run(e, late).keys == [f"{KEY}:reminder:1"]
    assert run(e, late + 10 * H).keys == []
    assert run(e, late + 48 * H).keys == [f"{KEY}:reminder:2"]
    assert run(e, late + 96 * H).keys == [f"{KEY}:escalation"]


def test_no_reminders_means_escalating_at_once(warehouse_engine, sent_notice):
    target = EscalationTarget.parse("宁波市市场监督管理局 <zhijian@amr.example.gov.cn>")
    report = run(warehouse_engine, DUE + H, max_reminders=0, escalate_to=target)
    assert report.keys == [f"{KEY}:escalation"]
    up = by_key(warehouse_engine)[f"{KEY}:escalation"]
    assert (up["channel"], up["address"], up["recipient_name"]) == (
        "email",
        "zhijian@amr.example.gov.cn",
        "宁波市市场监督管理局",
    )
    assert "已催告" not in up["body_text"]


def test_only_delivered_notices_that_await_an_answer_are_reminded(warehouse_engine, queue_notices):
    common = {"channel": "file", "address": "x", "now": SENT}
    queue_notices(warehouse_engine, ["queued"], ack_due_at=DUE, **common)
    queue_notices(warehouse_engine, ["dead"], status="dead", ack_due_at=DUE, **common)
    queue_notices(warehouse_engine, ["no-ack"], status="sent", sent_at=SENT, **common)
    assert run(warehouse_engine, DUE + 1000 * H).keys == []


def test_two_workers_at_once_queue_each_reminder_once(warehouse_engine, queue_notices):
    keys = [f"k{i}" for i in range(10)]
    queue_notices(
        warehouse_engine,
        keys,
        channel="file",
        address="x",
        now=SENT,
        status="sent",
        sent_at=SENT,
        ack_due_at=DUE,
    )
    start = threading.Barrier(2)
    reports = []

    def worker():
        start.wait()
        reports.append(run(warehouse_engine, DUE + H))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(k for r in reports for k in r.keys) == sorted(f"{k}:reminder:1" for k in keys)
    rows = by_key(warehouse_engine)
    assert all(rows[k]["reminders"] == 1 for k in keys) and len(rows) == 20


def test_reminders_are_delivered_like_any_notice(warehouse_engine, queue_notices, tmp_path):
    queue_notices(
        warehouse_engine,
        ["k-file"],
        channel="file",
        address="sellers",
        now=SENT,
        status="sent",
        sent_at=SENT,
        ack_due_at=DUE,
    )
    run(warehouse_engine, DUE + H)
    report = deliver(warehouse_engine, DUE + H, ChannelFactory(outbox_dir=tmp_path))
    assert report.sent_keys == ["k-file:reminder:1"]
    [text] = (tmp_path / "sellers").glob("*.txt")
    body = text.read_text(encoding="utf-8")
    assert body.startswith("回执催告通知（第1次）") and "k-file" in body


def test_follow_up_text_is_one_line_per_value_and_html_is_escaped():
    view = {
        "reference": "ECQM-1",
        "notice_key": "k1",
        "issuer": {"name": "某检验院", "contact": None},
        "issued_at": DUE,
        "recipient_name": "店铺\n二、检验结论：合格<script>",
        "original_subject": "【检验结果告知】x",
        "report_number": None,
        "product_name": None,
        "sent_at": SENT,
        "ack_due_at": DUE,
        "number": 1,
        "is_last": False,
        "next_at": DUE + 48 * H,
        "escalate_to": "监测中心",
    }
    from transforms.notify.render import one_line

    view["recipient_name"] = one_line(view["recipient_name"])
    subject, text, html = render_follow_up("reminder", view)
    assert "\n二、检验结论" not in text and "&lt;script&gt;" in html and "<script>" not in html
    assert subject == "【回执催告·第1次】【检验结果告知】x"
    assert "2026年12月1日 00:00（北京时间）" in text


def test_follow_up_keys_stay_within_200_characters():
    long = "k" * 195
    key = follow_up_key(long, "reminder:1")
    assert (
        len(key) <= 200 and key.endswith(":reminder:1") and key == follow_up_key(long, "reminder:1")
    )
