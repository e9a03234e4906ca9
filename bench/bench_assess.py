"""Risk assessment of a whole market: time and peak memory to assess N products.

A simulated world's core tables (shops, products, listings and their snapshots,
reviews, complaints, recalls) are written straight into a fresh warehouse in one
process, so the benchmark measures assessment, not crawling or processing. A fresh
process then runs :func:`risk_models.assess.assess` twice:

* **first run** — scores every review with the text models, matches every listing
  against every recall, computes all signals and assessments;
* **second run of the next day** — reviews are already scored, so it shows the cost of
  the daily assessment itself.

Reported: wall time per step, products per second, reviews scored per second inside
the pipeline (database round trips included) and the process's peak resident memory.
Target on 2 cores: 100,000 products assessed (second run) in under 5 minutes and under
4 GiB.

    python -m bench.bench_assess                       # 100,000 products, SQLite in a temp folder
    python -m bench.bench_assess --products 10000 --url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench.common import record

TARGET_SECONDS_100K = 300
TARGET_PEAK_MIB = 4096
SEEN = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)
MAX_REVIEWS_PER_LISTING = 60


def _h(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


def _load(url: str, products: int, seed: int) -> dict[str, int]:
    """Write the world's core rows; returns row counts."""
    from sqlalchemy import select

    from ecqm.warehouse import migrate
    from ecqm.warehouse.engine import make_engine
    from ecqm.warehouse.schema import (
        complaints,
        listing_snapshots,
        listings,
        recalls,
        reviews,
        shops,
    )
    from ecqm.warehouse.schema import products as products_t
    from simulator.world import World
    from transforms.reference.load import load_reference

    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        load_reference(conn)
    world = World(products=products, seed=seed)
    counts = {"products": 0, "listings": 0, "reviews": 0, "shops": 0}
    shop_ids: dict[tuple[str, int], int] = {}
    listing_ids: dict[tuple[str, int], int] = {}
    batch: list = []

    with engine.begin() as conn:
        conn.execute(
            products_t.insert(),
            [
                {
                    "product_key": f"p{pid}",
                    "brand": (p := world.product(pid)).brand.zh,
                    "model": p.model,
                    "name": p.name,
                    "category_code": p.category.code,
                    "gtin": p.gtin,
                    "producer_name": p.producer,
                    "first_seen_at": SEEN,
                    "last_seen_at": SEEN,
                }
                for pid in range(products)
            ],
        )
        counts["products"] = products
    for start in range(0, products, 5000):
        pids = range(start, min(products, start + 5000))
        lst_rows, keys = [], []
        with engine.begin() as conn:
            new_shops = []
            for pid in pids:
                for key in world.listings_of(pid):
                    li = world.listing(*key)
                    sk = (li.platform, li.shop.ext_id)
                    if sk not in shop_ids and sk not in {
                        (r["platform"], int(r["external_id"])) for r in new_shops[-50:]
                    }:
                        s = li.shop
                        new_shops.append(
                            {
                                "platform": s.platform,
                                "external_id": str(s.ext_id),
                                "name": s.name,
                                "company_name": s.company,
                                "phone_hash": _h("phone", s.phone),
                                "address_hash": _h("addr", s.address),
                                "contact_hash": _h("contact", s.contact),
                                "first_seen_at": SEEN,
                                "last_seen_at": SEEN,
                            }
                        )
                        shop_ids[sk] = -1
            new_shops = list({(r["platform"], r["external_id"]): r for r in new_shops}.values())
            if new_shops:
                conn.execute(shops.insert(), new_shops)
                for sid, plat, ext in conn.execute(
                    select(shops.c.id, shops.c.platform, shops.c.external_id)
                ):
                    shop_ids[(plat, int(ext))] = sid
            for pid in pids:
                for key in world.listings_of(pid):
                    li = world.listing(*key)
                    keys.append(li)
                    lst_rows.append(
                        {
                            "platform": li.platform,
                            "external_id": str(li.ext_id),
                            "shop_id": shop_ids[(li.platform, li.shop.ext_id)],
                            "product_id": pid + 1,
                            "title": li.title,
                            "category_code": li.product.category.code,
                            "brand": li.brand_text,
                            "model": li.model_text,
                            "price_fen": li.price_fen,
                            "currency": "CNY",
                            "ccc_number": li.ccc_shown,
                            "producer_name": li.manufacturer,
                            "origin": li.origin,
                            "gtin": li.product.gtin,
                            "attributes": {"description": "".join(li.description)},
                            "first_seen_at": SEEN,
                            "last_seen_at": SEEN,
                        }
                    )
            conn.execute(listings.insert(), lst_rows)
            ids = dict(
                ((p, e), i)
                for i, p, e in conn.execute(
                    select(listings.c.id, listings.c.platform, listings.c.external_id).where(
                        listings.c.product_id.between(start + 1, start + len(pids))
                    )
                )
            )
            conn.execute(
                listing_snapshots.insert(),
                [
                    {
                        "listing_id": ids[(li.platform, str(li.ext_id))],
                        "captured_at": SEEN,
                        "price_fen": li.price_fen,
                    }
                    for li in keys
                ],
            )
            for li in keys:
                lid = ids[(li.platform, str(li.ext_id))]
                listing_ids[(li.platform, li.ext_id)] = lid
                for r in (
                    world.reviews(li)
                    if li.review_count <= MAX_REVIEWS_PER_LISTING
                    else (world.review(li, i) for i in range(MAX_REVIEWS_PER_LISTING))
                ):
                    batch.append(
                        {
                            "platform": li.platform,
                            "external_id": str(r.id),
                            "listing_id": lid,
                            "rating": float(r.rating),
                            "text": r.text,
                            "posted_at": dt.datetime.combine(r.posted, dt.time(), tzinfo=dt.UTC)
                            if not isinstance(r.posted, dt.datetime)
                            else r.posted.replace(tzinfo=dt.UTC),
                            "spam_cluster_id": r.spam_cluster,
                            "attributes": {"followup_text": r.followup[1]} if r.followup else None,
                            "fetched_at": SEEN,
                        }
                    )
                if len(batch) >= 50_000:
                    conn.execute(reviews.insert(), batch)
                    counts["reviews"] += len(batch)
                    batch.clear()
            counts["listings"] += len(lst_rows)
    with engine.begin() as conn:
        if batch:
            conn.execute(reviews.insert(), batch)
            counts["reviews"] += len(batch)
        comp = []
        for k in range(world.complaint_count()):
            c = world.complaint(k)
            lid = (
                listing_ids.get((c.listing[0], world.listing_ext_id(*c.listing)))
                if c.listing
                else None
            )
            comp.append(
                {
                    "source": "tousu",
                    "complaint_number": c.number,
                    "listing_id": lid,
                    "title": c.title,
                    "problem": c.problem,
                    "filed_at": c.filed.replace(tzinfo=dt.UTC),
                    "fetched_at": SEEN,
                }
            )
        if comp:
            conn.execute(complaints.insert(), comp)
        rec = []
        for k in range(world.recall_count()):
            r = world.recall(k)
            rec.append(
                {
                    "source": r.source,
                    "recall_number": r.number,
                    "title": r.product_name,
                    "product_name": r.product_name,
                    "brands": [r.brand],
                    "models": list(r.models),
                    "hazard": r.hazard,
                    "published_on": r.published,
                    "fetched_at": SEEN,
                }
            )
        if rec:
            conn.execute(recalls.insert(), rec)
    counts["shops"] = len(shop_ids)
    counts["complaints"] = len(comp)
    counts["recalls"] = len(rec)
    engine.dispose()
    return counts


