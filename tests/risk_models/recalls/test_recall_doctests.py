"""The examples in the docstrings of risk_models.recalls run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["keys", "hazards", "aliases", "matcher"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"risk_models.recalls.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
