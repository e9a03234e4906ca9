"""The acknowledgement receiver over real HTTP on 127.0.0.1, on SQLite and PostgreSQL:
signatures made as docs/notifications.md says, replay window, idempotent recording,
unknown keys, malformed bodies, rotation, concurrency, and ``ecqm ack-server``."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time

import httpx
import pytest
from sqlalchemy import func, select

from ecqm.warehouse.schema import notification_events, notifications
from transforms.notify.channels import sign
from transforms.notify.receiver import AckServer

SENT = dt.datetime(2026, 11, 23, 2, 30, tzinfo=dt.UTC)
KEY = "BG-2026-0042:platform_failure:platform:youpin"
ENV = "ECQM_WEBHOOK_SECRET_YOUPIN"
SECRET = "whsec-youpin-7d1f"
# Answers are given in the past of the server's (real) clock, in Beijing time.
_AT = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2)
AT = _AT.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat()
LATER = (_AT + dt.timedelta(hours=1)).isoformat()


@pytest.fixture
def notices(warehouse_engine, queue_notices):
    common = {
        "now": SENT,
        "status": "sent",
        "sent_at": SENT,
        "ack_due_at": SENT + dt.timedelta(days=7),
    }
    queue_notices(
        warehouse_engine,
        [KEY],
        kind="platform_failure",
        channel="webhook",
        address="https://open.youpin.example.cn/hook",
        payload_extra={"_delivery": {"secret_env": ENV}},
        **common,
    )
    queue_notices(
        warehouse_engine, ["by-mail"], channel="email", address="a@shop.example.cn", **common
    )
    return warehouse_engine


@pytest.fixture
def server(notices):
    srv = AckServer(notices, environ={ENV: SECRET}).start()
    yield srv
    srv.stop()


def body_of(key: str = KEY, **fields) -> bytes:
    doc = {"idempotency_key": key, "kind": "received", "note": "已收到，正在核查", **fields}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def post(
    url: str, body: bytes, *, key: str = KEY, secret: str = SECRET, timestamp=None, skew=0, **h
):
    ts = str(int(time.time()) + skew if timestamp is None else timestamp)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Ecqm-Timestamp": ts,
        "X-Ecqm-Signature": sign(secret, ts, body),
        "X-Ecqm-Idempotency-Key": key,
        **h,
    }
    return httpx.post(url, content=body, headers=headers, timeout=10)


def notice(engine, key: str = KEY) -> dict:
    with engine.connect() as conn:
        return dict(
            conn.execute(select(notifications).where(notifications.c.idempotency_key == key))
            .mappings()
            .one()
        )


def ack_events(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).where(notification_events.c.event == "acknowledged")
        ).scalar_one()


def test_a_signed_acknowledgement_is_recorded_once(server, notices):
    first = post(server.url, body_of(at=AT))
    assert first.status_code == 200 and first.json()["status"] == "recorded"
    row = notice(notices)
    assert row["acknowledged_at"] == _AT
    assert (row["ack_kind"], row["ack_note"]) == ("received", "已收到，正在核查")
    # The same acknowledgement again (a retry, a replay inside the window): no change.
    again = post(server.url, body_of(at=AT))
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert notice(notices) == row and ack_events(notices) == 1


def test_a_later_different_answer_updates_the_kind_but_not_the_first_time(server, notices):
    post(server.url, body_of(at=AT))
    later = body_of(kind="takedown_confirmed", note="商品 6623001 已下架", at=LATER)
    assert post(server.url, later).json()["status"] == "recorded"
    row = notice(notices)
    assert row["ack_kind"] == "takedown_confirmed" and row["ack_note"] == "商品 6623001 已下架"
    assert row["acknowledged_at"] == _AT
    assert ack_events(notices) == 2


def test_a_signature_made_from_the_documentation_alone_is_accepted(server, notices):
    body = body_of()
    ts = str(int(time.time()))
    mac = hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    reply = httpx.post(
        server.url,
        content=body,
        headers={
            "X-Ecqm-Timestamp": ts,
            "X-Ecqm-Signature": "sha256=" + mac,
            "X-Ecqm-Idempotency-Key": KEY,
        },
    )
    assert reply.status_code == 200


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"secret": "wrong-secret"}, 401),
        ({"skew": -305}, 401),
        ({"skew": 305}, 401),
        ({"timestamp": "17e8"}, 401),
        ({"X-Ecqm-Signature": "sha256=" + "0" * 64}, 401),
    ],
    ids=["wrong-secret", "stale", "from-the-future", "not-digits", "forged"],
)
def test_bad_or_stale_signatures_are_refused(server, notices, change, status):
    reply = post(server.url, body_of(), **change)
    assert reply.status_code == status
    assert notice(notices)["acknowledged_at"] is None and ack_events(notices) == 0


def test_a_stale_timestamp_is_judged_by_the_servers_clock(notices):
    srv = AckServer(notices, environ={ENV: SECRET}, clock=lambda: 1_800_000_000.0).start()
    try:
        assert post(srv.url, body_of(), timestamp=1_800_000_000 - 299).status_code == 200
        assert (
            post(srv.url, body_of(kind="remedied"), timestamp=1_800_000_000 - 301).status_code
            == 401
        )
    finally:
        srv.stop()


def test_unknown_keys_malformed_bodies_and_unsigned_notices(server, notices):
    assert post(server.url, body_of("no-such-key"), key="no-such-key").status_code == 404
    assert post(server.url, body_of(kind="thanks")).status_code == 400
    assert post(server.url, body_of("other-key")).status_code == 400  # body ≠ header
    assert post(server.url, b"not json").status_code == 400
    assert post(server.url, b"[1, 2]").status_code == 400
    assert post(server.url, body_of(at="2026-11-24 09:30")).status_code == 400  # no offset
    assert post(server.url, body_of(at="2099-01-01T00:00:00Z")).status_code == 400
    assert post(server.url, body_of(note=["x"])).status_code == 400
    # A notice that went by e-mail has no secret to check against: acknowledge by file.
    mail = post(server.url, body_of("by-mail"), key="by-mail")
    assert mail.status_code == 401 and "without a webhook secret" in mail.json()["error"]
    unsigned = httpx.post(server.url, content=body_of())
    assert unsigned.status_code == 401
    big = post(server.url, b"{" + b" " * 70_000 + b"}")
    assert big.status_code == 413
    assert httpx.post(server.url.replace("/ack", "/other"), content=b"{}").status_code == 404
    assert httpx.get(server.url.replace("/ack", "/health")).json() == {"status": "ok"}
    assert ack_events(notices) == 0


def test_the_previous_secret_is_accepted_during_a_rotation(notices):
    env = {ENV: "whsec-new", f"{ENV}_PREVIOUS": SECRET}
    srv = AckServer(notices, environ=env).start()
    try:
        assert post(srv.url, body_of(), secret=SECRET).status_code == 200
        assert post(srv.url, body_of(kind="remedied"), secret="whsec-new").status_code == 200
        assert post(srv.url, body_of(kind="objection"), secret="whsec-old").status_code == 401
    finally:
        srv.stop()


def test_an_answer_to_a_reminder_counts_for_its_notice(server, notices):
    from transforms.notify.reminders import remind

    remind(notices, SENT + dt.timedelta(days=8))
    reminder_key = f"{KEY}:reminder:1"
    reply = post(server.url, body_of(reminder_key), key=reminder_key)
    assert reply.status_code == 200 and reply.json()["status"] == "recorded"
    assert notice(notices)["ack_kind"] == "received"
    assert notice(notices, reminder_key)["acknowledged_at"] is None


def test_the_same_answer_posted_at_once_is_recorded_once(server, notices):
    body = body_of(at=AT)
    start = threading.Barrier(6)
    replies = []

    def send():
        start.wait()
        replies.append(post(server.url, body))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    statuses = sorted(r.json()["status"] for r in replies)
    assert statuses == ["duplicate"] * 5 + ["recorded"]
    assert ack_events(notices) == 1


def test_ecqm_ack_server_runs_the_receiver(notices, database_url, free_tcp_port):
    env = {**os.environ, ENV: SECRET}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ecqm",
            "ack-server",
            "--port",
            str(free_tcp_port),
            "--url",
            database_url,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{free_tcp_port}/ack"
    try:
        for _ in range(200):
            try:
                httpx.get(url.replace("/ack", "/health"), timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        reply = post(url, body_of())
        assert reply.status_code == 200 and reply.json()["status"] == "recorded"
    finally:
        proc.terminate()
        proc.wait(10)
    assert notice(notices)["ack_kind"] == "received"
