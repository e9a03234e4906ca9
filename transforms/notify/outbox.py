"""Deliver the notifications outbox: exactly once in effect.

The evaluation writes one ``notifications`` row per notice it owes (status ``queued``,
channel and address decided, subject and bodies rendered, a unique idempotency key) in
the same transaction as its verdict. :func:`deliver` sends them:

1. **claim** a few due rows in a short transaction and commit: status ``sending``, a
   lease (``lease_until``), ``attempts + 1`` and an ``attempt`` event. Due means
   ``queued``/``retry`` with ``next_attempt_at <= now``, or ``sending`` with an expired
   lease: *in doubt*, its worker died somewhere between claiming and recording. On
   PostgreSQL the candidates are read ``FOR UPDATE SKIP LOCKED``, so concurrent workers
   never wait on, nor take, the same row; on SQLite (one writer at a time) every claim
   is an ``UPDATE … WHERE status = <as read> AND lease_until = <as read>`` that only
   one worker can win;
2. **send** through the row's channel, outside any transaction, under the row's
   idempotency key (e-mail ``Message-ID`` and ``X-Ecqm-Idempotency-Key``; webhook header
   and body field; the outbox file name). Just before, the worker extends its lease,
   again conditionally: a worker that lost its lease skips the row;
3. **record** the outcome in a new transaction: ``sent`` (``sent_at``, ``receipt``), or
   ``retry`` (``next_attempt_at`` = now + ``backoff_s``·2^(attempts−1), capped at six
   hours, never sooner than the receiver's ``Retry-After``), or ``dead`` (a permanent
   failure, or the ``max_attempts``-th failure), each with an event row.

What that guarantees, and what it does not:

- A ``sent`` row is never claimed again: a task retry, a DAG re-run or a second worker
  sends nothing twice that was recorded as sent.
- The transport is **at least once**. A worker killed after the receiver accepted a
  notice but before ``sent`` was committed leaves the row ``sending``; once its lease
  expires the next run sends it again *with the same idempotency key* (the same
  ``Message-ID``, the same webhook key, the same file name). Only that row can be sent
  twice, and only once per crash: sends are sequential, so each worker has at most one
  row between "accepted" and "recorded" at any moment.
- Receivers de-duplicate on the key (the documented webhook contract; mail systems and
  clients on ``Message-ID``; the file channel overwrites the same file). At-least-once
  delivery plus idempotent receivers is exactly-once *effect*.
- Leases are judged by the clock of whoever passes ``now``; workers must share a clock
  (tasks pass the current UTC time). ``now`` is injectable for tests; a run's later
  steps use ``now`` plus the real time elapsed since it started.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine, and_, func, insert, or_, select, update

from ecqm.warehouse.schema import notification_events, notifications
from transforms.notify.channels import (
    Channel,
    DeliveryResult,
    FileChannel,
    SmtpChannel,
    WebhookChannel,
)
from transforms.notify.render import Notice, Recipient, one_line

if TYPE_CHECKING:
    from ecqm.settings import Settings

log = logging.getLogger(__name__)

CHANNELS = ("email", "webhook", "file")
DUE_STATUSES = ("queued", "retry")
DEFAULT_BATCH = 10
DEFAULT_LEASE = dt.timedelta(minutes=10)
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_BACKOFF_S = 300.0
MAX_BACKOFF_S = 6 * 3600.0
MAX_RETRY_AFTER_S = 24 * 3600.0
# Where a webhook's secret may be named (the row's ``payload._delivery``): a secret is
# only ever read from a variable or connection meant for webhooks, so a row cannot make
# the outbox sign with, say, the SMTP password.
SECRET_ENV = re.compile(r"ECQM_WEBHOOK_SECRET(?:_[A-Z0-9_]+)?")
SECRET_CONN = re.compile(r"ecqm_webhook[a-z0-9_]*")
_FILE_LABEL = re.compile(r"[^A-Za-z0-9_-]+")


class ChannelUnavailable(RuntimeError):
    """A row's channel cannot be built now (a secret not set, a connection missing).
    Transient: the row is retried, and dead-lettered after the last attempt."""


class ChannelSource(Protocol):
    """What :func:`deliver` needs from a channel factory."""

    @property
    def channels(self) -> frozenset[str]:
        """The ``notifications.channel`` values this factory can serve; rows of other
        channels stay queued (e-mail while ``ECQM_SMTP_HOST`` is unset)."""
        ...

    def channel_for(self, row: Mapping[str, Any]) -> Channel: ...


# ---------------------------------------------------------------- channel factory


def secret_reference(payload: Mapping[str, Any] | None) -> dict[str, str]:
    """The webhook secret a row names in ``payload._delivery``: ``{"secret_env": NAME}``
    or ``{"secret_conn": CONN_ID}`` (empty when it names none)."""
    delivery = (payload or {}).get("_delivery")
    if not isinstance(delivery, Mapping):
        return {}
    return {k: str(delivery[k]) for k in ("secret_env", "secret_conn") if delivery.get(k)}


def resolve_secret(
    reference: Mapping[str, str],
    environ: Mapping[str, str] | None = None,
    connection_password: Callable[[str], str | None] | None = None,
) -> str:
    """The secret named by :func:`secret_reference`; :class:`ChannelUnavailable` when it
    names none, names one outside the allowed names, or the one named is not set."""
    env = os.environ if environ is None else environ
    if name := reference.get("secret_env"):
        if not SECRET_ENV.fullmatch(name):
            raise ChannelUnavailable(f"secret_env {name!r} is not an ECQM_WEBHOOK_SECRET_* name")
        value = env.get(name)
        if not value:
            raise ChannelUnavailable(f"the environment variable {name} is not set")
        return value
    if conn_id := reference.get("secret_conn"):
        if not SECRET_CONN.fullmatch(conn_id):
            raise ChannelUnavailable(f"secret_conn {conn_id!r} is not an ecqm_webhook* connection")
        value = (connection_password or airflow_password)(conn_id)
        if not value:
            raise ChannelUnavailable(f"the Airflow connection {conn_id} has no password")
        return value
    raise ChannelUnavailable("the row names no webhook secret (payload._delivery)")


def airflow_password(conn_id: str) -> str | None:
    """The password of an Airflow connection (``AIRFLOW_CONN_*``, a secrets backend, or
    inside a task the API server), or ``None`` when Airflow or the connection is absent."""
    try:
        from airflow.sdk import Connection
    except ImportError:
        return None
    try:
        return Connection.get(conn_id).password or None
    except Exception:  # noqa: BLE001 — AirflowNotFoundException and friends
        return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ChannelFactory:
    """Channels for outbox rows: e-mail from the SMTP settings, webhooks to the row's
    URL signed with the secret the row names, files under ``outbox_dir``.

    ``smtp`` holds :class:`SmtpChannel` keyword arguments (``None``: e-mail off).
    ``webhook`` holds :class:`WebhookChannel` keyword arguments (``timeout``,
    ``max_attempts``, ``sleep``, ``verify`` …). Files go to
    ``outbox_dir/<the row's address as a folder name>/``.
    """

    def __init__(
        self,
        *,
        smtp: Mapping[str, Any] | None = None,
        webhook: Mapping[str, Any] | None = None,
        outbox_dir: Path | str | None = None,
        environ: Mapping[str, str] | None = None,
        connection_password: Callable[[str], str | None] | None = None,
    ) -> None:
        self._smtp = SmtpChannel(**smtp) if smtp else None
        self._webhook = dict(webhook or {})
        self.outbox_dir = Path(outbox_dir) if outbox_dir is not None else None
        self._environ = environ
        self._connection_password = connection_password

    @classmethod
    def from_settings(
        cls, s: Settings, *, smtp_connection: Mapping[str, Any] | None = None
    ) -> ChannelFactory:
        """The factory the settings describe. ``smtp_connection`` (host, port, login,
        password: the Airflow connection ``ecqm_smtp``) overrides the ``ECQM_SMTP_*``
        values it has. Raises ``ValueError`` for e-mail without a sender."""
        conn = {k: v for k, v in (smtp_connection or {}).items() if v}
        host = conn.get("host") or s.smtp_host
        smtp: dict[str, Any] | None = None
        if host:
            if not s.smtp_sender:
                raise ValueError("ECQM_SMTP_SENDER is needed when e-mail is on (ECQM_SMTP_HOST)")
            username = conn.get("login") or s.smtp_username
            password = conn.get("password") or s.smtp_password
            smtp = {
                "host": host,
                "port": int(conn.get("port") or s.smtp_port),
                "username": username if password else None,
                "password": password if username else None,
                "starttls": s.smtp_security == "starttls",
                "ssl": s.smtp_security == "ssl",
                "timeout": s.smtp_timeout,
                "sender": s.smtp_sender,
                "ca_file": s.smtp_ca_file,
                # A relay on this machine may take a password without TLS; nothing else.
                "allow_insecure_auth": _is_loopback(host),
            }
        return cls(
            smtp=smtp,
            webhook={"timeout": s.webhook_timeout, "max_attempts": s.webhook_max_attempts},
            outbox_dir=s.outbox_dir / "notices",
        )

    @property
    def channels(self) -> frozenset[str]:
        served = {"webhook"}
        if self._smtp is not None:
            served.add("email")
        if self.outbox_dir is not None:
            served.add("file")
        return frozenset(served)

    def channel_for(self, row: Mapping[str, Any]) -> Channel:
        kind = row["channel"]
        if kind == "email" and self._smtp is not None:
            return self._smtp
        if kind == "webhook":
            secret = resolve_secret(
                secret_reference(row.get("payload")), self._environ, self._connection_password
            )
            # A URL that is not one raises ValueError: a permanent failure of the row.
            return WebhookChannel(row["address"], secret, **self._webhook)
        if kind == "file" and self.outbox_dir is not None:
            label = _FILE_LABEL.sub("_", row.get("address") or "").strip("_-.")[:64]
            return FileChannel(self.outbox_dir / (label or "notices"))
        raise ChannelUnavailable(f"channel {kind!r} is not configured")


# ---------------------------------------------------------------- the report


@dataclass
class DeliveryReport:
    """What one :func:`deliver` call did. ``in_doubt`` counts claims of rows whose
    previous worker's lease had expired (they are sent again under the same key);
    ``lost`` counts rows whose lease passed to another worker mid-way; ``waiting``
    counts due rows of channels not configured here, by channel."""

    claimed: int = 0
    in_doubt: int = 0
    sent: int = 0
    retry: int = 0
    dead: int = 0
    lost: int = 0
    waiting: dict[str, int] = field(default_factory=dict)
    sent_keys: list[str] = field(default_factory=list)
    dead_keys: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        waiting = sum(self.waiting.values())
        text = (
            f"claimed {self.claimed} ({self.in_doubt} in doubt): sent {self.sent}, "
            f"retry later {self.retry}, dead-lettered {self.dead}"
        )
        if self.lost:
            text += f", {self.lost} taken over by another worker"
        if waiting:
            text += ", waiting for a channel: " + ", ".join(
                f"{k} {v}" for k, v in sorted(self.waiting.items())
            )
        return text


@dataclass(frozen=True)
class _Claim:
    id: int
    key: str
    attempt: int
    lease_until: dt.datetime
    in_doubt: bool


# ---------------------------------------------------------------- delivery


def aware(now: dt.datetime) -> dt.datetime:
    """``now`` in UTC; a naive time is refused (it would be a bug upstream)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must carry a time zone")
    return now.astimezone(dt.UTC)


