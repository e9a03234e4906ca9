"""The market estimate: outcomes per sample, the stratified estimator and its interval,
and, in simulation, unbiasedness and 95% coverage over repeated plans."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sampling_population import population

from risk_models.sampling import AUDIT, TARGETED, estimate_rates, plan, sample_outcomes
from risk_models.sampling.estimate import (
    modified_wilson_interval,
    stratified_rate,
    wilson_interval,
)

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


@pytest.mark.parametrize("finite_population", [False, True])
def test_the_stratified_estimate_and_variance_match_the_textbook_formulas(finite_population):
    # Stratum a: N=100, n=4, 1 failure; stratum b: N=50, n=5, 2 failures.
    rows = [(AUDIT, "a", 0.04, "k", i == 0) for i in range(4)]
    rows += [(AUDIT, "b", 0.1, "k", i < 2) for i in range(5)]
    rate = stratified_rate(_samples(rows), finite_population=finite_population)
    w = np.array([100, 50]) / 150
    p_h = np.array([1 / 4, 2 / 5])
    n_h, big_n = np.array([4, 5]), np.array([100, 50])
    fpc = 1 - n_h / big_n if finite_population else 1.0
    expected_var = np.sum(w**2 * fpc * p_h * (1 - p_h) / (n_h - 1))
    assert rate.estimate == pytest.approx(float(np.sum(w * p_h)))
    assert rate.variance == pytest.approx(float(expected_var))
    assert rate.population == 150
    assert rate.ci_low < rate.estimate < rate.ci_high
    # The stratification gain (design effect below 1) is kept when n* ≤ n allows it.
    srs = 9 / (1 - 9 / 150) if finite_population else 9
    assert rate.effective_n == pytest.approx(
        min(rate.estimate * (1 - rate.estimate) / expected_var, srs)
    )


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


def test_a_census_has_no_sampling_error_only_for_the_realised_rate():
    samples = _samples([(AUDIT, "a", 1.0, "k", i < 3) for i in range(10)])
    rate = stratified_rate(samples, finite_population=True)
    assert rate.estimate == rate.ci_low == rate.ci_high == pytest.approx(0.3)
    # The rate per purchase: buying every product once still leaves the chance in each
    # purchase, as for a simple random sample of 10 (n* = n − 1 from the n − 1 divisor).
    rate = stratified_rate(samples)
    assert rate.effective_n == pytest.approx(9)
    assert (rate.ci_low, rate.ci_high) == pytest.approx(wilson_interval(0.3, 9))


def test_a_domain_of_one_purchase_that_failed_does_not_rule_out_small_rates():
    rows = [(AUDIT, "*|youpin", 0.05, "kettle", True)]
    rows += [(AUDIT, "*|youpin", 0.05, "toy", False)] * 9
    rate = stratified_rate(_samples(rows), pd.Series([True] + [False] * 9))
    assert rate.estimate == 1.0 and rate.effective_n == 1
    # Wilson alone would give [0.21, 1]; the boundary modification takes the one-sided
    # Poisson bound for one failure, −ln(0.95) = 0.051.
    assert wilson_interval(1.0, 1)[0] > 0.2
    assert rate.ci_low == pytest.approx(-math.log(0.95)) and rate.ci_high == 1.0


def test_the_effective_sample_size_is_at_most_the_number_of_purchases():
    # Stratum a: N=100, none of 3 failed; stratum b: N=100, 2 of 3 failed. p̂ = 1/3 and
    # V̂ = ¼ · (1/3) / 3, so p̂(1 − p̂)/V̂ = 8 purchases' worth from 6 purchases.
    rows = [(AUDIT, "a", 0.03, "k", False)] * 3
    rows += [(AUDIT, "b", 0.03, "k", v) for v in (True, True, False)]
    rate = stratified_rate(_samples(rows))
    assert rate.estimate == pytest.approx(1 / 3)
    assert rate.variance == pytest.approx(1 / 36)
    assert rate.effective_n == 6
    # No spread within strata at all: V̂ = 0 says nothing, n* is the number of purchases.
    rows = [(AUDIT, "a", 0.01, "k", False)] * 3 + [(AUDIT, "b", 0.01, "k", True)] * 3
    rate = stratified_rate(_samples(rows))
    assert rate.variance == 0.0 and rate.effective_n == 6


def test_modified_wilson_widens_only_near_the_bounds():
    assert modified_wilson_interval(0.3, 100) == wilson_interval(0.3, 100)
    low, high = modified_wilson_interval(2 / 40, 40)
    assert low < wilson_interval(2 / 40, 40)[0] and high == wilson_interval(2 / 40, 40)[1]
    low, high = modified_wilson_interval(38 / 40, 40)
    assert high > wilson_interval(38 / 40, 40)[1] and low == wilson_interval(38 / 40, 40)[0]
    # Three failures count as near the bound only beyond 50 purchases.
    assert modified_wilson_interval(3 / 40, 40) == wilson_interval(3 / 40, 40)
    assert modified_wilson_interval(3 / 80, 80)[0] < wilson_interval(3 / 80, 80)[0]


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
    assert "no FPC" in overall["method"]
    assert "1 untested" not in overall["method"]


def test_including_the_targeted_stratum_as_a_certainty_stratum():
    rows = [(TARGETED, "high", 1.0, "kettle", True)] * 5
    rows += [(AUDIT, "kettle|youpin", 0.1, "kettle", i == 0) for i in range(5)]
    overall = estimate_rates(_samples(rows), include_targeted=True)[0]
    # 5 targeted products, all failed, plus 50 audit-frame products at 1/5.
    assert overall["estimate"] == pytest.approx((5 + 10) / 55)
    assert "certainty" in overall["method"]


# ------------------------------------------------------------------------ simulation


def _covers(row: dict, true: float) -> bool:
    return row["ci_low"] <= true <= row["ci_high"]


@pytest.fixture(scope="module")
def simulation() -> dict[str, np.ndarray]:
    """Repeated plans (a new seed each time) on one synthetic market whose products each
    have a known failure probability q_i and a true outcome drawn from it once.

    Two truths are checked. *Fixed outcomes*: every purchase of a product gives the
    outcome drawn once, and the target is the realised share of failures of the audit
    frame (the finite-population estimand, ``finite_population=True``; the default is
    conservative for it). *Per purchase*: each planned purchase fails with q_i, drawn
    afresh, and the target is the mean q_i over the audit frame (the default estimand)."""
    market = population(500, seed=11)
    truth = market.drop_duplicates("product_id").set_index("product_id").sort_index()
    size = int(truth.index.max()) + 1
    fails = np.zeros(size, dtype=bool)
    fails[truth.index.to_numpy()] = truth["fails"].to_numpy()
    chance = np.zeros(size)
    chance[truth.index.to_numpy()] = truth["fail_probability"].to_numpy()
    category = pd.Series("", index=range(size), dtype=object)
    category[truth.index] = truth["category_code"]
    category = category.to_numpy()
    out: dict[str, list] = {
        k: []
        for k in (
            "fixed_estimates",
            "fixed_truths",
            "fixed_covered",
            "fixed_category_covered",
            "fixed_default_covered",
            "purchase_estimates",
            "purchase_truths",
            "purchase_covered",
            "purchase_category_covered",
        )
    }
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
        # The population the audit estimates: every product outside the targeted part.
        frame = np.zeros(size, dtype=bool)
        frame[truth.index.to_numpy()] = True
        frame[chosen[(tasks["stratum"] == TARGETED).to_numpy()]] = False

        fixed = tasks.assign(failed=pd.array(fails[chosen], dtype="boolean"))
        rows = estimate_rates(fixed, finite_population=True)
        rate = float(fails[frame].mean())
        out["fixed_truths"].append(rate)
        out["fixed_estimates"].append(rows[0]["estimate"])
        out["fixed_covered"].append(_covers(rows[0], rate))
        out["fixed_default_covered"].append(_covers(estimate_rates(fixed)[0], rate))
        for row in rows[1:]:
            true = float(fails[frame & (category == row["category_code"])].mean())
            out["fixed_category_covered"].append(_covers(row, true))

        draws = np.random.default_rng(20_000 + rep).random(len(chosen)) < chance[chosen]
        rows = estimate_rates(tasks.assign(failed=pd.array(draws, dtype="boolean")))
        rate = float(chance[frame].mean())
        out["purchase_truths"].append(rate)
        out["purchase_estimates"].append(rows[0]["estimate"])
        out["purchase_covered"].append(_covers(rows[0], rate))
        for row in rows[1:]:
            true = float(chance[frame & (category == row["category_code"])].mean())
            out["purchase_category_covered"].append(_covers(row, true))
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("truth", ["fixed", "purchase"])
def test_the_estimate_is_unbiased_over_repeated_plans(simulation, truth):
    truths = simulation[f"{truth}_truths"]
    # The targeted part is the same whatever the seed, so the audit frame is too.
    assert np.ptp(truths) == 0.0
    estimates = simulation[f"{truth}_estimates"]
    standard_error = estimates.std(ddof=1) / np.sqrt(len(estimates))
    assert abs(estimates.mean() - truths[0]) < 3 * standard_error
    assert abs(estimates.mean() - truths[0]) < 0.005


@pytest.mark.parametrize("truth", ["fixed", "purchase"])
def test_the_95_percent_interval_covers_the_truth_about_95_percent_of_the_time(simulation, truth):
    coverage = simulation[f"{truth}_covered"].mean()
    assert 0.93 <= coverage <= 0.99, coverage
    per_category = simulation[f"{truth}_category_covered"].mean()
    assert 0.93 <= per_category <= 0.99, per_category


def test_without_the_correction_the_interval_is_conservative_for_fixed_outcomes(simulation):
    assert simulation["fixed_default_covered"].mean() >= simulation["fixed_covered"].mean()
    assert simulation["fixed_default_covered"].mean() >= 0.93


def test_the_targeting_finds_failures_more_often_than_chance():
    market = population(500, seed=11)
    truth = market.drop_duplicates("product_id").set_index("product_id")
    alloc = plan(market, budget_purchases=130, audit_size=90, seed=3)
    tasks = alloc.tasks.assign(task_id=alloc.tasks["order"].astype(str))
    tasks["failed"] = pd.array(truth.loc[tasks["product_id"], "fails"].to_numpy(), dtype="boolean")
    overall = estimate_rates(tasks)[0]
    assert overall["targeted_hit_rate"] > overall["audit_hit_rate"]
    assert overall["lift"] > 1.5


def test_a_missing_stratum_key_is_a_stratum_of_its_own():
    from risk_models.sampling.estimate import stratified_rate

    s = pd.DataFrame(
        {
            "stratum": ["audit"] * 4,
            "stratum_key": [None, None, "b", "b"],
            "inclusion_probability": [0.1, 0.1, 0.5, 0.5],
            "failed": pd.array([True, False, False, False], dtype="boolean"),
        }
    )
    named = s.assign(stratum_key=["a", "a", "b", "b"])
    r, expected = stratified_rate(s), stratified_rate(named)
    assert (r.estimate, r.population, r.samples, r.failed) == (
        expected.estimate,
        expected.population,
        expected.samples,
        expected.failed,
    )
    assert round(r.estimate, 4) == 0.4167
