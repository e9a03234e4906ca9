"""A small warehouse for the plan tests: reference data, shops (some with hostile names),
products in three categories on two platforms, and risk assessments of two dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, select

from ecqm.warehouse.schema import listings, products, risk_assessments, shops

SEEN = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)
AS_OF = dt.date(2026, 11, 20)
HOSTILE_SHOP = '=HYPERLINK("http://evil.example","点我领券")'
HOSTILE_TITLE = "=cmd|' /C calc'!A0 电热水壶"
# (external id, platform, region, name)
SHOPS = [
    ("s1", "youpin", "330106", HOSTILE_SHOP),
    ("s2", "youpin", "440305", "鹏城数码专营店"),
    ("s3", "lehuo", "330782", "+义乌玩具批发\x07"),
    ("s4", "lehuo", "320106", "@金陵电器"),
    ("s5", "youpin", None, "无地区小店"),
    ("s6", "lehuo", "440305", "深圳充电宝工厂店"),
]
CATEGORY_OF = {0: "electric_kettle", 1: "plush_toy", 2: "power_bank"}


def product_plan(i: int) -> dict[str, Any]:
    """Product i (1..24): category by i % 3, level by i; products 1–4 high (1 confirmed,
    4 dismissed), 5–8 elevated, the rest moderate or low; product 24 has an unknown
    category."""
    level = "high" if i <= 4 else "elevated" if i <= 8 else ("moderate" if i % 2 else "low")
    status = "confirmed" if i == 1 else "dismissed" if i == 4 else "pending"
    category = "spaceship" if i == 24 else CATEGORY_OF[i % 3]
    return {"level": level, "status": status, "category": category}


def build(conn: Connection) -> dict[str, dict[str, int]]:
    """Fill the warehouse; returns ids by natural key (shops, products, listings)."""
    from transforms.reference.load import load_reference

    load_reference(conn)
    conn.execute(
        shops.insert(),
        [
            {
                "platform": platform,
                "external_id": ext,
                "name": name,
                "region_code": region,
                "first_seen_at": SEEN,
                "last_seen_at": SEEN,
            }
            for ext, platform, region, name in SHOPS
        ],
    )
    shop_id = {e: i for e, i in conn.execute(select(shops.c.external_id, shops.c.id))}
    conn.execute(
        products.insert(),
        [
            {
                "product_key": f"p{i}",
                "brand": f"品牌{i % 7}",
                "model": f"M-{i:03d}",
                "name": f"测试产品{i}",
                "category_code": product_plan(i)["category"],
                "first_seen_at": SEEN,
                "last_seen_at": SEEN,
            }
            for i in range(1, 25)
        ],
    )
    product_id = {k: i for k, i in conn.execute(select(products.c.product_key, products.c.id))}
    rows = []
    for i in range(1, 25):
        shop_keys = (["s1", "s2", "s5"], ["s3", "s4", "s6"])[i % 2]
        for j in range(1 + (i % 3 == 0)):
            ext_shop = shop_keys[(i + j) % 3]
            platform = next(p for e, p, _, _ in SHOPS if e == ext_shop)
            rows.append(
                {
                    "platform": platform,
                    "external_id": f"L{i}-{j}",
                    "shop_id": shop_id[ext_shop],
                    "product_id": product_id[f"p{i}"],
                    "url": f"https://{platform}.example/item/L{i}-{j}",
                    "title": HOSTILE_TITLE if i == 1 else f"测试产品{i} 标题{j}",
                    "category_code": product_plan(i)["category"],
                    "price_fen": 5_000 + 1_000 * i + 700 * j,
                    "currency": "CNY",
                    "first_seen_at": SEEN,
                    "last_seen_at": SEEN,
                }
            )
    conn.execute(listings.insert(), rows)
    listing_id = {e: i for e, i in conn.execute(select(listings.c.external_id, listings.c.id))}
    assessments = []
    for i in range(1, 25):
        plan = product_plan(i)
        # Evidence for product 3 points at its second listing.
        evidence = {"listings": [listing_id[f"L{i}-1"]]} if i == 3 else {}
        for as_of, level in ((AS_OF - dt.timedelta(days=10), "low"), (AS_OF, plan["level"])):
            assessments.append(
                {
                    "as_of": as_of,
                    "product_id": product_id[f"p{i}"],
                    "category_code": plan["category"],
                    "probability": round(0.9 - i / 40, 4),
                    "likelihood": 3,
                    "severity": 3,
                    "level": level,
                    "model_version": "rules-test",
                    "matrix_version": "test",
                    "summary": "测试",
                    "explanation": {
                        "top_signals": [
                            {"signal": "review_hazard", "strength": 0.8, "evidence": evidence}
                        ]
                    },
                    "is_confirmed": plan["status"] == "confirmed",
                    "review_status": plan["status"] if as_of == AS_OF else "pending",
                    "assessed_at": SEEN,
                }
            )
    conn.execute(risk_assessments.insert(), assessments)
    return {"shops": shop_id, "products": product_id, "listings": listing_id}
