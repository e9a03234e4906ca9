"""Warehouse reference data: product categories, banned advertising terms, regions and
their regulators, testing labs. The data are versioned YAML files in ``data/``;
:mod:`transforms.reference.load` validates and loads them, and
:mod:`transforms.reference.terms` applies the banned-term rules to listing text."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ReferenceDataError": "transforms.reference.load",
    "load_reference": "transforms.reference.load",
    "read_reference": "transforms.reference.load",
    "BannedTerm": "transforms.reference.model",
    "Category": "transforms.reference.model",
    "Lab": "transforms.reference.model",
    "ReferenceData": "transforms.reference.model",
    "Region": "transforms.reference.model",
    "BannedTermMatcher": "transforms.reference.terms",
    "TermHit": "transforms.reference.terms",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    # Lazy, so that `python -m transforms.reference.load` does not import itself twice.
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
