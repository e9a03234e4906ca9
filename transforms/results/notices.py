"""The notices an evaluation owes, and their rows in the ``notifications`` outbox.

:func:`plan_notices` decides who is told what (信息传递及反馈, GB/T 37538-2019):

- ``seller_result`` to the seller, for every current evaluation, pass or fail;
- on a failure, ``producer_failure`` to the named producer (标称生产者) when the product
  names one, and ``platform_failure`` to the platform (take the listing down);
- on a safety defect, ``regulator_safety`` to the regulator of the producer's region and
  of the shop's region (属地; one notice when both are the same regulator, and one to
  an unresolved regulator, filed for a person to forward, when neither region is
  known), and a ``public_alert`` entry (``notices.public_alert_when`` may widen that
  to every failure).

Each notice is rendered at queue time and carries an idempotency key
``{report_number}:{kind}:{recipient_kind}:{recipient_id}`` (printable ASCII, at most
200 characters; a part that is not plain ASCII, or is long, is replaced by a hash of
itself). :func:`queue` inserts with ``ON CONFLICT DO NOTHING`` on that key, so a re-run
or a re-evaluation of the same report never queues a notice twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ecqm.warehouse.schema import notification_events, notifications
from transforms.notify.render import KINDS, SHANGHAI, Notice, render_notice
from transforms.notify.routes import Route, Routes, party_key
from transforms.notify.workdays import OutsideCalendarError, WorkdayCalendar
from transforms.results.facts import Region, SampleFacts
from transforms.results.judge import DEFECT_CLASSES, Judgement, JudgementRules

MAX_KEY = 200
# Notices not yet in a sender's hands: the outbox may still cancel or refresh them.
PENDING = ("queued", "retry")
REFERENCE_CODES = {
    "seller_result": "GZ",
    "producer_failure": "SC",
    "platform_failure": "XJ",
    "regulator_safety": "TB",
    "public_alert": "XF",
}
DEFECT_ZH = {"critical": "严重缺陷", "major": "一般缺陷", "minor": "轻微缺陷"}
_PLAIN = re.compile(r"[\x21-\x39\x3b-\x7e]{1,64}")  # printable ASCII, no space, no ':'
UNRESOLVED_REGULATOR = "unresolved"


@dataclass(frozen=True)
class Deadlines:
    """The times on an evaluation's notices (UTC instants, exclusive ends)."""

    notify_by: dt.datetime  # seller_deadline: the notices are due before this
    objection_until: dt.date  # respond_by of seller and producer notices (a whole day)
    objection_ends: dt.datetime  # the instant that day ends
    # The platform confirms the takedown before this; None when the count runs into a
    # year the calendar does not cover yet (the notice still goes, without a deadline).
    takedown_by: dt.datetime | None


@dataclass(frozen=True)
class PlannedNotice:
    kind: str
    recipient_kind: str
    recipient_id: str
    route: Route
    notice: Notice
    due_at: dt.datetime | None
    ack_due_at: dt.datetime | None
    key: str


def deadlines(
    tested_on: dt.date, now: dt.datetime, rules: JudgementRules, calendar: WorkdayCalendar
) -> Deadlines:
    """Raises :class:`~transforms.notify.workdays.OutsideCalendarError` when the
    notification period runs into a year the working-day calendar does not cover yet."""
    notify_by = calendar.deadline_at(tested_on, rules.seller_workdays)
    try:
        takedown_by: dt.datetime | None = calendar.deadline_at(now, rules.takedown_workdays)
    except OutsideCalendarError:
        takedown_by = None
    last_day = notify_by.astimezone(SHANGHAI).date() - dt.timedelta(days=1)
    until = last_day + dt.timedelta(days=rules.objection_days)
    ends = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=SHANGHAI)
    return Deadlines(
        notify_by=notify_by,
        objection_until=until,
        objection_ends=ends.astimezone(dt.UTC),
        takedown_by=takedown_by,
    )


