"""How well recall matching finds the recalled products of the simulated market.

The simulator plants recalls with a known answer: recall ``k`` of a world either names
one of its products (``world.recall(k).matched_product``), and then every listing of
that product sells a recalled product, or names products not sold there (foreign
brands, real brands with codes no product has, sibling codes of a recalled one). This
module runs the whole matching path on such a world as it runs on real data:

1. **recalls** — the registry's files and pages are rendered by the simulator's own
   router (no server needed): the CPSC recall CSV, the EU Safety Gate CSV and every
   SAMR notice page; they are read by :mod:`crawlers.parse.recalls` and turned into
   core ``recalls`` rows by :func:`transforms.core.records.recall_row`, exactly as the
   crawl and the staging → core processing do;
2. **brand aliases** — the listings are resolved into products by
   :class:`transforms.resolve.ProductResolver`, as processing does, and the brand
   spellings per resolved product teach
   :meth:`~risk_models.recalls.aliases.BrandAliases.from_listing_groups` (nothing
   from the simulator's truth is used);
3. **listings** — title, brand text, model text and barcode of every listing;
4. **matching** — :meth:`RecallMatcher.match_many`, then pairs (listing, recall) are
   compared with the truth.

Precision is the share of predicted (listing, recall) pairs that are true; recall the
share of true pairs that were predicted.

Run it from the command line::

    python -m risk_models.recalls.evaluate --products 20000 --seed 20191001
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from risk_models.recalls.aliases import BrandAliases
from risk_models.recalls.matcher import DEFAULT_MIN_SCORE, RecallMatcher

__all__ = [
    "Evaluation",
    "SimListing",
    "evaluate",
    "learn_aliases",
    "main",
    "world_listings",
    "world_recall_rows",
]

BASE_URL = "http://127.0.0.1:8800"
_EVAL_SALT = b"recall-matching-evaluation-salt-0123456789"


@dataclass(frozen=True, slots=True)
class SimListing:
    """One listing of the simulated world, as a page shows it."""

    ref: str  # platform:external id
    product_id: int
    title: str
    brand: str
    model: str
    gtin: str | None


@dataclass
class Evaluation:
    """Listing-level precision and recall of recall matching on one world."""

    products: int
    seed: int
    listings: int
    recalls: int
    recalls_with_product: int
    alias_groups: int
    true_pairs: int
    predicted_pairs: int
    true_positives: int
    min_score: float
    seconds_match: float
    seconds_total: float
    by_evidence: dict[str, int] = field(default_factory=dict)
    false_positives: list[dict[str, Any]] = field(default_factory=list)
    false_negatives: list[dict[str, Any]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "precision": self.precision, "recall": self.recall}

    def summary(self) -> str:
        """A few lines for people."""
        rate = self.listings / self.seconds_match if self.seconds_match else 0.0
        return "\n".join(
            [
                f"world: {self.products:,} products (seed {self.seed}), {self.listings:,} listings, "
                f"{self.recalls:,} recalls ({self.recalls_with_product:,} name a product sold here)",
                f"brand alias groups: {self.alias_groups:,}",
                f"pairs (listing, recall): {self.true_pairs:,} true, {self.predicted_pairs:,} predicted "
                f"at score >= {self.min_score}, {self.true_positives:,} right",
                f"precision {self.precision:.4f}  recall {self.recall:.4f}",
                f"matching: {self.seconds_match:.2f} s ({rate:,.0f} listings/s); "
                f"everything: {self.seconds_total:.1f} s",
                "evidence: " + ", ".join(f"{k} {v:,}" for k, v in sorted(self.by_evidence.items())),
            ]
        )


# --------------------------------------------------------------------------- inputs


def world_listings(world: Any) -> Iterator[SimListing]:
    """Every listing of a :class:`simulator.world.World`, product by product."""
    for pid in range(world.products):
        for key in world.listings_of(pid):
            lst = world.listing(*key)
            yield SimListing(
                f"{lst.platform}:{lst.ext_id}",
                pid,
                lst.title,
                lst.brand_text,
                lst.model_text,
                lst.product.gtin,
            )


def world_recall_rows(world: Any, *, base_url: str = BASE_URL) -> list[dict[str, Any]]:
    """Core ``recalls`` rows of every recall of the world, read from its files and pages."""
    from crawlers.parse.recalls import (
        parse_cpsc_csv,
        parse_safety_gate_csv,
        parse_samr_notice,
    )
    from simulator.router import route
    from transforms.core.records import Toolkit, recall_row

    def get(path: str) -> bytes:
        resp = route(world, path, base_url)
        if resp.status != 200:
            raise RuntimeError(f"the simulator answered {resp.status} for {path}")
        return resp.body

    parsed: list[dict[str, Any]] = []
    errors: list[str] = []
    for path, parse in (
        ("/recall/download/cpsc_recalls.csv", parse_cpsc_csv),
        ("/recall/download/safety_gate_alerts.csv", parse_safety_gate_csv),
    ):
        parsed.extend(parse(get(path), base_url + path, errors=errors))
    reg = world.recall_registry
    for i in range(reg.count_source("samr")):
        number = reg.recall(reg.nth("samr", i)).number
        path = f"/recall/notice/{number}.html"
        parsed.append(parse_samr_notice(get(path), base_url + path))
    if errors:
        raise RuntimeError(f"the simulator's recall files have unreadable rows: {errors[:3]}")
    fetched = dt.datetime.combine(world.clock, dt.time(), dt.UTC)
    kit = Toolkit(
        salt=_EVAL_SALT,
        categorise=lambda path, title: (None, None, 0.0),
        listing_of_url=lambda u: None,
    )
    rows = []
    for n, rec in enumerate(parsed, start=1):
        staging = {
            "id": n,
            "source": rec["source"],
            "recall_number": rec["external_id"],
            "url": rec["url"],
            "fetched_at": fetched,
            "payload": rec,
        }
        rows.append(recall_row(staging, kit))
    return rows


def learn_aliases(
    listings: Sequence[SimListing], *, base: BrandAliases | None = None
) -> BrandAliases:
    """Brand aliases learned from the listings resolved into products, as the warehouse
    would learn them (:meth:`BrandAliases.from_warehouse`)."""
    from transforms.resolve import ListingFacts, ProductResolver

    resolver = ProductResolver()
    groups: dict[str, list[str]] = {}
    for lst in listings:
        platform, ext = lst.ref.split(":", 1)
        res = resolver.resolve(
            ListingFacts(platform, ext, lst.title, lst.brand, lst.model, lst.gtin)
        )
        groups.setdefault(res.product_key, []).append(lst.brand)
    return BrandAliases.from_listing_groups((groups[k] for k in sorted(groups)), base=base)


# --------------------------------------------------------------------------- evaluate


def evaluate(
    products: int = 2000,
    seed: int = 20191001,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    learn: bool = True,
    examples: int = 10,
) -> Evaluation:
    """Match every listing of a simulated world against its recalls and score the result.

    ``learn=False`` matches with the shipped brand aliases only (to see what the
    learned ones add).
    """
    from simulator.world import World

    started = time.perf_counter()
    world = World(products, seed)
    listings = list(world_listings(world))
    rows = world_recall_rows(world)
    aliases = learn_aliases(listings) if learn else BrandAliases.shipped()
    matcher = RecallMatcher(rows, aliases=aliases, min_score=min_score)
    t0 = time.perf_counter()
    results = matcher.match_many((lst.title, lst.brand, lst.model, lst.gtin) for lst in listings)
    seconds_match = time.perf_counter() - t0

    truth: set[tuple[str, str]] = set()
    recalled_products: dict[int, list[str]] = {}
    for k in range(world.recall_count()):
        r = world.recall(k)
        if r.matched_product is not None:
            recalled_products.setdefault(r.matched_product, []).append(r.number)
    for lst in listings:
        for number in recalled_products.get(lst.product_id, ()):
            truth.add((lst.ref, number))
    predicted: dict[tuple[str, str], Any] = {}
    by_listing = {lst.ref: lst for lst in listings}
    for lst, matches in zip(listings, results, strict=True):
        for m in matches:
            predicted[(lst.ref, m.recall_id)] = m
    right = truth & predicted.keys()
    evaluation = Evaluation(
        products=products,
        seed=seed,
        listings=len(listings),
        recalls=world.recall_count(),
        recalls_with_product=sum(len(v) for v in recalled_products.values()),
        alias_groups=len(aliases),
        true_pairs=len(truth),
        predicted_pairs=len(predicted),
        true_positives=len(right),
        min_score=min_score,
        seconds_match=round(seconds_match, 3),
        seconds_total=0.0,
        by_evidence=dict(Counter(m.matched_on for m in predicted.values())),
    )
    for ref, number in sorted(predicted.keys() - truth)[:examples]:
        m = predicted[(ref, number)]
        lst = by_listing[ref]
        evaluation.false_positives.append(
            {
                "listing": asdict(lst),
                "recall_id": number,
                "matched_on": m.matched_on,
                "score": m.score,
            }
        )
    for ref, number in sorted(truth - predicted.keys())[:examples]:
        evaluation.false_negatives.append({"listing": asdict(by_listing[ref]), "recall_id": number})
    evaluation.seconds_total = round(time.perf_counter() - started, 2)
    return evaluation


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m risk_models.recalls.evaluate``: print the evaluation of one world."""
    parser = argparse.ArgumentParser(
        prog="python -m risk_models.recalls.evaluate",
        description="Precision and recall of recall matching on a simulated market.",
    )
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20191001)
    parser.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE)
    parser.add_argument("--no-learn", action="store_true", help="shipped brand aliases only")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    args = parser.parse_args(argv)
    result = evaluate(args.products, args.seed, min_score=args.min_score, learn=not args.no_learn)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(result.summary())
        for label, items in (
            ("false positives", result.false_positives),
            ("false negatives", result.false_negatives),
        ):
            for item in items:
                print(f"{label}: {json.dumps(item, ensure_ascii=False)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
