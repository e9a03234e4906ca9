"""The examples in the docstrings of risk_models.text run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["normalise", "lexicon", "features", "model"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"risk_models.text.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
