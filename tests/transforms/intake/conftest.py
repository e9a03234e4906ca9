"""Fixtures for the intake tests: a warehouse with sampling tasks, and an ECQM_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine


@pytest.fixture
def world(warehouse_engine: Engine) -> Engine:
    from intake_world import seed  # type: ignore[import-not-found]

    with warehouse_engine.begin() as conn:
        seed(conn)
    return warehouse_engine


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path
