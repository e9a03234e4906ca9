"""The market estimate: outcomes per sample, the stratified estimator and its interval,
and, in simulation, unbiasedness and 95% coverage over repeated plans."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sampling_population import population

from risk_models.sampling import AUDIT, TARGETED, estimate_rates, plan, sample_outcomes
from risk_models.sampling.estimate import stratified_rate, wilson_interval

REPETITIONS = 400


def _samples(rows: list[tuple[str, str, float, str, bool | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "task_id": [f"t{i}" for i in range(len(rows))],
            "stratum": [r[0] for r in rows],
            "stratum_key": [r[1] for r in rows],
            "inclusion_probability": [r[2] for r in rows],
            "category_code": [r[3] for r in rows],
            "failed": pd.array([r[4] for r in rows], dtype="boolean"),
        }
    )


def test_a_sample_fails_when_any_item_fails_and_untested_tasks_stay_missing():
    tasks = pd.DataFrame({"task_id": ["a", "b", "c", "d"]})
    results = pd.DataFrame(
        {
            "task_id": ["a", "a", "a", "b", "b", "d"],
            "verdict": ["pass", "pass", "fail", "pass", "pass", "FAIL "],
        }
    )
    out = sample_outcomes(tasks, results)
    assert out["tested"].tolist() == [True, True, False, True]
    assert out["failed"].tolist() == [True, False, pd.NA, True]


def test_the_stratified_estimate_and_variance_match_the_textbook_formulas():
    # Stratum a: N=100, n=4, 1 failure; stratum b: N=50, n=5, 2 failures.
    rows = [(AUDIT, "a", 0.04, "k", i == 0) for i in range(4)]
    rows += [(AUDIT, "b", 0.1, "k", i < 2) for i in range(5)]
    rate = stratified_rate(_samples(rows))
    w = np.array([100, 50]) / 150
    p_h = np.array([1 / 4, 2 / 5])
    n_h, big_n = np.array([4, 5]), np.array([100, 50])
    expected_var = np.sum(w**2 * (1 - n_h / big_n) * p_h * (1 - p_h) / (n_h - 1))
    assert rate.estimate == pytest.approx(float(np.sum(w * p_h)))
    assert rate.variance == pytest.approx(float(expected_var))
    assert rate.population == 150
    assert rate.ci_low < rate.estimate < rate.ci_high


def test_untested_tasks_are_left_out_and_the_stratum_reweighted():
    rows = [(AUDIT, "a", 0.1, "k", v) for v in (True, False, None, None)]
    rows += [(AUDIT, "b", 0.5, "k", v) for v in (False, None)]
    rate = stratified_rate(_samples(rows))
    # a: N=40 by 2 tested (1 fail); b: N=4 by 1 tested (0 fail).
    assert rate.estimate == pytest.approx(20 / 44)
    assert rate.samples == 3 and rate.failed == 1


def test_no_failure_still_gives_a_positive_upper_bound():
    rate = stratified_rate(_samples([(AUDIT, "a", 0.1, "k", False)] * 30))
    assert rate.estimate == 0.0 and rate.ci_low == 0.0
    assert 0.0 < rate.ci_high < 0.15


def test_a_census_has_no_sampling_error():
    rate = stratified_rate(_samples([(AUDIT, "a", 1.0, "k", i < 3) for i in range(10)]))
    assert rate.estimate == rate.ci_low == rate.ci_high == pytest.approx(0.3)


def test_wilson_interval_bounds():
    assert wilson_interval(0.5, math.inf) == (0.5, 0.5)
    assert wilson_interval(0.0, 0) == (0.0, 1.0)
    low, high = wilson_interval(1.0, 20)
    assert low < 1.0 and high == 1.0


def test_rows_per_category_with_hit_rates_and_lift():
    rows = [(TARGETED, "high", 1.0, "kettle", i < 3) for i in range(4)]
    rows += [(AUDIT, "kettle|youpin", 0.1, "kettle", i == 0) for i in range(4)]
    rows += [(AUDIT, "toy|youpin", 0.2, "toy", i < 2) for i in range(4)]
    rows += [(TARGETED, "elevated", 1.0, "toy", None)]
    out = {r["category_code"]: r for r in estimate_rates(_samples(rows))}
    assert list(out) == ["*", "kettle", "toy"]
    kettle, overall = out["kettle"], out["*"]
    assert (kettle["audit_samples"], kettle["audit_failed"]) == (4, 1)
    assert kettle["estimate"] == pytest.approx(0.25)
    assert (kettle["targeted_samples"], kettle["targeted_failed"]) == (4, 3)
    assert kettle["targeted_hit_rate"] == 0.75 and kettle["audit_hit_rate"] == 0.25
    assert kettle["lift"] == pytest.approx(3.0)
    # Overall: kettle N=40 at 1/4, toy N=20 at 1/2.
    assert overall["estimate"] == pytest.approx((10 + 10) / 60)
    assert overall["targeted_samples"] == 4 and overall["audit_samples"] == 8
    assert out["toy"]["targeted_samples"] == 0 and out["toy"]["lift"] is None
    assert "audit stratum only" in overall["method"]
    assert "1 untested" not in overall["method"]


def test_including_the_targeted_stratum_as_a_certainty_stratum():
    rows = [(TARGETED, "high", 1.0, "kettle", True)] * 5
    rows += [(AUDIT, "kettle|youpin", 0.1, "kettle", i == 0) for i in range(5)]
    overall = estimate_rates(_samples(rows), include_targeted=True)[0]
    # 5 targeted products, all failed, plus 50 audit-frame products at 1/5.
    assert overall["estimate"] == pytest.approx((5 + 10) / 55)
    assert "certainty" in overall["method"]


# ------------------------------------------------------------------------ simulation


@pytest.fixture(scope="module")
def simulation() -> dict[str, np.ndarray]:
    """Repeated plans (a new seed each time) on one synthetic market whose products each
    have a known failure probability and a true outcome drawn from it once; the
    outcomes of the planned samples are read from that truth."""
    market = population(500, seed=11)
    truth = market.drop_duplicates("product_id").set_index("product_id").sort_index()
    fails = np.zeros(int(truth.index.max()) + 1, dtype=bool)
    fails[truth.index.to_numpy()] = truth["fails"].to_numpy()
    category = pd.Series("", index=range(len(fails)), dtype=object)
    category[truth.index] = truth["category_code"]
    category = category.to_numpy()
    estimates, covered, category_covered, truths = [], [], [], []
    for rep in range(REPETITIONS):
        alloc = plan(
            market,
            budget_purchases=130,
            audit_size=90,
            seed=10_000 + rep,
            per_shop=None,
            per_brand=None,
        )
        tasks = alloc.tasks.assign(task_id=alloc.tasks["order"].astype(str))
        chosen = tasks["product_id"].to_numpy()
        tasks["failed"] = pd.array(fails[chosen], dtype="boolean")
        # The population the audit estimates: every product outside the targeted part.
        frame = np.zeros(len(fails), dtype=bool)
        frame[truth.index.to_numpy()] = True
        frame[chosen[(tasks["stratum"] == TARGETED).to_numpy()]] = False
        rows = estimate_rates(tasks)
        rate = float(fails[frame].mean())
        truths.append(rate)
        estimates.append(rows[0]["estimate"])
        covered.append(rows[0]["ci_low"] <= rate <= rows[0]["ci_high"])
        for row in rows[1:]:
            true = float(fails[frame & (category == row["category_code"])].mean())
            category_covered.append(row["ci_low"] <= true <= row["ci_high"])
    return {
        "estimates": np.array(estimates),
        "truths": np.array(truths),
        "covered": np.array(covered),
        "category_covered": np.array(category_covered),
    }


def test_the_estimate_is_unbiased_over_repeated_plans(simulation):
    truths = simulation["truths"]
    # The targeted part is the same whatever the seed, so the audit frame is too.
    assert np.ptp(truths) == 0.0
    estimates = simulation["estimates"]
    standard_error = estimates.std(ddof=1) / np.sqrt(len(estimates))
    assert abs(estimates.mean() - truths[0]) < 3.5 * standard_error
    assert abs(estimates.mean() - truths[0]) < 0.005


def test_the_95_percent_interval_covers_the_truth_about_95_percent_of_the_time(simulation):
    coverage = simulation["covered"].mean()
    assert 0.90 <= coverage <= 0.99, coverage
    per_category = simulation["category_covered"].mean()
    assert 0.90 <= per_category <= 0.99, per_category


def test_the_targeting_finds_failures_more_often_than_chance():
    market = population(500, seed=11)
    truth = market.drop_duplicates("product_id").set_index("product_id")
    alloc = plan(market, budget_purchases=130, audit_size=90, seed=3)
    tasks = alloc.tasks.assign(task_id=alloc.tasks["order"].astype(str))
    tasks["failed"] = pd.array(truth.loc[tasks["product_id"], "fails"].to_numpy(), dtype="boolean")
    overall = estimate_rates(tasks)[0]
    assert overall["targeted_hit_rate"] > overall["audit_hit_rate"]
    assert overall["lift"] > 1.5
