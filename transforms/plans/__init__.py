"""Monitoring plans (监测计划、抽样计划) and their results (结果计算).

:func:`make_plan` turns the newest risk assessments into sampling tasks, assigns labs
and writes the buyers' and labs' workbooks; :func:`compute_estimates` turns inspection
results into market estimates. :mod:`transforms.plans.tasks` wraps both as functions of
a warehouse URL for the ``plan_sampling`` DAG and the ``ecqm plan`` command.
"""

from __future__ import annotations

from transforms.plans.estimates import compute_estimates
from transforms.plans.make import (
    PlanError,
    PlanLockedError,
    PlanReport,
    make_plan,
    period_bounds,
)

__all__ = [
    "PlanError",
    "PlanLockedError",
    "PlanReport",
    "compute_estimates",
    "make_plan",
    "period_bounds",
]
