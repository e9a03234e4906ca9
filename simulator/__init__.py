"""A deterministic simulated e-commerce world served on 127.0.0.1.

Three shop platforms, a complaint portal and a recall registry with planted,
known risks: the default crawl target of the demo and of the tests.
"""

from __future__ import annotations

from .faults import FaultSpec
from .world import World

__all__ = ["World", "FaultSpec", "SimulatorServer", "iter_truth", "write_truth"]


def __getattr__(name: str) -> object:
    if name == "SimulatorServer":
        from .server import SimulatorServer

        return SimulatorServer
    if name in ("iter_truth", "write_truth"):
        from . import truth

        return getattr(truth, name)
    raise AttributeError(name)
