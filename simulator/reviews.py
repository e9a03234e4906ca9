"""Reviews of a listing: labels (the planted truth) first, then the text."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from . import reviewtext as rt
from .entities import Listing, Review
from .people import mask_nickname
from .rng import rng_for, stable_hash

if TYPE_CHECKING:
    from .world import World

_SENTIMENT = {
    "praise": "positive",
    "short": "positive",
    "negation": "positive",
    "spam": "positive",
    "neutral": "neutral",
    "logistics": "negative",
    "quality": "negative",
    "hazard": "negative",
    "sarcasm": "negative",
}


def hazard_share(days_since_start: int) -> float:
    """Share of reviews reporting the planted hazard, rising after the defect starts."""
    if days_since_start < 0:
        return 0.0
    return min(0.45, 0.05 + 0.4 * days_since_start / 180)


def spam_share(world: World, cluster: str) -> float:
    return 0.15 + 0.25 * (stable_hash(world.seed, "spamshare", cluster) % 1000) / 1000


def review_head(
    world: World, listing: Listing, i: int
) -> tuple[random.Random, datetime, str, str | None, int]:
    """The labels of review ``i`` without its text: (rng, posted, kind, hazard, rating)."""
    n = listing.review_count
    if not 0 <= i < n:
        raise IndexError(i)
    rng = rng_for(world.seed, "review", listing.platform, listing.product.id, listing.j, i)
    product = listing.product
    span = max(1, (world.clock - listing.listed).days)
    day = world.clock - timedelta(days=int(span * (i + rng.random()) / n))
    posted = datetime.combine(day, time(rng.randint(7, 23), rng.randrange(60), rng.randrange(60)))
    defect = product.defect
    since = (day - defect.start).days if defect else -1
    cluster = listing.shop.spam_cluster
    r = rng.random()
    hz: str | None = None
    if cluster and r < spam_share(world, cluster):
        kind = "spam"
    elif defect and rng.random() < hazard_share(since):
        hz = defect.hazard
        kind = "sarcasm" if rng.random() < 0.15 else "hazard"
    elif rng.random() < (0.05 if listing.counterfeit else 0.004):
        hz = rng.choice(product.category.hazards)
        kind = "hazard"
    else:
        kind = _baseline(rng.random(), listing.counterfeit)
    rating = _rating(rng.random(), kind)
    return rng, posted, kind, hz, rating


def rating_summary(world: World, listing: Listing) -> tuple[float, float]:
    """(average rating, share of 4-5 star reviews) over all reviews of the listing."""
    n = listing.review_count
    if n == 0:
        return 0.0, 0.0
    ratings = [review_head(world, listing, i)[4] for i in range(n)]
    return round(sum(ratings) / n, 1), sum(1 for r in ratings if r >= 4) / n


def make_review(world: World, listing: Listing, i: int) -> Review:
    rng, posted, kind, hz, rating = review_head(world, listing, i)
    product = listing.product
    cat = product.category
    defect = product.defect
    day = posted.date()
    cluster = listing.shop.spam_cluster
    text_rng = rng_for(world.seed, "review-text", listing.platform, product.id, listing.j, i)
    if kind == "spam":
        assert cluster is not None
        base_rng = rng_for(world.seed, "spam", cluster, text_rng.randrange(3))
        text = rt.spam_copy(text_rng, rt.spam_base(base_rng))
    elif kind == "hazard":
        assert hz is not None
        text = (
            rt.quality(text_rng, cat)
            if hz == "performance" and text_rng.random() < 0.5
            else rt.hazard(text_rng, cat, hz)
        )
    elif kind == "sarcasm":
        assert hz is not None
        text = rt.sarcasm(text_rng, cat, hz)
    else:
        text = {
            "praise": rt.praise,
            "neutral": rt.neutral,
            "logistics": rt.logistics,
            "negation": rt.negation,
            "quality": rt.quality,
        }.get(kind, lambda g, c: rt.short(g))(text_rng, cat)
    followup = None
    if rng.random() < 0.15:
        after = rng.randint(3, 90)
        f_day = day + timedelta(days=after)
        if f_day <= world.clock:
            if (
                defect
                and kind in ("praise", "short")
                and rng.random() < hazard_share((f_day - defect.start).days)
            ):
                hz = defect.hazard
                kind = "hazard_followup"
                followup = (after, "追加：" + rt.hazard(text_rng, cat, hz))
            else:
                followup = (after, rt.followup_good(text_rng, cat))
    images: tuple[str, ...] = ()
    if rng.random() < 0.2:
        images = tuple(
            f"/img/review/{stable_hash(world.seed, 'rimg', listing.ext_id, i, k) % 10**12:012d}.png"
            for k in range(rng.randint(1, 3))
        )
    sku = f"颜色分类：{rng.choice(listing.colours)}"
    is_defect = kind in ("hazard", "sarcasm", "quality", "hazard_followup")
    if kind == "quality":
        hz = "performance"
    sentiment = "negative" if kind == "hazard_followup" else _SENTIMENT[kind]
    return Review(
        world.review_id(listing, i),
        i,
        mask_nickname(rng),
        rating,
        posted,
        text,
        sku,
        followup,
        images,
        kind,
        sentiment,
        is_defect,
        hz,
        cluster if kind == "spam" else None,
        rng.randint(0, 40),
    )


def _baseline(r: float, counterfeit: bool) -> str:
    table = (
        ("praise", 0.58),
        ("neutral", 0.11),
        ("logistics", 0.13),
        ("negation", 0.07),
        ("quality", 0.12 if counterfeit else 0.05),
        ("short", 0.03),
    )
    total = sum(w for _, w in table)
    x = r * total
    for kind, w in table:
        x -= w
        if x < 0:
            return kind
    return "praise"


def _rating(r: float, kind: str) -> int:
    if kind in ("praise", "spam", "short"):
        return 5 if r < 0.82 else 4
    if kind == "negation":
        return 5 if r < 0.6 else 4
    if kind == "neutral":
        return 3 if r < 0.6 else 4
    if kind == "logistics":
        return 1 if r < 0.35 else (2 if r < 0.6 else (3 if r < 0.85 else 4))
    if kind == "sarcasm":
        return 5 if r < 0.5 else 1
    if kind == "quality":
        return 1 if r < 0.6 else 2
    return 1 if r < 0.85 else 2
