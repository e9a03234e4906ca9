"""Delivery channels against real servers on 127.0.0.1: aiosmtpd for e-mail (plain,
AUTH, STARTTLS, SMTPS), an http.server webhook receiver that checks signatures from the
documented scheme, and the outbox folder on disk."""

from __future__ import annotations

import email
import json
import os
import threading
import time
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import httpx
import pytest

from transforms.notify import channels
from transforms.notify.channels import (
    Channel,
    DeliveryResult,
    FileChannel,
    SmtpChannel,
    WebhookChannel,
    file_stem,
    message_id,
    notice_document,
    sign,
    verify_signature,
)
from transforms.notify.render import Notice, Recipient, example_context, render_notice

# Some servers here require AUTH without TLS on purpose; aiosmtpd warns about that.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

KEY = "eval-42:seller:seller_result"
SENDER = "某市产品质量监督检验研究院 <notify@ecqm.example.cn>"


def notice(kind: str = "seller_result", **recipient: str) -> Notice:
    context = example_context(kind)
    context["recipient"] = {**context["recipient"], **recipient}
    return render_notice(kind, context)


def smtp(port: int, **kw) -> SmtpChannel:
    kw.setdefault("timeout", 5.0)
    return SmtpChannel("127.0.0.1", port, sender=SENDER, **kw)


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=default_policy)  # type: ignore[return-value]


def test_every_channel_is_a_channel(tmp_path: Path) -> None:
    for channel in (
        smtp(25),
        WebhookChannel("http://127.0.0.1:9/x", "s"),
        FileChannel(tmp_path),
    ):
        assert isinstance(channel, Channel)


# ------------------------------------------------------------------------ SMTP


def test_smtp_delivers_both_parts_in_utf8_with_stable_ids(smtp_server) -> None:
    server = smtp_server()
    n = notice(address="service@shop.example.cn", name="某某数码专营店")
    channel = smtp(server.port)

    first = channel.send(n, KEY)
    second = channel.send(n, KEY)

    assert first.ok and second.ok and first.status == 250 and not first.retryable
    assert [m.rcpt_tos for m in server.messages] == [["service@shop.example.cn"]] * 2
    assert server.messages[0].mail_from == "notify@ecqm.example.cn"
    raw = server.messages[0].content
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()  # every header encoded: RFC 2047 words, not raw UTF-8
    assert b"Subject: =?utf-8?" in head
    msgs = [parse(m.content) for m in server.messages]
    msg = msgs[0]
    assert (
        msg["Subject"] == n.subject == "【检验结果告知】电热水壶：不合格（报告编号 BG-2026-0042）"
    )
    assert msg["To"].addresses[0].display_name == "某某数码专营店"
    assert msg["From"].addresses[0].display_name == "某市产品质量监督检验研究院"
    assert msg["X-Ecqm-Idempotency-Key"] == KEY
    assert msg["Message-ID"] == msgs[1]["Message-ID"] == first.receipt == second.receipt
    assert msg["Message-ID"] == message_id(KEY, "ecqm.example.cn")
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/alternative"
    text_part, html_part = msg.get_payload()
    assert (text_part.get_content_type(), html_part.get_content_type()) == (
        "text/plain",
        "text/html",
    )
    for part, expected in ((text_part, n.text), (html_part, n.html)):
        assert part.get_content_charset() == "utf-8"
        body = part.get_payload(decode=True)
        assert "检验结论".encode() in body
        assert body.decode("utf-8").replace("\r\n", "\n") == expected


def test_smtp_message_id_differs_by_key() -> None:
    channel = smtp(25)
    n = notice(address="a@example.cn")
    one = channel.build_message(n, "eval-1:seller:seller_result")["Message-ID"]
    two = channel.build_message(n, "eval-2:seller:seller_result")["Message-ID"]
    assert one != two and one.endswith("@ecqm.example.cn>")


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_smtp_auth(smtp_server, mechanism: str) -> None:
    server = smtp_server(auth=True, mechanisms=(mechanism,))
    channel = smtp(
        server.port, username=server.user, password=server.password, allow_insecure_auth=True
    )

    result = channel.send(notice(address="service@shop.example.cn"), KEY)

    assert result.ok, result.error
    assert server.auth_attempts == [(mechanism, server.user, True)]
    assert server.messages[0].login == server.user


