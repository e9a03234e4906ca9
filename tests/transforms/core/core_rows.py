"""Helpers for the staging → core tests: staging rows written the way the crawl loads
write them, realistic payloads, and a comparable snapshot of the core tables."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Engine, select

from ecqm.warehouse.bulk import upsert
from ecqm.warehouse.schema import (
    complaints,
    listing_snapshots,
    listings,
    products,
    quarantine,
    recalls,
    reviews,
    shops,
    stg_complaints,
    stg_listings,
    stg_recalls,
    stg_reviews,
    stg_shops,
)

SALT = b"test-salt-not-a-secret"
FETCHED = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


def _sha(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def stage(
    engine: Engine, kind: str, items: Iterable[Mapping[str, Any]], run: str = "crawl-1"
) -> None:
    """Write staging rows: each item has the key columns, ``payload`` and optionally
    ``fetched_at`` and ``url``."""
    table = {
        "listing": stg_listings,
        "review": stg_reviews,
        "shop": stg_shops,
        "complaint": stg_complaints,
        "recall": stg_recalls,
    }[kind]
    rows = []
    for item in items:
        payload = item["payload"]
        row = {
            "source": item.get("source", item.get("platform", "test")),
            "payload_sha256": _sha(payload),
            "crawl_run_id": run,
            "url": item.get("url"),
            "fetched_at": item.get("fetched_at", FETCHED),
            "evidence_sha256": None,
            "payload": payload,
        }
        for k in (
            "platform",
            "external_id",
            "listing_external_id",
            "complaint_number",
            "recall_number",
        ):
            if k in item:
                row[k] = item[k]
        rows.append(row)
    with engine.begin() as conn:
        for row in rows:  # one at a time: staging ids follow the order given
            upsert(conn, table, [row], update=())


def listing(
    ext: str, *, platform: str = "youpin", fetched_at: dt.datetime = FETCHED, **payload: Any
) -> dict:
    base = {
        "url": f"http://shop.example/{platform}/item/{ext}.html",
        "name": "美的 电热水壶 MK-HJ1512 1.5L 304不锈钢 自动断电",
        "brand": "Midea/美的",
        "model": "MK-HJ1512",
        "gtin": None,
        "price": "89.00",
        "currency": "CNY",
        "list_price": "129.00",
        "availability": "InStock",
        "shop_id": "5001",
        "shop_name": "美的生活电器旗舰店",
        "category_path": ["首页", "生活电器", "电热水壶"],
        "rating": 4.8,
        "review_count": 120,
        "sales_volume": "月销1.2万+",
        "ccc": "2020010718123456",
        "manufacturer": "广东美的生活电器制造有限公司",
        "origin": "广东省佛山市",
        "image_urls": [],
        "description": "1.5L大容量，食品级304不锈钢内胆。",
    }
    base.update(payload)
    return {"platform": platform, "external_id": ext, "fetched_at": fetched_at, "payload": base}


def review(
    ext: str,
    listing_ext: str,
    content: str,
    *,
    platform: str = "youpin",
    fetched_at=FETCHED,
    **payload: Any,
) -> dict:
    base = {
        "id": ext,
        "user": "王**",
        "rating": 5,
        "posted": None,
        "posted_text": "3天前",
        "content": content,
        "variant": "颜色分类：白色",
        "images": [],
        "followup_days": None,
        "followup_content": None,
    }
    base.update(payload)
    return {
        "platform": platform,
        "external_id": ext,
        "listing_external_id": listing_ext,
        "fetched_at": fetched_at,
        "payload": base,
    }


def shop(
    ext: str, *, platform: str = "youpin", fetched_at: dt.datetime = FETCHED, **payload: Any
) -> dict:
    """A shop page as the listings spider lands it (``crawlers.parse.shops``)."""
    url = {
        "youpin": f"http://shop.example/youpin/shop/{ext}.html",
        "lehuo": f"http://shop.example/lehuo/store/{ext}/",
        "pinjia": f"http://shop.example/pinjia/mall/{ext}",
    }[platform]
    base = {
        "platform": platform,
        "external_id": ext,
        "name": "美的生活电器旗舰店",
        "company": "佛山市美的生活电器科技有限公司",
        "credit_code": "91440606MA4UHRRH11",
        "contact": "李小明",
        "phone": "0757-2663 8888",
        "address": "广东省佛山市顺德区北滘镇美的大道6号",
        "province": "广东省",
        "city": "佛山市",
        "url": url,
    }
    base.update(payload)
    return {
        "platform": platform,
        "external_id": ext,
        "url": url,
        "fetched_at": fetched_at,
        "payload": base,
    }


def complaint(
    number: str, *, listing_url: str | None = None, fetched_at=FETCHED, **payload: Any
) -> dict:
    base = {
        "number": number,
        "title": "电水壶底座漏电",
        "respondent": "美的生活电器旗舰店",
        "platform_name": "优品",
        "listing_url": listing_url,
        "problem": "产品质量",
        "demand": "退款",
        "amount_fen": 8900,
        "status": "处理中",
        "complainant": "李小明",
        "phone": "13812345678",
        "email": "xiaoming.li@example.com",
        "id_number": "110105199003071234",
        "address": "北京市朝阳区建国路88号3栋2单元501室",
        "detail": "烧水时底座漏电，联系我13812345678，邮箱xiaoming.li@example.com。",
        "steps": [
            {"time": "2026-11-01 09:30:00", "actor": "投诉人", "text": "提交投诉"},
            {"time": "2026-11-02 10:00:00", "actor": "商家", "text": "已联系李小明处理"},
        ],
    }
    base.update(payload)
    return {
        "source": "tousu",
        "complaint_number": number,
        "fetched_at": fetched_at,
        "payload": base,
    }


def recall(
    number: str,
    *,
    source: str = "cpsc",
    url: str = "http://r.example/cpsc.json",
    fetched_at=FETCHED,
    **payload: Any,
) -> dict:
    base = {
        "brands": ["PANDOO"],
        "models": ["XX-352Q"],
        "country": "China",
        "date": "2024-02-01",
        "title": "Pandoo Recalls Hair Dryers Due to Fire Hazard",
        "product_name": "Hair Dryers",
        "hazard": "The hair dryers can overheat.",
        "remedy": "Refund",
        "description": "This recall involves PANDOO hair dryers.",
        "extra": {},
        "url": url,
    }
    base.update(payload)
    return {
        "source": source,
        "recall_number": number,
        "url": url,
        "fetched_at": fetched_at,
        "payload": base,
    }


CORE = (shops, products, listings, listing_snapshots, reviews, complaints, recalls)


def core_snapshot(engine: Engine) -> dict[str, list]:
    """Every core table as sorted tuples, with surrogate ids replaced by natural keys, so
    two warehouses built in different orders compare equal when their content is."""
    out: dict[str, list] = {}
    with engine.connect() as conn:
        shop_key = {r.id: (r.platform, r.external_id) for r in conn.execute(select(shops))}
        product_key = {r.id: r.product_key for r in conn.execute(select(products))}
        listing_key = {r.id: (r.platform, r.external_id) for r in conn.execute(select(listings))}
        maps = {"shop_id": shop_key, "product_id": product_key, "listing_id": listing_key}
        for t in CORE:
            rows = []
            for r in conn.execute(select(t)).mappings():
                d = {k: (maps[k].get(v) if k in maps else v) for k, v in r.items() if k != "id"}
                rows.append(json.dumps(d, sort_keys=True, default=str, ensure_ascii=False))
            out[t.name] = sorted(rows)
        q = [
            json.dumps(
                {k: v for k, v in r.items() if k not in ("id", "run_id", "loaded_at")},
                sort_keys=True,
                default=str,
            )
            for r in conn.execute(select(quarantine)).mappings()
        ]
        out["quarantine"] = sorted(q)
    return out
