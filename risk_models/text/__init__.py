"""Review text models: negative, defect and hazard scores for Chinese product reviews.

A curated smoke-word lexicon (:mod:`.lexicon`, ``data/lexicon.yaml``) with a negation
rule, and logistic regressions on character n-grams plus lexicon counts
(:mod:`.model`), fitted on weak labels from star ratings and the lexicon
(:mod:`.train`). :mod:`.evaluate` measures them on a held-out simulated market and on a
hand-written set; :mod:`.cli` scores a CSV file (``ecqm score-reviews``).

The names below are imported on first use, so importing the package (or running one of
its modules with ``python -m``) does not load scikit-learn.

>>> from risk_models.text import default_scorer
>>> scores = default_scorer().score(["用了三天就冒烟了", "快递太慢了"])  # doctest: +SKIP
>>> scores.hazard  # doctest: +SKIP
['fire', 'none']
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from risk_models.text.lexicon import (
        HAZARD_CLASSES,
        NO_HAZARD,
        Lexicon,
        LexiconHit,
        load_lexicon,
    )
    from risk_models.text.model import ModelFormatError, ReviewScorer, ReviewScores, review_text
    from risk_models.text.train import default_scorer, train_from_rows, train_weak

_WHERE = {
    "HAZARD_CLASSES": "lexicon",
    "NO_HAZARD": "lexicon",
    "Lexicon": "lexicon",
    "LexiconHit": "lexicon",
    "load_lexicon": "lexicon",
    "ModelFormatError": "model",
    "ReviewScorer": "model",
    "ReviewScores": "model",
    "review_text": "model",
    "default_scorer": "train",
    "train_from_rows": "train",
    "train_weak": "train",
}

__all__ = [
    "HAZARD_CLASSES",
    "NO_HAZARD",
    "Lexicon",
    "LexiconHit",
    "ModelFormatError",
    "ReviewScorer",
    "ReviewScores",
    "default_scorer",
    "load_lexicon",
    "review_text",
    "train_from_rows",
    "train_weak",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
