"""The examples in the docstrings of transforms.categories run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["text", "rules", "model", "mapper"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"transforms.categories.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
