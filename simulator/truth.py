"""The planted truth of a world as one JSON document, streamed record by record.

The document is produced by a generator of text chunks, so even a
1,000,000-product world is written without building it in memory.  The
format is described in ``simulator/README.md``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from .catalog import BRANDS_BY_GROUP, CATEGORIES
from .entities import Complaint, Listing, Product, Recall, Shop
from .layout import PLATFORMS
from .sites.recall import notice_path
from .world import World, listing_path, shop_path

FORMAT = "ecqm-simulator-truth"
VERSION = 1
# Stock words shown on the pages, as schema.org ItemAvailability terms.
AVAILABILITY = {"有货": "InStock", "无货": "OutOfStock", "预售": "PreOrder"}


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def iter_truth(world: World, reviews: bool = True) -> Iterator[str]:
    """Yield the truth document in chunks (concatenated, they form one JSON object)."""
    head = {
        "format": FORMAT,
        "version": VERSION,
        "seed": world.seed,
        "products_count": world.products,
        "clock": world.clock.isoformat(),
        "platforms": list(PLATFORMS),
        "categories": [
            {"code": c.code, "zh": c.zh, "group": c.group, "ccc_required": c.ccc}
            for c in CATEGORIES
        ],
        "brands": [
            {"key": b.key, "zh": b.zh, "pinyin": b.pinyin, "alias": b.alias, "group": g}
            for g, bs in BRANDS_BY_GROUP.items()
            for b in bs
        ],
    }
    yield _dump(head)[:-1]
    yield from _section(
        "products", (product_record(world, pid, reviews) for pid in range(world.products))
    )
    yield from _section(
        "shops",
        (shop_record(world, world.shop(p, g, i)) for p in PLATFORMS for g, i in world.shops(p)),
    )
    yield from _section(
        "rings", ({"id": r, **world.ring_attributes(r)} for r in range(world.rings))
    )
    yield from _section(
        "complaints",
        (complaint_record(world, world.complaint(k)) for k in range(world.complaint_count())),
    )
    yield from _section(
        "recalls", (recall_record(world, world.recall(k)) for k in range(world.recall_count()))
    )
    yield "}\n"


def _section(name: str, records: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield f',\n"{name}":['
    first = True
    for rec in records:
        yield ("\n" if first else ",\n") + _dump(rec)
        first = False
    yield "\n]"


def write_truth(world: World, fp: IO[Any], reviews: bool = True) -> None:
    """Write the truth document to a text or binary file object."""
    for chunk in iter_truth(world, reviews):
        try:
            fp.write(chunk)
        except TypeError:
            fp.write(chunk.encode("utf-8"))


def product_record(world: World, pid: int, reviews: bool = True) -> dict[str, Any]:
    p: Product = world.product(pid)
    recalls = []
    if p.recall is not None:
        r = world.recall(p.recall)
        recalls.append({"source": r.source, "number": r.number, "url": notice_path(r)})
    return {
        "id": pid,
        "category": p.category.code,
        "brand": p.brand.key,
        "brand_zh": p.brand.zh,
        "model": p.model,
        "gtin": p.gtin,
        "producer": p.producer,
        "producer_region": p.producer_city.code if p.producer_city else None,
        "sanwu": p.producer is None,
        "ccc_required": p.category.ccc,
        "ccc_cert": p.ccc_cert,
        "base_price_fen": p.base_price_fen,
        "defect": None
        if p.defect is None
        else {
            "hazard": p.defect.hazard,
            "start": p.defect.start.isoformat(),
            "batches": list(p.defect.batches),
            "cause": p.defect.cause,
        },
        "p_fail": p.p_fail,
        "recalls": recalls,
        "listings": [
            listing_record(world, world.listing(*key), recalls, reviews)
            for key in world.listings_of(pid)
        ],
    }


def listing_record(
    world: World, lst: Listing, recalls: list[dict[str, str]], reviews: bool
) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "platform": lst.platform,
        "id": str(lst.ext_id),
        "url": listing_path(lst.platform, lst.ext_id),
        "shop_id": str(lst.shop.ext_id),
        "title": lst.title,
        "brand_text": lst.brand_text,
        "model_text": lst.model_text,
        "price_fen": lst.price_fen,
        "list_price_fen": lst.list_price_fen,
        "currency": "CNY",
        "sku": str(lst.ext_id),
        "stock": lst.stock,
        "availability": AVAILABILITY[lst.stock],
        "counterfeit": lst.counterfeit,
        "ring": lst.shop.ring,
        "banned_terms": [{"term": t, "where": w} for t, w in lst.banned_terms],
        "exempt_phrases": list(lst.exempt_phrases),
        "ccc_required": lst.ccc_required,
        "ccc_shown": lst.ccc_shown,
        "missing_ccc": lst.missing_ccc,
        "manufacturer_shown": lst.manufacturer is not None,
        "origin_shown": lst.origin is not None,
        "sanwu": lst.sanwu,
        "recalls": recalls,
        "p_fail": lst.p_fail,
        "review_count": lst.review_count,
    }
    if reviews:
        rec["reviews"] = [
            {
                "id": str(r.id),
                "index": r.index,
                "rating": r.rating,
                "posted": r.posted.isoformat(),
                "kind": r.kind,
                "sentiment": r.sentiment,
                "defect": r.defect,
                "hazard": r.hazard,
                "spam_cluster": r.spam_cluster,
            }
            for r in world.reviews(lst)
        ]
    return rec


def shop_record(world: World, s: Shop) -> dict[str, Any]:
    return {
        "platform": s.platform,
        "id": str(s.ext_id),
        "url": shop_path(s.platform, s.ext_id),
        "name": s.name,
        "kind": s.kind,
        "group": s.group,
        "province_code": s.city.province_code,
        "province": s.city.province,
        "city_code": s.city.code,
        "city": s.city.name,
        "company": s.company,
        "credit_code": s.credit_code,
        "contact": s.contact,
        "phone": s.phone,
        "address": s.address,
        "ring": s.ring,
        "shared": list(s.shared),
        "spam_cluster": s.spam_cluster,
        "listing_count": world.shop_listing_count(s),
    }


def complaint_record(world: World, c: Complaint) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "number": c.number,
        "url": f"/tousu/complaint/{c.number}",
        "filed": c.filed.isoformat(),
        "status": c.status,
        "kind": c.kind,
        "hazard": c.hazard,
        "amount_fen": c.amount_fen,
        "complainant": c.complainant,
        "phone": c.phone,
        "id_number": c.id_number,
        "email": c.email,
    }
    if c.listing:
        lst = world.listing(*c.listing)
        rec.update(
            {
                "platform": lst.platform,
                "listing_id": str(lst.ext_id),
                "product": lst.product.id,
                "shop_id": str(lst.shop.ext_id),
            }
        )
    return rec


def recall_record(world: World, r: Recall) -> dict[str, Any]:
    listings = []
    if r.matched_product is not None:
        listings = [
            {"platform": k[0], "id": str(world.listing_ext_id(*k))}
            for k in world.listings_of(r.matched_product)
        ]
    return {
        "source": r.source,
        "number": r.number,
        "url": notice_path(r),
        "published": r.published.isoformat(),
        "brand": r.brand,
        "models": list(r.models),
        "category": r.category,
        "hazard": r.hazard,
        "matched_product": r.matched_product,
        "matched_listings": listings,
    }