def _assess(url: str, home: str, queue: multiprocessing.Queue) -> None:
    from ecqm.warehouse.engine import make_engine
    from risk_models.assess import assess
    from risk_models.text import default_scorer

    engine = make_engine(url)
    scorer = default_scorer(Path(home))  # trained (or loaded) before the clock starts
    out = {}
    for day in (dt.date(2026, 11, 2), dt.date(2026, 11, 3)):
        t = time.perf_counter()
        report = assess(engine, day, home=Path(home), text_scorer=scorer)
        out[str(day)] = {
            "seconds": round(time.perf_counter() - t, 1),
            "steps": report.seconds,
            "reviews_scored": report.reviews_scored,
            "products": report.products,
            "levels": report.levels,
        }
    out["peak_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    queue.put(out)


def run(products: int, url: str | None, seed: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="ecqm-bench-assess-") as tmp:
        url = url or f"sqlite:///{tmp}/warehouse.db"
        t = time.perf_counter()
        counts = _load(url, products, seed)
        load_s = time.perf_counter() - t
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        proc = ctx.Process(target=_assess, args=(url, str(Path(tmp) / "home"), queue))
        proc.start()
        result = queue.get()
        proc.join()
    first, second = result["2026-11-02"], result["2026-11-03"]
    scored = first["reviews_scored"] / max(first["steps"]["score_reviews"], 1e-9)
    return {
        "products": products,
        "rows": counts,
        "load_seconds": round(load_s, 1),
        "first_run": first,
        "daily_run": second,
        "reviews_scored_per_second": round(scored),
        "products_per_second": round(products / max(second["seconds"], 1e-9)),
        "peak_mib": result["peak_mib"],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--url", help="warehouse URL (default: SQLite in a temporary folder)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    r = run(args.products, args.url, args.seed)
    rows = r["rows"]
    print(
        f"{r['products']:,} products, {rows['listings']:,} listings, {rows['reviews']:,} reviews, "
        f"{rows['complaints']:,} complaints, {rows['recalls']:,} recalls (loaded in {r['load_seconds']} s)"
    )
    print(
        f"first run  {r['first_run']['seconds']:>7.1f} s  (reviews scored in the pipeline: "
        f"{r['reviews_scored_per_second']:,}/s)  steps {r['first_run']['steps']}"
    )
    print(
        f"daily run  {r['daily_run']['seconds']:>7.1f} s  ({r['products_per_second']:,} products/s)"
        f"  steps {r['daily_run']['steps']}"
    )
    scaled = r["daily_run"]["seconds"] * 100_000 / r["products"]
    ok = scaled <= TARGET_SECONDS_100K and r["peak_mib"] <= TARGET_PEAK_MIB
    print(
        f"peak {r['peak_mib']:,.0f} MiB; daily assessment of 100,000 products "
        f"{'measured' if r['products'] == 100_000 else 'scaled'} {scaled:.0f} s "
        f"(target {TARGET_SECONDS_100K} s, {TARGET_PEAK_MIB} MiB): "
        + ("OK" if ok else "BELOW TARGET")
    )
    record("assess", r)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
