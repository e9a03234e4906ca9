"""Landing files written straight from a simulated world, shaped like the crawlers' own.

Crawling a large simulated market page by page takes longer than a benchmark may run
(the crawl does a few hundred pages a second), so the scaling benchmark measures the
crawl on a page budget and writes the landing zone for the later stages from the
simulator's world directly: the same folders, file names and JSON lines as
:class:`crawlers.pipelines.LandingPipeline` writes, with the payloads the marketplace,
complaint-portal and recall spiders extract (the field names and value formats of a
real crawl of the simulator), so the load and everything after it run their real code
on them.

Products ``[start, stop)`` are written with their listings, reviews and shops; the
complaint portal's complaints ``[first, last)`` go with them. Several processes can
write one run side by side, each its own shard.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from crawlers import landing
from simulator.catalog import GROUPS
from simulator.layout import PLATFORMS
from simulator.world import PLATFORM_ZH, World, listing_path, shop_path

BASE_URL = "http://127.0.0.1:8765"
SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
AVAILABILITY = {"有货": "InStock", "无货": "OutOfStock", "预售": "PreOrder"}
REVIEW_PAGE = 10  # reviews per page or API call on every simulated marketplace
# Where each platform's extraction finds a listing's fields, and the page encoding.
EXTRACTED_BY = {"youpin": "jsonld", "lehuo": "microdata", "pinjia": "selector"}
ENCODING = {"youpin": "utf-8", "lehuo": "gb18030", "pinjia": "utf-8"}
GENERIC_FIELDS = ("list_price", "shop_id", "category_path", "sales_volume", "ccc", "origin")
SALES_TEXT = {"youpin": "月销量：{n}", "lehuo": "月销{n}", "pinjia": "已拼{n}件"}


@dataclass(frozen=True)
class Run:
    """Where and as what one run's landing files are written."""

    landing: Path
    run_id: str
    partition_date: str
    fetched_at: dt.datetime

    @property
    def stamp(self) -> str:
        return self.fetched_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