def test_smtp_wrong_password_is_permanent(smtp_server) -> None:
    server = smtp_server(auth=True)
    channel = smtp(server.port, username=server.user, password="wrong", allow_insecure_auth=True)

    result = channel.send(notice(address="service@shop.example.cn"), KEY)

    assert not result.ok and result.permanent and result.status == 535
    assert server.messages == []


def test_smtp_without_auth_when_the_server_requires_it_fails(smtp_server) -> None:
    server = smtp_server(auth=True)
    result = smtp(server.port).send(notice(address="service@shop.example.cn"), KEY)
    assert not result.ok and result.status == 530 and result.permanent


def test_smtp_refuses_a_password_in_the_clear_unless_allowed() -> None:
    with pytest.raises(ValueError, match="unencrypted"):
        smtp(25, username="user", password="password")
    with pytest.raises(ValueError, match="not both"):
        smtp(25, starttls=True, ssl=True)
    with pytest.raises(ValueError, match="e-mail address"):
        SmtpChannel("127.0.0.1", 25, sender="nobody", timeout=1)


def test_smtp_starttls_with_auth_and_a_given_ca(smtp_server, tls_files) -> None:
    server = smtp_server(tls="starttls", auth=True)
    channel = smtp(
        server.port,
        username=server.user,
        password=server.password,
        starttls=True,
        ca_file=tls_files.ca_file,
    )

    result = channel.send(notice(address="service@shop.example.cn"), KEY)

    assert result.ok, result.error
    assert server.messages[0].tls and server.messages[0].login == server.user


def test_smtp_starttls_rejects_an_untrusted_certificate(smtp_server) -> None:
    server = smtp_server(tls="starttls")
    result = smtp(server.port, starttls=True).send(notice(address="s@shop.example.cn"), KEY)
    assert not result.ok and result.permanent
    assert "certificate" in result.error
    assert server.messages == []


def test_smtp_implicit_tls(smtp_server, tls_files) -> None:
    server = smtp_server(tls="smtps")
    result = smtp(server.port, ssl=True, ca_file=tls_files.ca_file).send(
        notice(address="service@shop.example.cn"), KEY
    )
    assert result.ok, result.error
    assert server.messages[0].tls


def test_smtp_server_down_is_transient(free_tcp_port: int) -> None:
    result = smtp(free_tcp_port).send(notice(address="service@shop.example.cn"), KEY)
    assert not result.ok and result.retryable and result.status is None
    assert "Connection" in result.error or "refused" in result.error


def test_smtp_silent_server_times_out_transiently(silent_port: int) -> None:
    started = time.monotonic()
    result = smtp(silent_port, timeout=0.3).send(notice(address="s@shop.example.cn"), KEY)
    assert not result.ok and result.retryable
    assert time.monotonic() - started < 2


def test_smtp_recipient_refused_550_is_permanent(smtp_server) -> None:
    server = smtp_server()
    result = smtp(server.port).send(notice(address="refused@shop.example.cn"), KEY)
    assert not result.ok and result.permanent and result.status == 550
    assert "mailbox unavailable" in result.error
    assert server.messages == []


def test_smtp_recipient_busy_450_is_transient(smtp_server) -> None:
    server = smtp_server()
    result = smtp(server.port).send(notice(address="busy@shop.example.cn"), KEY)
    assert not result.ok and result.retryable and result.status == 450


@pytest.mark.parametrize(
    "address", ["https://platform.example.cn/hook", "public_alerts", "a@b.cn\r\nBcc: x@evil.cn"]
)
def test_smtp_address_that_is_not_one_is_permanent(address: str, free_tcp_port: int) -> None:
    # Fails before connecting: nothing listens on the port.
    result = smtp(free_tcp_port).send(notice(address=address), KEY)
    assert not result.ok and result.permanent and "cannot build" in result.error


