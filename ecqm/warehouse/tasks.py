"""Warehouse tasks as plain functions: the DAG ``prepare_warehouse`` and the demo call these."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ecqm.warehouse import migrate
from ecqm.warehouse.engine import make_engine


def upgrade_warehouse(url: str) -> dict[str, Any]:
    """Migrate the warehouse at ``url`` to head; idempotent."""
    engine = make_engine(url)
    try:
        status = migrate.upgrade(engine)
    finally:
        engine.dispose()
    return {"before": status.before, "after": status.after, "changed": status.changed}


def load_reference_data(url: str) -> dict[str, dict[str, int]]:
    """Load the versioned reference files into ``ref_*``; counts per table."""
    from transforms.reference.load import load_reference

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            results = load_reference(conn)
    finally:
        engine.dispose()
    return {table: _as_counts(r) for table, r in results.items()}


def _as_counts(result: Any) -> dict[str, int]:
    if isinstance(result, dict):
        return {k: int(v) for k, v in result.items()}
    return {k: int(v) for k, v in asdict(result).items()}
