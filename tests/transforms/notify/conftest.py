"""Real servers on 127.0.0.1 for the delivery channels: SMTP (aiosmtpd, plain, STARTTLS or
implicit TLS, with AUTH), a webhook receiver (http.server in a thread) that checks
signatures the way docs/notifications.md says a receiver should, and TLS certificates
made for the occasion (a throwaway CA and a server certificate for 127.0.0.1).

aiosmtpd is a test-only dependency: tests that need it are skipped without it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

SMTP_USER = "ecqm-notify"
SMTP_PASSWORD = "correct horse battery staple"
WEBHOOK_SECRET = "whsec-test-5f1c2e"
REPLAY_WINDOW_S = 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------ TLS


@dataclass(frozen=True)
class TlsFiles:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A CA made for this test session and a server certificate it signed, valid for
    127.0.0.1 and localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ecqm test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    files = TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


# ------------------------------------------------------------------------ SMTP


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    login: str | None
    tls: bool


@dataclass
class MailSink:
    """What an aiosmtpd server saw. Recipients ``refused@…`` get a 550 and ``busy@…`` a
    450 at RCPT time."""

    host: str = "127.0.0.1"
    port: int = 0
    user: str = SMTP_USER
    password: str = SMTP_PASSWORD
    messages: list[ReceivedMail] = field(default_factory=list)
    auth_attempts: list[tuple[str, str, bool]] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("refused@"):
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        if address.startswith("busy@"):
            return f"450 4.2.1 <{address}>: mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        auth = session.auth_data
        self.messages.append(
            ReceivedMail(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                content=envelope.original_content or envelope.content,
                login=auth.login.decode() if auth is not None else None,
                # session.ssl is set by STARTTLS; implicit TLS shows on the transport.
                tls=session.ssl is not None
                or server.transport.get_extra_info("ssl_object") is not None,
            )
        )
        return "250 2.0.0 accepted"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == SMTP_USER.encode()
            and auth_data.password == SMTP_PASSWORD.encode()
        )
        login = auth_data.login.decode() if isinstance(auth_data, LoginPassword) else "?"
        self.auth_attempts.append((mechanism, login, ok))
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


@pytest.fixture
def smtp_server(tls_files: TlsFiles) -> Iterator[Callable[..., MailSink]]:
    """Start an SMTP server: ``smtp_server(tls=None | "starttls" | "smtps", auth=False,
    mechanisms=None)``; ``mechanisms`` limits AUTH to those named."""
    pytest.importorskip("aiosmtpd", reason="aiosmtpd is needed for the SMTP tests")
    from aiosmtpd.controller import Controller

    controllers: list[Any] = []

    def start(
        tls: str | None = None, auth: bool = False, mechanisms: tuple[str, ...] | None = None
    ) -> MailSink:
        sink = MailSink()
        kwargs: dict[str, Any] = {"server_hostname": "mail.ecqm.test", "ready_timeout": 5.0}
        if tls == "starttls":
            kwargs.update(tls_context=tls_files.server_context(), require_starttls=True)
        elif tls == "smtps":
            kwargs.update(ssl_context=tls_files.server_context())
        if auth:
            kwargs.update(
                authenticator=sink.authenticate,
                auth_required=True,
                auth_require_tls=tls is not None,
            )
            if mechanisms is not None:
                kwargs["auth_exclude_mechanism"] = [
                    m for m in ("LOGIN", "PLAIN") if m not in mechanisms
                ]
        for _ in range(5):  # the free port may be taken between looking and binding
            sink.port = free_port()
            controller = Controller(sink, hostname=sink.host, port=sink.port, **kwargs)
            try:
                controller.start()
            except OSError:
                continue
            controllers.append(controller)
            return sink
        raise RuntimeError("could not start the SMTP server")

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says anything (no SMTP greeting)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield s.getsockname()[1]


# ------------------------------------------------------------------------ webhooks


def _documented_verify(
    secret: str, headers: Any, body: bytes, now: float, tolerance: int = REPLAY_WINDOW_S
) -> bool:
    """A receiver's check written from docs/notifications.md alone (not from the code):
    whole-second timestamp within the window, HMAC-SHA256 over ``<timestamp>.<raw body>``
    as lowercase hex after ``sha256=``, compared in constant time."""
    timestamp = headers.get("X-Ecqm-Timestamp") or ""
    signature = headers.get("X-Ecqm-Signature") or ""
    if not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs(now - int(timestamp)) > tolerance:
        return False
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return hmac.compare_digest(("sha256=" + mac.hexdigest()).encode(), signature.encode())


@dataclass
class Step:
    """One scripted answer of the webhook receiver."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b'{"received":true}'
    delay: float = 0.0