def key_part(text: str) -> str:
    """``text`` when it is 1–64 printable ASCII characters without spaces or ``:``,
    else ``~`` and the first 24 hex digits of its SHA-256 (so every key is printable
    ASCII, splits on ``:`` unambiguously, and stays under 200 characters)."""
    if _PLAIN.fullmatch(text):
        return text
    return "~" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def idempotency_key(report_number: str, kind: str, recipient_kind: str, recipient_id: str) -> str:
    """``{report_number}:{kind}:{recipient_kind}:{recipient_id}``, each part made safe.

    >>> idempotency_key("QC2026-0417", "producer_failure", "producer", "浙江某某电器有限公司")
    'QC2026-0417:producer_failure:producer:~30d5e966324b6781e87f7c22'
    """
    key = ":".join(key_part(p) for p in (report_number, kind, recipient_kind, recipient_id))
    assert len(key) <= MAX_KEY, key
    return key


def plan_notices(
    evaluation: Mapping[str, Any],
    judgement: Judgement,
    facts: SampleFacts,
    *,
    rules: JudgementRules,
    routes: Routes,
    times: Deadlines,
    now: dt.datetime,
) -> list[PlannedNotice]:
    """Every notice a current evaluation owes, rendered and routed."""
    failed = judgement.verdict == "fail"
    items = [_notice_item(i) for i in judgement.notice_items]
    base = _context(evaluation, judgement, facts, routes, items, now)
    out: list[PlannedNotice] = []

    def add(
        kind: str,
        recipient_id: str,
        name: str,
        route: Route,
        *,
        due: dt.datetime | None,
        ack: dt.datetime | None = None,
        **extra: Any,
    ) -> None:
        rkind = KINDS[kind]
        context = {
            **base,
            **extra,
            "recipient": {"kind": rkind, "name": name, "address": route.address},
            "reference": _reference(evaluation["report_number"], kind, recipient_id),
        }
        notice = render_notice(kind, context)
        key = idempotency_key(evaluation["report_number"], kind, rkind, recipient_id)
        out.append(PlannedNotice(kind, rkind, recipient_id, route, notice, due, ack, key))

    add(
        "seller_result",
        facts.shop_key,
        facts.shop_name,
        routes.route("seller", platform=facts.platform),
        due=times.notify_by,
        # Silence until the objection period ends means the seller accepts the result:
        # the notice asks for no answer, so it is never reminded or escalated.
        ack=None,
        sample_number=facts.task_id,
        respond_by=times.objection_until,
    )
    if not failed:
        return out
    producer = {"name": facts.producer_name} if facts.producer_name else None
    if producer is not None:
        add(
            "producer_failure",
            party_key(facts.producer_name or ""),
            facts.producer_name or "",
            routes.route("producer", producer=facts.producer_name),
            due=times.notify_by,
            producer=producer,
            respond_by=times.objection_until,
        )
    add(
        "platform_failure",
        facts.platform,
        routes.platform_name(facts.platform),
        routes.route("platform", platform=facts.platform),
        due=times.notify_by,
        ack=times.takedown_by,
        respond_by=times.takedown_by,
    )
    if judgement.is_safety:
        hazard = safety_hazard(judgement)
        for region in regulators(facts):
            if region is None:
                name = "属地市场监督管理部门（地区未能确定，请转送）"
                add(
                    "regulator_safety",
                    UNRESOLVED_REGULATOR,
                    name,
                    routes.route("regulator"),
                    due=times.notify_by,
                    producer=producer or {"name": "（未标注生产者）"},
                    regulator={"name": name},
                    hazard=hazard,
                )
                continue
            add(
                "regulator_safety",
                region.code,
                region.regulator_name,
                routes.route("regulator", email=region.notify_email),
                due=times.notify_by,
                producer=producer or {"name": "（未标注生产者）"},
                regulator={"name": region.regulator_name, "region": region.label},
                hazard=hazard,
            )
    if judgement.is_safety or rules.public_alert_when == "fail":
        add(
            "public_alert",
            "public",
            "公众",
            routes.route("public"),
            due=None,
            producer=producer,
            hazard=safety_hazard(judgement) if judgement.is_safety else None,
        )
    return out


def regulators(facts: SampleFacts) -> list[Region | None]:
    """The 属地 regulators of a safety defect: the producer's region's, then the shop's,
    once each (by region code and by regulator); ``[None]`` when neither is known."""
    out: list[Region] = []
    for region in (facts.producer_region, facts.shop_region):
        if region is None:
            continue
        if any(r.code == region.code or r.regulator_name == region.regulator_name for r in out):
            continue
        out.append(region)
    return list(out) or [None]


