"""Category mapping: platform breadcrumbs and listing titles → ``ref_categories`` codes.

:class:`CategoryMapper` is the entry point::

    from transforms.categories import CategoryMapper

    mapper = CategoryMapper()                      # the shipped reference categories
    m = mapper.map(["小家电", "电热水壶"], "美度 电水壶 1.7L 送 电吹风")
    m.code, m.method, m.confidence, m.evidence     # 'electric_kettle', 'rule', 1.0, "path: …"
    mapper.map_many(payloads)                      # extract payloads, or (path, title) pairs

Keyword rules (:mod:`.rules`) decide first; a scikit-learn classifier (:mod:`.model`),
fitted on first use from versioned files only, handles what the rules leave open. Codes
feed CCC, severity and standards, so when neither is sure the answer is ``code=None``.

Exports are loaded lazily: importing this package (from a DAG file, say) imports neither
scikit-learn nor the reference loader.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CategoryMapper": "transforms.categories.mapper",
    "CategoryMatch": "transforms.categories.mapper",
    "DEFAULT_THRESHOLD": "transforms.categories.mapper",
    "DEFAULT_RULE_THRESHOLD": "transforms.categories.mapper",
    "CategoryRules": "transforms.categories.rules",
    "RuleMatch": "transforms.categories.rules",
    "CategoryClassifier": "transforms.categories.model",
    "get_classifier": "transforms.categories.model",
    "Lexicon": "transforms.categories.lexicon",
    "LexiconError": "transforms.categories.lexicon",
    "load_lexicon": "transforms.categories.lexicon",
    "normalise": "transforms.categories.text",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
