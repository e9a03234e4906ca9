"""A small world for the credit tests: shops, one monitoring plan, and writers for
evaluations (a sampling task each, retests superseding their original) and the
notifications about them, inserted directly as the results step would leave them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from ecqm.warehouse.schema import (
    evaluations,
    merchant_credit,
    monitoring_plans,
    notification_events,
    notifications,
    sampling_tasks,
    shops,
)

SEEN = dt.datetime(2024, 1, 1, 0, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
PLAN = "PLAN-CREDIT"


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def shanghai(text: str) -> dt.datetime:
    """A moment given as Asia/Shanghai wall time, ``2026-03-05 09:00``, in UTC."""
    from zoneinfo import ZoneInfo

    local = dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    return local.astimezone(dt.UTC)


def seed(conn: Connection) -> None:
    conn.execute(
        monitoring_plans.insert().values(
            plan_id=PLAN,
            period_start=d("2024-01-01"),
            period_end=d("2026-12-31"),
            budget_purchases=100,
            seed=1,
            scope={},
            params={},
            summary={},
            status="issued",
            created_at=SEEN,
        )
    )


def shop(
    conn: Connection,
    external_id: str,
    name: str | None = None,
    *,
    platform: str = "youpin",
    company_name: str | None = None,
    attributes: dict | None = None,
) -> int:
    found = conn.execute(
        select(shops.c.id).where(shops.c.platform == platform, shops.c.external_id == external_id)
    ).scalar()
    if found is not None:
        return found
    return conn.execute(
        shops.insert().values(
            platform=platform,
            external_id=external_id,
            name=name or f"{external_id}电器专营店",
            company_name=company_name,
            attributes=attributes,
            contact_hash="c" * 64,
            phone_hash="p" * 64,
            address_hash="a" * 64,
            first_seen_at=SEEN,
            last_seen_at=SEEN,
        )
    ).inserted_primary_key[0]


def evaluation(
    conn: Connection,
    shop_external_id: str,
    report: str,
    tested_on: str,
    verdict: str = "fail",
    *,
    task: str | None = None,
    is_safety: bool = False,
    worst_defect: str | None = None,
    retest_of: str | None = None,
    platform: str = "youpin",
) -> int:
    """One evaluation. ``retest_of``: the report it supersedes (same task), which is
    marked superseded as the results step does."""
    shop_id = shop(conn, shop_external_id, platform=platform)
    if retest_of is not None:
        task = conn.execute(
            select(evaluations.c.task_id).where(evaluations.c.report_number == retest_of)
        ).scalar_one()
    task = task or f"T-{report}"
    if (
        conn.execute(
            select(sampling_tasks.c.task_id).where(sampling_tasks.c.task_id == task)
        ).first()
        is None
    ):
        conn.execute(
            sampling_tasks.insert().values(
                task_id=task,
                plan_id=PLAN,
                stratum="targeted",
                inclusion_probability=1.0,
                shop_id=shop_id,
                platform=platform,
                listing_external_id=f"item-{task}",
                category_code="electric_kettle",
                sample_units=2,
                backup_units=2,
                test_items=[],
                standards=[],
                due_on=d(tested_on),
                status="tested",
                created_at=SEEN,
            )
        )
    failed = verdict == "fail"
    new_id = conn.execute(
        evaluations.insert().values(
            report_number=report,
            task_id=task,
            plan_id=PLAN,
            stratum="targeted",
            platform=platform,
            listing_external_id=f"item-{task}",
            shop_id=shop_id,
            category_code="electric_kettle",
            lab_code="lab_hz_qiancheng",
            tested_on=d(tested_on),
            verdict=verdict,
            items_total=4,
            items_failed=1 if failed else 0,
            worst_defect=(worst_defect or ("critical" if is_safety else "major"))
            if failed
            else None,
            failed_items=[{"test_item": "发热", "defect_class": "major"}] if failed else [],
            is_safety=is_safety,
            is_retest=retest_of is not None,
            supersedes=retest_of,
            status="current",
            seller_deadline=d(tested_on) + dt.timedelta(days=7),
            rules_version="test",
            evaluated_at=shanghai(f"{tested_on} 18:00"),
        )
    ).inserted_primary_key[0]
    if retest_of is not None:
        conn.execute(
            update(evaluations)
            .where(evaluations.c.report_number == retest_of)
            .values(status="superseded", superseded_by=report)
        )
    return new_id


def notice(
    conn: Connection,
    report: str,
    kind: str = "platform_failure",
    *,
    sent: str | None,
    ack: str | None = None,
    ack_kind: str | None = None,
) -> None:
    """A notification about ``report``; ``sent`` and ``ack`` as Asia/Shanghai wall time.
    ``ack`` sets only the notice's columns, with no event (a notice written by other
    means than transforms.notify.acks); :func:`acknowledge` records one properly."""
    eid = conn.execute(
        select(evaluations.c.id).where(evaluations.c.report_number == report)
    ).scalar_one()
    conn.execute(
        notifications.insert().values(
            idempotency_key=f"eval-{eid}:{kind}",
            evaluation_id=eid,
            report_number=report,
            kind=kind,
            recipient_kind="platform" if kind == "platform_failure" else "seller",
            recipient_name="优品平台",
            channel="file",
            address="outbox",
            subject="通知",
            body_text="…",
            body_html="<p>…</p>",
            payload={},
            status="sent" if sent else "dead",
            attempts=1,
            next_attempt_at=SEEN,
            sent_at=shanghai(sent) if sent else None,
            acknowledged_at=shanghai(ack) if ack else None,
            ack_kind=ack_kind,
            reminders=0,
            created_at=SEEN,
        )
    )


def acknowledge(
    conn: Connection, report: str, at: str, ack_kind: str, *, kind: str | None = None
) -> None:
    """Record an acknowledgement of the notices about ``report`` (of one ``kind``, or
    all) as transforms.notify.acks does: an ``acknowledged`` event, ``acknowledged_at``
    the earliest acknowledgement, ``ack_kind`` the latest. ``at``: Shanghai wall time."""
    moment = shanghai(at)
    query = select(notifications.c.id, notifications.c.acknowledged_at).where(
        notifications.c.report_number == report
    )
    if kind is not None:
        query = query.where(notifications.c.kind == kind)
    for notification_id, earliest in conn.execute(query).all():
        conn.execute(
            notification_events.insert().values(
                notification_id=notification_id,
                event="acknowledged",
                at=NOW,
                detail={
                    "kind": ack_kind,
                    "at": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "note": None,
                    "source": "test",
                },
            )
        )
        conn.execute(
            update(notifications)
            .where(notifications.c.id == notification_id)
            .values(
                acknowledged_at=moment if earliest is None else min(earliest, moment),
                ack_kind=ack_kind,
            )
        )


def credit_rows(engine: Engine, *, status: str | None = None) -> list[dict[str, Any]]:
    query = select(merchant_credit).order_by(
        merchant_credit.c.shop_external_id,
        merchant_credit.c.list_kind,
        merchant_credit.c.rule_code,
        merchant_credit.c.listed_on,
    )
    if status is not None:
        query = query.where(merchant_credit.c.status == status)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def listed(engine: Engine, shop_external_id: str, **where: Any) -> list[dict[str, Any]]:
    return [
        r
        for r in credit_rows(engine)
        if r["shop_external_id"] == shop_external_id and all(r[k] == v for k, v in where.items())
    ]


def dump(engine: Engine) -> list[tuple[str, ...]]:
    """Every column of every merchant_credit row, ids and times included."""
    with engine.connect() as conn:
        rows = conn.execute(select(merchant_credit).order_by(merchant_credit.c.id)).all()
    return [tuple(repr(v) for v in row) for row in rows]