def backoff_delay(
    attempt: int, base_s: float, retry_after: float | None = None, cap_s: float = MAX_BACKOFF_S
) -> float:
    """Seconds before try ``attempt + 1`` after try ``attempt`` (1, 2, …) failed:
    ``base_s``·2^(attempt−1), at most ``cap_s``, at least the receiver's ``retry_after``
    (itself at most a day).

    >>> [backoff_delay(n, 300) for n in (1, 2, 3)], backoff_delay(20, 300)
    ([300.0, 600.0, 1200.0], 21600.0)
    >>> backoff_delay(1, 300, retry_after=3600)
    3600.0
    """
    delay = min(cap_s, base_s * 2.0 ** min(max(attempt - 1, 0), 60))
    if retry_after:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_S))
    return float(delay)


def deliver(
    engine: Engine,
    now: dt.datetime,
    channels: ChannelSource,
    *,
    batch: int = DEFAULT_BATCH,
    lease: dt.timedelta = DEFAULT_LEASE,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    backoff_s: float = DEFAULT_BACKOFF_S,
    limit: int | None = None,
) -> DeliveryReport:
    """Send every notification due at ``now`` (at most ``limit``), ``batch`` claimed
    per transaction, each held for ``lease`` while it is sent.

    ``lease`` must be longer than one send can take (a webhook with retries: about
    ``max_attempts × 3 × timeout``); a worker extends it before each send.
    """
    if batch < 1 or max_attempts < 1 or lease <= dt.timedelta(0):
        raise ValueError("batch and max_attempts must be at least 1, lease positive")
    start_now = aware(now)
    started = time.monotonic()

    def clock() -> dt.datetime:
        return start_now + dt.timedelta(seconds=time.monotonic() - started)

    report = DeliveryReport()
    served = channels.channels
    worker = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    while limit is None or report.claimed < limit:
        size = batch if limit is None else min(batch, limit - report.claimed)
        claims = _claim(engine, start_now, clock(), lease, size, served, worker)
        if not claims:
            break
        report.claimed += len(claims)
        report.in_doubt += sum(c.in_doubt for c in claims)
        for claim in claims:
            _deliver_one(engine, claim, channels, clock, lease, max_attempts, backoff_s, report)
    report.waiting = _waiting(engine, start_now, served)
    if report.waiting:
        log.warning(
            "notifications waiting for a channel that is not configured: %s", report.waiting
        )
    log.info("deliver: %s", report.summary())
    return report


