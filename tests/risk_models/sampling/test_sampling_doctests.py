"""The examples in the docstrings of the sampling and plan modules run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "risk_models.sampling.allocate",
    "risk_models.sampling.estimate",
    "transforms.plans.labs",
    "transforms.plans.make",
    "transforms.plans.tasks",
    "transforms.plans.workbooks",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
