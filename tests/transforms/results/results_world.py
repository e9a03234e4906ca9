"""The intake tests' world made ready for evaluation, and helpers to send results,
evaluate, and read back what the evaluation wrote."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from intake_world import (  # type: ignore[import-not-found]
    NOW,
    PURCHASE_HEADER_ZH,
    RESULT_HEADER_ZH,
    purchase,
    result,
    seed,
    write_csv,
)
from sqlalchemy import Engine, select, update

from ecqm.warehouse.schema import (
    evaluations,
    listings,
    notification_events,
    notifications,
    products,
    quarantine,
    risk_assessments,
    shops,
)
from transforms.intake import import_file
from transforms.notify.routes import Routes

__all__ = ["NOW", "result"]

SHOP_COMPANY = "宁波暖心电器有限公司"
DRYER_PRODUCER = "佛山市顺德区风行电器有限公司"
ASSESSED = dt.date(2026, 11, 20)
# No SMTP, no webhooks: every notice goes to a file (the shipped routes, minus the
# environment of whoever runs the tests).
FILE_ROUTES = Routes.load(environ={}, home="/nonexistent")
_files = 0


def build(engine: Engine, home: Path) -> dict[str, int]:
    """Seed the intake world; give the shop its licence (宁波, a company that makes the
    kettle), the dryer a producer in 顺德 (its listing's 产地), listings their URLs, the
    kettle a risk assessment; buy T-KETTLE and T-DRYER."""
    with engine.begin() as conn:
        ids = seed(conn)
        conn.execute(
            update(shops)
            .where(shops.c.id == ids["shop"])
            .values(
                region_code="330200",
                company_name=SHOP_COMPANY,
                attributes={"credit_code": "91330200MA2H3K4L5P"},
            )
        )
        conn.execute(
            update(products)
            .where(products.c.id == ids["kettle_product"])
            .values(
                name="暖心电热水壶 1.7L", brand="暖心", model="KT-17", producer_name=SHOP_COMPANY
            )
        )
        conn.execute(
            update(products)
            .where(products.c.id == ids["dryer_product"])
            .values(
                name="暖心负离子吹风机", brand="暖心", model="HD-2", producer_name=DRYER_PRODUCER
            )
        )
        for key, origin in (("kettle", "浙江省宁波市"), ("dryer", "广东省佛山市顺德区")):
            conn.execute(
                update(listings)
                .where(listings.c.id == ids[f"{key}_listing"])
                .values(
                    url=f"https://sim.example.cn/item/{ids[f'{key}_listing']}",
                    origin=origin,
                )
            )
        conn.execute(
            risk_assessments.insert().values(
                as_of=ASSESSED,
                product_id=ids["kettle_product"],
                category_code="electric_kettle",
                probability=0.2,
                likelihood=3,
                severity=2,
                level="elevated",
                hazard="electric_shock",
                model_version="rules-1",
                matrix_version="2025.2",
                summary="较高风险",
                explanation={},
                is_confirmed=False,
                confirmation=None,
                review_status="pending",
                assessed_at=dt.datetime(2026, 11, 20, 2, tzinfo=dt.UTC),
            )
        )
    send(
        engine,
        home,
        "purchases",
        [purchase(), purchase("T-DRYER", "3391827465501930001")],
        now=NOW,
    )
    return ids


def send(engine: Engine, home: Path, kind: str, rows: list, *, now: dt.datetime = NOW) -> Any:
    """Take a file of ``kind`` in as staff send it; it must be accepted."""
    global _files
    _files += 1
    header = PURCHASE_HEADER_ZH if kind == "purchases" else RESULT_HEADER_ZH
    path = write_csv(home / "sent" / f"{kind}-{_files}.csv", header, rows)
    report = import_file(engine, kind, path, home=home, now=now)
    assert report.status == "accepted", [str(p) for p in report.problems]
    return report


def evaluate(engine: Engine, now: dt.datetime = NOW, **kwargs: Any):
    from transforms.results.evaluate import evaluate as run

    kwargs.setdefault("routes", FILE_ROUTES)
    return run(engine, now, **kwargs)


def evaluation(engine: Engine, report_number: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = (
            conn.execute(select(evaluations).where(evaluations.c.report_number == report_number))
            .mappings()
            .one()
        )
    return dict(row)


def notices(engine: Engine, report_number: str | None = None) -> dict[str, dict[str, Any]]:
    """Notifications by idempotency key."""
    query = select(notifications)
    if report_number is not None:
        query = query.where(notifications.c.report_number == report_number)
    with engine.connect() as conn:
        return {r["idempotency_key"]: dict(r) for r in conn.execute(query).mappings()}


def events(engine: Engine, notification_id: int) -> list[str]:
    with engine.connect() as conn:
        return [
            e
            for (e,) in conn.execute(
                select(notification_events.c.event)
                .where(notification_events.c.notification_id == notification_id)
                .order_by(notification_events.c.id)
            )
        ]


def assessment(engine: Engine, product_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                select(risk_assessments).where(risk_assessments.c.product_id == product_id)
            )
            .mappings()
            .one()
        )


def dump(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table the evaluation writes, to compare two states."""
    out = {}
    with engine.connect() as conn:
        for table in (
            evaluations,
            notifications,
            notification_events,
            risk_assessments,
            quarantine,
        ):
            out[table.name] = sorted(
                (tuple(map(repr, row)) for row in conn.execute(select(table))), key=repr
            )
    return out
