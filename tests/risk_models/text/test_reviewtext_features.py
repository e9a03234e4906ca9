"""Review text normalisation and the feature transformers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.feature_extraction.text import HashingVectorizer

from risk_models.text.features import CharNgramHasher, LexiconFeatures, hash_char_ngrams
from risk_models.text.lexicon import FEATURE_NAMES
from risk_models.text.normalise import normalise_text, normalise_texts


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＬＥＤ燈  漏電了！", "led灯 漏电了!"),
        ("無異味\n很好\r\n", "无异味 很好"),
        ("外壳\t不烫手", "外壳 不烫手"),
        ("漏\u200b电\ufeff了", "漏电了"),  # zero-width space, byte-order mark
        ("质量&amp;做工都差", "质量&做工都差"),
        ("很好用👍😊", "很好用👍😊"),
        ("等了３天…", "等了3天..."),
        ("\u3000\u3000", ""),
        ("", ""),
        (None, ""),
        (math.nan, ""),
        (5, "5"),
    ],
)
def test_normalise(raw: object, expected: str) -> None:
    assert normalise_text(raw) == expected
    assert normalise_texts([raw]) == [expected]


@given(st.lists(st.text(max_size=30), max_size=12))
def test_batch_normalisation_equals_one_at_a_time(texts: list[str]) -> None:
    assert normalise_texts(texts) == [normalise_text(t) for t in texts]


@given(st.lists(st.text(max_size=20), max_size=8))
def test_normalisation_is_idempotent_and_single_line(texts: list[str]) -> None:
    once = normalise_texts(texts)
    assert normalise_texts(once) == once
    assert all("\n" not in t for t in once)


def test_hashing_counts_match_scikit_learn() -> None:
    texts = normalise_texts(["用了三天就冒烟了", "好评", "", "不漏电不漏电", "a😀b"])
    ours = hash_char_ngrams(texts, 2**16, (1, 3))
    # The same n-grams as HashingVectorizer on texts wrapped in the start and end marks,
    # minus the two one-character marks themselves.
    hv = HashingVectorizer(
        analyzer="char", ngram_range=(1, 3), lowercase=False, norm=None, alternate_sign=False
    )
    theirs = hv.transform([f"\x02{t}\x03" for t in texts])
    assert np.array_equal(
        np.asarray(ours.sum(axis=1)).ravel(), np.asarray(theirs.sum(axis=1)).ravel() - 2
    )
    assert ours.has_canonical_format


@given(st.lists(st.text(max_size=15), min_size=1, max_size=10), st.integers(1, 9))
def test_hashing_does_not_depend_on_the_batch(texts: list[str], split: int) -> None:
    whole = hash_char_ngrams(texts, 2**12)
    cut = min(split, len(texts))
    import scipy.sparse as sp

    parts = sp.vstack([hash_char_ngrams(texts[:cut], 2**12), hash_char_ngrams(texts[cut:], 2**12)])
    assert (whole != parts).nnz == 0


def test_hasher_rows_are_unit_length_and_estimator_contract() -> None:
    hasher = CharNgramHasher(n_features=2**10)
    X = hasher.fit_transform(["漏电", "好评好评", ""])
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    assert np.allclose(norms, 1.0)
    assert clone(hasher).get_params() == hasher.get_params()
    assert X.dtype == np.float32


@pytest.mark.parametrize(
    "params",
    [{"n_features": 1000}, {"ngram_range": (0, 2)}, {"ngram_range": (3, 1)}, {"norm": "l1"}],
)
def test_hasher_rejects_bad_parameters(params: dict) -> None:
    with pytest.raises(ValueError):
        CharNgramHasher(**params).fit(["x"])


def test_lexicon_features_block(lexicon) -> None:
    block = LexiconFeatures(lexicon=lexicon, scale=2.0).fit([])
    X = block.transform(normalise_texts(["漏电了", "不漏电"])).toarray()
    assert X.shape == (2, len(FEATURE_NAMES))
    col = FEATURE_NAMES.index("asserted:electric_shock")
    assert X[0, col] == pytest.approx(2.0 * np.log(2.0))
    assert X[1, col] == 0.0
    assert X[1, FEATURE_NAMES.index("negated:electric_shock")] > 0
    assert list(block.get_feature_names_out()) == list(FEATURE_NAMES)
    assert clone(block).get_params()["scale"] == 2.0
