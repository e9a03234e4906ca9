from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from simulator.server import SimulatorServer
from simulator.truth import iter_truth
from simulator.world import World

SEED = 7
PRODUCTS = 100


@pytest.fixture(scope="session")
def world() -> World:
    return World(PRODUCTS, SEED)


@pytest.fixture(scope="session")
def truth(world: World) -> dict[str, Any]:
    return json.loads("".join(iter_truth(world)))


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[SimulatorServer]:
    with SimulatorServer(world) as srv:
        yield srv


@pytest.fixture(scope="session")
def listings(truth: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for p in truth["products"]:
        for lst in p["listings"]:
            out.append({**lst, "product": p})
    return out
