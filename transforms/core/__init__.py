"""Staging → core: normalise, resolve, deduplicate, mask and validate.

:func:`process_staging` takes what arrived in ``stg_*`` since the last run into the core
tables (``shops``, ``products``, ``listings``, ``listing_snapshots``, ``reviews``,
``complaints``, ``recalls``), with every refused row in ``quarantine`` and a
reconciliation per run in ``process_runs``; :func:`rebuild_core` makes the same tables
from all of staging; :func:`reconcile` checks a run's counts against the tables.
"""

from __future__ import annotations

from transforms.core.pipeline import (
    ProcessReport,
    TableBreakage,
    TableReport,
    clear_core,
    process_staging,
    rebuild_core,
)
from transforms.core.reconcile import reconcile

__all__ = [
    "ProcessReport",
    "TableBreakage",
    "TableReport",
    "clear_core",
    "process_staging",
    "rebuild_core",
    "reconcile",
]