def _due(now: dt.datetime) -> Any:
    c = notifications.c
    return or_(
        and_(c.status.in_(DUE_STATUSES), c.next_attempt_at <= now),
        and_(c.status == "sending", or_(c.lease_until.is_(None), c.lease_until <= now)),
    )


def _claim(
    engine: Engine,
    now: dt.datetime,
    at: dt.datetime,
    lease: dt.timedelta,
    size: int,
    served: Iterable[str],
    worker: str,
) -> list[_Claim]:
    c = notifications.c
    lease_until = at + lease
    with engine.begin() as conn:
        query = (
            select(c.id, c.idempotency_key, c.status, c.lease_until, c.attempts)
            .where(_due(now), c.channel.in_(sorted(served)))
            .order_by(c.next_attempt_at, c.id)
            .limit(size)
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        claims = []
        for row in conn.execute(query).all():
            # The row exactly as read: only one worker's UPDATE can match it.
            same_lease = (
                c.lease_until.is_(None)
                if row.lease_until is None
                else c.lease_until == row.lease_until
            )
            taken = conn.execute(
                update(notifications)
                .where(c.id == row.id, c.status == row.status, same_lease)
                .values(status="sending", lease_until=lease_until, attempts=c.attempts + 1)
            )
            if taken.rowcount == 1:
                claims.append(
                    _Claim(
                        row.id,
                        row.idempotency_key,
                        row.attempts + 1,
                        lease_until,
                        row.status == "sending",
                    )
                )
        if claims:
            conn.execute(
                insert(notification_events),
                [
                    {
                        "notification_id": cl.id,
                        "event": "attempt",
                        "at": at,
                        "detail": {
                            "attempt": cl.attempt,
                            "in_doubt": cl.in_doubt,
                            "worker": worker,
                            "lease_until": lease_until.isoformat(),
                        },
                    }
                    for cl in claims
                ],
            )
    return claims


def _renew(engine: Engine, claim: _Claim, lease_until: dt.datetime) -> bool:
    c = notifications.c
    with engine.begin() as conn:
        renewed = conn.execute(
            update(notifications)
            .where(c.id == claim.id, c.status == "sending", c.lease_until == claim.lease_until)
            .values(lease_until=lease_until)
        )
    return renewed.rowcount == 1


def notice_of(row: Mapping[str, Any]) -> Notice:
    """The notice an outbox row holds. Payload keys starting with ``_`` are for the
    outbox (``_delivery``) and never leave it."""
    payload = {k: v for k, v in (row["payload"] or {}).items() if not str(k).startswith("_")}
    return Notice(
        kind=row["kind"],
        recipient=Recipient(row["recipient_kind"], row["recipient_name"], row["address"]),
        subject=row["subject"],
        text=row["body_text"],
        html=row["body_html"],
        payload=payload,
    )


def _send(channels: ChannelSource, row: Mapping[str, Any]) -> DeliveryResult:
    """Build and send; never raises. A row that cannot become a notice or a channel
    (a bad recipient, a bad URL, a malformed key: ``ValueError``) is a permanent failure;
    a missing secret or any other error a transient one."""
    name = row["channel"]
    try:
        notice = notice_of(row)
        channel = channels.channel_for(row)
        return channel.send(notice, row["idempotency_key"])
    except ChannelUnavailable as exc:
        return DeliveryResult(ok=False, channel=name, error=one_line(str(exc), 300))
    except ValueError as exc:
        return DeliveryResult(ok=False, channel=name, error=one_line(str(exc), 300), permanent=True)
    except Exception as exc:  # noqa: BLE001 — one bad row must not stop the batch
        log.exception("notification %s: sending failed unexpectedly", row["idempotency_key"])
        return DeliveryResult(
            ok=False, channel=name, error=one_line(f"{type(exc).__name__}: {exc}", 300)
        )


def _deliver_one(
    engine: Engine,
    claim: _Claim,
    channels: ChannelSource,
    clock: Callable[[], dt.datetime],
    lease: dt.timedelta,
    max_attempts: int,
    backoff_s: float,
    report: DeliveryReport,
) -> None:
    renewed = clock() + lease
    if not _renew(engine, claim, renewed):
        report.lost += 1
        log.warning("notification %s: lease lost before sending; skipped", claim.key)
        return
    claim = _Claim(claim.id, claim.key, claim.attempt, renewed, claim.in_doubt)
    with engine.connect() as conn:
        row = conn.execute(select(notifications).where(notifications.c.id == claim.id)).one()
    result = _send(channels, row._mapping)
    outcome = _record(engine, claim, result, clock(), max_attempts, backoff_s)
    if outcome == "sent":
        report.sent += 1
        report.sent_keys.append(claim.key)
    elif outcome == "retry":
        report.retry += 1
    elif outcome == "dead":
        report.dead += 1
        report.dead_keys.append(claim.key)
    else:
        report.lost += 1


def _record(
    engine: Engine,
    claim: _Claim,
    result: DeliveryResult,
    at: dt.datetime,
    max_attempts: int,
    backoff_s: float,
) -> str:
    c = notifications.c
    owned = and_(c.id == claim.id, c.status == "sending", c.lease_until == claim.lease_until)
    detail: dict[str, Any] = {
        "attempt": claim.attempt,
        "channel": result.channel,
        "status": result.status,
        "tries": result.attempts,
    }
    with engine.begin() as conn:
        if result.ok:
            # Delivered is the truth whoever holds the lease now; only a row already
            # recorded as sent (or cancelled by a person) is left as it is.
            changed = conn.execute(
                update(notifications)
                .where(c.id == claim.id, c.status.in_(("sending", "queued", "retry", "dead")))
                .values(
                    status="sent",
                    sent_at=at,
                    receipt=result.receipt,
                    lease_until=None,
                    last_error=None,
                )
            ).rowcount
            event, outcome = "sent", "sent"
            detail.update(receipt=result.receipt, recorded=bool(changed))
        else:
            detail.update(error=result.error, permanent=result.permanent)
            if result.permanent or claim.attempt >= max_attempts:
                values: dict[str, Any] = {"status": "dead", "lease_until": None}
                event = outcome = "dead"
                detail["reason"] = "permanent" if result.permanent else "max_attempts"
            else:
                wait = backoff_delay(claim.attempt, backoff_s, result.retry_after)
                values = {
                    "status": "retry",
                    "lease_until": None,
                    "next_attempt_at": at + dt.timedelta(seconds=wait),
                }
                event, outcome = "failed", "retry"
                detail.update(
                    retry_after=result.retry_after,
                    next_attempt_at=values["next_attempt_at"].isoformat(),
                )
            changed = conn.execute(
                update(notifications).where(owned).values(last_error=result.error, **values)
            ).rowcount
            if not changed:  # another worker took the row over; its outcome stands
                outcome = "lost"
                detail["lease_lost"] = True
        conn.execute(
            insert(notification_events).values(
                notification_id=claim.id, event=event, at=at, detail=detail
            )
        )
    if outcome == "dead":
        log.warning("notification %s dead-lettered: %s", claim.key, result.error)
    return outcome


def _waiting(engine: Engine, now: dt.datetime, served: Iterable[str]) -> dict[str, int]:
    c = notifications.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(c.channel, func.count())
            .where(_due(now), c.channel.not_in(sorted(served)))
            .group_by(c.channel)
        ).all()
    return {channel: n for channel, n in rows}