def safety_hazard(judgement: Judgement) -> str:
    """The safety risk in words for people: the failed safety items and their classes."""
    named = "、".join(
        i["test_item"] + (f"（{DEFECT_ZH[i['defect_class']]}）" if i["defect_class"] else "")
        for i in judgement.safety_items
    )
    return f"涉及安全的检验项目不合格：{named}。产品存在危及人身、财产安全的风险，请依法处置。"


def queue(
    conn: Connection,
    evaluation_id: int,
    report_number: str,
    planned: Iterable[PlannedNotice],
    now: dt.datetime,
    *,
    refresh: bool = False,
    inserted: list[PlannedNotice] | None = None,
) -> dict[str, int]:
    """Insert the planned notices (``ON CONFLICT DO NOTHING`` on the key) and a
    ``queued`` event for each new one.

    With ``refresh`` (the report was evaluated again because its items changed), a
    notice still pending (queued or retry) is rewritten with the new content, and a
    pending notice of this evaluation that is no longer owed is cancelled; notices
    already sent stay as they were and are counted in ``stale_sent``. The notices
    newly queued are appended to ``inserted`` when given.
    """
    planned = list(planned)
    counts = {"queued": 0, "already_queued": 0, "refreshed": 0, "cancelled": 0, "stale_sent": 0}
    existing = {
        r.idempotency_key: r
        for r in conn.execute(
            select(
                notifications.c.id,
                notifications.c.idempotency_key,
                notifications.c.status,
                notifications.c.subject,
                notifications.c.body_text,
                notifications.c.body_html,
                notifications.c.payload,
                notifications.c.channel,
                notifications.c.address,
                notifications.c.due_at,
                notifications.c.ack_due_at,
            ).where(
                notifications.c.idempotency_key.in_([p.key for p in planned])
                | (
                    (notifications.c.evaluation_id == evaluation_id)
                    # Reminders and escalations (rows with a parent) are the outbox's.
                    & notifications.c.parent_id.is_(None)
                )
            )
        )
    }
    for p in planned:
        row = _row(p, evaluation_id, report_number, now)
        before = existing.get(p.key)
        if before is None:
            new_id = _insert_new(conn, row)
            if new_id is None:  # queued meanwhile by another run
                counts["already_queued"] += 1
                continue
            _event(conn, new_id, "queued", now, {"route": p.route.reason})
            counts["queued"] += 1
            if inserted is not None:
                inserted.append(p)
            continue
        counts["already_queued"] += 1
        if not refresh:
            continue
        changed = {
            k: row[k]
            for k in (
                "subject",
                "body_text",
                "body_html",
                "payload",
                "channel",
                "address",
                "due_at",
                "ack_due_at",
            )
            if getattr(before, k) != row[k]
        }
        if not changed:
            continue
        if before.status not in PENDING:
            counts["stale_sent"] += 1
            continue
        done = conn.execute(
            update(notifications)
            .where(notifications.c.id == before.id, notifications.c.status.in_(PENDING))
            .values(**changed, recipient_name=row["recipient_name"])
        ).rowcount
        if done:
            _event(conn, before.id, "updated", now, {"fields": sorted(changed)})
            counts["refreshed"] += 1
    if refresh:
        wanted = {p.key for p in planned}
        stale = [r.id for k, r in existing.items() if k not in wanted and r.status in PENDING]
        counts["cancelled"] += cancel(
            conn, stale, now, {"reason": "no longer owed after the report was re-evaluated"}
        )
        counts["stale_sent"] += sum(
            1 for k, r in existing.items() if k not in wanted and r.status not in PENDING
        )
    return counts


def cancel_for(
    conn: Connection, evaluation_id: int, now: dt.datetime, detail: Mapping[str, Any]
) -> int:
    """Cancel the pending notices of an evaluation, its pending reminders and
    escalations included (sent ones stay); how many."""
    ids = [
        i
        for (i,) in conn.execute(
            select(notifications.c.id).where(
                notifications.c.evaluation_id == evaluation_id,
                notifications.c.status.in_(PENDING),
            )
        )
    ]
    return cancel(conn, ids, now, detail)


