"""A small monitoring month built row by row, shared by the indicator and report tests.

:func:`build_month` is November 2026 as ``test_kpis`` counts it by hand: six products,
five tasks of one plan, five results (one superseded by a retest), five notices, one
market estimate and four data-quality results. :func:`add_report_world` adds what the
report shows beside the indicators — reference data, shops with their regions, listings,
category estimates, credit lists and the snapshots of earlier months — without changing
any of November's indicators.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, insert, select, update

from ecqm.warehouse.schema import (
    dq_results,
    evaluations,
    kpi_snapshots,
    listings,
    market_estimates,
    merchant_credit,
    monitoring_plans,
    notifications,
    products,
    risk_assessments,
    risk_signals,
    sampling_tasks,
    shops,
)

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
SEEN = dt.datetime(2026, 10, 1, tzinfo=UTC)


def assessment(pid, day, level, p, category="power_bank"):
    return {
        "as_of": day,
        "product_id": pid,
        "category_code": category,
        "probability": p,
        "likelihood": 3,
        "severity": 3,
        "level": level,
        "model_version": "rules-test",
        "matrix_version": "test",
        "summary": "",
        "explanation": {},
        "is_confirmed": False,
        "review_status": "pending",
        "assessed_at": NOW,
    }


def signal(pid, day, signal, channel):
    return {
        "as_of": day,
        "subject_kind": "product",
        "subject_id": pid,
        "signal": signal,
        "channel": channel,
        "window_end": NOW,
        "value": 1.0,
        "strength": 0.5,
        "detail": "",
        "evidence": {},
        "computed_at": NOW,
    }


def task(tid, stratum, pid):
    return {
        "task_id": tid,
        "plan_id": "plan-2026-11",
        "stratum": stratum,
        "inclusion_probability": 1.0 if stratum == "targeted" else 0.25,
        "product_id": pid,
        "platform": "youpin",
        "listing_external_id": tid,
        "sample_units": 2,
        "backup_units": 2,
        "test_items": [],
        "standards": [],
        "due_on": dt.date(2026, 11, 21),
        "status": "tested",
        "created_at": SEEN,
    }


def evaluation(n, tid, stratum, pid, verdict, tested_on, level, status="current"):
    return {
        "report_number": f"R{n}",
        "task_id": tid,
        "plan_id": "plan-2026-11",
        "stratum": stratum,
        "product_id": pid,
        "tested_on": tested_on,
        "verdict": verdict,
        "items_total": 5,
        "items_failed": int(verdict == "fail"),
        "failed_items": [],
        "is_safety": False,
        "is_retest": False,
        "status": status,
        "seller_deadline": tested_on + dt.timedelta(days=7),
        "risk_level_before": level,
        "rules_version": "test",
        "evaluated_at": NOW,
    }


def notice(key, evaluation_id, kind, created, **extra):
    return {
        "idempotency_key": key,
        "evaluation_id": evaluation_id,
        "kind": kind,
        "recipient_kind": "platform" if kind == "platform_failure" else "seller",
        "recipient_name": "平台",
        "channel": "file",
        "address": "",
        "subject": "s",
        "body_text": "t",
        "body_html": "h",
        "payload": {},
        "status": "sent",
        "attempts": 1,
        "next_attempt_at": created,
        "reminders": 0,
        "created_at": created,
        "due_at": None,
        "sent_at": None,
        "ack_due_at": None,
        "acknowledged_at": None,
        "ack_kind": None,
        **extra,
    }


def build_month(warehouse_engine: Engine) -> Engine:
    """November 2026, small enough to count by hand (see test_kpis for the sums)."""
    nov = dt.date(2026, 11, 20)
    oct_ = dt.date(2026, 10, 15)
    with warehouse_engine.begin() as conn:
        conn.execute(
            insert(products),
            [
                {"product_key": f"k{i}", "first_seen_at": SEEN, "last_seen_at": SEEN}
                for i in range(1, 7)
            ],
        )
        pid = [r for (r,) in conn.execute(select(products.c.id).order_by(products.c.id))]
        conn.execute(
            insert(risk_assessments),
            [
                # Product 1 first flagged in October; the November row is the newest.
                assessment(pid[0], oct_, "elevated", 0.30),
                assessment(pid[0], nov, "high", 0.70),
                assessment(pid[1], nov, "high", 0.60, "plush_toy"),
                assessment(pid[2], nov, "moderate", 0.20),
                assessment(pid[3], nov, "low", 0.05),
                assessment(pid[4], nov, "low", 0.05),
                # December: not this month's.
                assessment(pid[5], dt.date(2026, 12, 1), "high", 0.9),
            ],
        )
        conn.execute(
            insert(risk_signals),
            [
                signal(pid[0], nov, "review_hazard", "active_monitoring"),
                signal(pid[0], nov, "complaints_hazard", "complaints"),
                signal(pid[1], nov, "sanwu", "active_monitoring"),
                signal(pid[1], oct_, "review_defect", "active_monitoring"),
            ],
        )
        conn.execute(
            insert(monitoring_plans),
            {
                "plan_id": "plan-2026-11",
                "period_start": dt.date(2026, 11, 1),
                "period_end": dt.date(2026, 11, 30),
                "budget_purchases": 5,
                "seed": 1,
                "scope": {},
                "params": {},
                "summary": {},
                "status": "planned",
                "created_at": SEEN,
            },
        )
        conn.execute(
            insert(sampling_tasks),
            [
                task("T1", "targeted", pid[0]),
                task("T2", "targeted", pid[1]),
                task("T3", "audit", pid[2]),
                task("T4", "audit", pid[3]),
                task("T5", "audit", pid[4]),
            ],
        )
        day = dt.date(2026, 11, 25)
        conn.execute(
            insert(evaluations),
            [
                evaluation(1, "T1", "targeted", pid[0], "fail", day, "high"),
                evaluation(2, "T2", "targeted", pid[1], "pass", day, "high"),
                # T3 failed first, a retest passed: only the retest counts.
                evaluation(3, "T3", "audit", pid[2], "fail", day, "moderate", "superseded"),
                evaluation(4, "T3", "audit", pid[2], "pass", day, "moderate"),
                evaluation(5, "T4", "audit", pid[3], "fail", day, "low"),
            ],
        )
        ev = dict(conn.execute(select(evaluations.c.report_number, evaluations.c.id)).all())
        created = dt.datetime(2026, 11, 25, 8, tzinfo=UTC)
        conn.execute(
            insert(notifications),
            [
                notice(
                    "R1:platform",
                    ev["R1"],
                    "platform_failure",
                    created,
                    ack_due_at=created + dt.timedelta(days=3),
                    acknowledged_at=dt.datetime(2026, 11, 28, 1, tzinfo=UTC),
                    ack_kind="takedown_confirmed",
                ),
                notice(
                    "R5:platform",
                    ev["R5"],
                    "platform_failure",
                    created,
                    ack_due_at=created + dt.timedelta(days=3),
                ),
                notice(
                    "R1:seller",
                    ev["R1"],
                    "seller_result",
                    created,
                    due_at=created + dt.timedelta(days=7),
                    sent_at=created + dt.timedelta(hours=1),
                ),
                notice(
                    "R5:seller",
                    ev["R5"],
                    "seller_result",
                    created,
                    due_at=created + dt.timedelta(days=7),
                    sent_at=created + dt.timedelta(days=8),
                ),
                # Cancelled notices are not counted.
                notice(
                    "R3:seller",
                    ev["R3"],
                    "seller_result",
                    created,
                    status="cancelled",
                    due_at=created,
                ),
            ],
        )
        conn.execute(
            insert(market_estimates),
            [
                {
                    "plan_id": "plan-2026-11",
                    "category_code": "*",
                    "audit_samples": 3,
                    "audit_failed": 1,
                    "estimate": 0.31,
                    "ci_low": 0.05,
                    "ci_high": 0.7,
                    "targeted_samples": 2,
                    "targeted_failed": 1,
                    "method": "test",
                    "computed_at": NOW,
                }
            ],
        )
        checked = dt.datetime(2026, 11, 10, tzinfo=UTC)
        conn.execute(
            insert(dq_results),
            [
                {
                    "run_id": "r1",
                    "table_name": table,
                    "suite": "s",
                    "expectation": f"e{i}",
                    "success": ok,
                    "element_count": 10,
                    "unexpected_count": 0,
                    "checked_at": checked,
                }
                for i, (table, ok) in enumerate(
                    [("reviews", True), ("reviews", False), ("listings", True), ("shops", True)]
                )
            ],
        )
    return warehouse_engine


# ----------------------------------------------------------------------------- report

HANGZHOU_SHOP = "杭州优品数码专营店"
SHENZHEN_SHOP = "深圳童趣玩具旗舰店"
UNPLACED_SHOP = "无名小铺"


def _shop(external_id: str, name: str, region: str | None, **extra) -> dict:
    return {
        "platform": "youpin",
        "external_id": external_id,
        "name": name,
        "company_name": None,
        "region_code": region,
        "contact_hash": None,
        "phone_hash": None,
        "address_hash": None,
        "url": None,
        "attributes": {},
        "first_seen_at": SEEN,
        "last_seen_at": SEEN,
        **extra,
    }


def _listing(external_id: str, shop_id: int, product_id: int) -> dict:
    return {
        "platform": "youpin",
        "external_id": external_id,
        "shop_id": shop_id,
        "product_id": product_id,
        "title": f"商品 {external_id}",
        "first_seen_at": SEEN,
        "last_seen_at": SEEN,
    }


def _estimate(category: str, n: int, k: int, est: float, lo: float, hi: float) -> dict:
    return {
        "plan_id": "plan-2026-11",
        "category_code": category,
        "audit_samples": n,
        "audit_failed": k,
        "estimate": est,
        "ci_low": lo,
        "ci_high": hi,
        "targeted_samples": 1,
        "targeted_failed": 0,
        "method": "test",
        "computed_at": NOW,
    }


def _credit(shop_external_id: str, kind: str, rule: str, listed_on: dt.date) -> dict:
    return {
        "platform": "youpin",
        "shop_external_id": shop_external_id,
        "shop_id": None,
        "shop_name": None,
        "list_kind": kind,
        "rule_code": rule,
        "reason": "测试",
        "evidence": {},
        "listed_on": listed_on,
        "expires_on": None,
        "status": "active",
        "rules_version": "test",
        "computed_at": NOW,
    }


# Earlier months' indicators, as a snapshot would have stored them; September has none.
EARLIER = {
    dt.date(2026, 8, 1): {
        ("fail_rate_by_stratum", "targeted"): 0.4,
        ("fail_rate_by_stratum", "audit"): 0.1,
        ("risks_by_level", "high"): 4.0,
        ("signals_by_channel", ""): 10.0,
        ("plan_execution", ""): 0.9,
    },
    dt.date(2026, 10, 1): {
        ("fail_rate_by_stratum", "targeted"): 0.3,
        ("fail_rate_by_stratum", "audit"): None,
        ("risks_by_level", "high"): 3.0,
        ("signals_by_channel", ""): 8.0,
        ("plan_execution", ""): 0.6,
    },
}


def add_report_world(engine: Engine) -> Engine:
    """Reference data, three shops (浙江, 广东, unknown place), listings, category
    estimates, credit lists and the August and October snapshots, on top of
    :func:`build_month`.

    By province: 浙江 sells product 1 (high) and has results R1 (fail) and R4; 广东
    sells products 1 and 2 (both high) and has R2; R5 (fail) comes from the shop of
    unknown place.
    """
    from transforms.reference.load import load_reference
    from transforms.review.kpis import LABELS

    load_reference(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(shops),
            [
                _shop("s1", HANGZHOU_SHOP, "330100"),
                _shop("s2", SHENZHEN_SHOP, "440300"),
                _shop("s3", UNPLACED_SHOP, None),
            ],
        )
        shop = dict(conn.execute(select(shops.c.external_id, shops.c.id)).all())
        pid = list(conn.execute(select(products.c.id).order_by(products.c.id)).scalars())
        conn.execute(
            insert(listings),
            [
                _listing("L1a", shop["s1"], pid[0]),
                _listing("L1b", shop["s2"], pid[0]),
                _listing("L2", shop["s2"], pid[1]),
                _listing("L3", shop["s1"], pid[2]),
                _listing("L4", shop["s1"], pid[3]),
                _listing("L5", shop["s3"], pid[4]),
            ],
        )
        for report, s in (("R1", "s1"), ("R2", "s2"), ("R3", "s1"), ("R4", "s1"), ("R5", "s3")):
            conn.execute(
                update(evaluations)
                .where(evaluations.c.report_number == report)
                .values(shop_id=shop[s])
            )
        conn.execute(
            insert(market_estimates),
            [
                _estimate("power_bank", 2, 1, 0.45, 0.1, 0.9),
                _estimate("plush_toy", 1, 0, 0.0, 0.0, 0.6),
            ],
        )
        conn.execute(
            insert(merchant_credit),
            [
                _credit("s3", "black", "repeat_failure", dt.date(2026, 11, 26)),
                _credit("s2", "red", "clean_record", dt.date(2026, 10, 1)),
            ],
        )
        conn.execute(
            insert(kpi_snapshots),
            [
                {
                    "period_start": period,
                    "kpi": kpi,
                    "dimension": dim,
                    "label_zh": LABELS[kpi][0],
                    "unit": LABELS[kpi][1],
                    "value": value,
                    "computed_at": dt.datetime.combine(period.replace(day=28), dt.time(2), dt.UTC),
                }
                for period, values in EARLIER.items()
                for (kpi, dim), value in values.items()
            ],
        )
    return engine


# ---------------------------------------------------------------------- personal data

PERSON = "张三丰"
PHONE = "13812345678"
ADDRESS = "西湖区文三路100号"
ID_NUMBER = "110101199003071234"
EMAIL = "zhang.sanfeng@example.com"
INDIVIDUAL_SHOP = "张三丰的小店"


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


HASHES = {kind: _digest(f"{kind}:{PERSON}") for kind in ("contact", "phone", "address", "author")}


def plant_personal_data(engine: Engine) -> list[str]:
    """Recognisable personal data where the warehouse keeps it (shop contacts and their
    pseudonyms, reviews, complaints, a notice's address, an individual's shop on the
    black list), on top of :func:`add_report_world`; returns the planted strings."""
    from ecqm.warehouse.schema import complaints, reviews

    raw = {"contact": PERSON, "phone": PHONE, "address": f"浙江省杭州市{ADDRESS}"}
    with engine.begin() as conn:
        conn.execute(
            insert(shops),
            _shop(
                "s4",
                INDIVIDUAL_SHOP,
                "330100",
                contact_hash=HASHES["contact"],
                phone_hash=HASHES["phone"],
                address_hash=HASHES["address"],
                attributes={**raw, "id_number": ID_NUMBER, "is_individual": True},
            ),
        )
        conn.execute(
            update(shops)
            .where(shops.c.external_id == "s1")
            .values(contact_hash=HASHES["contact"], attributes={**raw, "licence_contact": PERSON})
        )
        shop = dict(conn.execute(select(shops.c.external_id, shops.c.id)).all())
        pid = list(conn.execute(select(products.c.id).order_by(products.c.id)).scalars())
        conn.execute(insert(listings), _listing("L6", shop["s4"], pid[0]))
        listing = conn.execute(
            select(listings.c.id).where(listings.c.external_id == "L6")
        ).scalar_one()
        conn.execute(
            insert(reviews),
            {
                "platform": "youpin",
                "external_id": "rv1",
                "listing_id": listing,
                "rating": 1.0,
                "text": f"我是{PERSON}，电话{PHONE}，充电宝发烫起火",
                "author_hash": HASHES["author"],
                "posted_at": SEEN,
                "attributes": {"nickname": PERSON},
                "fetched_at": SEEN,
            },
        )
        conn.execute(
            insert(complaints),
            {
                "source": "12315",
                "complaint_number": "C1",
                "title": "充电宝起火",
                "respondent": INDIVIDUAL_SHOP,
                "platform": "youpin",
                "shop_id": shop["s4"],
                "problem": f"投诉人{PERSON}，住址{ADDRESS}，电话{PHONE}，身份证{ID_NUMBER}",
                "complainant_hash": HASHES["contact"],
                "filed_at": SEEN,
                "attributes": {"complainant": PERSON, "phone": PHONE},
                "fetched_at": SEEN,
            },
        )
        conn.execute(
            insert(notifications),
            notice(
                "R1:seller:s4",
                None,
                "seller_result",
                dt.datetime(2026, 11, 26, tzinfo=UTC),
                recipient_kind="seller",
                recipient_name=INDIVIDUAL_SHOP,
                channel="email",
                address=EMAIL,
                payload={"shop": {"name": INDIVIDUAL_SHOP, "is_individual": True}},
            ),
        )
        conn.execute(
            insert(merchant_credit),
            {
                **_credit("s4", "black", "unremedied_safety", dt.date(2026, 11, 27)),
                "shop_id": shop["s4"],
                "shop_name": INDIVIDUAL_SHOP,
            },
        )
    return [PERSON, PHONE, ADDRESS, ID_NUMBER, EMAIL, INDIVIDUAL_SHOP, *HASHES.values()]


# --------------------------------------------------------------------- hostile names

SCRIPT = "<script>alert(1)</script>"
TEMPLATE = "{{ 7*7 }}"
FORMULA = "=1+2"


def plant_hostile_names(engine: Engine) -> None:
    """Warehouse text that would do harm if it were markup, template or formula: two
    November assessments with such category codes and a data-quality table named so."""
    with engine.begin() as conn:
        conn.execute(
            insert(products),
            [{"product_key": f"h{i}", "first_seen_at": SEEN, "last_seen_at": SEEN} for i in (1, 2)],
        )
        pid = list(
            conn.execute(
                select(products.c.id).where(products.c.product_key.in_(("h1", "h2")))
            ).scalars()
        )
        nov = dt.date(2026, 11, 21)
        conn.execute(
            insert(risk_assessments),
            [
                assessment(pid[0], nov, "high", 0.8, SCRIPT),
                assessment(pid[1], nov, "high", 0.8, FORMULA),
            ],
        )
        conn.execute(
            insert(dq_results),
            {
                "run_id": "r2",
                "table_name": TEMPLATE,
                "suite": "s",
                "expectation": "e",
                "success": True,
                "element_count": 1,
                "unexpected_count": 0,
                "checked_at": dt.datetime(2026, 11, 12, tzinfo=UTC),
            },
        )
