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


@dataclass(frozen=True)
class RiskScores:
    """Assessed levels against the planted defects.

    A product is *planted high-risk* when the simulator gave it a defective batch
    (``defect`` in the truth). Of those, the ones whose defect left a trace in a monitored
    channel by the assessment date — a review reporting it, a complaint, a recall — are
    the ones any monitor could find (``detectable``); a defect that began days ago with
    no report anywhere is counted apart.

    A ``high`` assessment claims the product is likely to fail inspection (likelihood 高
    or 极高) with serious consequences. It is counted correct when the product has a
    planted defect, or when the simulator's true probability that a sample of its
    riskiest listing fails reaches the matrix's 高 threshold (a counterfeit 三无 power
    bank without CCC is high-risk without any defective batch); ``high_defect`` counts
    the high assessments of planted defects alone.
    """

    planted: int
    detectable: int
    detectable_found: int  # detectable planted products assessed high or elevated
    planted_found: int  # all planted products assessed high or elevated
    high: int
    high_correct: int
    high_defect: int
    missed: tuple[int, ...]  # truth ids of detectable planted products not found
    levels_of_planted: Mapping[str, int]

    @property
    def recall_detectable(self) -> float:
        return self.detectable_found / self.detectable if self.detectable else 1.0

    @property
    def recall_all(self) -> float:
        return self.planted_found / self.planted if self.planted else 1.0

    @property
    def precision_high(self) -> float:
        return self.high_correct / self.high if self.high else 1.0


def _truth_product_of(conn: Any, truth: Mapping[str, Any]) -> dict[int, int]:
    """Warehouse product id → truth product id (the truth product most of its listings
    belong to)."""
    true_product = {
        (li["platform"], str(li["id"])): p["id"] for p in truth["products"] for li in p["listings"]
    }
    votes: dict[int, Counter] = {}
    for pid, platform, ext in conn.execute(
        select(listings.c.product_id, listings.c.platform, listings.c.external_id).where(
            listings.c.product_id.is_not(None)
        )
    ):
        t = true_product.get((platform, ext))
        if t is not None:
            votes.setdefault(int(pid), Counter())[t] += 1
    return {pid: c.most_common(1)[0][0] for pid, c in votes.items()}


def detectable_defects(truth: Mapping[str, Any]) -> set[int]:
    """Truth ids of planted defects with a trace: a review reporting a defect (its kind is
    hazard, sarcasm or a hazard follow-up), a hazard or quality complaint, or a recall."""
    complained = {
        c.get("product")
        for c in truth.get("complaints") or []
        if c.get("kind") in ("hazard", "quality") and c.get("product") is not None
    }
    out = set()
    for p in truth["products"]:
        if not p.get("defect"):
            continue
        if p.get("recalls") or p["id"] in complained:
            out.add(p["id"])
            continue
        for li in p["listings"]:
            if any(
                r.get("kind") in ("hazard", "sarcasm", "hazard_followup")
                for r in li.get("reviews") or []
            ):
                out.add(p["id"])
                break
    return out


def risk_levels(engine: Engine, truth: Mapping[str, Any], as_of: Any | None = None) -> RiskScores:
    """How the newest assessments (or those of ``as_of``) match the planted defects."""
    from ecqm.warehouse.schema import risk_assessments
    from risk_models.matrix import RiskMatrix

    planted = {p["id"] for p in truth["products"] if p.get("defect")}
    detectable = detectable_defects(truth)
    likely = RiskMatrix.load().thresholds[2]
    true_p = {
        p["id"]: max([li["p_fail"] for li in p["listings"]] or [p["p_fail"]])
        for p in truth["products"]
    }
    with engine.connect() as conn:
        to_truth = _truth_product_of(conn, truth)
        q = select(
            risk_assessments.c.product_id, risk_assessments.c.level, risk_assessments.c.as_of
        )
        if as_of is not None:
            q = q.where(risk_assessments.c.as_of == as_of)
        newest: dict[int, tuple[Any, str]] = {}
        for pid, level, day in conn.execute(q):
            if int(pid) not in newest or day > newest[int(pid)][0]:
                newest[int(pid)] = (day, level)
    # A truth product may be split over several warehouse products: it counts as found
    # when any of them is high or elevated.
    best: dict[int, str] = {}
    rank = {"low": 0, "moderate": 1, "elevated": 2, "high": 3}
    high = high_correct = high_defect = 0
    for pid, (_, level) in newest.items():
        t = to_truth.get(pid)
        if level == "high":
            high += 1
            high_defect += t in planted
            high_correct += t in planted or true_p.get(t, 0.0) >= likely
        if t is not None and rank[level] > rank.get(best.get(t, "low"), -1):
            best[t] = level
        elif t is not None and t not in best:
            best[t] = level
    found = {t for t, lv in best.items() if lv in ("high", "elevated")}
    levels_of_planted = Counter(best.get(t, "not assessed") for t in planted)
    return RiskScores(
        planted=len(planted),
        detectable=len(detectable),
        detectable_found=len(detectable & found),
        planted_found=len(planted & found),
        high=high,
        high_correct=high_correct,
        high_defect=high_defect,
        missed=tuple(sorted(detectable - found)),
        levels_of_planted=dict(levels_of_planted),
    )


@dataclass(frozen=True)
class MatchScores:
    """(listing, recall) pairs the warehouse matched, against the planted ones."""

    predicted: int
    planted: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.planted if self.planted else 1.0


def recall_matching(engine: Engine, truth: Mapping[str, Any]) -> MatchScores:
    """Recall matches in ``recall_matches`` against the truth's ``matched_listings``, over
    the listings and recalls the warehouse holds."""
    from ecqm.warehouse.schema import recall_matches, recalls

    def source(s: str) -> str:
        return {"eu_safety_gate": "safety_gate"}.get(s, s)

    with engine.connect() as conn:
        held_listings = set(
            map(tuple, conn.execute(select(listings.c.platform, listings.c.external_id)))
        )
        held_recalls = {
            (source(s), n)
            for s, n in conn.execute(select(recalls.c.source, recalls.c.recall_number))
        }
        predicted = {
            (p, e, source(s), n)
            for p, e, s, n in conn.execute(
                select(
                    listings.c.platform,
                    listings.c.external_id,
                    recall_matches.c.source,
                    recall_matches.c.recall_number,
                ).join(listings, listings.c.id == recall_matches.c.listing_id)
            )
        }
    planted = {
        (li["platform"], str(li["id"]), source(r["source"]), r["number"])
        for r in truth.get("recalls") or []
        for li in r.get("matched_listings") or []
        if (li["platform"], str(li["id"])) in held_listings
        and (source(r["source"]), r["number"]) in held_recalls
    }
    return MatchScores(len(predicted), len(planted), len(predicted & planted))
