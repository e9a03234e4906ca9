"""A review scorer trained once per session on a small simulated market.

Training on 250 products (about 16,000 reviews) takes a few seconds and already beats
the lexicon alone; the held-out market uses another seed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TRAIN_PRODUCTS = 250
TRAIN_SEED = 101
HELDOUT_PRODUCTS = 150
HELDOUT_SEED = 202


@pytest.fixture(scope="session")
def training_corpus() -> tuple[list[str], list[int], tuple[str, str]]:
    from risk_models.text.train import simulator_corpus

    return simulator_corpus(TRAIN_PRODUCTS, TRAIN_SEED)


@pytest.fixture(scope="session")
def scorer(training_corpus):
    from risk_models.text.train import train_weak

    texts, ratings, window = training_corpus
    return train_weak(texts, ratings, window=window, source="test corpus")


@pytest.fixture(scope="session")
def model_path(scorer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scorer.save(tmp_path_factory.mktemp("review-model") / f"{scorer.version}.joblib")


@pytest.fixture(scope="session")
def heldout():
    from risk_models.text.evaluate import simulator_set

    return simulator_set(HELDOUT_PRODUCTS, HELDOUT_SEED)


@pytest.fixture(scope="session")
def lexicon():
    from risk_models.text.lexicon import load_lexicon

    return load_lexicon()
