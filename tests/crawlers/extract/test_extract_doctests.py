"""The examples in the docstrings of crawlers.extract run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["encoding", "money", "values", "listing"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"crawlers.extract.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
