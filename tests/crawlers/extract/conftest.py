"""Fixtures for the listing extraction tests: the hand-written pages and a live simulator."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from simulator.server import SimulatorServer
from simulator.truth import iter_truth
from simulator.world import World

PAGES = Path(__file__).resolve().parent / "pages"
SEED = 20191001
PRODUCTS = 100


@dataclass(frozen=True)
class FetchedPage:
    """One listing page as served, with the planted truth of that listing."""

    url: str
    body: bytes
    content_type: str
    truth: dict[str, Any]

    @property
    def platform(self) -> str:
        return self.truth["platform"]


@pytest.fixture(scope="session")
def page_bytes() -> Any:
    """Read a hand-written page from ``pages/`` as bytes."""

    def read(name: str) -> bytes:
        return (PAGES / name).read_bytes()

    return read


@pytest.fixture(scope="session")
def sim_world() -> World:
    return World(products=PRODUCTS, seed=SEED)


@pytest.fixture(scope="session")
def sim_truth(sim_world: World) -> dict[str, Any]:
    return json.loads("".join(iter_truth(sim_world, reviews=False)))


@pytest.fixture(scope="session")
def sim_server(sim_world: World) -> Iterator[SimulatorServer]:
    with SimulatorServer(sim_world) as srv:
        yield srv


@pytest.fixture(scope="session")
def sim_pages(sim_server: SimulatorServer, sim_truth: dict[str, Any]) -> list[FetchedPage]:
    """Every listing page of the world, fetched once over HTTP."""
    pages = []
    for product in sim_truth["products"]:
        for listing in product["listings"]:
            url = sim_server.base_url + listing["url"]
            with urllib.request.urlopen(url, timeout=10) as resp:
                body = resp.read()
                ctype = resp.headers.get("Content-Type", "")
            pages.append(
                FetchedPage(url, body, ctype, {**listing, "category": product["category"]})
            )
    return pages
