"""The acknowledgement receiver: ``POST /ack``, signed like the notices themselves.

A recipient's system (a platform, usually) answers a notice by posting JSON::

    POST /ack
    Content-Type: application/json; charset=utf-8
    X-Ecqm-Timestamp: 1795400000
    X-Ecqm-Signature: sha256=<HMAC-SHA256 of "<timestamp>.<raw body>">
    X-Ecqm-Idempotency-Key: eval-42:platform:platform_failure

    {"idempotency_key": "eval-42:platform:platform_failure", "kind": "takedown_confirmed",
     "note": "已下架商品 6623001", "at": "2026-11-24T09:30:00+08:00"}

The signature is the scheme of ``docs/notifications.md`` in the other direction, keyed
with **the secret the notice was signed with**: the one its outbox row names
(``payload._delivery``), so each platform signs with its own secret and can only
acknowledge what was sent to it. During a rotation the previous secret, in
``<variable>_PREVIOUS``, is accepted too.

Answers: 200 ``{"status": "recorded" | "duplicate"}`` (the same acknowledgement again
changes nothing); 401 for a missing, stale (more than 300 s either way) or wrong
signature, or a notice that was sent with no secret; 404 for an unknown key (the key is
looked up before the signature is checked, because the key chooses the secret); 400
for a body that is not a valid acknowledgement; 411/413 for a missing or too large
body; 503 when the warehouse cannot be reached (try again).

``ecqm ack-server --port 8765`` runs it; put it behind a TLS-terminating proxy.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from ecqm.warehouse.schema import notifications
from transforms.notify.acks import ACK_KINDS, MAX_NOTE, Ack, record_ack
from transforms.notify.channels import (
    DEFAULT_TOLERANCE_S,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    check_idempotency_key,
    verify_signature,
)
from transforms.notify.outbox import (
    ChannelUnavailable,
    airflow_password,
    resolve_secret,
    secret_reference,
)

log = logging.getLogger(__name__)

ACK_PATH = "/ack"
MAX_BODY = 64 * 1024


class AckServer(ThreadingHTTPServer):
    """An HTTP server for acknowledgements; :meth:`handle_ack` holds the logic, the
    request handler only reads and writes HTTP."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        engine: Engine,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tolerance_s: float = DEFAULT_TOLERANCE_S,
        clock: Callable[[], float] = time.time,
        environ: Mapping[str, str] | None = None,
        connection_password: Callable[[str], str | None] | None = None,
        max_body: int = MAX_BODY,
    ) -> None:
        super().__init__((host, port), _Handler)
        self.engine = engine
        self.tolerance_s = tolerance_s
        self.clock = clock
        self.environ = environ
        self.connection_password = connection_password or airflow_password
        self.max_body = max_body
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{ACK_PATH}"

    def start(self) -> AckServer:
        """Serve in a background thread (tests, embedding)."""
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    # ------------------------------------------------------------ the logic

    def secrets_for(self, key: str) -> list[str] | None:
        """The secrets an acknowledgement of ``key`` may be signed with; ``None`` when
        no notice has that key."""
        c = notifications.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(c.payload, c.parent_id).where(c.idempotency_key == key)
            ).first()
            if row is None:
                return None
            reference = secret_reference(row.payload)
            if not reference and row.parent_id is not None:
                parent = conn.execute(select(c.payload).where(c.id == row.parent_id)).scalar()
                reference = secret_reference(parent)
        secrets: list[str] = []
        if not reference:
            return secrets
        try:
            secrets.append(resolve_secret(reference, self.environ, self.connection_password))
        except ChannelUnavailable as exc:
            log.warning("acknowledgement of %s: %s", key, exc)
        if name := reference.get("secret_env"):
            env = self.environ if self.environ is not None else os.environ
            if previous := env.get(f"{name}_PREVIOUS"):
                secrets.append(previous)
        return secrets

    def handle_ack(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON reply) for one request to ``POST /ack``."""
        now = self.clock()
        timestamp = headers.get(TIMESTAMP_HEADER)
        signature = headers.get(SIGNATURE_HEADER)
        if not timestamp or not signature:
            return 401, {"error": "the request is not signed"}
        if not _fresh(timestamp, now, self.tolerance_s):
            return 401, {"error": "the timestamp is malformed or outside the replay window"}
        key = (headers.get(IDEMPOTENCY_HEADER) or "").strip()
        try:
            check_idempotency_key(key)
        except ValueError:
            return 400, {"error": f"{IDEMPOTENCY_HEADER} is missing or malformed"}
        try:
            secrets = self.secrets_for(key)
        except OperationalError:
            log.exception("acknowledgement of %s: the warehouse is unreachable", key)
            return 503, {"error": "try again later"}
        if secrets is None:
            return 404, {"error": "no notice has this idempotency key"}
        if not secrets:
            return 401, {"error": "this notice was sent without a webhook secret"}
        if not any(
            verify_signature(s, timestamp, body, signature, self.tolerance_s, now=now)
            for s in secrets
        ):
            return 401, {"error": "bad signature"}
        try:
            ack = _parse(body, key, now, self.tolerance_s)
        except ValueError as exc:
            return 400, {"error": str(exc)}
        try:
            with self.engine.begin() as conn:
                outcome = record_ack(conn, ack, dt.datetime.fromtimestamp(now, dt.UTC))
        except OperationalError:
            log.exception("acknowledgement of %s: the warehouse is unreachable", key)
            return 503, {"error": "try again later"}
        if outcome == "unknown":
            return 404, {"error": "no notice has this idempotency key"}
        log.info("acknowledgement of %s (%s): %s", key, ack.kind, outcome)
        return 200, {"status": outcome, "idempotency_key": key}


def _fresh(timestamp: str, now: float, tolerance_s: float) -> bool:
    text = timestamp.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        return False
    return abs(now - int(text)) <= tolerance_s


def _parse(body: bytes, key: str, now: float, tolerance_s: float) -> Ack:
    """The acknowledgement in a verified body; ``ValueError`` says what is wrong."""
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("the body is not JSON in UTF-8") from None
    if not isinstance(doc, dict):
        raise ValueError("the body is not a JSON object")
    if doc.get("idempotency_key") != key:
        raise ValueError(f"idempotency_key in the body differs from {IDEMPOTENCY_HEADER}")
    kind = doc.get("kind")
    if kind not in ACK_KINDS:
        raise ValueError(f"kind must be one of {', '.join(ACK_KINDS)}")
    note = doc.get("note")
    if note is not None and not isinstance(note, str):
        raise ValueError("note must be text")
    if note is not None and len(note) > MAX_NOTE:
        raise ValueError(f"note is longer than {MAX_NOTE} characters")
    at = dt.datetime.fromtimestamp(now, dt.UTC)
    if doc.get("at") is not None:
        try:
            at = dt.datetime.fromisoformat(str(doc["at"]).replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("at must be an ISO 8601 time with an offset") from None
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("at must carry an offset (2026-11-24T09:30:00+08:00)")
        if at.timestamp() > now + tolerance_s:
            raise ValueError("at is in the future")
    return Ack(key, kind, at.astimezone(dt.UTC), note, "webhook")


class _Handler(BaseHTTPRequestHandler):
    server: AckServer
    server_version = "ecqm-ack/1"

    def do_POST(self) -> None:  # noqa: N802
        if urlsplit(self.path).path != ACK_PATH:
            self._reply(404, {"error": "not found"})
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.strip().isdigit():
            self._reply(411, {"error": "Content-Length is required"})
            return
        if int(length) > self.server.max_body:
            self._reply(413, {"error": f"the body is larger than {self.server.max_body} bytes"})
            return
        body = self.rfile.read(int(length))
        try:
            status, reply = self.server.handle_ack(self.headers, body)
        except Exception:  # noqa: BLE001 — answer 500, keep serving
            log.exception("acknowledgement failed")
            status, reply = 500, {"error": "internal error"}
        self._reply(status, reply)

    def do_GET(self) -> None:  # noqa: N802
        if urlsplit(self.path).path == "/health":
            self._reply(200, {"status": "ok"})
        else:
            self._reply(404, {"error": "not found"})

    def _reply(self, status: int, reply: dict[str, Any]) -> None:
        data = json.dumps(reply, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if status == 503:
            self.send_header("Retry-After", "30")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


def serve(engine: Engine, host: str = "127.0.0.1", port: int = 8765, **kwargs: Any) -> None:
    """Run the receiver until interrupted."""
    server = AckServer(engine, host, port, **kwargs)
    log.info("acknowledgements on %s", server.url)
    print(f"acknowledgements on {server.url} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
