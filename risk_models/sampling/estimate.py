"""Results of a monitoring plan (GB/T 38358-2019 结果计算): the market non-conformity rate.

A **sample fails** when any of its test items fails; a task with no inspection result
yet is untested and left out (non-response, see below).

**What is estimated.** The market non-conformity rate of a frame of products is the
chance that a purchase fails: pick a product of the frame at random, buy it as the audit
does (a listing drawn at random among its offers on its home platform), test it. A
product bought twice need not give the same verdict (batches, sellers, counterfeit
listings), so this is a rate per purchase, p = (1/N) Σ_i q_i with q_i the chance that a
purchase of product i fails — not the share of failures among the particular purchases
one census would make.

The **estimate** comes from the audit stratum, the part of the plan drawn at random
with known inclusion probabilities π_i = n_h / N_h. Per stratum h, with N_h = Σ 1/π_i
over its planned tasks and r_h tested samples, each tested sample weighs N_h / r_h
(the Horvitz–Thompson weight 1/π_i, re-scaled for untested tasks: within a stratum
they are treated as missing at random). For a domain d (a category, or ``*`` for all)
with indicator z_i and failure y_i::

    p̂_d = Σ_h (N_h / r_h) Σ_i z_i y_i  /  Σ_h (N_h / r_h) Σ_i z_i

When the domain is a union of strata (categories under category × platform strata)
this is the stratified estimator Σ_h W_h p_h with W_h = N_h / N_d, unbiased for p_d;
otherwise it is the ratio (domain) estimator. Its variance is taken by linearisation,
u_i = z_i (y_i − p̂) / N̂_d::

    V̂ = Σ_h N_h² (1 − f_h) s²_h(u) / r_h

s²_h is the sample variance of u in stratum h; a stratum with a single tested sample
borrows the pooled variance of the domain's tested samples (the usual collapsed-strata
substitute, conservative; a single sample outside the domain adds nothing).

**No finite population correction** by default: f_h = 0. Buying a larger share of the
products removes the spread of q_i *between* products but not the chance in each
purchase, and with one purchase per product the two cannot be told apart. The
correction f_h = r_h / N_h would remove both and understate V̂ by about the share f_h
of the purchase-to-purchase part; leaving it out overstates V̂ only by f_h times the
between-product part, which is small beside it (``docs/sampling.md`` has the
simulation). With ``finite_population=True`` the correction is applied: right when
every purchase of a product would give the same verdict and the target is the realised
share of failures in the frame; a domain sampled completely then has no sampling error
(the interval is the point).

**The 95% interval** is Wilson's score interval on the effective sample size
n* = p̂ (1 − p̂) / V̂, the usual survey-sampling form of Wilson's interval, with

* n* at most the size of a simple random sample of the same number of tested samples
  (n_d, or n_d / (1 − f_d) with the correction): a design effect below one from a
  handful of samples is more often a lucky V̂ than a real gain (as in Korn and Graubard
  1998 and the NCHS presentation standards for proportions); at p̂ = 0 or 1, where V̂
  says nothing, n* is that size;
* the Brown–Cai–DasGupta (2001) boundary modification: when the effective number of
  failures x* = p̂ n* is at most 2 (n* ≤ 50) or 3, the lower bound is the one-sided
  Poisson bound ½ χ²_{2x*, α} / n* (α = 1 − confidence), and likewise for the upper
  bound near 1. Wilson's lower bound is too high for one or two failures, which is
  exactly a category with a few purchases.

The Wald interval p̂ ± 1.96 √V̂ collapses to a point when no failure was found and
undercovers for the small rates and small strata typical here; Clopper–Pearson per
stratum cannot be combined across strata, and on n* (Korn–Graubard) it is wider
for more coverage than asked. The interval stays inside [0, 1], keeps a positive upper bound at zero failures,
and carries the stratification through n*.

The **targeted stratum** is reported beside it: its hit rate (failed / tested), the
audit's hit rate on the same basis, and the **lift** = targeted / audit hit rate, i.e.
how many times more often a targeted purchase found a non-conforming product than a
random one. With ``include_targeted=True`` the targeted units join the estimate as a
certainty stratum (π = 1: no selection variance, but the chance in each purchase stays),
which estimates the rate over the whole sampling frame instead of the frame outside the
targeted products.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import gammaincinv

from risk_models.sampling.allocate import AUDIT, TARGETED

OVERALL = "*"
SAMPLE_COLUMNS: tuple[str, ...] = (
    "task_id",
    "stratum",
    "stratum_key",
    "inclusion_probability",
    "category_code",
)


@dataclass(frozen=True)
class RateEstimate:
    """A domain's estimated rate with its interval.

    Attributes
    ----------
    estimate, ci_low, ci_high
        p̂ and its confidence interval (``None`` when the domain has no tested sample).
    variance
        V̂, the linearised variance (with the finite population correction only when
        asked for).
    samples, failed
        Tested samples in the domain and how many failed.
    population
        N̂_d, the estimated number of products in the domain.
    effective_n
        n* of the interval (``inf`` for a census under the finite population
        correction).
    """

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    variance: float | None
    samples: int
    failed: int
    population: float
    effective_n: float | None


def sample_outcomes(tasks: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """Each task with ``tested`` and ``failed`` from its inspection results.

    ``results`` has one row per test item (``task_id``, ``verdict``). A task is tested
    when it has at least one result; it failed when any item's verdict is ``fail``.
    ``failed`` is a nullable boolean, missing for untested tasks.

    >>> t = pd.DataFrame({"task_id": ["a", "b", "c"]})
    >>> r = pd.DataFrame({"task_id": ["a", "a", "b"], "verdict": ["pass", "fail", "pass"]})
    >>> sample_outcomes(t, r)[["task_id", "tested", "failed"]].values.tolist()
    [['a', True, True], ['b', True, False], ['c', False, <NA>]]
    """
    verdicts = results[["task_id", "verdict"]].copy()
    verdicts["verdict"] = (
        verdicts["verdict"]
        .astype(object)
        .map(lambda v: str(v).strip().lower() if isinstance(v, str) else v)
    )
    per_task = verdicts.groupby("task_id")["verdict"].agg(
        tested="size", failed=lambda s: bool((s == "fail").any())
    )
    out = tasks.copy()
    joined = per_task.reindex(out["task_id"].to_numpy())
    out["tested"] = joined["tested"].fillna(0).to_numpy() > 0
    failed = pd.array(joined["failed"].to_numpy(dtype=object), dtype="boolean")
    failed[~out["tested"].to_numpy()] = pd.NA
    out["failed"] = failed
    return out


def stratified_rate(
    samples: pd.DataFrame,
    domain: pd.Series | np.ndarray | None = None,
    *,
    confidence: float = 0.95,
    finite_population: bool = False,
) -> RateEstimate:
    """The rate of failures in ``domain`` (default: every row) from stratified samples.

    ``samples`` holds one row per planned task of the strata used: ``stratum``,
    ``stratum_key``, ``inclusion_probability`` and ``failed`` (nullable boolean, missing
    when untested). ``domain`` is a boolean mask over its rows. ``finite_population``
    applies the finite population correction (see the module notes).

    >>> s = pd.DataFrame({
    ...     "stratum": ["audit"] * 4, "stratum_key": ["a", "a", "b", "b"],
    ...     "inclusion_probability": [0.1, 0.1, 0.5, 0.5],
    ...     "failed": pd.array([True, False, False, False], dtype="boolean"),
    ... })
    >>> r = stratified_rate(s)
    >>> round(r.estimate, 4), r.population, r.samples, r.failed
    (0.4167, 24.0, 4, 1)
    """
    design = _Design.of(samples)
    mask = (
        np.ones(design.size, dtype=bool)
        if domain is None
        else np.asarray(pd.Series(domain).fillna(False), dtype=bool)
    )
    return design.rate(mask, confidence, finite_population=finite_population)


@dataclass(frozen=True)
class _Design:
    """The tested samples of a stratified design, ready for domain estimates.

    ``rows`` are the tested rows of the frame, ``stratum`` the stratum index (0…H−1) of
    each; ``big_n`` and ``tested`` are N_h and r_h per stratum (strata without a tested
    sample are left out: they carry no information and their N_h is not estimated).
    """

    size: int
    y: np.ndarray
    rows: np.ndarray
    stratum: np.ndarray
    big_n: np.ndarray
    tested: np.ndarray

    @classmethod
    def of(cls, samples: pd.DataFrame) -> _Design:
        frame = samples.reset_index(drop=True)
        failed = pd.array(frame["failed"], dtype="boolean")
        tested = ~np.asarray(failed.isna(), dtype=bool)
        y = np.asarray(failed.fillna(False), dtype=float)
        pi = frame["inclusion_probability"].astype(float).to_numpy()
        if np.any(~(pi > 0.0)) or np.any(pi > 1.0 + 1e-9):
            raise ValueError("inclusion probabilities must lie in (0, 1]")
        # A missing stratum key is a stratum of its own (""), never a dropped row.
        keys = (
            frame["stratum"].fillna("").astype(str)
            + "\x1f"
            + frame["stratum_key"].fillna("").astype(str)
        )
        codes, _ = pd.factorize(keys, sort=True)
        count = int(codes.max()) + 1 if len(codes) else 0
        # N_h = Σ 1/π_i over the stratum's planned tasks (n_h · N_h / n_h).
        big_n = np.round(np.bincount(codes, weights=1.0 / pi, minlength=count))
        r = np.bincount(codes[tested], minlength=count)
        keep = np.flatnonzero(r > 0)
        renumber = np.full(count, -1, dtype=np.int64)
        renumber[keep] = np.arange(len(keep))
        rows = np.flatnonzero(tested)
        rows = rows[np.argsort(codes[rows], kind="stable")]
        return cls(
            size=len(frame),
            y=y,
            rows=rows,
            stratum=renumber[codes[rows]],
            big_n=big_n[keep].astype(float),
            tested=r[keep].astype(float),
        )

    def rate(
        self, mask: np.ndarray, confidence: float, *, finite_population: bool = False
    ) -> RateEstimate:
        if not 0.0 < confidence < 1.0:
            raise ValueError(f"confidence must be within (0, 1), got {confidence!r}")
        strata = len(self.big_n)
        z = np.asarray(mask, dtype=bool)[self.rows].astype(float)
        y = self.y[self.rows]
        weight = (self.big_n / self.tested)[self.stratum]
        x_hat = float(np.sum(weight * z))
        n_d = int(z.sum())
        failed_d = int(np.sum(z * y))
        if x_hat <= 0.0 or n_d == 0:
            return RateEstimate(None, None, None, None, n_d, failed_d, x_hat, None)
        p = float(np.sum(weight * z * y)) / x_hat
        u = z * (y - p) / x_hat
        r = self.tested
        mean = np.bincount(self.stratum, weights=u, minlength=strata) / r
        squares = np.bincount(self.stratum, weights=(u - mean[self.stratum]) ** 2, minlength=strata)
        s2 = squares / np.maximum(r - 1.0, 1.0)
        in_domain = np.bincount(self.stratum, weights=z, minlength=strata) > 0
        single = r == 1.0
        if single.any():
            # A stratum with one tested sample borrows the pooled variance of the domain's
            # tested samples (outside the domain, u is 0 everywhere).
            inside = u[z > 0]
            pooled = float(np.var(inside, ddof=1)) if len(inside) > 1 else 0.0
            s2 = np.where(single, np.where(in_domain, pooled, 0.0), s2)
        f = np.minimum(r / self.big_n, 1.0) if finite_population else np.zeros(strata)
        variance = float(np.sum(self.big_n**2 * (1.0 - f) * s2 / r))
        if finite_population and np.all(f[in_domain] >= 1.0):
            return RateEstimate(p, p, p, 0.0, n_d, failed_d, x_hat, math.inf)
        # n* is at most the size of a simple random sample of as many purchases.
        share = min(n_d / x_hat, 1.0) if finite_population else 0.0
        srs = n_d / (1.0 - share) if share < 1.0 else math.inf
        if variance > 0.0 and 0.0 < p < 1.0:
            n_eff = min(p * (1.0 - p) / variance, srs)
        else:
            n_eff = srs
        low, high = modified_wilson_interval(p, n_eff, confidence)
        return RateEstimate(p, low, high, variance, n_d, failed_d, x_hat, n_eff)


def wilson_interval(p: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for a proportion ``p`` observed on ``n`` (possibly
    effective, non-integer) trials.

    >>> [round(v, 4) for v in wilson_interval(0.0, 30)]
    [0.0, 0.1135]
    >>> [round(v, 4) for v in wilson_interval(0.2, 100)]
    [0.1334, 0.2888]
    """
    if math.isinf(n):
        return p, p
    if n <= 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(max(p * (1 - p) / n + z2 / (4 * n * n), 0.0))
    return max(0.0, centre - half), min(1.0, centre + half)


