"""``mart_notification_status`` on SQLite and PostgreSQL: what went to whom, its status,
whether it was answered or is overdue (against the database's clock), and nothing
personal."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from transforms.notify.reminders import remind

# The mart judges "overdue" by the database clock, so the rows are placed around now.
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
D = dt.timedelta(days=1)


def mart(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(text("select * from mart_notification_status")).mappings().all()
    return {r["idempotency_key"]: dict(r) for r in rows}


def test_the_mart_tells_status_answers_and_overdue(warehouse_engine, queue_notices):
    e = warehouse_engine
    sent = {"status": "sent", "sent_at": NOW - 10 * D, "attempts": 1}
    queue_notices(
        e,
        ["overdue"],
        channel="webhook",
        address="https://p.example.cn/hook",
        now=NOW - 10 * D,
        kind="platform_failure",
        ack_due_at=NOW - 2 * D,
        due_at=NOW - 11 * D,
        **sent,
    )
    queue_notices(
        e,
        ["answered"],
        channel="email",
        address="secret-person@shop.example.cn",
        now=NOW - 10 * D,
        ack_due_at=NOW - 2 * D,
        acknowledged_at=NOW - 3 * D,
        ack_kind="received",
        **sent,
    )
    queue_notices(
        e,
        ["not-yet"],
        channel="email",
        address="a@b.cn",
        now=NOW - 10 * D,
        ack_due_at=NOW + 2 * D,
        **sent,
    )
    queue_notices(
        e,
        ["dead"],
        channel="email",
        address="refused@b.cn",
        now=NOW - D,
        status="dead",
        attempts=1,
        last_error="recipient refused: 550 <refused@b.cn>",
        due_at=NOW - D / 2,
    )
    queue_notices(
        e,
        ["individual"],
        channel="email",
        address="x@y.cn",
        now=NOW - D,
        payload_extra={"shop": {"name": "张三的小店", "region": None, "is_individual": True}},
    )
    remind(e, NOW)  # "overdue" gets its first reminder

    rows = mart(e)
    assert set(rows) == {
        "overdue",
        "answered",
        "not-yet",
        "dead",
        "individual",
        "overdue:reminder:1",
    }
    o = rows["overdue"]
    assert (o["kind_zh"], o["recipient_kind_zh"], o["channel_zh"], o["status_zh"]) == (
        "不合格产品下架处置通知",
        "电商平台",
        "平台接口",
        "已送达",
    )
    assert o["reference"] == "ECQM-2026-11-0042" and o["report_number"] == "BG-2026-0042"
    assert bool(o["is_ack_overdue"]) and not bool(o["is_acknowledged"]) and o["reminders"] == 1
    assert bool(o["is_late"])  # sent a day after it was due
    a = rows["answered"]
    assert (
        bool(a["is_acknowledged"])
        and not bool(a["is_ack_overdue"])
        and a["ack_kind_zh"] == "已收到"
    )
    assert not bool(rows["not-yet"]["is_ack_overdue"]) and bool(rows["not-yet"]["is_ack_expected"])
    d = rows["dead"]
    assert bool(d["is_dead_letter"]) and bool(d["has_error"]) and bool(d["is_late"])
    assert d["status_zh"] == "发送失败（待人工处理）"
    assert rows["individual"]["recipient_name"] == "个人网店（名称不公开）"
    r = rows["overdue:reminder:1"]
    assert r["kind_zh"] == "回执催告通知" and r["parent_id"] == o["notification_id"]
    assert not bool(r["is_ack_expected"])
    # Nothing personal: no addresses, no error texts.
    flat = " ".join(str(v) for row in rows.values() for v in row.values())
    assert "@" not in flat and "550" not in flat and "张三" not in flat
    assert not {"address", "last_error", "payload", "body_text"} & set(o)