@dataclass
class ReceivedRequest:
    headers: dict[str, str]
    body: bytes
    arrived: float  # time.monotonic()
    authentic: bool


class WebhookReceiver:
    """A webhook endpoint on 127.0.0.1. It answers from ``script`` in order (then 200),
    and answers 401 to any request that fails :func:`documented_verify` or whose
    idempotency header differs from the key in the body."""

    secret = WEBHOOK_SECRET

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.script: list[Step] = []
        self.requests: list[ReceivedRequest] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                authentic = _documented_verify(WEBHOOK_SECRET, self.headers, body, time.time())
                try:
                    key_in_body = json.loads(body).get("idempotency_key")
                except ValueError:
                    key_in_body = None
                authentic = authentic and key_in_body == self.headers.get("X-Ecqm-Idempotency-Key")
                receiver.requests.append(
                    ReceivedRequest(dict(self.headers), body, time.monotonic(), authentic)
                )
                step = receiver.script.pop(0) if receiver.script else Step()
                if step.delay:
                    receiver.release.wait(step.delay)
                if not authentic:
                    step = Step(401, body=b"bad signature")
                try:
                    self.send_response(step.status)
                    for name, value in step.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(step.body)))
                    self.end_headers()
                    self.wfile.write(step.body)
                except OSError:  # the client gave up waiting
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/ecqm/notices"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def answer(
        self,
        status: int,
        headers: dict[str, str] | None = None,
        body: bytes = b'{"received":true}',
        delay: float = 0.0,
    ) -> WebhookReceiver:
        """Add the next answer to the script."""
        self.script.append(Step(status, headers or {}, body, delay))
        return self

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def documented_verify() -> Callable[..., bool]:
    """The receiver's signature check, written from the documentation alone."""
    return _documented_verify


@pytest.fixture
def free_tcp_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    return free_port()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def https_webhook_receiver(tls_files: TlsFiles) -> Iterator[WebhookReceiver]:
    """The webhook receiver behind TLS, with the test session's certificate."""
    receiver = WebhookReceiver(tls=tls_files.server_context()).start()
    yield receiver
    receiver.stop()


# ------------------------------------------------------------------------ outbox
# Servers that count what arrives, for the outbox's exactly-once tests, and queued rows.


@dataclass
class SignallingMailSink(MailSink):
    """A :class:`MailSink` that sets ``arrived`` once its ``signal_at``-th message is
    stored and then holds that message's ``250`` back until ``release`` is set (10 s at
    most): the client is stuck between "the receiver accepted it" and hearing so."""

    signal_at: int | None = None
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    controller: Any = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        import asyncio

        reply = await super().handle_DATA(server, session, envelope)
        if self.signal_at is not None and len(self.messages) == self.signal_at:
            self.arrived.set()
            for _ in range(500):
                if self.release.is_set():
                    break
                await asyncio.sleep(0.02)
        return reply

    def keys(self) -> list[str]:
        """The idempotency key of every message received, in order, repeats included."""
        import email
        from email.policy import default

        return [
            str(email.message_from_bytes(m.content, policy=default)["X-Ecqm-Idempotency-Key"])
            for m in self.messages
        ]

    def message_ids(self) -> list[str]:
        import email
        from email.policy import default

        return [
            str(email.message_from_bytes(m.content, policy=default)["Message-ID"])
            for m in self.messages
        ]

    def stop(self) -> None:
        self.release.set()
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def outbox_smtp() -> Iterator[Callable[..., SignallingMailSink]]:
    """Start a plain SMTP server that counts what arrives: ``outbox_smtp(port=None,
    signal_at=None)``; a given port lets a test start the server where a client already
    failed to connect."""
    pytest.importorskip("aiosmtpd", reason="aiosmtpd is needed for the SMTP tests")
    from aiosmtpd.controller import Controller

    sinks: list[SignallingMailSink] = []

    def start(port: int | None = None, signal_at: int | None = None) -> SignallingMailSink:
        sink = SignallingMailSink(signal_at=signal_at)
        for _ in range(1 if port else 5):
            sink.port = port or free_port()
            controller = Controller(
                sink,
                hostname=sink.host,
                port=sink.port,
                server_hostname="mail.ecqm.test",
                ready_timeout=5.0,
            )
            try:
                controller.start()
            except OSError:
                continue
            sink.controller = controller
            sinks.append(sink)
            return sink
        raise RuntimeError("could not start the SMTP server")

    yield start
    for sink in sinks:
        sink.stop()


