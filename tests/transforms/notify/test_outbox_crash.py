"""The exactly-once must-show: ``ecqm deliver`` killed with SIGKILL in the middle of a
batch, then run again, on a file-backed SQLite warehouse and on PostgreSQL.

Counted at the SMTP server: every notice arrives; the distinct idempotency keys are
exactly the N queued; the raw count is N, or N + 1 when the kill fell between the
server accepting a message and the outbox recording it, and then the one repeat carries
the same key and the same Message-ID as the first copy, so the receiver drops it."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from collections import Counter

import pytest
from sqlalchemy import select

from ecqm.warehouse import migrate
from ecqm.warehouse.engine import make_engine
from ecqm.warehouse.schema import notification_events, notifications
from transforms.notify.outbox import ChannelFactory, deliver

NOW = dt.datetime(2026, 11, 23, 2, 30, tzinfo=dt.UTC)
SENDER = "某市产品质量监督检验研究院 <notify@ecqm.example.cn>"
N, K = 8, 3


def _statuses(engine) -> dict[str, tuple[str, int]]:
    with engine.connect() as conn:
        return {
            r.idempotency_key: (r.status, r.attempts)
            for r in conn.execute(
                select(
                    notifications.c.idempotency_key,
                    notifications.c.status,
                    notifications.c.attempts,
                )
            )
        }


@pytest.mark.parametrize(
    "hold", [True, False], ids=["killed-before-the-reply", "killed-after-the-kth"]
)
def test_delivery_killed_mid_batch_then_rerun_delivers_each_notice_once_in_effect(
    database_url, outbox_smtp, queue_notices, tmp_path, hold
):
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    keys = queue_notices(
        engine,
        [f"eval-{i:02d}:seller:seller_result" for i in range(N)],
        channel="email",
        address="service@shop.example.cn",
        now=NOW,
    )
    # hold: the server keeps the K-th message's "250" back until the worker is dead, so
    # the K-th notice is certainly accepted and certainly not recorded: in doubt.
    sink = outbox_smtp(signal_at=K)
    if not hold:
        sink.release.set()
    env = {
        **os.environ,
        "ECQM_HOME": str(tmp_path / "home"),
        "ECQM_SMTP_HOST": "127.0.0.1",
        "ECQM_SMTP_PORT": str(sink.port),
        "ECQM_SMTP_SECURITY": "none",
        "ECQM_SMTP_SENDER": SENDER,
        "ECQM_SMTP_TIMEOUT": "20",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "ecqm", "deliver", "--url", database_url, "--now", NOW.isoformat()]
        + ["--batch", "4"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert sink.arrived.wait(60), worker.communicate(timeout=5)
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
        sink.release.set()
    assert worker.returncode == -signal.SIGKILL
    killed_at = len(sink.messages)
    assert K <= killed_at <= K + 1

    after_kill = _statuses(engine)
    assert sum(s == "sent" for s, _ in after_kill.values()) in (killed_at - 1, killed_at)
    in_doubt = [k for k, (s, _) in after_kill.items() if s == "sending"]
    assert in_doubt, "the kill left no row in doubt"
    if hold:
        assert after_kill[sink.keys()[K - 1]][0] == "sending"

    factory = ChannelFactory(
        smtp={"host": "127.0.0.1", "port": sink.port, "sender": SENDER, "timeout": 5}
    )
    # A re-run while the dead worker's lease holds sends the queued rows, not those.
    early = deliver(engine, NOW + dt.timedelta(minutes=1), factory)
    assert early.in_doubt == 0 and not set(early.sent_keys) & set(in_doubt)
    # Once the lease has expired the rows in doubt go again, under the same keys.
    late = deliver(engine, NOW + dt.timedelta(minutes=11), factory)
    assert late.in_doubt == len(in_doubt) and sorted(late.sent_keys) == sorted(in_doubt)
    assert deliver(engine, NOW + dt.timedelta(days=1), factory).claimed == 0

    received = sink.keys()
    counts = Counter(received)
    assert set(counts) == set(keys)  # every notice delivered
    assert len(counts) == N  # distinct idempotency keys at the receiver
    repeats = [k for k, n in counts.items() if n > 1]
    assert len(received) == N + len(repeats) and len(repeats) <= 1
    if hold:
        assert repeats == [sink.keys()[K - 1]]
    for key in repeats:  # the repeat is recognisable: same key, same Message-ID
        ids = {mid for k, mid in zip(received, sink.message_ids()) if k == key}
        assert len(ids) == 1
        assert key in in_doubt

    final = _statuses(engine)
    assert {s for s, _ in final.values()} == {"sent"}
    for key in in_doubt:
        assert final[key][1] == 2
    with engine.connect() as conn:
        doubted = conn.execute(
            select(notification_events.c.detail)
            .join(notifications, notifications.c.id == notification_events.c.notification_id)
            .where(notification_events.c.event == "attempt")
        ).scalars()
        assert sum(bool(d["in_doubt"]) for d in doubted) == len(in_doubt)
    engine.dispose()
