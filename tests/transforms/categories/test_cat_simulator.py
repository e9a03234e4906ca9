"""Category mapping measured against the simulator's truth.

The simulated market is served on loopback, its listing pages are fetched with urllib
and read by :func:`crawlers.extract.extract_listing` with each platform's profile
selectors, exactly as the listings spider does; the truth document says each listing's
category (the same 41 codes). Measured, each as precision (share of the codes given that
are right) and coverage (share of listings given the right code):

* the mapper on breadcrumb + title, split by who decided (rules, model);
* the mapper on the title alone (breadcrumb removed);
* the classifier alone on titles, with no rules at all;
* the classifier alone on titles stripped of every keyword, where only the remaining
  words (冷热风, 防胀气, 强光手电 …) can tell: the generalisation check.

The model never saw a simulator title: it learns from the reference keywords and the
hand-written examples only. Run with ``-s`` to see the report.
"""

from __future__ import annotations

import json
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import pytest

from crawlers.extract import ListingExtract, extract_listing
from crawlers.profiles import load_profile
from simulator import World
from simulator.server import SimulatorServer
from simulator.truth import iter_truth
from transforms.categories import CategoryMapper
from transforms.categories.text import normalise

PRODUCTS, SEED = 300, 20260607
MIN_PRECISION = 0.97


@dataclass(frozen=True)
class Crawled:
    truth: tuple[str, ...]  # category code per listing
    extracts: tuple[ListingExtract, ...]


@cache
def crawled() -> Crawled:
    world = World(products=PRODUCTS, seed=SEED)
    doc = json.loads("".join(iter_truth(world, reviews=False)))
    listings = [
        (lst["platform"], lst["url"], p["category"])
        for p in doc["products"]
        for lst in p["listings"]
    ]
    selectors: dict[str, dict[str, str] | None] = {}
    for platform in doc["platforms"]:
        profile = load_profile(platform)
        chosen = {} if profile.extraction.mode == "structured" else profile.extraction.selectors
        selectors[platform] = dict(chosen) or None

    with SimulatorServer(world) as server:

        def fetch(item: tuple[str, str, str]) -> ListingExtract:
            platform, url, _ = item
            with urllib.request.urlopen(server.base_url + url, timeout=30) as response:
                body = response.read()
                headers = dict(response.headers.items())
                final_url = response.geturl()
            return extract_listing(body, final_url, headers=headers, selectors=selectors[platform])

        with ThreadPoolExecutor(4) as pool:
            extracts = tuple(pool.map(fetch, listings))
    assert all(x.ok and x.name for x in extracts)
    return Crawled(tuple(code for _, _, code in listings), extracts)


@pytest.fixture(scope="module")
def mapper() -> CategoryMapper:
    return CategoryMapper()


def score(truth: tuple[str, ...], codes: list[str | None]) -> tuple[float, float, int]:
    """(precision of the codes given, coverage, number given)."""
    given = [(t, c) for t, c in zip(truth, codes) if c is not None]
    right = sum(t == c for t, c in given)
    return (right / len(given) if given else 1.0), right / len(truth), len(given)


def report(label: str, truth: tuple[str, ...], codes: list[str | None]) -> tuple[float, float]:
    precision, coverage, given = score(truth, codes)
    print(
        f"  {label:<44} n={len(truth):4d} given={given:4d} "
        f"precision={precision:.4f} coverage={coverage:.4f}"
    )
    return precision, coverage


def test_mapper_on_crawled_listings(mapper):
    data = crawled()
    assert len(data.extracts) > 600 and len(set(data.truth)) == 41
    assert sum(bool(x.category_path) for x in data.extracts) > 0.9 * len(data.extracts)
    matches = mapper.map_many((x.category_path, x.name) for x in data.extracts)
    print(f"\nsimulator products={PRODUCTS} seed={SEED}, {len(matches)} listings crawled")
    codes = [m.code for m in matches]
    precision, coverage = report("mapper, path + title", data.truth, codes)
    for method in ("rule", "model"):
        picked = [i for i, m in enumerate(matches) if m.method == method]
        sub_truth = tuple(data.truth[i] for i in picked)
        if picked:
            p, _ = report(f"  decided by {method}", sub_truth, [codes[i] for i in picked])
            assert p >= MIN_PRECISION, method
    assert precision >= MIN_PRECISION
    assert coverage >= 0.95


def test_mapper_on_titles_without_breadcrumbs(mapper):
    data = crawled()
    matches = mapper.map_many((None, x.name) for x in data.extracts)
    print()
    precision, coverage = report("mapper, title only", data.truth, [m.code for m in matches])
    rules = [i for i, m in enumerate(matches) if m.method == "rule"]
    report(
        "  decided by rule", tuple(data.truth[i] for i in rules), [matches[i].code for i in rules]
    )
    assert precision >= MIN_PRECISION
    assert coverage >= 0.95


def test_classifier_alone_generalises_to_titles(mapper):
    data = crawled()
    model = mapper.classifier
    titles = [x.name or "" for x in data.extracts]
    print()

    def assign(texts: list[str]) -> list[str | None]:
        out: list[str | None] = []
        for p in model.predict(texts):
            ok = p.probability >= mapper.threshold and p.probability > p.other
            out.append(p.code if ok else None)
        return out

    precision, coverage = report("classifier alone, titles", data.truth, assign(titles))
    assert precision >= MIN_PRECISION
    assert coverage >= 0.8

    # Every keyword occurrence cut out: only the other words can tell.
    stripped = []
    for title in titles:
        text = normalise(title)
        chars = list(text)
        for hit in mapper.rules.scan(text):
            chars[hit.start : hit.end] = " " * (hit.end - hit.start)
        stripped.append(" ".join("".join(chars).split()))
    precision, coverage = report(
        "classifier alone, titles minus keywords", data.truth, assign(stripped)
    )
    assert precision >= 0.95
    assert coverage >= 0.2

    # The same through the mapper: with no keyword left, every listing is the model's.
    matches = mapper.map_many((None, text) for text in stripped)
    assert {m.method for m in matches} <= {"model", None}
    precision, _ = report("mapper, titles minus keywords", data.truth, [m.code for m in matches])
    assert precision >= 0.95


def test_rule_path_throughput(mapper):
    """The rule path: ≥ 20,000 listings/s on an idle core is the target; the assertion
    leaves room for busy test machines, the printed rate is the measurement."""
    data = crawled()
    items = [(x.category_path, x.name) for x in data.extracts]
    rules = mapper.rules
    rules.match_many(items)  # warm the breadcrumb cache and the automaton
    rounds = max(1, 20_000 // len(items))
    started = time.process_time()
    for _ in range(rounds):
        rules.match_many(items)
    rate = rounds * len(items) / (time.process_time() - started)
    # map_many on unique listings (no duplicates to skip), all decided by the rules.
    unique = [(path, f"{title} {i}") for i, (path, title) in enumerate(items * rounds)]
    started = time.process_time()
    matches = mapper.map_many(unique)
    mapped = len(unique) / (time.process_time() - started)
    assert all(m.method == "rule" for m in matches)
    print(f"\n  rules.match_many {rate:,.0f} listings/s; mapper.map_many {mapped:,.0f} listings/s")
    assert rate >= 5_000 and mapped >= 5_000
