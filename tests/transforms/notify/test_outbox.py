"""The outbox against real servers on 127.0.0.1, on SQLite and PostgreSQL: an SMTP
server that is down and then back, a webhook that fails, times out and answers, a
permanent refusal, the dead-letter threshold, in-doubt rows, and concurrent workers.

What arrives is counted at the receiving servers, not taken from the outbox's word."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select, update

from ecqm.warehouse.schema import notification_events, notifications
from transforms.notify import outbox
from transforms.notify.channels import DeliveryResult
from transforms.notify.outbox import ChannelFactory, backoff_delay, deliver

NOW = dt.datetime(2026, 11, 23, 2, 30, tzinfo=dt.UTC)
SENDER = "某市产品质量监督检验研究院 <notify@ecqm.example.cn>"
SECRET_ENV = "ECQM_WEBHOOK_SECRET_PLATFORM_A"
DELIVERY = {"_delivery": {"secret_env": SECRET_ENV}}


def keys(n: int, prefix: str = "eval") -> list[str]:
    return [f"{prefix}-{i:03d}:seller:seller_result" for i in range(n)]


def rows(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {
            r["idempotency_key"]: dict(r)
            for r in conn.execute(select(notifications)).mappings().all()
        }


def events(engine, key: str) -> list[tuple[str, dict]]:
    with engine.connect() as conn:
        return [
            (e.event, e.detail)
            for e in conn.execute(
                select(notification_events.c.event, notification_events.c.detail)
                .join(notifications, notifications.c.id == notification_events.c.notification_id)
                .where(notifications.c.idempotency_key == key)
                .order_by(notification_events.c.id)
            )
        ]


def smtp_factory(port: int) -> ChannelFactory:
    return ChannelFactory(smtp={"host": "127.0.0.1", "port": port, "sender": SENDER, "timeout": 5})


def webhook_factory(secret: str = "whsec-unused", **webhook) -> ChannelFactory:
    """Webhooks signed with ``secret`` (the receiver's), named by the rows as SECRET_ENV;
    by default one try per delivery and a short timeout."""
    webhook.setdefault("timeout", 0.3)
    webhook.setdefault("max_attempts", 1)
    return ChannelFactory(webhook=webhook, environ={SECRET_ENV: secret})


# ------------------------------------------------------------------------ e-mail


def test_smtp_down_then_back_arrives_exactly_once(
    warehouse_engine, queue_notices, outbox_smtp, free_tcp_port
):
    queued = queue_notices(
        warehouse_engine, keys(5), channel="email", address="service@shop.example.cn", now=NOW
    )
    factory = smtp_factory(free_tcp_port)

    down = deliver(warehouse_engine, NOW, factory, backoff_s=60, max_attempts=3)
    assert (down.claimed, down.sent, down.retry, down.dead) == (5, 0, 5, 0)
    after = rows(warehouse_engine)
    for key in queued:
        r = after[key]
        assert r["status"] == "retry" and r["attempts"] == 1 and r["sent_at"] is None
        assert "Connection" in r["last_error"] and r["lease_until"] is None
        wait = (r["next_attempt_at"] - NOW).total_seconds()
        assert 60 <= wait < 70, wait
    # Nothing is due again at the same moment: no hammering of a server that is down.
    assert deliver(warehouse_engine, NOW, factory).claimed == 0

    sink = outbox_smtp(port=free_tcp_port)
    back = deliver(warehouse_engine, NOW + dt.timedelta(minutes=2), factory, max_attempts=3)
    assert (back.sent, back.retry, back.dead) == (5, 0, 0)
    assert sorted(sink.keys()) == sorted(queued)  # each once, counted at the server
    final = rows(warehouse_engine)
    assert {final[k]["status"] for k in queued} == {"sent"}
    assert all(final[k]["attempts"] == 2 and final[k]["last_error"] is None for k in queued)
    assert all(final[k]["receipt"].startswith("<ecqm.") for k in queued)
    assert [e for e, _ in events(warehouse_engine, queued[0])] == [
        "attempt",
        "failed",
        "attempt",
        "sent",
    ]
    # A later run, a task retry or a DAG re-run never sends a sent row again.
    assert deliver(warehouse_engine, NOW + dt.timedelta(days=30), factory).claimed == 0
    assert len(sink.messages) == 5


def test_a_refused_recipient_is_dead_after_one_attempt(
    warehouse_engine, queue_notices, outbox_smtp
):
    sink = outbox_smtp()
    queue_notices(warehouse_engine, ["k-refused"], channel="email", address="refused@x.cn", now=NOW)
    queue_notices(warehouse_engine, ["k-busy"], channel="email", address="busy@x.cn", now=NOW)
    report = deliver(warehouse_engine, NOW, smtp_factory(sink.port))
    assert report.dead_keys == ["k-refused"] and report.retry == 1
    after = rows(warehouse_engine)
    assert after["k-refused"]["status"] == "dead" and "550" in after["k-refused"]["last_error"]
    assert after["k-busy"]["status"] == "retry" and "450" in after["k-busy"]["last_error"]
    assert events(warehouse_engine, "k-refused")[-1][1]["reason"] == "permanent"
    assert sink.messages == []


# ------------------------------------------------------------------------ webhooks


def test_webhook_500_then_timeout_then_200_is_stored_once(
    warehouse_engine, queue_notices, deduping_webhook
):
    receiver = deduping_webhook.answer(500).answer(200, delay=0.8)
    [key] = queue_notices(
        warehouse_engine,
        ["eval-7:platform:platform_failure"],
        kind="platform_failure",
        channel="webhook",
        address=receiver.url,
        now=NOW,
        payload_extra=DELIVERY,
    )
    factory = webhook_factory(receiver.secret)

    first = deliver(warehouse_engine, NOW, factory, backoff_s=60)
    assert first.retry == 1 and "HTTP 500" in rows(warehouse_engine)[key]["last_error"]
    second = deliver(warehouse_engine, NOW + dt.timedelta(minutes=10), factory, backoff_s=60)
    assert second.retry == 1 and "timed out" in rows(warehouse_engine)[key]["last_error"]
    # The receiver stored it while the sender waited in vain: delivered, not known to be.
    assert list(receiver.stored) == [key]
    third = deliver(warehouse_engine, NOW + dt.timedelta(hours=1), factory, backoff_s=60)
    assert third.sent == 1

    assert receiver.requests == [key, key, key]  # raw: three authentic requests
    assert list(receiver.stored) == [key] and receiver.repeats == [key]  # effect: once
    document = json.loads(receiver.stored[key])
    assert document["idempotency_key"] == key and "_delivery" not in document
    r = rows(warehouse_engine)[key]
    assert r["status"] == "sent" and r["attempts"] == 3
    assert deliver(warehouse_engine, NOW + dt.timedelta(days=1), factory).claimed == 0
    assert len(receiver.requests) == 3


def test_the_channels_own_retries_count_as_one_attempt(
    warehouse_engine, queue_notices, deduping_webhook
):
    receiver = deduping_webhook.answer(503).answer(200, delay=0.8)
    [key] = queue_notices(
        warehouse_engine,
        ["k-1"],
        channel="webhook",
        address=receiver.url,
        now=NOW,
        payload_extra=DELIVERY,
    )
    factory = webhook_factory(receiver.secret, max_attempts=3, sleep=lambda s: None)
    assert deliver(warehouse_engine, NOW, factory).sent == 1
    assert receiver.requests == [key] * 3 and list(receiver.stored) == [key]
    assert rows(warehouse_engine)[key]["attempts"] == 1


def test_a_permanent_400_is_dead_after_one_attempt(
    warehouse_engine, queue_notices, deduping_webhook
):
    receiver = deduping_webhook.answer(400)
    [key] = queue_notices(
        warehouse_engine,
        ["k-400"],
        channel="webhook",
        address=receiver.url,
        now=NOW,
        payload_extra=DELIVERY,
    )
    report = deliver(warehouse_engine, NOW, webhook_factory(receiver.secret, max_attempts=4))
    assert report.dead_keys == [key] and receiver.requests == [key]
    r = rows(warehouse_engine)[key]
    assert r["status"] == "dead" and r["attempts"] == 1 and "HTTP 400" in r["last_error"]
    assert [e for e, _ in events(warehouse_engine, key)] == ["attempt", "dead"]
    assert deliver(warehouse_engine, NOW + dt.timedelta(days=1), webhook_factory()).claimed == 0


def test_the_last_allowed_attempt_dead_letters(warehouse_engine, queue_notices, deduping_webhook):
    receiver = deduping_webhook
    for _ in range(5):
        receiver.answer(500)
    [key] = queue_notices(
        warehouse_engine,
        ["k-500"],
        channel="webhook",
        address=receiver.url,
        now=NOW,
        payload_extra=DELIVERY,
    )
    factory = webhook_factory(receiver.secret)
    outcomes = []
    for hour in range(4):
        report = deliver(
            warehouse_engine, NOW + dt.timedelta(hours=hour), factory, max_attempts=3, backoff_s=60
        )
        outcomes.append((report.retry, report.dead))
    assert outcomes == [(1, 0), (1, 0), (0, 1), (0, 0)]
    r = rows(warehouse_engine)[key]
    assert r["status"] == "dead" and r["attempts"] == 3 and "HTTP 500" in r["last_error"]
    assert events(warehouse_engine, key)[-1] == ("dead", events(warehouse_engine, key)[-1][1])
    assert events(warehouse_engine, key)[-1][1]["reason"] == "max_attempts"
    assert len(receiver.requests) == 3 and receiver.stored == {}


def test_retry_after_is_honoured(warehouse_engine, queue_notices, webhook_receiver):
    webhook_receiver.answer(503, headers={"Retry-After": "7200"})
    [key] = queue_notices(
        warehouse_engine,
        ["k-ra"],
        channel="webhook",
        address=webhook_receiver.url,
        now=NOW,
        payload_extra=DELIVERY,
    )
    factory = webhook_factory(
        webhook_receiver.secret, max_attempts=3, max_backoff=30, sleep=lambda s: None
    )
    assert deliver(warehouse_engine, NOW, factory, backoff_s=60).retry == 1
    wait = (rows(warehouse_engine)[key]["next_attempt_at"] - NOW).total_seconds()
    assert 7200 <= wait < 7210
    assert events(warehouse_engine, key)[-1][1]["retry_after"] == 7200
    assert deliver(warehouse_engine, NOW + dt.timedelta(hours=1), factory).claimed == 0
    assert deliver(warehouse_engine, NOW + dt.timedelta(hours=3), factory).sent == 1


def test_a_missing_or_unlisted_secret_is_retried_not_sent(
    warehouse_engine, queue_notices, deduping_webhook
):
    url = deduping_webhook.url
    queue_notices(warehouse_engine, ["k-none"], channel="webhook", address=url, now=NOW)
    queue_notices(
        warehouse_engine,
        ["k-smtp"],
        channel="webhook",
        address=url,
        now=NOW,
        payload_extra={"_delivery": {"secret_env": "ECQM_SMTP_PASSWORD"}},
    )
    queue_notices(
        warehouse_engine,
        ["k-unset"],
        channel="webhook",
        address=url,
        now=NOW,
        payload_extra={"_delivery": {"secret_env": "ECQM_WEBHOOK_SECRET_OTHER"}},
    )
    report = deliver(warehouse_engine, NOW, webhook_factory(deduping_webhook.secret))
    assert report.retry == 3 and deliver_sent_nothing(deduping_webhook)
    after = rows(warehouse_engine)
    assert "names no webhook secret" in after["k-none"]["last_error"]
    assert "not an ECQM_WEBHOOK_SECRET_* name" in after["k-smtp"]["last_error"]
    assert "ECQM_WEBHOOK_SECRET_OTHER is not set" in after["k-unset"]["last_error"]


def deliver_sent_nothing(receiver) -> bool:
    return receiver.requests == [] and receiver.stored == {}


def test_a_bad_url_is_a_permanent_failure(warehouse_engine, queue_notices):
    queue_notices(
        warehouse_engine,
        ["k-url"],
        channel="webhook",
        address="ftp://x",
        now=NOW,
        payload_extra=DELIVERY,
    )
    assert deliver(warehouse_engine, NOW, webhook_factory()).dead_keys == ["k-url"]


# ------------------------------------------------------------------------ files, channels


def test_files_and_waiting_channels(warehouse_engine, queue_notices, tmp_path: Path):
    queue_notices(
        warehouse_engine,
        ["eval-1:public:public_alert"],
        kind="public_alert",
        channel="file",
        address="public_alerts",
        now=NOW,
        payload_extra=DELIVERY,
    )
    queue_notices(warehouse_engine, keys(2), channel="email", address="a@b.cn", now=NOW)
    queue_notices(
        warehouse_engine,
        ["k-cancelled"],
        channel="file",
        address="x",
        now=NOW,
        status="cancelled",
    )
    factory = ChannelFactory(outbox_dir=tmp_path / "outbox")
    assert factory.channels == {"webhook", "file"}
    report = deliver(warehouse_engine, NOW, factory)
    assert report.sent_keys == ["eval-1:public:public_alert"]
    assert report.waiting == {"email": 2}  # e-mail is off: left queued, untouched
    after = rows(warehouse_engine)
    assert {after[k]["status"] for k in keys(2)} == {"queued"}
    assert all(after[k]["attempts"] == 0 for k in keys(2))
    assert after["k-cancelled"]["status"] == "cancelled"
    written = sorted(p.name for p in (tmp_path / "outbox" / "public_alerts").iterdir())
    assert len(written) == 3 and all(
        name.startswith("eval-1_public_public_alert-") for name in written
    )
    receipt = Path(after["eval-1:public:public_alert"]["receipt"])
    assert "_delivery" not in json.loads(receipt.read_text())


# ------------------------------------------------------------------------ leases, workers


def test_an_in_doubt_row_is_sent_again_under_the_same_key_after_its_lease(
    warehouse_engine, queue_notices, tmp_path
):
    [key] = queue_notices(warehouse_engine, ["k-doubt"], channel="file", address="n", now=NOW)
    lease = dt.timedelta(minutes=10)
    # A worker claims the row and dies before recording anything.
    [claim] = outbox._claim(warehouse_engine, NOW, NOW, lease, 5, {"file"}, "dead-worker")
    assert claim.key == key and rows(warehouse_engine)[key]["status"] == "sending"
    factory = ChannelFactory(outbox_dir=tmp_path)
    assert deliver(warehouse_engine, NOW + dt.timedelta(minutes=9), factory).claimed == 0
    report = deliver(warehouse_engine, NOW + lease + dt.timedelta(seconds=1), factory)
    assert (report.in_doubt, report.sent_keys) == (1, [key])
    r = rows(warehouse_engine)[key]
    assert r["status"] == "sent" and r["attempts"] == 2
    attempts = [d for e, d in events(warehouse_engine, key) if e == "attempt"]
    assert [a["in_doubt"] for a in attempts] == [False, True]


def test_a_worker_that_lost_its_lease_does_not_send(warehouse_engine, queue_notices):
    queue_notices(warehouse_engine, ["k-lease"], channel="file", address="n", now=NOW)
    lease = dt.timedelta(minutes=10)
    [slow] = outbox._claim(warehouse_engine, NOW, NOW, lease, 1, {"file"}, "slow")
    later = NOW + lease + dt.timedelta(minutes=1)
    [fast] = outbox._claim(warehouse_engine, later, later, lease, 1, {"file"}, "fast")
    assert fast.in_doubt and fast.attempt == 2
    assert not outbox._renew(warehouse_engine, slow, later + lease)
    assert outbox._renew(warehouse_engine, fast, later + lease)
    # A failure reported by the slow worker does not overwrite the row it lost.
    failed = DeliveryResult(ok=False, channel="file", error="disk full")
    assert outbox._record(warehouse_engine, slow, failed, later, 8, 60) == "lost"
    assert rows(warehouse_engine)["k-lease"]["status"] == "sending"


class RecordingChannels:
    """A channel source that records every key it is asked to send, slowly enough that
    concurrent workers overlap."""

    channels = frozenset({"file"})
    name = "file"

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.lock = threading.Lock()

    def channel_for(self, row):
        return self

    def send(self, notice, idempotency_key):
        time.sleep(0.005)
        with self.lock:
            self.sent.append(idempotency_key)
        return DeliveryResult(ok=True, channel="file", receipt=idempotency_key)


def test_two_concurrent_workers_never_take_the_same_row(warehouse_engine, queue_notices):
    queued = queue_notices(warehouse_engine, keys(40), channel="file", address="n", now=NOW)
    channels = RecordingChannels()
    start = threading.Barrier(2)
    reports = []

    def worker() -> None:
        start.wait()
        reports.append(deliver(warehouse_engine, NOW, channels, batch=3))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(reports) == 2
    counts = Counter(channels.sent)
    assert sorted(counts) == sorted(queued) and set(counts.values()) == {1}
    assert sum(r.claimed for r in reports) == 40 and sum(r.sent for r in reports) == 40
    assert all(r.lost == 0 for r in reports)
    after = rows(warehouse_engine)
    assert {after[k]["attempts"] for k in queued} == {1}
    assert {after[k]["status"] for k in queued} == {"sent"}
    if warehouse_engine.dialect.name == "postgresql":  # SKIP LOCKED: both took a share
        assert all(r.claimed > 0 for r in reports)


def test_a_sent_row_is_never_claimed_even_with_a_stale_lease(warehouse_engine, queue_notices):
    queue_notices(warehouse_engine, ["k-sent"], channel="file", address="n", now=NOW)
    with warehouse_engine.begin() as conn:
        conn.execute(
            update(notifications).values(status="sent", lease_until=NOW, sent_at=NOW, attempts=1)
        )
    channels = RecordingChannels()
    assert deliver(warehouse_engine, NOW + dt.timedelta(days=3), channels).claimed == 0
    assert channels.sent == []


# ------------------------------------------------------------------------ small parts


@pytest.mark.parametrize(
    ("attempt", "retry_after", "expected"),
    [(1, None, 60), (2, None, 120), (5, None, 960), (30, None, 6 * 3600), (1, 900, 900)],
)
def test_backoff_is_exponential_capped_and_honours_retry_after(attempt, retry_after, expected):
    assert backoff_delay(attempt, 60, retry_after) == expected


def test_deliver_refuses_a_naive_now(warehouse_engine):
    with pytest.raises(ValueError, match="time zone"):
        deliver(warehouse_engine, dt.datetime(2026, 11, 23), RecordingChannels())
