"""The planner over random candidate tables: budgets and caps are never exceeded, one
listing per product, the same seed gives the same plan, every high product is taken when
the budget allows, and inclusion probabilities are what the design says they are."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from risk_models.sampling import AUDIT, TARGETED, PlanParams, allocate, plan
from risk_models.sampling.allocate import proportional_allocation

LEVELS = ["high", "elevated", "moderate", "low", None]
STATUSES = ["pending", "confirmed", "dismissed"]
PLATFORMS = ["youpin", "lehuo", "pinjia"]
CATEGORIES = ["electric_kettle", "plush_toy", "power_bank"]
BRANDS = ["美度", "MEIDU", "meidu", "九阳", "=cmd|' /C calc'!A0", None]


@st.composite
def candidate_tables(draw: Any, max_products: int = 30) -> pd.DataFrame:
    """Random candidate tables. Hypothesis draws the shape (size, how many shops and
    brands, how often values are missing, the price range); NumPy fills the rows, which
    keeps each example cheap."""
    n = draw(st.integers(0, max_products))
    shops = draw(st.integers(1, 8))
    brands = draw(st.integers(1, len(BRANDS)))
    missing = draw(st.sampled_from([0.0, 0.05, 0.3]))
    top_price = draw(st.sampled_from([2_000, 20_000, 60_000]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32)))
    rows = []
    listing_id = 0
    for pid in range(1, n + 1):
        product = {
            "product_id": pid,
            "category_code": None
            if rng.random() < missing / 3
            else CATEGORIES[int(rng.integers(len(CATEGORIES)))],
            "brand": BRANDS[int(rng.integers(brands))],
            "level": LEVELS[int(rng.integers(len(LEVELS)))],
            "probability": None if rng.random() < missing else float(rng.random()),
            "review_status": STATUSES[int(rng.integers(len(STATUSES)))],
            "units": int(rng.integers(1, 5)),
        }
        for _ in range(int(rng.integers(1, 4))):
            listing_id += 1
            rows.append(
                {
                    **product,
                    "listing_id": listing_id,
                    "shop_id": None if rng.random() < missing else int(rng.integers(1, shops + 1)),
                    "platform": PLATFORMS[int(rng.integers(len(PLATFORMS)))],
                    "region_code": ["330100", "440300", None][int(rng.integers(3))],
                    "price_fen": None
                    if rng.random() < missing
                    else int(rng.integers(1, top_price + 1)),
                    "evidence": float(rng.integers(0, 3)),
                }
            )
    columns = [
        "product_id",
        "listing_id",
        "shop_id",
        "platform",
        "region_code",
        "category_code",
        "brand",
        "price_fen",
        "units",
        "level",
        "probability",
        "review_status",
        "evidence",
    ]
    return pd.DataFrame(rows, columns=columns)


@st.composite
def plan_params(draw: Any) -> PlanParams:
    use_size = draw(st.booleans())
    return PlanParams(
        budget_purchases=draw(st.integers(0, 25)),
        seed=draw(st.integers(0, 2**32)),
        budget_fen=draw(st.none() | st.integers(0, 600_000)),
        per_shop=draw(st.none() | st.integers(1, 3)),
        per_brand=draw(st.none() | st.integers(1, 4)),
        price_cap_fen=draw(st.none() | st.integers(1_000, 50_000)),
        price_headroom=draw(st.sampled_from([0.0, 0.1, 0.25])),
        audit_share=draw(st.floats(0, 1)),
        audit_size=draw(st.integers(0, 10)) if use_size else None,
        platforms=draw(st.none() | st.lists(st.sampled_from(PLATFORMS), min_size=1, unique=True)),
        categories=draw(st.none() | st.lists(st.sampled_from(CATEGORIES), min_size=1, unique=True)),
    )


PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(candidate_tables(), plan_params())
def test_a_plan_never_exceeds_its_budgets_and_caps(candidates, params):
    tasks = allocate(candidates, params).tasks
    assert len(tasks) <= params.budget_purchases
    if params.budget_fen is not None:
        assert tasks["cost_fen"].sum() <= params.budget_fen
    assert (tasks["cost_fen"] == tasks["units"] * tasks["price_cap_fen"]).all()
    assert (tasks["price_cap_fen"] >= tasks["price_fen"]).all()
    if params.price_cap_fen is not None:
        assert (tasks["price_fen"] <= params.price_cap_fen).all()
        assert (tasks["price_cap_fen"] <= params.price_cap_fen).all()
    if params.per_shop is not None:
        shops = tasks["shop_id"].dropna().astype(int)
        assert shops.value_counts().max() <= params.per_shop if len(shops) else True
    if params.per_brand is not None:
        brands = Counter(b.casefold() for b in tasks["brand"] if isinstance(b, str))
        assert max(brands.values(), default=0) <= params.per_brand


@PROPERTY
@given(candidate_tables(), plan_params())
def test_one_listing_per_product_and_only_listings_in_scope(candidates, params):
    tasks = allocate(candidates, params).tasks
    assert tasks["product_id"].is_unique
    assert tasks["listing_id"].is_unique
    if tasks.empty:
        return
    source = candidates.set_index("listing_id")
    bought = source.loc[tasks["listing_id"]]
    assert (bought["product_id"].to_numpy() == tasks["product_id"].to_numpy()).all()
    assert (bought["platform"].to_numpy() == tasks["platform"].to_numpy()).all()
    assert (bought["price_fen"].to_numpy() == tasks["price_fen"].to_numpy()).all()
    if params.platforms is not None:
        assert set(tasks["platform"]) <= set(params.platforms)
    if params.categories is not None:
        assert set(tasks["category_code"]) <= set(params.categories)
    targeted = tasks[tasks["stratum"] == TARGETED]
    assert set(targeted["level"]) <= {"high", "elevated"}
    assert (targeted["review_status"] != "dismissed").all()


@PROPERTY
@given(candidate_tables(), plan_params())
def test_inclusion_probabilities(candidates, params):
    alloc = allocate(candidates, params)
    tasks, strata = alloc.tasks, alloc.strata.set_index("stratum_key")
    pi = tasks["inclusion_probability"]
    assert ((pi > 0) & (pi <= 1)).all()
    assert (tasks.loc[tasks["stratum"] == TARGETED, "inclusion_probability"] == 1.0).all()
    audit = tasks[tasks["stratum"] == AUDIT]
    for key, group in audit.groupby("stratum_key"):
        n_h, big_n = len(group), int(strata.loc[key, "population"])
        assert int(strata.loc[key, "selected"]) == n_h
        assert n_h <= big_n
        assert (group["inclusion_probability"] == n_h / big_n).all()


@PROPERTY
@given(candidate_tables(), plan_params(), st.randoms(use_true_random=False))
def test_the_same_seed_gives_the_same_plan_whatever_the_row_order(candidates, params, rnd):
    first = allocate(candidates, params)
    order = list(range(len(candidates)))
    rnd.shuffle(order)
    second = allocate(candidates.iloc[order].reset_index(drop=True), params)
    pd.testing.assert_frame_equal(first.tasks, second.tasks)
    pd.testing.assert_frame_equal(first.strata, second.strata)
    assert first.summary == second.summary


@PROPERTY
@given(candidate_tables(), st.integers(0, 5), st.integers(0, 5), st.integers(0, 2**32))
def test_every_high_product_is_planned_when_the_budget_allows(candidates, audit, extra, seed):
    high = _eligible_high(candidates)
    alloc = plan(
        candidates,
        budget_purchases=len(high) + audit + extra,
        audit_size=audit,
        seed=seed,
        per_shop=None,
        per_brand=None,
    )
    planned = set(alloc.tasks.loc[alloc.tasks["stratum"] == TARGETED, "product_id"])
    assert high <= planned
    assert alloc.summary["high_not_planned"] == []


def _eligible_high(candidates: pd.DataFrame) -> set[int]:
    """Products assessed high, not dismissed, with a category and a priced listing."""
    if candidates.empty:
        return set()
    heads = candidates.sort_values(["product_id", "listing_id"]).drop_duplicates("product_id")
    high = heads[
        (heads["level"] == "high")
        & (heads["review_status"] != "dismissed")
        & heads["category_code"].notna()
    ]["product_id"]
    priced = candidates.loc[candidates["price_fen"].fillna(0) > 0, "product_id"]
    return set(high) & set(priced)


@PROPERTY
@given(candidate_tables(), st.integers(1, 30), st.integers(0, 2**32))
def test_without_caps_the_audit_frame_is_everything_not_targeted(candidates, budget, seed):
    alloc = plan(candidates, budget_purchases=budget, seed=seed, per_shop=None, per_brand=None)
    design = alloc.summary["audit_design"]
    eligible = alloc.summary["eligible_products"]
    assert design["frame"] == eligible - alloc.summary["targeted"]
    assert design["excluded_by_caps"] == design["excluded_by_cost"] == 0
    assert design["replaced"] == 0 and design["short"] == 0
    if len(alloc.strata):
        assert alloc.strata["population"].sum() == design["frame"]


# ------------------------------------------------------------------------ examples


def _market(n: int = 40, *, platforms: tuple[str, ...] = ("youpin", "lehuo")) -> pd.DataFrame:
    rows = []
    for pid in range(1, n + 1):
        rows.append(
            {
                "product_id": pid,
                "listing_id": 100 + pid,
                "shop_id": pid,
                "platform": platforms[pid % len(platforms)],
                "region_code": "330100",
                "category_code": CATEGORIES[(pid // 3) % 3],
                "brand": f"b{pid}",
                "price_fen": 1000 * (1 + pid % 5),
                "units": 2,
                "level": "high" if pid <= 3 else "low",
                "probability": 0.9 - pid / 100,
                "review_status": "confirmed" if pid == 3 else "pending",
            }
        )
    return pd.DataFrame(rows)


def test_confirmed_high_products_come_first_then_by_probability():
    alloc = plan(_market(), budget_purchases=4, audit_size=2, seed=1)
    targeted = alloc.tasks[alloc.tasks["stratum"] == TARGETED]
    assert targeted["product_id"].tolist() == [3, 1]
    assert alloc.summary["targeted_skipped"] == {"budget_purchases": 1}
    assert alloc.summary["high_not_planned"] == [2]


def test_dismissed_products_are_never_targeted_but_stay_in_the_audit_frame():
    market = _market().assign(review_status="dismissed")
    alloc = plan(market, budget_purchases=10, seed=1)
    assert (alloc.tasks["stratum"] == AUDIT).all()
    assert alloc.summary["audit_design"]["frame"] == 40


def test_elevated_products_follow_high_ones_by_probability():
    market = _market()
    market.loc[market["product_id"].isin([10, 11]), "level"] = "elevated"
    alloc = plan(market, budget_purchases=10, audit_size=5, seed=1)
    targeted = alloc.tasks[alloc.tasks["stratum"] == TARGETED]
    assert targeted["product_id"].tolist() == [3, 1, 2, 10, 11]


def test_targeted_listing_is_the_one_the_evidence_points_at_else_the_cheapest():
    rows = [
        {"listing_id": 1, "price_fen": 5000, "evidence": 0.0},
        {"listing_id": 2, "price_fen": 9000, "evidence": 1.5},
        {"listing_id": 3, "price_fen": 3000, "evidence": 0.2},
    ]
    base = {
        "product_id": 1,
        "platform": "youpin",
        "category_code": "electric_kettle",
        "units": 4,
        "level": "high",
    }
    market = pd.DataFrame([{**base, **r, "shop_id": r["listing_id"]} for r in rows])
    alloc = plan(market, budget_purchases=1, audit_size=0, seed=1)
    assert alloc.tasks["listing_id"].tolist() == [2]
    alloc = plan(market.assign(evidence=0.0), budget_purchases=1, audit_size=0, seed=1)
    assert alloc.tasks["listing_id"].tolist() == [3]
    # Over the price cap: the evidence listing is out, the cheapest with evidence wins.
    alloc = plan(market, budget_purchases=1, audit_size=0, seed=1, price_cap_fen=8000)
    assert alloc.tasks["listing_id"].tolist() == [3]
    assert alloc.tasks["price_cap_fen"].tolist() == [3300]


def test_every_platform_gets_an_audit_unit_when_the_budget_allows():
    market = _market(60, platforms=("youpin", "lehuo", "pinjia"))
    alloc = plan(market, budget_purchases=6, audit_share=0.0, seed=5)
    audit = alloc.tasks[alloc.tasks["stratum"] == AUDIT]
    assert set(audit["platform"]) == {"youpin", "lehuo", "pinjia"}
    assert alloc.summary["platforms_without_audit"] == []
    assert alloc.summary["audit_design"]["stratification"] == "platform"


def test_strata_collapse_when_the_sample_is_smaller_than_the_strata():
    market = _market(60, platforms=("youpin", "lehuo", "pinjia"))
    assert (
        plan(market, budget_purchases=20, audit_size=9, seed=1).summary["audit_design"][
            "stratification"
        ]
        == "category×platform"
    )
    assert (
        plan(market, budget_purchases=20, audit_size=5, seed=1).summary["audit_design"][
            "stratification"
        ]
        == "platform"
    )
    assert (
        plan(market, budget_purchases=20, audit_size=2, seed=1).summary["audit_design"][
            "stratification"
        ]
        == "overall"
    )


def test_a_tight_yuan_budget_leaves_the_dearest_products_out_of_the_audit_frame():
    market = _market(40)  # purchase costs 2 × 1.1 × 1000…5000 fen
    targeted_fen = 2 * 1100 * (2 + 3 + 4)  # products 1, 2 and 3
    budget = targeted_fen + 60_000  # ten audit purchases at most 6 000 fen each
    alloc = plan(market, budget_purchases=20, audit_size=10, seed=2, budget_fen=budget)
    design = alloc.summary["audit_design"]
    audit = alloc.tasks[alloc.tasks["stratum"] == AUDIT]
    assert alloc.summary["targeted"] == 3 and len(audit) == 10
    assert 4_400 <= design["cost_ceiling_fen"] < 11_000  # the dearest purchases are out
    assert (audit["cost_fen"] <= design["cost_ceiling_fen"]).all()
    assert design["excluded_by_cost"] == 37 - design["frame"]
    assert alloc.strata["population"].sum() == design["frame"]
    assert alloc.summary["planned_fen"] <= budget
    assert design["reserved_fen"] <= budget - targeted_fen


def test_when_no_cut_of_the_frame_fits_the_audit_shrinks():
    market = _market(40).assign(level="low")
    alloc = plan(market, budget_purchases=20, audit_size=10, seed=2, budget_fen=5_500)
    assert alloc.summary["audit"] == 2
    assert alloc.summary["planned_fen"] <= 5_500
    assert alloc.summary["audit_design"]["cost_ceiling_fen"] == 2_200


def test_products_left_out_are_counted_by_reason():
    market = _market(10)
    market.loc[0, "category_code"] = None
    market.loc[1, "price_fen"] = None
    market.loc[2, "price_fen"] = 99_999
    market.loc[3, "platform"] = "elsewhere"
    alloc = plan(
        market,
        budget_purchases=5,
        seed=1,
        price_cap_fen=50_000,
        platforms=["youpin", "lehuo"],
    )
    assert alloc.summary["excluded_products"] == {
        "no_category": 1,
        "no_price": 1,
        "over_price_cap": 1,
        "out_of_scope": 1,
    }
    assert alloc.summary["eligible_products"] == 6


def test_audit_inclusion_probabilities_match_the_selection_frequencies():
    """Over many seeds, each frame unit is drawn with frequency n_h / N_h: the systematic
    draw with a random start and random order within province is exact."""
    market = _market(30)
    market["region_code"] = np.where(market["product_id"] % 4 == 0, "440300", "330100")
    market["level"] = "low"
    runs = 600
    counts: Counter[int] = Counter()
    pi: dict[int, float] = {}
    for seed in range(runs):
        alloc = plan(market, budget_purchases=8, seed=seed)
        for pid, p in alloc.tasks[["product_id", "inclusion_probability"]].itertuples(index=False):
            counts[int(pid)] += 1
            pi[int(pid)] = float(p)
    assert set(pi) == set(market["product_id"])
    for pid, p in pi.items():
        expected = runs * p
        sd = (runs * p * (1 - p)) ** 0.5
        assert abs(counts[pid] - expected) <= 4.5 * sd, (pid, counts[pid], expected)


def test_proportional_allocation_keeps_one_per_stratum_and_the_total():
    sizes = {"a": 500, "b": 20, "c": 3, "d": 1}
    alloc = proportional_allocation(sizes, 12)
    assert sum(alloc.values()) == 12
    assert min(alloc.values()) >= 1
    assert all(alloc[k] <= sizes[k] for k in sizes)
    assert proportional_allocation(sizes, 2) == {"a": 2, "b": 0, "c": 0, "d": 0}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"budget_purchases": -1},
        {"seed": -5},
        {"per_shop": 0},
        {"audit_share": 1.5},
        {"budget_fen": 12.5},
    ],
)
def test_bad_parameters_are_refused(kwargs):
    with pytest.raises(ValueError):
        plan(_market(3), **{"budget_purchases": 3, "seed": 1, **kwargs})


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="price_fen"):
        plan(_market(3).drop(columns=["price_fen"]), budget_purchases=2, seed=1)
