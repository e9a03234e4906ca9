"""Reminders and escalation when an acknowledgement is overdue (催告与上报).

A delivered notice that asks for an answer carries ``ack_due_at``. When that moment has
passed and no acknowledgement has come (``acknowledged_at`` is empty), :func:`remind`
queues a **reminder** to the same recipient over the same channel: kind ``reminder``,
``parent_id`` pointing at the notice, idempotency key ``<notice key>:reminder:<n>``.
Reminder *n* (1, 2, …) is due at ``ack_due_at + (n − 1) × interval`` and never sooner
than ``interval`` after the previous one, so a pipeline that was down for a week sends
one reminder when it comes back, not a burst. After ``max_reminders`` reminders and one
more ``interval`` it queues an **escalation** to the monitoring centre
(``ECQM_NOTIFY_ESCALATE_TO``; without it, a file in the outbox folder ``escalations``):
kind ``escalation``, key ``<notice key>:escalation``; the notice gets ``escalated_at``
and nothing more is sent about it.

Each notice is handled in its own transaction with the row locked, and every new row has
a key that names its place in the sequence, so :func:`remind` run twice at the same
``now`` (or by two workers at once) queues nothing new the second time. The outbox
delivers the queued rows like any others.

An acknowledgement that quotes a reminder's key counts for the notice it reminds of
(:mod:`transforms.notify.acks`).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import Connection, Engine, exists, insert, select, update

from ecqm.warehouse.schema import evaluations, notification_events, notifications
from transforms.notify.outbox import aware
from transforms.notify.render import (
    TEMPLATES_DIR,
    one_line,
    zh_date,
    zh_datetime,
    zh_deadline,
)

log = logging.getLogger(__name__)

FOLLOW_UP_KINDS = ("reminder", "escalation")
DEFAULT_MAX_REMINDERS = 2
DEFAULT_INTERVAL = dt.timedelta(hours=48)
MONITORING_CENTRE = "产品质量网上监测中心"
ESCALATION_FILE_LABEL = "escalations"
RECIPIENT_LABELS = {
    "seller": "网店经营者",
    "producer": "生产者",
    "platform": "电商平台",
    "regulator": "监管部门",
    "public": "社会公众",
}
_MAX_KEY = 200


@dataclass(frozen=True)
class EscalationTarget:
    """Who hears of an acknowledgement that never came: a name, a channel and an
    address (an e-mail address, a webhook URL, or an outbox folder label)."""

    name: str = MONITORING_CENTRE
    channel: str = "file"
    address: str = ESCALATION_FILE_LABEL

    @classmethod
    def parse(cls, text: str | None) -> EscalationTarget:
        """From ``ECQM_NOTIFY_ESCALATE_TO``: ``"某市市场监督管理局 <zj@amr.example.gov.cn>"``
        or a bare address; empty means a file in the outbox."""
        if not text or not text.strip():
            return cls()
        name, address = email.utils.parseaddr(text)
        if "@" not in address:
            raise ValueError(f"ECQM_NOTIFY_ESCALATE_TO must be an e-mail address, got {text!r}")
        return cls(name=one_line(name, 100) or MONITORING_CENTRE, channel="email", address=address)


@dataclass
class RemindReport:
    reminders: int = 0
    escalations: int = 0
    keys: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        return f"queued {self.reminders} reminders and {self.escalations} escalations"


def follow_up_key(parent_key: str, suffix: str) -> str:
    """``<parent key>:<suffix>``, or, when that would pass 200 characters, a digest of
    the parent key in its place (still the same for the same parent).

    >>> follow_up_key("eval-42:seller:seller_result", "reminder:1")
    'eval-42:seller:seller_result:reminder:1'
    """
    key = f"{parent_key}:{suffix}"
    if len(key) <= _MAX_KEY:
        return key
    return f"ecqm-{hashlib.sha256(parent_key.encode('utf-8')).hexdigest()[:40]}:{suffix}"


def remind(
    engine: Engine,
    now: dt.datetime,
    *,
    max_reminders: int = DEFAULT_MAX_REMINDERS,
    interval: dt.timedelta = DEFAULT_INTERVAL,
    escalate_to: EscalationTarget | None = None,
) -> RemindReport:
    """Queue the reminders and escalations due at ``now``."""
    if max_reminders < 0 or interval <= dt.timedelta(0):
        raise ValueError("max_reminders must not be negative and interval must be positive")
    now = aware(now)
    target = escalate_to or EscalationTarget()
    c = notifications.c
    with engine.connect() as conn:
        candidates = (
            conn.execute(
                select(c.id)
                .where(
                    c.status == "sent",
                    c.ack_due_at.is_not(None),
                    c.ack_due_at < now,
                    c.acknowledged_at.is_(None),
                    c.escalated_at.is_(None),
                    c.kind.not_in(FOLLOW_UP_KINDS),
                    # A report superseded by a retest is no longer pressed for an answer.
                    ~exists().where(
                        evaluations.c.id == c.evaluation_id,
                        evaluations.c.status == "superseded",
                    ),
                )
                .order_by(c.ack_due_at, c.id)
            )
            .scalars()
            .all()
        )
    report = RemindReport()
    for notice_id in candidates:
        with engine.begin() as conn:
            made = _follow_up(conn, notice_id, now, max_reminders, interval, target)
        if made is not None:
            kind, key = made
            report.keys.append(key)
            if kind == "reminder":
                report.reminders += 1
            else:
                report.escalations += 1
    log.info("remind: %s", report.summary())
    return report


def _follow_up(
    conn: Connection,
    notice_id: int,
    now: dt.datetime,
    max_reminders: int,
    interval: dt.timedelta,
    target: EscalationTarget,
) -> tuple[str, str] | None:
    """Queue the next follow-up of one notice if it is due; (kind, key) or None."""
    c = notifications.c
    # Lock the row first (PostgreSQL: the row; SQLite: the database), then read it as it
    # is now: another worker may have acted, or an acknowledgement arrived.
    locked = conn.execute(
        update(notifications)
        .where(c.id == notice_id, c.acknowledged_at.is_(None), c.escalated_at.is_(None))
        .values(reminders=c.reminders)
    ).rowcount
    if not locked:
        return None
    parent = conn.execute(select(notifications).where(c.id == notice_id)).one()._mapping
    sent = parent["reminders"]
    last = conn.execute(
        select(c.created_at)
        .where(c.parent_id == notice_id, c.kind == "reminder")
        .order_by(c.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    due = parent["ack_due_at"] + sent * interval
    if last is not None:
        due = max(due, last + interval)
    if now < due or now <= parent["ack_due_at"]:
        return None
    if sent < max_reminders:
        number = sent + 1
        key = follow_up_key(parent["idempotency_key"], f"reminder:{number}")
        next_at = max(parent["ack_due_at"] + number * interval, now + interval)
        context = _context(parent, now, last, target)
        context.update(number=number, is_last=number == max_reminders, next_at=next_at)
        row = _row(parent, "reminder", key, context, now)
        row.update(
            recipient_kind=parent["recipient_kind"],
            recipient_name=parent["recipient_name"],
            channel=parent["channel"],
            address=parent["address"],
        )
        # The same secret signs a webhook reminder as signed the notice.
        if "_delivery" in (parent["payload"] or {}):
            row["payload"]["_delivery"] = parent["payload"]["_delivery"]
        _insert_once(conn, row)
        conn.execute(update(notifications).where(c.id == notice_id).values(reminders=number))
        _event(conn, notice_id, "reminder", now, {"number": number, "key": key})
        return "reminder", key
    key = follow_up_key(parent["idempotency_key"], "escalation")
    context = _context(parent, now, last, target)
    row = _row(parent, "escalation", key, context, now)
    row.update(
        recipient_kind="regulator",
        recipient_name=target.name,
        channel=target.channel,
        address=target.address,
    )
    _insert_once(conn, row)
    conn.execute(update(notifications).where(c.id == notice_id).values(escalated_at=now))
    _event(conn, notice_id, "escalated", now, {"key": key, "to": target.name, "reminders": sent})
    return "escalation", key


def _insert_once(conn: Connection, row: dict[str, Any]) -> None:
    exists = conn.execute(
        select(notifications.c.id).where(notifications.c.idempotency_key == row["idempotency_key"])
    ).first()
    if exists is None:
        conn.execute(insert(notifications).values(**row))


def _event(conn: Connection, notice_id: int, event: str, at: dt.datetime, detail: dict) -> None:
    conn.execute(
        insert(notification_events).values(
            notification_id=notice_id, event=event, at=at, detail=detail
        )
    )


def _context(
    parent: Mapping[str, Any],
    now: dt.datetime,
    last_reminder_at: dt.datetime | None,
    target: EscalationTarget,
) -> dict[str, Any]:
    payload = parent["payload"] or {}
    issuer = payload.get("issuer") if isinstance(payload.get("issuer"), Mapping) else {}
    product = payload.get("product") if isinstance(payload.get("product"), Mapping) else {}
    shop = payload.get("shop") if isinstance(payload.get("shop"), Mapping) else {}
    listing = payload.get("listing") if isinstance(payload.get("listing"), Mapping) else {}
    return {
        "reference": _text(payload.get("reference")) or parent["idempotency_key"],
        "notice_key": parent["idempotency_key"],
        "issuer": {
            "name": _text(issuer.get("name")) or MONITORING_CENTRE,
            "contact": _text(issuer.get("contact")),
        },
        "issued_at": now,
        "recipient_name": _text(parent["recipient_name"]),
        "original_subject": _text(parent["subject"]),
        "original_recipient_name": _text(parent["recipient_name"]),
        "original_recipient_kind": parent["recipient_kind"],
        "original_recipient_kind_label": RECIPIENT_LABELS.get(parent["recipient_kind"], "收件方"),
        "report_number": _text(parent["report_number"]),
        "product_name": _text(product.get("name")),
        "shop_name": _text(shop.get("name")),
        "platform": _text(listing.get("platform")),
        "sent_at": parent["sent_at"],
        "ack_due_at": parent["ack_due_at"],
        "reminders": parent["reminders"],
        "last_reminder_at": last_reminder_at,
        "escalate_to": target.name,
    }


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return one_line(value) or None


def _row(
    parent: Mapping[str, Any], kind: str, key: str, context: dict[str, Any], now: dt.datetime
) -> dict[str, Any]:
    recipient_name = (
        context["recipient_name"] if kind == "reminder" else context["escalate_to"]
    ) or MONITORING_CENTRE
    view = {**context, "recipient_name": recipient_name}
    subject, text, html = render_follow_up(kind, view)
    payload = {
        "schema": f"ecqm.{kind}/1",
        "kind": kind,
        "reference": context["reference"],
        "parent_idempotency_key": parent["idempotency_key"],
        "issued_at": _iso(now),
        "recipient": {
            "kind": parent["recipient_kind"] if kind == "reminder" else "regulator",
            "name": recipient_name,
        },
        "subject": subject,
        "text": text,
        "issuer": context["issuer"],
        "report_number": context["report_number"],
        "original": {
            "subject": context["original_subject"],
            "recipient": {"kind": parent["recipient_kind"], "name": context["recipient_name"]},
            "sent_at": _iso(parent["sent_at"]),
            "ack_due_at": _iso(parent["ack_due_at"]),
        },
        "reminder_number": context.get("number"),
        "reminders_sent": parent["reminders"],
    }
    return {
        "idempotency_key": key,
        "evaluation_id": parent["evaluation_id"],
        "report_number": parent["report_number"],
        "parent_id": parent["id"],
        "kind": kind,
        "subject": subject,
        "body_text": text,
        "body_html": html,
        "payload": payload,
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": now,
        "reminders": 0,
        "created_at": now,
    }


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def render_follow_up(kind: str, view: Mapping[str, Any]) -> tuple[str, str, str]:
    """Subject, plain text and HTML of a ``reminder`` or ``escalation`` from the
    ``ack_reminder.*`` / ``ack_escalation.*`` templates (same sandbox, escaping and
    one-line values as the notices themselves)."""
    env = _environment()
    name = {"reminder": "ack_reminder", "escalation": "ack_escalation"}[kind]
    subject = one_line(env.get_template(f"{name}.subject.txt").render(view), 200)
    text = env.get_template(f"{name}.txt").render(view, subject=subject)
    lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    tidy = "\n".join(lines)
    while "\n\n\n" in tidy:
        tidy = tidy.replace("\n\n\n", "\n\n")
    html = env.get_template(f"{name}.html").render(view, subject=subject)
    return subject, tidy + "\n", html


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=lambda name: not (name or "").endswith(".txt"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(zh_date=zh_date, zh_datetime=zh_datetime, zh_deadline=zh_deadline)
    return env
