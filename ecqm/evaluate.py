"""Measure the warehouse against the simulator's planted truth.

The demo prints these numbers and the end-to-end tests assert them: how well listings
were resolved into products (pairwise precision and recall over listings), and how
well copied reviews (刷单 clusters) were found.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from ecqm.warehouse.schema import listings, products, reviews


@dataclass(frozen=True)
class PairScores:
    precision: float
    recall: float
    items: int
    predicted_groups: int
    true_groups: int


def pairwise_scores(assignments: Iterable[tuple[Hashable, Hashable]]) -> PairScores:
    """Pairwise precision and recall of a clustering: each item is (predicted group,
    true group); a pair of items is a true pair when they share the true group."""
    pred: Counter = Counter()
    true: Counter = Counter()
    both: Counter = Counter()
    n = 0
    for p, t in assignments:
        pred[p] += 1
        true[t] += 1
        both[p, t] += 1
        n += 1

    def pairs(c: Counter) -> int:
        return sum(k * (k - 1) // 2 for k in c.values())

    tp, pp, tt = pairs(both), pairs(pred), pairs(true)
    return PairScores(tp / pp if pp else 1.0, tp / tt if tt else 1.0, n, len(pred), len(true))


def product_resolution(engine: Engine, truth: Mapping[str, Any]) -> PairScores:
    """How the warehouse's listings → products matches the truth's, over the listings
    present in both."""
    true_product = {
        (li["platform"], str(li["id"])): p["id"] for p in truth["products"] for li in p["listings"]
    }
    with engine.connect() as conn:
        rows = conn.execute(
            select(listings.c.platform, listings.c.external_id, products.c.product_key).join(
                products, listings.c.product_id == products.c.id
            )
        ).all()
    return pairwise_scores(
        (key, true_product[(platform, ext)])
        for platform, ext, key in rows
        if (platform, ext) in true_product
    )


@dataclass(frozen=True)
class SpamScores:
    planted: int
    found: int
    genuine: int
    genuine_flagged: int

    @property
    def recall(self) -> float:
        return self.found / self.planted if self.planted else 1.0

    @property
    def false_positive_rate(self) -> float:
        return self.genuine_flagged / self.genuine if self.genuine else 0.0


def spam_detection(engine: Engine, truth: Mapping[str, Any]) -> SpamScores:
    """Planted copied reviews found, and genuine reviews wrongly flagged, over the reviews
    in the warehouse."""
    planted = {}
    for p in truth["products"]:
        for li in p["listings"]:
            for r in li.get("reviews") or []:
                planted[(li["platform"], str(r["id"]))] = r.get("spam_cluster") is not None
    with engine.connect() as conn:
        rows = conn.execute(
            select(reviews.c.platform, reviews.c.external_id, reviews.c.spam_cluster_id)
        ).all()
    found = planted_n = genuine = genuine_flagged = 0
    for platform, ext, cluster in rows:
        is_spam = planted.get((platform, ext))
        if is_spam is None:
            continue
        if is_spam:
            planted_n += 1
            found += cluster is not None
        else:
            genuine += 1
            genuine_flagged += cluster is not None
    return SpamScores(planted_n, found, genuine, genuine_flagged)
