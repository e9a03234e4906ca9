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


def refresh_materialised_marts(url: str) -> dict[str, Any]:
    """Refresh every materialised mart, each in its own transaction (the DAG
    ``refresh_marts``); says what was refreshed and how, and what differs from the
    setting. Raises after trying them all when one failed, naming it."""
    from ecqm.warehouse.marts import (
        MATERIALIZED_VIEW,
        mart_kinds,
        materialisation_drift,
        refresh_marts,
    )

    engine = make_engine(url)
    refreshed: list[dict[str, Any]] = []
    failed: dict[str, str] = {}
    try:
        if engine.dialect.name != "postgresql":
            return {"refreshed": [], "drift": [], "note": "every mart is a view"}
        with engine.connect() as conn:
            drift = materialisation_drift(conn)
            names = [n for n, k in mart_kinds(conn).items() if k == MATERIALIZED_VIEW]
        for name in names:
            try:
                with engine.begin() as conn:
                    (done,) = refresh_marts(conn, [name])
                refreshed.append(done._asdict())
            except Exception as exc:  # noqa: BLE001 — the others are still refreshed
                failed[name] = str(exc).strip().splitlines()[0]
    finally:
        engine.dispose()
    if failed:
        raise RuntimeError(
            "materialised marts not refreshed: "
            + "; ".join(f"{name}: {why}" for name, why in failed.items())
        )
    return {"refreshed": refreshed, "drift": drift}