def modified_wilson_interval(p: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's interval with the Brown–Cai–DasGupta boundary modification: with
    x = p·n failures, 0 < x ≤ 2 (n ≤ 50) or ≤ 3 (larger n), the lower bound is the
    one-sided Poisson bound ½ χ²_{2x, α} / n, α = 1 − confidence (the Gamma(x)
    α-quantile over n, for a non-integer effective x too); likewise the upper bound
    when n − x is that small. Wilson's own bound is never tightened.

    >>> [round(v, 4) for v in wilson_interval(1 / 10, 10)]
    [0.0179, 0.4042]
    >>> [round(v, 4) for v in modified_wilson_interval(1 / 10, 10)]
    [0.0051, 0.4042]
    >>> modified_wilson_interval(0.2, 100) == wilson_interval(0.2, 100)
    True
    """
    low, high = wilson_interval(p, n, confidence)
    if math.isinf(n) or n <= 0:
        return low, high
    alpha = 1.0 - confidence
    near = 2.0 if n <= 50 else 3.0
    tolerance = 1e-9
    failures, passes = p * n, (1.0 - p) * n
    if tolerance < failures <= near + tolerance:
        low = min(low, float(gammaincinv(failures, alpha)) / n)
    if tolerance < passes <= near + tolerance:
        high = max(high, 1.0 - float(gammaincinv(passes, alpha)) / n)
    return max(0.0, low), min(1.0, high)


def estimate_rates(
    samples: pd.DataFrame,
    *,
    confidence: float = 0.95,
    include_targeted: bool = False,
    finite_population: bool = False,
) -> list[dict[str, Any]]:
    """Per category and overall (``category_code == "*"``): the estimated market
    non-conformity rate with its interval, and the targeted stratum's hit rate and lift.

    ``samples`` has one row per task of a plan: :data:`SAMPLE_COLUMNS` and ``failed``
    (see :func:`sample_outcomes`). Returns rows shaped like ``market_estimates``
    (without ``plan_id`` and ``computed_at``), categories in code order, ``*`` first.
    ``finite_population`` applies the finite population correction (module notes).
    """
    missing = [c for c in (*SAMPLE_COLUMNS[1:], "failed") if c not in samples.columns]
    if missing:
        raise ValueError(f"samples lack the column(s) {', '.join(missing)}")
    frame = samples.reset_index(drop=True)
    frame = frame.assign(
        failed=pd.array(frame["failed"], dtype="boolean"),
        category_code=frame["category_code"]
        .astype(object)
        .where(frame["category_code"].notna(), "?"),
    )
    used = frame[frame["stratum"].isin([AUDIT, TARGETED] if include_targeted else [AUDIT])]
    used = used.reset_index(drop=True)
    tested = frame["failed"].notna()
    untested = int((~tested[frame["stratum"].isin(used["stratum"].unique())]).sum())
    n_strata = len(set(zip(used["stratum"], used["stratum_key"], strict=True)))
    pct = f"{confidence:.0%}"
    method = (
        "stratified Horvitz–Thompson, "
        + ("audit + targeted (certainty stratum)" if include_targeted else "audit stratum only")
        + ", weights N_h/r_h, "
        + ("with FPC (realised rate)" if finite_population else "rate per purchase (no FPC)")
        + f", {pct} Wilson interval (Brown–Cai–DasGupta boundary) on the effective"
        + " sample size n* ≤ n;"
        + f" {n_strata} strata, {untested} untested task(s) left out"
    )
    categories: Sequence[str] = [OVERALL, *sorted(set(frame["category_code"]))]
    design = _Design.of(used) if len(used) else None
    used_category = used["category_code"].to_numpy()
    category = frame["category_code"].to_numpy()
    stratum = frame["stratum"].to_numpy()
    failed = np.asarray(frame["failed"].fillna(False), dtype=bool)
    is_tested = tested.to_numpy()
    rows = []
    for code in categories:
        everything = code == OVERALL
        rate = (
            design.rate(
                np.ones(len(used), bool) if everything else used_category == code,
                confidence,
                finite_population=finite_population,
            )
            if design is not None
            else None
        )
        in_cat = is_tested if everything else is_tested & (category == code)
        audit = in_cat & (stratum == AUDIT)
        targeted = in_cat & (stratum == TARGETED)
        a_n, a_f = int(audit.sum()), int((audit & failed).sum())
        t_n, t_f = int(targeted.sum()), int((targeted & failed).sum())
        a_rate = a_f / a_n if a_n else None
        t_rate = t_f / t_n if t_n else None
        rows.append(
            {
                "category_code": code,
                "audit_samples": a_n,
                "audit_failed": a_f,
                "estimate": _round(rate.estimate if rate else None),
                "ci_low": _round(rate.ci_low if rate else None),
                "ci_high": _round(rate.ci_high if rate else None),
                "targeted_samples": t_n,
                "targeted_failed": t_f,
                "targeted_hit_rate": _round(t_rate),
                "audit_hit_rate": _round(a_rate),
                "lift": _round(t_rate / a_rate) if t_rate is not None and a_rate else None,
                "method": method,
            }
        )
    return rows


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)