def test_smtp_hostile_recipient_name_cannot_add_headers(smtp_server) -> None:
    server = smtp_server()
    n = notice(address="service@shop.example.cn", name='x"\r\nBcc: spy@evil.example\r\n')
    assert smtp(server.port).send(n, KEY).ok
    msg = parse(server.messages[0].content)
    assert msg["Bcc"] is None
    assert server.messages[0].rcpt_tos == ["service@shop.example.cn"]


def test_bad_idempotency_key_is_a_programming_error(tmp_path: Path) -> None:
    n = notice(address="a@example.cn")
    for bad in ("", "has space", "换行\n", "x" * 201):
        for channel in (
            smtp(25),
            WebhookChannel("http://127.0.0.1:9/", "s"),
            FileChannel(tmp_path),
        ):
            with pytest.raises(ValueError, match="idempotency key"):
                channel.send(n, bad)


# ------------------------------------------------------------------------ webhooks


class RecordingSleep:
    """Sleeps for real unless told not to, and remembers every wait asked for."""

    def __init__(self, real: bool = True) -> None:
        self.calls: list[float] = []
        self.real = real

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.real:
            time.sleep(seconds)


def webhook(receiver, **kw) -> WebhookChannel:
    kw.setdefault("timeout", 2.0)
    kw.setdefault("backoff", 0.01)
    return WebhookChannel(receiver.url, receiver.secret, **kw)


def test_webhook_posts_signed_utf8_json(webhook_receiver) -> None:
    n = notice("platform_failure")
    result = webhook(webhook_receiver).send(n, KEY)

    assert result.ok and result.status == 200 and result.attempts == 1
    assert result.receipt == '{"received":true}'
    (request,) = webhook_receiver.requests
    assert request.authentic
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.headers["X-Ecqm-Idempotency-Key"] == KEY
    assert abs(int(request.headers["X-Ecqm-Timestamp"]) - time.time()) < 5
    assert "不合格".encode() in request.body and b"\\u" not in request.body
    document = json.loads(request.body.decode("utf-8"))
    assert document == notice_document(n, KEY)
    assert document["kind"] == "platform_failure" and document["idempotency_key"] == KEY
    assert document["listing"]["external_id"] == "6623001"


def test_webhook_over_https_with_a_given_ca(https_webhook_receiver, tls_files) -> None:
    receiver = https_webhook_receiver
    trusted = webhook(receiver, verify=tls_files.ca_file).send(notice(), KEY)
    assert trusted.ok, trusted.error
    assert receiver.requests[0].authentic

    untrusted = webhook(receiver, max_attempts=3).send(notice(), KEY)
    assert not untrusted.ok and untrusted.permanent and untrusted.attempts == 1
    assert "certificate" in untrusted.error


def test_webhook_retries_5xx_with_growing_backoff(webhook_receiver) -> None:
    webhook_receiver.answer(500).answer(502).answer(503).answer(200)
    sleep = RecordingSleep()
    channel = webhook(webhook_receiver, max_attempts=5, backoff=0.04, sleep=sleep)

    result = channel.send(notice(), KEY)

    assert result.ok and result.attempts == 4
    requests = webhook_receiver.requests
    assert len(requests) == 4 and all(r.authentic for r in requests)
    assert len({r.body for r in requests}) == 1  # the same document every time
    assert {r.headers["X-Ecqm-Idempotency-Key"] for r in requests} == {KEY}
    # Each wait is backoff * 2^n scaled by a factor in [0.5, 1).
    for n, waited in enumerate(sleep.calls):
        assert 0.04 * 2**n * 0.5 <= waited < 0.04 * 2**n
    gaps = [b.arrived - a.arrived for a, b in zip(requests, requests[1:])]
    for gap, waited in zip(gaps, sleep.calls):
        assert gap >= waited


