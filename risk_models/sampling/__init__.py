"""Sampling for monitoring plans (监测计划、抽样计划), GB/T 38358-2019.

:mod:`~risk_models.sampling.allocate` chooses what to buy: a targeted stratum of
high-risk products and a random audit stratum with known inclusion probabilities.
:mod:`~risk_models.sampling.estimate` turns the inspection outcomes of a plan into the
estimated market non-conformity rate with its confidence interval, and the hit rate and
lift of the targeting. Both are pure functions of pandas frames; the warehouse side is
:mod:`transforms.plans`.
"""

from __future__ import annotations

from risk_models.sampling.allocate import (
    AUDIT,
    TARGETED,
    Allocation,
    PlanParams,
    allocate,
    plan,
)
from risk_models.sampling.estimate import estimate_rates, sample_outcomes

__all__ = [
    "AUDIT",
    "TARGETED",
    "Allocation",
    "PlanParams",
    "allocate",
    "estimate_rates",
    "plan",
    "sample_outcomes",
]
