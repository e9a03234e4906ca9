"""Planted 刷单 clusters in the simulated marketplace: found, and genuine reviews left alone.

The labels come from the simulator's truth document (``spam_cluster`` is set on every
planted farmed review); the texts from ``World.reviews``, as a crawler would see them.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import cache

import pytest

from simulator.truth import iter_truth
from simulator.world import World
from transforms.duplicates import ReviewClusterIndex, find_review_clusters, normalise_review_text

MIN_RECALL = 0.95  # of planted spam reviews, in some cluster
MAX_FALSE_FLAGS = 0.02  # of genuine reviews, in some cluster


@dataclass(frozen=True)
class Market:
    reviews: tuple[tuple[str, str], ...]  # (id, text)
    spam: frozenset[str]  # ids of planted spam reviews
    genuine: frozenset[str]
    planted_clusters: int


@cache
def market(products: int, seed: int) -> Market:
    world = World(products=products, seed=seed)
    truth = json.loads("".join(iter_truth(world)))
    labels = {
        str(r["id"]): r["spam_cluster"]
        for p in truth["products"]
        for listing in p["listings"]
        for r in listing["reviews"]
    }
    reviews = []
    for pid in range(products):
        for key in world.listings_of(pid):
            for r in world.reviews(world.listing(*key)):
                assert labels[str(r.id)] == r.spam_cluster
                reviews.append((str(r.id), r.text))
    assert len(reviews) == len(labels)
    spam = frozenset(i for i, c in labels.items() if c)
    return Market(
        tuple(reviews),
        spam,
        frozenset(labels) - spam,
        len({c for c in labels.values() if c}),
    )


def rates(m: Market, clusters: dict[str, str]) -> tuple[float, float]:
    recall = sum(i in clusters for i in m.spam) / len(m.spam)
    false_flags = sum(i in clusters for i in m.genuine) / len(m.genuine)
    return recall, false_flags


@pytest.mark.parametrize(("products", "seed"), [(100, 7), (100, 1), (300, 1), (300, 7)])
def test_planted_spam_is_found_and_genuine_reviews_are_not_flagged(products, seed):
    m = market(products, seed)
    assert len(m.spam) >= 50 and m.planted_clusters >= 2, (
        "the world plants too little spam to measure"
    )
    clusters = find_review_clusters(m.reviews, batch_size=5_000)
    recall, false_flags = rates(m, clusters)
    assert recall >= MIN_RECALL, f"recall {recall:.3f}"
    assert false_flags <= MAX_FALSE_FLAGS, f"false flags {false_flags:.4f}"
    # Every cluster is mostly planted spam, not a mix that happens to include some.
    purity = Counter(i in m.spam for i in clusters)
    assert purity[False] <= 0.05 * purity[True]


@pytest.mark.slow
@pytest.mark.parametrize(("products", "seed"), [(1000, 3), (3000, 5)])
def test_rates_hold_on_bigger_markets(products, seed):
    m = market(products, seed)
    recall, false_flags = rates(m, find_review_clusters(m.reviews))
    assert recall >= MIN_RECALL, f"recall {recall:.3f}"
    assert false_flags <= MAX_FALSE_FLAGS, f"false flags {false_flags:.4f}"


def test_exact_duplicates_alone_would_flag_genuine_stock_reviews():
    """The corpus holds many repeated genuine texts; counting copies is not enough."""
    m = market(300, 1)
    copies = Counter(normalise_review_text(t) for _, t in m.reviews)
    naive = {i for i, t in m.reviews if copies[normalise_review_text(t)] >= 3}
    assert len(naive & m.genuine) / len(m.genuine) > MAX_FALSE_FLAGS
    flagged = set(find_review_clusters(m.reviews))
    assert len(flagged & m.genuine) < len(naive & m.genuine) / 10


def test_incremental_runs_with_save_and_load_match_one_shot(tmp_path):
    m = market(300, 7)
    one_shot = find_review_clusters(m.reviews)
    index = ReviewClusterIndex()
    reported: dict[str, str] = {}
    cuts = [0, 1_000, 1_001, 7_500, 12_000, len(m.reviews)]
    for k, (start, stop) in enumerate(zip(cuts, cuts[1:])):
        reported |= index.add(m.reviews[start:stop])
        index.save(tmp_path / f"run-{k}.npz")
        index = ReviewClusterIndex.load(tmp_path / f"run-{k}.npz")
    assert index.clusters() == one_shot
    assert reported == one_shot
