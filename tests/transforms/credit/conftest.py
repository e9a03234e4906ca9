"""Fixtures for the credit tests: a migrated warehouse (SQLite and PostgreSQL) with the
monitoring plan the evaluations' tasks belong to."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine


@pytest.fixture
def world(warehouse_engine: Engine) -> Engine:
    from credit_world import seed  # type: ignore[import-not-found]

    with warehouse_engine.begin() as conn:
        seed(conn)
    return warehouse_engine