def _sha(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


class _Files:
    """The shard's item files of each profile, opened on first use."""

    def __init__(self, run: Run, shard: int) -> None:
        self.run = run
        self.shard = shard
        self.open: dict[tuple[str, str], IO[str]] = {}
        self.counts: Counter[str] = Counter()
        # Pages a complete crawl fetches one by one, by profile: listing, review, shop
        # and complaint pages (navigation and search pages come on top).
        self.units: Counter[str] = Counter()

    def write(self, profile: str, kind: str, record: dict[str, Any]) -> None:
        key = (profile, kind)
        fh = self.open.get(key)
        if fh is None:
            path = landing.item_path(
                self.run.landing,
                profile,
                kind,
                self.run.partition_date,
                self.run.run_id,
                self.shard,
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            fh = self.open[key] = path.open("w", encoding="utf-8")
        fh.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        fh.write("\n")
        self.counts[kind] += 1

    def close(self) -> None:
        for fh in self.open.values():
            fh.close()


def _record(
    run: Run, kind: str, source: str, platform: str | None, ext: str, url: str, payload: dict
) -> dict[str, Any]:
    return {
        "kind": kind,
        "source": source,
        "platform": platform,
        "external_id": ext,
        "listing_external_id": None,
        "url": url,
        "fetched_at": run.stamp,
        "evidence_sha256": _sha("evidence", url),
        "crawl_run_id": run.run_id,
        "payload": payload,
    }


def listing_payload(listing: Any, url: str, rating: float | None) -> dict[str, Any]:
    p = listing.product
    cat = p.category
    return {
        "url": url,
        "name": listing.title,
        "brand": listing.brand_text,
        "model": listing.model_text,
        "sku": str(listing.ext_id),
        "gtin": p.gtin,
        "price": _yuan(listing.price_fen),
        "currency": "CNY",
        "price_high": None,
        "list_price": _yuan(listing.list_price_fen),
        "coupon_price": _yuan(listing.price_fen - listing.coupon_fen)
        if listing.coupon_fen
        else None,
        "availability": AVAILABILITY.get(listing.stock, "InStock"),
        "shop_id": str(listing.shop.ext_id),
        "shop_name": listing.shop.name,
        "category_path": [GROUPS[cat.group], cat.zh],
        "rating": rating,
        "review_count": listing.review_count,
        "sales_volume": SALES_TEXT[listing.platform].format(n=listing.sales_month),
        "ccc": listing.ccc_shown,
        "manufacturer": listing.manufacturer,
        "origin": listing.origin,
        "image_urls": [BASE_URL + i for i in listing.images],
        "description": "\n".join(listing.description),
        "sources": _sources(listing.platform),
        "encoding": ENCODING[listing.platform],
        "problems": [],
    }


def _sources(platform: str) -> dict[str, str]:
    how = EXTRACTED_BY[platform]
    fields = (
        "name brand model sku gtin price currency list_price availability shop_id shop_name "
        "category_path rating review_count sales_volume ccc manufacturer origin image_urls "
        "description"
    ).split()
    return {f: "generic" if f in GENERIC_FIELDS else how for f in fields}


def review_payload(r: Any) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "user": r.nickname,
        "rating": r.rating,
        "posted": r.posted.strftime("%Y-%m-%dT%H:%M:%S"),
        "posted_text": r.posted.strftime("%Y-%m-%d %H:%M:%S"),
        "content": r.text,
        "variant": r.sku,
        "images": list(r.images),
        "helpful": r.helpful,
        "followup_days": r.followup[0] if r.followup else None,
        "followup_content": r.followup[1] if r.followup else None,
    }


def shop_payload(shop: Any, url: str) -> dict[str, Any]:
    return {
        "platform": shop.platform,
        "external_id": str(shop.ext_id),
        "name": shop.name,
        "company": shop.company,
        "credit_code": shop.credit_code,
        "contact": shop.contact,
        "phone": shop.phone,
        "address": shop.address,
        "province": shop.city.province,
        "city": shop.city.name,
        "url": url,
    }


def complaint_payload(world: World, c: Any) -> dict[str, Any]:
    listing = world.listing(*c.listing) if c.listing else None
    return {
        "number": c.number,
        "respondent": c.shop_name,
        "problem": c.problem,
        "demand": c.demand,
        "amount_text": f"¥{_yuan(c.amount_fen)}",
        "status": c.status,
        "complainant": c.complainant,
        "phone": c.phone,
        "address": c.address,
        "id_number": c.id_number,
        "email": c.email,
        "title": c.title,
        "platform_name": c.platform_zh,
        "amount_fen": c.amount_fen,
        "listing_url": BASE_URL + listing_path(listing.platform, listing.ext_id)
        if listing
        else None,
        "listing_title": listing.title if listing else None,
        "shop_url": BASE_URL + shop_path(listing.platform, listing.shop.ext_id)
        if listing
        else None,
        "shop_name": c.shop_name,
        "detail": c.detail,
        "steps": [
            {
                "time": s.when.strftime("%Y-%m-%d %H:%M:%S"),
                "actor": s.actor,
                "text": s.text,
            }
            for s in c.steps
        ],
        "rating": c.rating,
        "rating_text": c.rating_text,
    }


def write_world(
    world: World,
    run: Run,
    *,
    products: tuple[int, int],
    complaints: tuple[int, int] = (0, 0),
    shard: int = 0,
) -> dict[str, int]:
    """Write products ``[start, stop)`` (listings, reviews, their shops) and complaints
    ``[first, last)`` as shard ``shard`` of ``run``; item counts by kind, under ``units``
    the listing, review and complaint pages a crawl of them would fetch one by one, by
    profile, and under ``shops`` the shops written (shards may share a shop)."""
    files = _Files(run, shard)
    shops_done: set[tuple[str, int]] = set()
    try:
        for pid in range(*products):
            for key in world.listings_of(pid):
                li = world.listing(*key)
                profile = li.platform
                url = BASE_URL + listing_path(li.platform, li.ext_id)
                ext = str(li.ext_id)
                ratings = []
                for r in world.reviews(li):
                    ratings.append(r.rating)
                    rec = _record(
                        run, "review", profile, profile, str(r.id), url, review_payload(r)
                    )
                    rec["listing_external_id"] = ext
                    files.write(profile, "review", rec)
                rating = round(sum(ratings) / len(ratings), 1) if ratings else None
                files.units[profile] += 1 + max(1, -(-len(ratings) // REVIEW_PAGE))
                files.write(
                    profile,
                    "listing",
                    _record(
                        run, "listing", profile, profile, ext, url, listing_payload(li, url, rating)
                    ),
                )
                shop = li.shop
                if (shop.platform, shop.ext_id) not in shops_done:
                    shops_done.add((shop.platform, shop.ext_id))
                    shop_url = BASE_URL + shop_path(shop.platform, shop.ext_id)
                    files.write(
                        profile,
                        "shop",
                        _record(
                            run,
                            "shop",
                            profile,
                            profile,
                            str(shop.ext_id),
                            shop_url,
                            shop_payload(shop, shop_url),
                        ),
                    )
        for k in range(*complaints):
            c = world.complaint(k)
            files.units["tousu"] += 1
            url = f"{BASE_URL}/tousu/complaint/{c.number}"
            files.write(
                "tousu",
                "complaint",
                _record(
                    run, "complaint", "tousu", None, c.number, url, complaint_payload(world, c)
                ),
            )
    finally:
        files.close()
    return {**files.counts, "units": dict(files.units), "shops": sorted(shops_done)}


def payload_shape(folder: Path, kind: str, profile: str, limit: int = 500) -> set[str]:
    """The line fields and payload fields of the first ``limit`` ``kind`` items of
    ``profile`` under a landing ``folder`` (any run): to compare with a real crawl's."""
    keys: set[str] = set()
    for path in sorted((folder / profile / f"{kind}s").glob("*/*/shard-*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for i, line in enumerate(fh):
                if i >= limit:
                    break
                record = json.loads(line)
                keys |= {f"line.{k}" for k in record}
                keys |= {f"payload.{k}" for k in record.get("payload") or {}}
    return keys


def profiles_written(run: Run) -> list[str]:
    """The profiles that have item files in ``run`` (what the load goes through)."""
    found = []
    for profile in (*PLATFORMS, "tousu", "sim_recalls"):
        if (run.landing / profile).is_dir():
            found.append(profile)
    return found


__all__ = ["BASE_URL", "PLATFORM_ZH", "Run", "payload_shape", "profiles_written", "write_world"]