class DedupingWebhookReceiver:
    """A webhook endpoint that behaves as docs/notifications.md asks of a receiver: it
    checks the signature, stores each notice once by its idempotency key and answers 2xx
    to a repeat without storing it again. ``answer(status, delay)`` scripts the next
    answers (then 200); a 2xx answer stores the notice *before* its delay, so a client
    that times out leaves a stored notice behind, as a real receiver would."""

    def __init__(self, secret: str = WEBHOOK_SECRET) -> None:
        self.secret = secret
        self.script: list[tuple[int, float]] = []
        self.requests: list[str] = []  # the key of every authentic request, in order
        self.stored: dict[str, bytes] = {}
        self.repeats: list[str] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = self.headers.get("X-Ecqm-Idempotency-Key") or ""
                status, delay = 401, 0.0
                if _documented_verify(receiver.secret, self.headers, body, time.time()):
                    with receiver._lock:
                        receiver.requests.append(key)
                        status, delay = receiver.script.pop(0) if receiver.script else (200, 0)
                        if 200 <= status <= 299:
                            if key in receiver.stored:
                                receiver.repeats.append(key)
                            else:
                                receiver.stored[key] = body
                if delay:
                    receiver.release.wait(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except OSError:  # the client gave up waiting
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ecqm/notices"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def answer(self, status: int, delay: float = 0.0) -> DedupingWebhookReceiver:
        self.script.append((status, delay))
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def deduping_webhook() -> Iterator[DedupingWebhookReceiver]:
    receiver = DedupingWebhookReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def queue_notices() -> Callable[..., list[str]]:
    """Insert queued outbox rows the way the evaluation does: ``queue_notices(engine,
    keys, channel=, address=, now=, kind="seller_result", **columns)``; rendered from the
    example context of ``kind``. Returns the keys."""
    from sqlalchemy import insert

    from ecqm.warehouse.schema import notifications
    from transforms.notify.render import KINDS, example_context, render_notice

    def queue(
        engine: Any,
        keys: list[str],
        *,
        channel: str,
        address: str,
        now: dt.datetime,
        kind: str = "seller_result",
        **columns: Any,
    ) -> list[str]:
        context = example_context(kind)
        context["recipient"] = {**context["recipient"], "address": address}
        notice = render_notice(kind, context)
        payload = {**notice.payload, **columns.pop("payload_extra", {})}
        rows = [
            {
                "idempotency_key": key,
                "report_number": "BG-2026-0042",
                "kind": kind,
                "recipient_kind": KINDS[kind],
                "recipient_name": notice.recipient.name,
                "channel": channel,
                "address": address,
                "subject": notice.subject,
                "body_text": notice.text,
                "body_html": notice.html,
                "payload": payload,
                "status": "queued",
                "attempts": 0,
                "next_attempt_at": now,
                "reminders": 0,
                "created_at": now,
                **columns,
            }
            for key in keys
        ]
        with engine.begin() as conn:
            conn.execute(insert(notifications), rows)
        return keys

    return queue
