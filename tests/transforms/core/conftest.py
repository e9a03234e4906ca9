"""Fixtures for the staging → core tests: a migrated warehouse with reference data."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine


@pytest.fixture
def warehouse(warehouse_engine: Engine) -> Engine:
    from transforms.reference.load import load_reference

    with warehouse_engine.begin() as conn:
        load_reference(conn)
    return warehouse_engine


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"
