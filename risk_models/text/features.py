"""Feature transformers of the review models, in scikit-learn form.

:class:`CharNgramHasher` hashes the character n-grams of normalised review texts into a
fixed number of columns, like scikit-learn's ``HashingVectorizer(analyzer="char")``, but
computes the n-grams and their hashes with numpy over the whole batch at once instead
of one Python list per text: several times faster, which is much of what lets the
scorer read tens of thousands of reviews a second. Each text is wrapped in start and
end marks first, so ``好评`` as a whole review differs from ``好评`` inside one.

:class:`LexiconFeatures` adds the smoke-word counts of :meth:`Lexicon.features
<risk_models.text.lexicon.Lexicon.features>`: the models see the curated vocabulary and
its negation rule as well as the raw n-grams.

Both are stateless: ``fit`` only checks the parameters (and picks the shipped lexicon
when none is given), and a fitted instance can be used on any batch. Both expect
normalised texts, whose control characters (the marks among them) are already gone
(:func:`risk_models.text.normalise.normalise_texts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import normalize

from risk_models.text.lexicon import FEATURE_NAMES, Lexicon, load_lexicon

__all__ = ["CharNgramHasher", "LexiconFeatures", "hash_char_ngrams"]

_START, _END = "\x02", "\x03"
_MASK64 = (1 << 64) - 1
_MULT = np.uint64(0x100000001B3)  # FNV 64-bit prime: folds the next code point in
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the top bits are the bucket


def hash_char_ngrams(
    texts: Sequence[str],
    n_features: int,
    ngram_range: tuple[int, int] = (1, 3),
) -> sp.csr_matrix:
    """Counts of hashed character n-grams, one row per text (float32 CSR, canonical).

    ``n_features`` must be a power of two. The same n-gram always lands in the same
    column, whatever the batch, so the result does not depend on how texts are grouped.

    >>> m = hash_char_ngrams(["好评", "好评好评"], 2**8, (2, 2))
    >>> m.sum(axis=1).tolist()  # ^好 好评 评$ ; ^好 好评 评好 好评 评$
    [[3.0], [5.0]]
    """
    bits = n_features.bit_length() - 1
    if n_features < 2 or n_features != 1 << bits:
        raise ValueError(f"n_features must be a power of two, got {n_features}")
    n = len(texts)
    lo, hi = ngram_range
    if n == 0:
        return sp.csr_matrix((0, n_features), dtype=np.float32)
    wrapped = "".join(f"{_START}{t}{_END}" for t in texts)
    codes = np.frombuffer(wrapped.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    sizes = np.fromiter((len(t) + 2 for t in texts), dtype=np.int64, count=n)
    ends = np.cumsum(sizes)
    row_of = np.repeat(np.arange(n, dtype=np.int64), sizes)
    shift = np.uint64(64 - bits)
    keys: list[np.ndarray] = []
    for k in range(lo, hi + 1):
        m = codes.size - k + 1
        if m <= 0:
            continue
        h = codes[:m].copy()
        for j in range(1, k):
            h *= _MULT
            h ^= codes[j : j + m]
        h += np.uint64((0x632BE59BD9B4E019 * k) & _MASK64)  # n-grams of each length apart
        h *= _GOLDEN
        h >>= shift
        valid = np.ones(m, dtype=bool)
        for j in range(1, k):  # n-grams that would run into the next text
            last = ends - j
            valid[last[last < m]] = False
        if k == 1:  # the marks alone say nothing
            valid[ends - sizes] = False
            valid[ends - 1] = False
        keys.append(row_of[:m][valid] * n_features + h[valid].astype(np.int64))
    key = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
    key.sort()
    if key.size:
        first = np.empty(key.size, dtype=bool)
        first[0] = True
        np.not_equal(key[1:], key[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        unique = key[starts]
        counts = np.diff(np.append(starts, key.size)).astype(np.float32)
    else:
        unique = key
        counts = np.zeros(0, dtype=np.float32)
    rows = unique >> bits
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    matrix = sp.csr_matrix(
        (counts, (unique & (n_features - 1)).astype(np.int32), indptr), shape=(n, n_features)
    )
    matrix.has_canonical_format = True
    return matrix


class CharNgramHasher(TransformerMixin, BaseEstimator):
    """Hashed character n-grams of normalised texts, TF-weighted and row-normalised.

    Parameters
    ----------
    n_features : int
        Number of columns (hash buckets).
    ngram_range : tuple of int
        Smallest and largest n-gram length, in characters.
    sublinear_tf : bool
        Weight a count ``c`` as ``1 + log(c)``.
    norm : {"l2", None}
        Row normalisation.

    Examples
    --------
    >>> X = CharNgramHasher(n_features=2**10).fit_transform(["漏电", "不漏电"])
    >>> X.shape
    (2, 1024)
    """

    def __init__(
        self,
        *,
        n_features: int = 2**18,
        ngram_range: tuple[int, int] = (1, 3),
        sublinear_tf: bool = True,
        norm: str | None = "l2",
    ) -> None:
        self.n_features = n_features
        self.ngram_range = ngram_range
        self.sublinear_tf = sublinear_tf
        self.norm = norm

    def fit(self, X: Sequence[str], y: Any = None) -> CharNgramHasher:
        lo, hi = self.ngram_range
        n = self.n_features
        if not (isinstance(n, int) and n >= 2 and n & (n - 1) == 0):
            raise ValueError(f"n_features must be a power of two, got {n!r}")
        if not 1 <= lo <= hi:
            raise ValueError(f"ngram_range must be (lo, hi) with 1 <= lo <= hi, got {(lo, hi)}")
        if self.norm not in ("l2", None):
            raise ValueError(f"norm must be 'l2' or None, got {self.norm!r}")
        return self

    def transform(self, X: Sequence[str]) -> sp.csr_matrix:
        matrix = hash_char_ngrams(list(X), self.n_features, tuple(self.ngram_range))
        if self.sublinear_tf and matrix.nnz:
            np.log(matrix.data, out=matrix.data)
            matrix.data += 1.0
        if self.norm == "l2" and matrix.shape[0]:
            matrix = normalize(matrix, norm="l2", copy=False)
        return matrix

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray([f"ngram{i}" for i in range(self.n_features)], dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags


class LexiconFeatures(TransformerMixin, BaseEstimator):
    """Smoke-word counts of normalised texts (:data:`~risk_models.text.lexicon.FEATURE_NAMES`),
    as ``scale * log1p(count)`` in a sparse matrix.

    Parameters
    ----------
    lexicon : Lexicon or None
        The lexicon; ``None`` means the shipped one.
    scale : float
        Weight of these columns next to the unit-length n-gram rows.
    """

    def __init__(self, *, lexicon: Lexicon | None = None, scale: float = 1.0) -> None:
        self.lexicon = lexicon
        self.scale = scale

    def fit(self, X: Sequence[str], y: Any = None) -> LexiconFeatures:
        self.lexicon_ = self.lexicon if self.lexicon is not None else load_lexicon()
        return self

    def counts(self, X: Sequence[str]) -> np.ndarray:
        """Raw hit counts, one row per normalised text."""
        lexicon = getattr(self, "lexicon_", None) or self.lexicon or load_lexicon()
        return lexicon.features(X, normalised=True)

    def transform(self, X: Sequence[str]) -> sp.csr_matrix:
        return self.from_counts(self.counts(X))

    def from_counts(self, counts: np.ndarray) -> sp.csr_matrix:
        """The feature block for counts already computed with :meth:`counts`."""
        return sp.csr_matrix(np.log1p(counts) * np.float32(self.scale), dtype=np.float32)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(FEATURE_NAMES, dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags
