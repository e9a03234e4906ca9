"""Fixtures for the evaluation tests: the intake tests' monitoring world (a plan, tasks,
a shop and two products), made richer (regions, producers, a risk assessment), with
purchases and results taken in through the inbox as staff send them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

# The intake tests' world and file writers are the helpers to build on.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "intake"))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def world(warehouse_engine: Engine, home: Path) -> Engine:
    """The world with T-KETTLE and T-DRYER bought on 20 November 2026."""
    from results_world import build  # type: ignore[import-not-found]

    build(warehouse_engine, home)
    return warehouse_engine