def test_webhook_gives_up_after_max_attempts_as_transient(webhook_receiver) -> None:
    for _ in range(3):
        webhook_receiver.answer(500, body=b"database down")
    result = webhook(webhook_receiver, max_attempts=3).send(notice(), KEY)
    assert not result.ok and result.retryable
    assert result.attempts == 3 and result.status == 500
    assert result.error == "HTTP 500: database down"
    assert len(webhook_receiver.requests) == 3


def test_webhook_4xx_is_permanent_and_not_retried(webhook_receiver) -> None:
    webhook_receiver.answer(400, body=b"unknown listing")
    result = webhook(webhook_receiver, max_attempts=5).send(notice(), KEY)
    assert not result.ok and result.permanent
    assert (result.attempts, result.status) == (1, 400)
    assert len(webhook_receiver.requests) == 1


def test_webhook_redirect_is_not_followed(webhook_receiver) -> None:
    webhook_receiver.answer(302, headers={"Location": "http://elsewhere.example/"})
    result = webhook(webhook_receiver).send(notice(), KEY)
    assert not result.ok and result.permanent and "not followed" in result.error
    assert len(webhook_receiver.requests) == 1


def test_webhook_wrong_secret_is_rejected_by_the_receiver(webhook_receiver) -> None:
    channel = WebhookChannel(webhook_receiver.url, "not-the-secret", backoff=0.01)
    result = channel.send(notice(), KEY)
    assert not result.ok and result.permanent and result.status == 401
    assert [r.authentic for r in webhook_receiver.requests] == [False]


def test_webhook_timeout_is_retried_then_transient(webhook_receiver) -> None:
    webhook_receiver.answer(200, delay=0.5).answer(200, delay=0.5)
    started = time.monotonic()
    result = webhook(webhook_receiver, timeout=0.15, max_attempts=2).send(notice(), KEY)
    assert not result.ok and result.retryable and result.attempts == 2
    assert "timed out" in result.error
    assert time.monotonic() - started < 1.0


def test_webhook_connection_refused_is_transient(free_tcp_port: int) -> None:
    channel = WebhookChannel(
        f"http://127.0.0.1:{free_tcp_port}/x", "s", max_attempts=2, backoff=0.01
    )
    result = channel.send(notice(), KEY)
    assert not result.ok and result.retryable and result.attempts == 2
    assert "ConnectError" in result.error


def test_webhook_honours_retry_after_seconds(webhook_receiver) -> None:
    webhook_receiver.answer(429, headers={"Retry-After": "1"}).answer(200)
    sleep = RecordingSleep(real=False)
    result = webhook(webhook_receiver, backoff=0.01, sleep=sleep).send(notice(), KEY)
    assert result.ok and result.attempts == 2
    assert sleep.calls == [1.0]


def test_webhook_honours_retry_after_http_date(webhook_receiver) -> None:
    when = email.utils.formatdate(time.time() + 3, usegmt=True)
    webhook_receiver.answer(503, headers={"Retry-After": when}).answer(200)
    sleep = RecordingSleep(real=False)
    result = webhook(webhook_receiver, sleep=sleep).send(notice(), KEY)
    assert result.ok and result.attempts == 2
    assert 1.0 < sleep.calls[0] <= 3.0


def test_webhook_long_retry_after_goes_back_to_the_outbox(webhook_receiver) -> None:
    webhook_receiver.answer(503, headers={"Retry-After": "120"})
    sleep = RecordingSleep(real=False)
    result = webhook(webhook_receiver, max_backoff=5, sleep=sleep).send(notice(), KEY)
    assert not result.ok and result.retryable and result.attempts == 1
    assert result.retry_after == 120 and sleep.calls == []


def _signed(channel: WebhookChannel, body: bytes, timestamp: int) -> dict[str, str]:
    return channel.headers(body, KEY, timestamp)


