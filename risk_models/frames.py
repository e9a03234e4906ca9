"""What the assessment reads from the warehouse, as pandas frames for one assessment date.

Everything is read as of the end of ``as_of`` in Asia/Shanghai: rows dated later (a
review posted, a complaint filed, a recall published, a sample tested after that
moment) are left out, so an assessment of a past date can be reproduced from a
warehouse that has moved on. Frames hold ids, numbers and short text only; personal
data never reaches core, so it never reaches here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Connection, and_, case, func, or_, select

from ecqm.warehouse.schema import (
    complaints,
    inspection_results,
    listing_snapshots,
    listings,
    products,
    recall_matches,
    recalls,
    ref_categories,
    review_scores,
    reviews,
    shops,
)
from transforms.results.retests import is_current_report

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A review counts as reporting a defect (or as negative) from this probability on.
FLAG = 0.5
# The recent window of the spike test.
RECENT_DAYS = 90
STAT_COLUMNS = ["product_id", "n", "defects", "negatives", "first", "n_recent", "defects_recent"]
REVIEW_COLUMNS = [
    "id",
    "product_id",
    "posted_at",
    "negative_probability",
    "defect_probability",
    "hazard",
]


def window_end(as_of: dt.date) -> dt.datetime:
    """The first instant after ``as_of`` in Shanghai, in UTC."""
    local = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=SHANGHAI)
    return local.astimezone(dt.UTC)


def _frame(conn: Connection, query: Any, columns: list[str] | None = None) -> pd.DataFrame:
    result = conn.execute(query)
    names = columns or list(result.keys())
    # Plain tuples: pandas probes Row objects attribute by attribute otherwise.
    return pd.DataFrame([tuple(r) for r in result.fetchall()], columns=names)


def _utc(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True)


@dataclass
class Frames:
    """The inputs of one assessment."""

    as_of: dt.date
    end: dt.datetime
    products: pd.DataFrame  # id, category_code, brand, model, producer_name, severity_weight, ...
    listings: pd.DataFrame  # id, product_id, shop_id, title, brand, price_fen, ccc_number, ...
    snapshots: pd.DataFrame  # listing_id, snapshot_id (latest by capture time)
    reviews: pd.DataFrame  # flagged reviews only: id, product_id, posted_at, scores
    review_stats: pd.DataFrame  # per product: n, defects, negatives, first, n_recent, ...
    complaints: pd.DataFrame  # id, listing_id, product_id, shop_id, filed_at, text
    matches: pd.DataFrame  # listing_id, product_id, recall_id, source, score, hazard, ...
    shops: pd.DataFrame  # id, phone_hash, address_hash, contact_hash, company_name
    inspections: pd.DataFrame  # id, task_id, product_id, shop_id, verdict, tested_on, ...


def load_frames(conn: Connection, as_of: dt.date) -> Frames:
    end = window_end(as_of)
    prod = _frame(
        conn,
        select(
            products.c.id,
            products.c.category_code,
            products.c.brand,
            products.c.model,
            products.c.producer_name,
            ref_categories.c.severity_weight,
            ref_categories.c.max_severity,
            ref_categories.c.is_ccc_required,
            ref_categories.c.ccc_required_from,
            ref_categories.c.name_zh.label("category_zh"),
        )
        .select_from(
            products.outerjoin(ref_categories, ref_categories.c.code == products.c.category_code)
        )
        .where(products.c.first_seen_at < end),
    )
    lst = _frame(
        conn,
        select(
            listings.c.id,
            listings.c.product_id,
            listings.c.shop_id,
            listings.c.platform,
            listings.c.title,
            listings.c.brand,
            listings.c.model,
            listings.c.category_code,
            listings.c.price_fen,
            listings.c.ccc_number,
            listings.c.producer_name,
            listings.c.origin,
            listings.c.gtin,
            # Only the description of the attributes, extracted by the database: decoding
            # every listing's whole attributes document costs more than the rest.
            listings.c.attributes["description"].as_string().label("description"),
        ).where(listings.c.first_seen_at < end),
    )
    # The newest snapshot of each listing taken by the assessment date.
    newest = (
        select(
            listing_snapshots.c.listing_id,
            func.max(listing_snapshots.c.captured_at).label("captured_at"),
        )
        .where(listing_snapshots.c.captured_at < end)
        .group_by(listing_snapshots.c.listing_id)
        .subquery()
    )
    snaps = _frame(
        conn,
        select(
            listing_snapshots.c.listing_id,
            listing_snapshots.c.id.label("snapshot_id"),
            listing_snapshots.c.price_fen.label("snapshot_price_fen"),
            listing_snapshots.c.sales_volume,
        ).select_from(
            listing_snapshots.join(
                newest,
                and_(
                    newest.c.listing_id == listing_snapshots.c.listing_id,
                    newest.c.captured_at == listing_snapshots.c.captured_at,
                ),
            )
        ),
    )
    rev, stats = _reviews(conn, end)
    comp = _frame(
        conn,
        select(
            complaints.c.id,
            complaints.c.listing_id,
            listings.c.product_id,
            func.coalesce(complaints.c.shop_id, listings.c.shop_id).label("shop_id"),
            complaints.c.filed_at,
            complaints.c.fetched_at,
            complaints.c.title,
            complaints.c.problem,
        )
        .select_from(complaints.outerjoin(listings, listings.c.id == complaints.c.listing_id))
        .where(
            or_(
                complaints.c.filed_at < end,
                and_(complaints.c.filed_at.is_(None), complaints.c.fetched_at < end),
            )
        ),
    )
    if len(comp):
        comp["filed_at"] = _utc(comp["filed_at"].fillna(comp["fetched_at"]))
    last_day = as_of
    mat = _frame(
        conn,
        select(
            recall_matches.c.id.label("match_id"),
            recall_matches.c.listing_id,
            listings.c.product_id,
            recall_matches.c.recall_id,
            recall_matches.c.source,
            recall_matches.c.recall_number,
            recall_matches.c.score,
            recall_matches.c.matched_on,
            recall_matches.c.matched_model,
            recall_matches.c.hazard,
            recalls.c.published_on,
            recalls.c.title.label("recall_title"),
        )
        .select_from(
            recall_matches.join(listings, listings.c.id == recall_matches.c.listing_id).join(
                recalls, recalls.c.id == recall_matches.c.recall_id
            )
        )
        .where(or_(recalls.c.published_on.is_(None), recalls.c.published_on <= last_day)),
    )
    shp = _frame(
        conn,
        select(
            shops.c.id,
            shops.c.platform,
            shops.c.name,
            shops.c.company_name,
            shops.c.phone_hash,
            shops.c.address_hash,
            shops.c.contact_hash,
        ),
    )
    insp = _frame(
        conn,
        select(
            inspection_results.c.id,
            inspection_results.c.task_id,
            inspection_results.c.product_id,
            inspection_results.c.shop_id,
            inspection_results.c.listing_id,
            inspection_results.c.verdict,
            inspection_results.c.defect_class,
            inspection_results.c.tested_on,
            inspection_results.c.test_item,
            # Results of the assessment day itself wait for the next day's assessment: a lab
            # report arrives during the day, and a day's assessment must not depend on whether
            # it ran before or after that report was taken in.
        ).where(
            inspection_results.c.tested_on < as_of,
            # A retest (复检) supersedes the first report of its task: only each task's
            # newest report counts, by the rule the evaluation of results uses.
            is_current_report(
                inspection_results,
                dialect=conn.dialect.name,
                as_of=as_of - dt.timedelta(days=1),
            ),
        ),
    )
    return Frames(as_of, end, prod, lst, snaps, rev, stats, comp, mat, shp, insp)


def _reviews(conn: Connection, end: dt.datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scored reviews outside 刷单 clusters: counts per product computed by the database,
    and as rows only those flagged as a defect report or negative (the evidence), so
    memory grows with the flagged reviews, not with every review."""
    posted = func.coalesce(reviews.c.posted_at, reviews.c.fetched_at)
    cut = end - dt.timedelta(days=RECENT_DAYS)
    scored = reviews.join(listings, listings.c.id == reviews.c.listing_id).join(
        review_scores, review_scores.c.review_id == reviews.c.id
    )
    keep = and_(reviews.c.spam_cluster_id.is_(None), posted < end)
    is_defect = review_scores.c.defect_probability >= FLAG
    recent = posted >= cut

    def count(cond: Any) -> Any:
        return func.sum(case((cond, 1), else_=0))

    stats = _frame(
        conn,
        select(
            listings.c.product_id,
            func.count(),
            count(is_defect),
            count(review_scores.c.negative_probability >= FLAG),
            func.min(posted),
            count(recent),
            count(and_(recent, is_defect)),
        )
        .select_from(scored)
        .where(keep)
        .group_by(listings.c.product_id),
        STAT_COLUMNS,
    )
    if len(stats):
        stats["first"] = _utc(stats["first"])
    rows = _frame(
        conn,
        select(
            reviews.c.id,
            listings.c.product_id,
            posted,
            review_scores.c.negative_probability,
            review_scores.c.defect_probability,
            review_scores.c.hazard,
        )
        .select_from(scored)
        .where(keep, or_(is_defect, review_scores.c.negative_probability >= FLAG)),
        REVIEW_COLUMNS,
    )
    if len(rows):
        rows["posted_at"] = _utc(rows["posted_at"])
    return rows, stats


def stats_of(reviews_frame: pd.DataFrame, end: dt.datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same two frames as the database gives, from a frame of every scored review
    (``spam_cluster_id`` and ``posted_at`` included): for tests and for callers that
    already hold the reviews."""
    r = reviews_frame
    r = r[r["spam_cluster_id"].isna() & r["defect_probability"].notna() & (r["posted_at"] < end)]
    cut = pd.Timestamp(end - dt.timedelta(days=RECENT_DAYS))
    d = r["defect_probability"] >= FLAG
    rec = r["posted_at"] >= cut
    stats = (
        r.assign(
            d=d.astype(int),
            ng=(r["negative_probability"] >= FLAG).astype(int),
            rc=rec.astype(int),
            rd=(rec & d).astype(int),
        )
        .groupby("product_id")
        .agg(
            n=("id", "size"),
            defects=("d", "sum"),
            negatives=("ng", "sum"),
            first=("posted_at", "min"),
            n_recent=("rc", "sum"),
            defects_recent=("rd", "sum"),
        )
        .reset_index()[STAT_COLUMNS]
    )
    flagged = r[d | (r["negative_probability"] >= FLAG)][REVIEW_COLUMNS]
    return flagged.reset_index(drop=True), stats
