"""Review text is varied and its labels are right."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from simulator.reviewtext import HAZARD, NEGATED
from simulator.world import World


def _reviews(world: World) -> list[tuple[Any, Any]]:
    out = []
    for pid in range(world.products):
        for key in world.listings_of(pid):
            lst = world.listing(*key)
            out += [(lst, r) for r in world.reviews(lst)]
    return out


def test_text_variety_and_labels(world: World) -> None:
    pairs = _reviews(world)
    assert (
        15
        <= len(pairs) / sum(1 for pid in range(world.products) for _ in world.listings_of(pid))
        <= 30
    )
    plain = [r.text for _, r in pairs if r.spam_cluster is None]
    assert len(set(plain)) / len(plain) > 0.9
    kinds = defaultdict(list)
    for _, r in pairs:
        kinds[r.kind].append(r)
    for kind in (
        "praise",
        "logistics",
        "negation",
        "hazard",
        "sarcasm",
        "spam",
        "quality",
        "neutral",
    ):
        assert kinds[kind], kind
    assert all(
        not r.defect and r.hazard is None
        for k in ("negation", "logistics", "praise")
        for r in kinds[k]
    )
    assert all(r.defect and r.hazard for k in ("hazard", "sarcasm") for r in kinds[k])
    negated = [w.replace("{n}", "") for ws in NEGATED.values() for w in ws]
    assert sum(
        any(n.split("{")[0] in r.text for n in negated) for r in kinds["negation"]
    ) > 0.8 * len(kinds["negation"])
    hazard_words = [w.replace("{n}", "") for ws in HAZARD.values() for w in ws]
    assert all(not any(h in r.text for h in hazard_words) for r in kinds["logistics"])
    assert any("👍" in r.text or "😊" in r.text for r in kinds["sarcasm"])


def test_spam_clusters_repeat_across_listings(world: World) -> None:
    by_cluster: dict[str, set[int]] = defaultdict(set)
    texts: dict[str, list[str]] = defaultdict(list)
    for lst, r in _reviews(world):
        if r.spam_cluster:
            by_cluster[r.spam_cluster].add(lst.ext_id)
            texts[r.spam_cluster].append(r.text)
    assert by_cluster
    assert any(len(v) >= 2 for v in by_cluster.values())
    for cluster, ts in texts.items():
        cores = {t.rstrip("!！~。👍😊😄❤️👌🌹💯😂🙂✨🎉😍").replace(",", "，") for t in ts}
        assert len(cores) <= 3, cluster


def test_hazard_reports_rise_after_defect_start() -> None:
    world = World(600, 9)
    before = after_early = after_late = 0
    n_before = n_early = n_late = 0
    for pid in range(world.products):
        d = world.defect(pid)
        if d is None:
            continue
        for key in world.listings_of(pid):
            lst = world.listing(*key)
            for r in world.reviews(lst):
                days = (r.posted.date() - d.start).days
                hit = r.hazard == d.hazard and r.kind in ("hazard", "sarcasm")
                if days < 0:
                    n_before += 1
                    before += hit
                elif days < 90:
                    n_early += 1
                    after_early += hit
                else:
                    n_late += 1
                    after_late += hit
    assert n_before and n_early and n_late
    assert before / n_before < 0.03 < after_early / n_early < after_late / n_late