def test_receiver_rejects_tampered_body_and_stale_or_future_timestamps(
    webhook_receiver, documented_verify
) -> None:
    channel = webhook(webhook_receiver)
    body = channel.body(notice(), KEY)
    now = int(time.time())
    tampered = body.replace("不合格".encode(), "合格".encode(), 1)
    assert tampered != body
    cases = {
        "genuine": (body, _signed(channel, body, now), 200),
        "tampered body": (tampered, _signed(channel, body, now), 401),
        "old timestamp": (body, _signed(channel, body, now - 600), 401),
        "future timestamp": (body, _signed(channel, body, now + 600), 401),
        "timestamp swapped": (
            body,
            {**_signed(channel, body, now - 600), "X-Ecqm-Timestamp": str(now)},
            401,
        ),
        "other key in header": (
            body,
            {**_signed(channel, body, now), "X-Ecqm-Idempotency-Key": "eval-43:x:y"},
            401,
        ),
    }
    for name, (content, headers, expected) in cases.items():
        response = httpx.post(webhook_receiver.url, content=content, headers=headers)
        assert response.status_code == expected, name
        # The library's verifier agrees with the one written from the documentation.
        assert verify_signature(
            webhook_receiver.secret,
            headers["X-Ecqm-Timestamp"],
            content,
            headers["X-Ecqm-Signature"],
            300,
        ) == documented_verify(webhook_receiver.secret, headers, content, time.time()), name