def cancel(conn: Connection, ids: list[int], now: dt.datetime, detail: Mapping[str, Any]) -> int:
    n = 0
    for notification_id in sorted(ids):
        # The status check in the WHERE keeps a sender that leased it meanwhile safe.
        done = conn.execute(
            update(notifications)
            .where(notifications.c.id == notification_id, notifications.c.status.in_(PENDING))
            .values(status="cancelled", lease_until=None)
        ).rowcount
        if done:
            _event(conn, notification_id, "cancelled", now, dict(detail))
            n += 1
    return n


# ---------------------------------------------------------------------- helpers


def _context(
    evaluation: Mapping[str, Any],
    judgement: Judgement,
    facts: SampleFacts,
    routes: Routes,
    items: list[dict[str, Any]],
    now: dt.datetime,
) -> dict[str, Any]:
    return {
        "issuer": {"name": routes.issuer_name, "contact": routes.issuer_contact},
        "issued_at": now,
        "product": {
            "name": facts.product_name,
            "brand": facts.brand,
            "model": facts.model,
            "category": facts.category_name,
        },
        "listing": {
            "platform": routes.platform_name(facts.platform),
            "external_id": facts.listing_external_id or "—",
            "url": facts.listing_url,
            "title": facts.listing_title,
        },
        "shop": {
            "name": facts.shop_name,
            "region": facts.shop_region.label if facts.shop_region else None,
            "is_individual": facts.shop_is_individual,
        },
        "verdict": judgement.verdict,
        "failed_items": items,
        "report_number": evaluation["report_number"],
        "lab": facts.lab_name,
        "tested_on": evaluation["tested_on"],
    }


def _notice_item(item: Mapping[str, Any]) -> dict[str, Any]:
    defect = item.get("defect_class")
    return {
        "test_item": item["test_item"],
        "standard_clause": item.get("standard_clause"),
        "measured_value": item.get("measured_value"),
        "limit_value": item.get("limit_value"),
        "defect_class": defect if defect in DEFECT_CLASSES else None,
    }


def _reference(report_number: str, kind: str, recipient_id: str) -> str:
    """The notice number people quote back: ECQM-<report>-<kind code>[-<region>]."""
    ref = f"ECQM-{report_number}-{REFERENCE_CODES[kind]}"
    if kind == "regulator_safety":
        ref += f"-{recipient_id if recipient_id != UNRESOLVED_REGULATOR else '0'}"
    return ref


def _row(p: PlannedNotice, evaluation_id: int, report_number: str, now: dt.datetime) -> dict:
    return {
        "idempotency_key": p.key,
        "evaluation_id": evaluation_id,
        "report_number": report_number,
        "parent_id": None,
        "kind": p.kind,
        "recipient_kind": p.recipient_kind,
        "recipient_name": p.notice.recipient.name,
        "channel": p.route.channel,
        "address": p.route.address,
        "subject": p.notice.subject,
        "body_text": p.notice.text,
        "body_html": p.notice.html,
        "payload": _payload(p),
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": now,
        "due_at": p.due_at,
        "ack_due_at": p.ack_due_at,
        "reminders": 0,
        "created_at": now,
    }


def _payload(p: PlannedNotice) -> dict[str, Any]:
    """The notice's payload, with the webhook secret's reference for the outbox under
    ``_delivery`` (keys starting with ``_`` never leave the outbox)."""
    payload = dict(p.notice.payload)
    delivery = p.route.delivery()
    if delivery:
        payload["_delivery"] = delivery
    return payload


def _insert_new(conn: Connection, row: dict[str, Any]) -> int | None:
    """Insert one notification unless its key is taken; its id, or ``None``."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt = pg_insert(notifications).on_conflict_do_nothing(
            constraint="uq_notifications_natural"
        )
    elif dialect == "sqlite":
        stmt = sqlite_insert(notifications).on_conflict_do_nothing(
            index_elements=["idempotency_key"]
        )
    else:  # pragma: no cover — the warehouse is SQLite or PostgreSQL
        stmt = insert(notifications)
    return conn.execute(stmt.values(**row).returning(notifications.c.id)).scalar_one_or_none()


def _event(
    conn: Connection, notification_id: int, event: str, now: dt.datetime, detail: dict
) -> None:
    conn.execute(
        notification_events.insert().values(
            notification_id=notification_id, event=event, at=now, detail=detail
        )
    )
