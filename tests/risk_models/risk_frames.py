"""Hand-built assessment frames for the signal tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from risk_models.frames import Frames, stats_of, window_end

AS_OF = dt.date(2026, 11, 1)
END = window_end(AS_OF)


def days_ago(n: float) -> pd.Timestamp:
    return pd.Timestamp(END - dt.timedelta(days=n))


def product(pid: int, **kw: Any) -> dict[str, Any]:
    row = {
        "id": pid,
        "category_code": "electric_kettle",
        "brand": "美度",
        "model": f"MD-{pid}",
        "producer_name": "浙江美度电器有限公司",
        "severity_weight": 0.85,
        "max_severity": 3,
        "is_ccc_required": True,
        "ccc_required_from": None,
        "category_zh": "电热水壶",
    }
    row.update(kw)
    return row


def listing(lid: int, pid: int, **kw: Any) -> dict[str, Any]:
    row = {
        "id": lid,
        "product_id": pid,
        "shop_id": 1,
        "platform": "youpin",
        "title": "美度电热水壶 1.7L 304不锈钢",
        "brand": "美度",
        "model": f"MD-{pid}",
        "category_code": "electric_kettle",
        "price_fen": 12900,
        "ccc_number": "2021010701234567",
        "producer_name": "浙江美度电器有限公司",
        "origin": "浙江杭州",
        "gtin": None,
        "description": "",
    }
    row.update(kw)
    return row


def review(rid: int, pid: int, lid: int, age_days: float, **kw: Any) -> dict[str, Any]:
    row = {
        "id": rid,
        "listing_id": lid,
        "product_id": pid,
        "posted_at": days_ago(age_days),
        "fetched_at": days_ago(0),
        "rating": 5.0,
        "spam_cluster_id": None,
        "negative_probability": 0.05,
        "defect_probability": 0.02,
        "hazard": "none",
        "hazard_probability": 0.9,
    }
    row.update(kw)
    return row


def frames(
    products: list[dict],
    listings: list[dict] = (),
    reviews: list[dict] = (),
    complaints: list[dict] = (),
    matches: list[dict] = (),
    shops: list[dict] = (),
    inspections: list[dict] = (),
) -> Frames:
    def df(rows: Any, cols: list[str]) -> pd.DataFrame:
        return pd.DataFrame(list(rows), columns=cols)

    lst = df(listings, list(listing(0, 0)))
    return Frames(
        AS_OF,
        END,
        df(products, list(product(0))),
        lst,
        df(
            [{"listing_id": r["id"], "snapshot_id": 1000 + r["id"]} for r in listings],
            ["listing_id", "snapshot_id"],
        ),
        *stats_of(df(reviews, list(review(0, 0, 0, 1))), END),
        df(
            complaints,
            [
                "id",
                "listing_id",
                "product_id",
                "shop_id",
                "filed_at",
                "fetched_at",
                "title",
                "problem",
            ],
        ),
        df(
            matches,
            [
                "match_id",
                "listing_id",
                "product_id",
                "recall_id",
                "source",
                "recall_number",
                "score",
                "matched_on",
                "matched_model",
                "hazard",
                "published_on",
                "recall_title",
            ],
        ),
        df(
            shops,
            [
                "id",
                "platform",
                "name",
                "company_name",
                "phone_hash",
                "address_hash",
                "contact_hash",
            ],
        ),
        df(
            inspections,
            [
                "id",
                "task_id",
                "product_id",
                "shop_id",
                "listing_id",
                "verdict",
                "defect_class",
                "tested_on",
                "test_item",
            ],
        ),
    )