def test_verify_signature() -> None:
    body = '{"idempotency_key":"k","text":"检验结论：不合格"}'.encode()
    ts = 1_800_000_000
    header = sign("s3cret", ts, body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify_signature("s3cret", ts, body, header, 300, now=ts + 299)
    assert verify_signature(b"s3cret", str(ts), body.decode(), header, 300, now=ts - 299)
    assert not verify_signature("s3cret", ts, body, header, 300, now=ts + 301)
    assert not verify_signature("s3cret", ts, body, header, 300, now=ts - 301)
    assert not verify_signature("other", ts, body, header, 300, now=ts)
    assert not verify_signature("s3cret", ts, body + b" ", header, 300, now=ts)
    assert not verify_signature("s3cret", ts, body, header[7:], 300, now=ts)
    assert not verify_signature("s3cret", ts, body, header.upper(), 300, now=ts)
    assert not verify_signature("s3cret", f"{ts}.5", body, header, 300, now=ts)
    assert not verify_signature("s3cret", "-1", body, header, 300, now=ts)
    assert not verify_signature("s3cret", None, body, header, 300, now=ts)
    assert not verify_signature("s3cret", ts, body, "sha256=漢字", 300, now=ts)


def test_webhook_configuration_is_checked() -> None:
    for url in ("ftp://example.cn/x", "javascript:alert(1)", "127.0.0.1:8080/x"):
        with pytest.raises(ValueError, match="http or https"):
            WebhookChannel(url, "s")
    with pytest.raises(ValueError, match="secret"):
        WebhookChannel("https://example.cn/x", "")
    assert "whsec" not in repr(WebhookChannel("https://example.cn/x", "whsec-123"))


# ------------------------------------------------------------------------ files


def test_file_channel_writes_three_utf8_files_named_by_key(tmp_path: Path) -> None:
    n = notice("public_alert")
    result = FileChannel(tmp_path / "outbox").send(n, KEY)

    assert result.ok and result.attempts == 1
    stem = file_stem(KEY)
    names = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert names == [f"{stem}.html", f"{stem}.json", f"{stem}.txt"]
    assert result.receipt == str(tmp_path / "outbox" / f"{stem}.json")
    txt = (tmp_path / "outbox" / f"{stem}.txt").read_bytes()
    assert "消费提示".encode() in txt and txt.decode("utf-8") == n.text
    assert (tmp_path / "outbox" / f"{stem}.html").read_bytes().decode("utf-8") == n.html
    raw = (tmp_path / "outbox" / f"{stem}.json").read_bytes()
    assert "电热水壶".encode() in raw and b"\\u" not in raw
    assert json.loads(raw) == notice_document(n, KEY)


def test_file_channel_resend_overwrites(tmp_path: Path) -> None:
    channel = FileChannel(tmp_path)
    first = notice()
    context = example_context("seller_result")
    context["product"]["name"] = "电热水壶（更正）"
    second = render_notice("seller_result", context)

    assert channel.send(first, KEY).ok
    assert channel.send(second, KEY).ok
    assert channel.send(first, "eval-43:seller:seller_result").ok

    files = sorted(tmp_path.iterdir())
    assert len(files) == 6  # two keys, three files each; no temporary files left
    assert channel.paths(KEY)["txt"].read_text(encoding="utf-8") == second.text


def test_file_names_are_safe_from_hostile_keys_and_recipients(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    n = notice(name="../../../etc/passwd", address="../../escape.txt")
    for key in ("../../evil", "..", ".hidden", "a/b\\c:d", "%2e%2e%2f"):
        result = FileChannel(outbox).send(n, key)
        assert result.ok, key
    written = list(tmp_path.rglob("*"))
    assert all(p.parent == outbox for p in written if p.is_file())
    assert all(not p.name.startswith(".") for p in outbox.iterdir())
    assert len(list(outbox.iterdir())) == 15
    assert not (tmp_path / "escape.txt").exists()


def test_file_writes_are_atomic_for_a_concurrent_reader(tmp_path: Path) -> None:
    path = tmp_path / "notice.txt"
    versions = [("甲" * 100_000).encode(), ("乙" * 50_000).encode()]
    channels.write_atomic(path, versions[0])
    seen: set[bytes] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.add(path.read_bytes())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(20):
            channels.write_atomic(path, versions[i % 2])
    finally:
        done.set()
        reader.join()
    assert seen <= set(versions)  # never a torn or empty file
    assert [p.name for p in tmp_path.iterdir()] == ["notice.txt"]


def test_failed_write_keeps_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch) -> None:
    channel = FileChannel(tmp_path)
    assert channel.send(notice(), KEY).ok
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    context = example_context("seller_result")
    context["product"]["name"] = "另一个产品"
    result = channel.send(render_notice("seller_result", context), KEY)

    assert not result.ok and result.retryable and "No space" in result.error
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_outbox_that_is_a_file_is_permanent(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("not a folder")
    result = FileChannel(blocker).send(notice(), KEY)
    assert not result.ok and result.permanent


def test_delivery_result_retryable() -> None:
    assert DeliveryResult(ok=False, channel="x").retryable
    assert not DeliveryResult(ok=False, channel="x", permanent=True).retryable
    assert not DeliveryResult(ok=True, channel="x").retryable


def test_recipient_address_is_not_in_the_payload() -> None:
    n = render_notice(
        "seller_result",
        {
            **example_context("seller_result"),
            "recipient": Recipient("seller", "某店", "secret-inbox@shop.example.cn"),
        },
    )
    assert "secret-inbox" not in json.dumps(notice_document(n, KEY), ensure_ascii=False)


def test_documented_test_vector(documented_verify) -> None:
    body = (
        '{"idempotency_key":"eval-42:seller:seller_result","kind":"seller_result",'
        '"subject":"【检验结果告知】电热水壶：不合格"}'
    ).encode()
    expected = "sha256=3cda999ebe8ecf2e78e2070570cf282756e900d210e4d904fbf9dd594d9683b3"
    assert len(body) == 134
    assert sign("whsec-example", 1795400000, body) == expected
    headers = {"X-Ecqm-Timestamp": "1795400000", "X-Ecqm-Signature": expected}
    assert documented_verify("whsec-example", headers, body, now=1795400100)
    assert verify_signature("whsec-example", "1795400000", body, expected, now=1795400100)
    doc = (Path(__file__).parents[3] / "docs" / "notifications.md").read_text(encoding="utf-8")
    assert expected in doc and body.decode() in doc
