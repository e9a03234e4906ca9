"""Results of a monitoring plan (GB/T 38358-2019 结果计算): the market non-conformity rate.

A **sample fails** when any of its test items fails; a task with no inspection result
yet is untested and left out (non-response, see below).

The **estimate** comes from the audit stratum, the part of the plan drawn at random
with known inclusion probabilities π_i = n_h / N_h. Per stratum h, with N_h = Σ 1/π_i
over its planned tasks and r_h tested samples, each tested sample weighs N_h / r_h
(the Horvitz–Thompson weight 1/π_i, re-scaled for untested tasks: within a stratum
they are treated as missing at random). For a domain d (a category, or ``*`` for all)
with indicator z_i and failure y_i::

    p̂_d = Σ_h (N_h / r_h) Σ_i z_i y_i  /  Σ_h (N_h / r_h) Σ_i z_i

When the domain is a union of strata (categories under category × platform strata)
this is the stratified estimator Σ_h W_h p_h with W_h = N_h / N_d; otherwise it is the
ratio (domain) estimator. Its variance is taken by linearisation, u_i = z_i (y_i − p̂)
/ N̂_d, with the finite population correction::

    V̂ = Σ_h N_h² (1 − r_h / N_h) s²_h(u) / r_h

s²_h is the sample variance of u in stratum h; a stratum with a single tested sample
borrows the pooled variance of the domain's tested samples (the usual collapsed-strata
substitute, conservative; a single sample outside the domain adds nothing).

**The 95% interval** is Wilson's score interval on the effective sample size
n* = p̂ (1 − p̂) / V̂, the usual survey-sampling form of Wilson's interval. The Wald interval p̂ ± 1.96 √V̂
collapses to a point when no failure was found and undercovers for the small rates
and small strata typical here; Clopper–Pearson per stratum cannot be combined across
strata. The Wilson form stays inside [0, 1], keeps a positive upper bound at zero
failures (then n* = n / (1 − f)), and carries the stratification and the finite
population correction through n*. A domain sampled completely (every r_h = N_h) has
no sampling error: the interval is the point.

The **targeted stratum** is reported beside it: its hit rate (failed / tested), the
audit's hit rate on the same basis, and the **lift** = targeted / audit hit rate, i.e.
how many times more often a targeted purchase found a non-conforming product than a
random one. With ``include_targeted=True`` the targeted units join the estimate as a
certainty stratum (π = 1, no sampling variance), which estimates the rate over the
whole sampling frame instead of the frame outside the targeted products.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

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
        V̂, the linearised variance with the finite population correction.
    samples, failed
        Tested samples in the domain and how many failed.
    population
        N̂_d, the estimated number of products in the domain.
    effective_n
        n* of the Wilson interval (``inf`` for a census).
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
) -> RateEstimate:
    """The rate of failures in ``domain`` (default: every row) from stratified samples.

    ``samples`` holds one row per planned task of the strata used: ``stratum``,
    ``stratum_key``, ``inclusion_probability`` and ``failed`` (nullable boolean, missing
    when untested). ``domain`` is a boolean mask over its rows.

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
    return design.rate(mask, confidence)


@dataclass(frozen=True)
class _Design:
    """The tested samples of a stratified design, ready for domain estimates."""

    size: int
    y: np.ndarray
    strata: tuple[tuple[float, np.ndarray], ...]
    responding: np.ndarray

    @classmethod
    def of(cls, samples: pd.DataFrame) -> _Design:
        frame = samples.reset_index(drop=True)
        failed = pd.array(frame["failed"], dtype="boolean")
        tested = ~np.asarray(failed.isna(), dtype=bool)
        y = np.asarray(failed.fillna(False), dtype=float)
        pi = frame["inclusion_probability"].astype(float).to_numpy()
        if np.any(~(pi > 0.0)) or np.any(pi > 1.0 + 1e-9):
            raise ValueError("inclusion probabilities must lie in (0, 1]")
        keys = frame["stratum"].astype(str) + "\x1f" + frame["stratum_key"].astype(str)
        codes, _ = pd.factorize(keys, sort=True)
        strata = []
        for h in range(int(codes.max()) + 1 if len(codes) else 0):
            rows = np.flatnonzero(codes == h)
            # N_h = Σ 1/π_i over the stratum's planned tasks (n_h · N_h / n_h).
            big_n = float(round(float(np.sum(1.0 / pi[rows]))))
            resp = rows[tested[rows]]
            if len(resp):
                strata.append((big_n, resp))
        responding = np.concatenate([r for _, r in strata]) if strata else np.zeros(0, dtype=int)
        return cls(len(frame), y, tuple(strata), responding)

    def rate(self, mask: np.ndarray, confidence: float) -> RateEstimate:
        if not 0.0 < confidence < 1.0:
            raise ValueError(f"confidence must be within (0, 1), got {confidence!r}")
        z = mask.astype(float)
        y = self.y
        y_hat = x_hat = 0.0
        n_d = failed_d = 0
        for big_n, resp in self.strata:
            w = big_n / len(resp)
            zy = z[resp] * y[resp]
            y_hat += w * float(zy.sum())
            x_hat += w * float(z[resp].sum())
            n_d += int(mask[resp].sum())
            failed_d += int(zy.sum())
        if x_hat <= 0.0 or n_d == 0:
            return RateEstimate(None, None, None, None, n_d, failed_d, x_hat, None)
        p = y_hat / x_hat
        u = z * (y - p) / x_hat
        # A stratum with one tested sample borrows the pooled variance of the tested
        # samples on the same side of the domain (outside it, u is 0 everywhere).
        inside = self.responding[mask[self.responding]]
        pooled = float(np.var(u[inside], ddof=1)) if len(inside) > 1 else 0.0
        variance = 0.0
        census = True
        for big_n, resp in self.strata:
            r = len(resp)
            fpc = max(0.0, 1.0 - r / big_n)
            if fpc > 0.0:
                census = False
            if r > 1:
                s2 = float(np.var(u[resp], ddof=1))
            else:
                s2 = pooled if mask[resp[0]] else 0.0
            variance += big_n**2 * fpc * s2 / r
        if census:
            return RateEstimate(p, p, p, 0.0, n_d, failed_d, x_hat, math.inf)
        if variance > 0.0 and 0.0 < p < 1.0:
            n_eff = p * (1.0 - p) / variance
        else:
            f = n_d / x_hat
            n_eff = n_d / (1.0 - f) if f < 1.0 else math.inf
        low, high = wilson_interval(p, n_eff, confidence)
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


def estimate_rates(
    samples: pd.DataFrame,
    *,
    confidence: float = 0.95,
    include_targeted: bool = False,
) -> list[dict[str, Any]]:
    """Per category and overall (``category_code == "*"``): the estimated market
    non-conformity rate with its interval, and the targeted stratum's hit rate and lift.

    ``samples`` has one row per task of a plan: :data:`SAMPLE_COLUMNS` and ``failed``
    (see :func:`sample_outcomes`). Returns rows shaped like ``market_estimates``
    (without ``plan_id`` and ``computed_at``), categories in code order, ``*`` first.
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
        + f", weights N_h/r_h with FPC, {pct} Wilson interval on the effective sample size;"
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
                np.ones(len(used), bool) if everything else used_category == code, confidence
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
