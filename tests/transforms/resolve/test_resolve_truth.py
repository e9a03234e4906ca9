"""Product resolution measured against the simulator's planted truth.

Each world is served on loopback; every listing page the truth names is fetched over
HTTP and read with :func:`crawlers.extract.extract_listing` exactly as the listings
spider does (the platform profile's selectors unless the profile is ``structured``).
The extracts become :class:`ListingFacts`, are resolved in a shuffled order, and the
resulting clusters are compared pair by pair with the truth's product ids.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import urllib.request
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cache
from math import comb

import pytest

from crawlers.extract import extract_listing
from crawlers.profiles import load_profiles
from simulator import World
from simulator.server import SimulatorServer
from simulator.truth import iter_truth
from transforms.reference import read_reference
from transforms.resolve import ListingFacts, ProductResolver

SEEDS = (20191001, 7, 424242)
PRODUCTS = 300
MIN_PRECISION = 0.98
MIN_RECALL = 0.98
USER_AGENT = "ecqm-tests/1.0 (+resolve)"


@dataclass(frozen=True)
class Crawled:
    listings: tuple[tuple[int, ListingFacts], ...]  # (truth product id, facts)


@cache
def _selectors() -> dict[str, dict[str, str] | None]:
    """Per platform, the selectors the listings spider passes to extract_listing."""
    out: dict[str, dict[str, str] | None] = {}
    for profile in load_profiles().values():
        if profile.kind == "marketplace" and profile.platform:
            selectors = dict(profile.extraction.selectors)
            if profile.extraction.mode == "structured":
                selectors = {}
            out[profile.platform] = selectors or None
    return out


@cache
def _category_codes() -> dict[str, str]:
    """Category names shown in breadcrumbs → reference category codes."""
    return {c.name_zh: c.code for c in read_reference().categories}


def _fetch(base_url: str, path: str) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(base_url + path, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read(), dict(response.headers.items())


def _extract(page: tuple[int, dict, bytes, dict[str, str]]) -> tuple[int, ListingFacts]:
    pid, listing, body, headers = page
    x = extract_listing(
        body, listing["url"], headers=headers, selectors=_selectors()[listing["platform"]]
    )
    assert x.ok, (listing["url"], x.error)
    path = x.category_path or []
    return pid, ListingFacts(
        platform=listing["platform"],
        external_id=str(x.sku or listing["id"]),
        title=x.name,
        brand=x.brand,
        model=x.model,
        gtin=x.gtin,
        category_code=_category_codes().get(path[-1]) if path else None,
        producer=x.manufacturer,
    )


@cache
def crawled(seed: int) -> Crawled:
    world = World(products=PRODUCTS, seed=seed)
    truth = json.loads("".join(iter_truth(world, reviews=False)))
    assert truth["format"] == "ecqm-simulator-truth" and truth["seed"] == seed
    wanted = [(p["id"], listing) for p in truth["products"] for listing in p["listings"]]
    _selectors(), _category_codes()  # read once, before the workers fork
    # Reading pages is CPU-bound, so it runs in worker processes while pages are fetched.
    # The workers are forked before the server starts its threads.
    workers = max(1, min(4, os.cpu_count() or 1))
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as processes:
        processes.submit(int).result()
        with SimulatorServer(world) as server:

            def fetch(item: tuple[int, dict]) -> tuple[int, dict, bytes, dict[str, str]]:
                pid, listing = item
                return (pid, listing, *_fetch(server.base_url, listing["url"]))

            with ThreadPoolExecutor(max_workers=4) as threads:
                futures = [processes.submit(_extract, page) for page in threads.map(fetch, wanted)]
        listings = tuple(f.result() for f in futures)
    return Crawled(listings)


def pairwise(predicted: list[str], truth: list[int]) -> tuple[float, float]:
    """Pairwise precision and recall of a clustering against the true one."""
    both = sum(comb(n, 2) for n in Counter(zip(predicted, truth, strict=True)).values())
    pred_pairs = sum(comb(n, 2) for n in Counter(predicted).values())
    true_pairs = sum(comb(n, 2) for n in Counter(truth).values())
    return both / pred_pairs if pred_pairs else 1.0, both / true_pairs if true_pairs else 1.0


def test_pairwise_measure():
    assert pairwise(["a", "a", "b"], [1, 1, 2]) == (1.0, 1.0)
    assert pairwise(["a", "a", "a"], [1, 1, 2]) == (1 / 3, 1.0)
    assert pairwise(["a", "b", "c"], [1, 1, 1]) == (1.0, 0.0)


@pytest.mark.parametrize("with_category", [True, False], ids=["category", "no-category"])
@pytest.mark.parametrize("seed", SEEDS)
def test_resolution_against_truth(seed, with_category, record_property):
    data = crawled(seed)
    items = list(data.listings)
    random.Random(seed).shuffle(items)  # crawl order is not product order
    resolver = ProductResolver()
    predicted, truth = [], []
    for pid, facts in items:
        if not with_category:
            facts = replace(facts, category_code=None)
        predicted.append(resolver.resolve(facts).product_key)
        truth.append(pid)
    precision, recall = pairwise(predicted, truth)
    record_property("precision", precision)
    record_property("recall", recall)
    print(
        f"seed {seed} ({'with' if with_category else 'without'} category): "
        f"{len(items)} listings, {len(set(predicted))} products found of "
        f"{len(set(truth))}, precision {precision:.4f}, recall {recall:.4f}"
    )
    assert precision >= MIN_PRECISION and recall >= MIN_RECALL, (precision, recall)
    # Every product row is complete enough for the warehouse.
    for key, record in resolver.products():
        assert len(key) <= 128
        assert record.brand and record.model and record.name
        json.dumps(record.attributes, ensure_ascii=False)
