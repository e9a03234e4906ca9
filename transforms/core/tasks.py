"""Processing as plain functions of a warehouse URL: the ``process_staging`` DAG, the
``ecqm process`` and ``ecqm warehouse rebuild-core`` commands and the demo call these."""

from __future__ import annotations

from typing import Any

from ecqm import settings as ecqm_settings
from ecqm.warehouse.engine import make_engine


def process(url: str, run_id: str, **kwargs: Any) -> dict[str, Any]:
    """Take what arrived in staging since the last run into core; the run's report."""
    from transforms.core.pipeline import process_staging

    s = ecqm_settings.load()
    engine = make_engine(url)
    try:
        report = process_staging(engine, run_id=run_id, salt=s.pii_salt(), home=s.home, **kwargs)
    finally:
        engine.dispose()
    return report.as_dict()


def rebuild(url: str, run_id: str, **kwargs: Any) -> dict[str, Any]:
    """Empty core and rebuild it from all of staging; the run's report."""
    from transforms.core.pipeline import rebuild_core

    s = ecqm_settings.load()
    engine = make_engine(url)
    try:
        report = rebuild_core(engine, run_id=run_id, salt=s.pii_salt(), home=s.home, **kwargs)
    finally:
        engine.dispose()
    return report.as_dict()


def check_reconciliation(url: str, run_id: str) -> list[str]:
    """Problems found recounting the run (empty when it balances)."""
    from transforms.core.reconcile import reconcile

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [p for r in reconcile(conn, run_id) for p in r.problems()]
    finally:
        engine.dispose()
