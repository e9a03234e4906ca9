"""Recall matching: which listings sell a recalled product.

=====================================  ===================================================
:func:`import_recalls`                 a downloaded recall file (CPSC CSV, EU Safety Gate
                                       CSV, SAMR notice pages) → ``stg_recalls`` → core
                                       ``recalls`` (:mod:`.importer`)
:class:`RecallMatcher`                 listings (title, brand, model, barcode) → the
                                       recalls they match, with a score and the evidence
                                       (:mod:`.matcher`)
:class:`BrandAliases`                  which brand names are one brand: a shipped file of
                                       real pairs and what the warehouse's resolved
                                       products show (:mod:`.aliases`)
:func:`hazard_class`                   a recall's hazard text → a hazard class
                                       (:mod:`.hazards`)
:func:`~.evaluate.evaluate`            precision and recall on the simulator's truth
:func:`~.cli.register`                 the ``ecqm import-recalls`` and ``ecqm
                                       match-recalls`` commands
=====================================  ===================================================

Exports are loaded on first use, so importing the package (from a DAG file, or to build
the command line) imports neither the parsers nor the matcher.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BrandAliases": "risk_models.recalls.aliases",
    "HAZARD_CLASSES": "risk_models.recalls.hazards",
    "hazard_class": "risk_models.recalls.hazards",
    "ImportReport": "risk_models.recalls.importer",
    "RecallFormatError": "risk_models.recalls.importer",
    "RowProblem": "risk_models.recalls.importer",
    "import_recalls": "risk_models.recalls.importer",
    "DEFAULT_MIN_SCORE": "risk_models.recalls.matcher",
    "RecallMatch": "risk_models.recalls.matcher",
    "RecallMatcher": "risk_models.recalls.matcher",
    "ModelKey": "risk_models.recalls.keys",
    "model_key": "risk_models.recalls.keys",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
