"""Jaccard similarity of shingle sets for many pairs at once, plain and weighted."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .minhash import concat_ranges

_BLOCK = 50_000


def pair_similarity(
    shingles: np.ndarray,
    offsets: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    weight: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(Jaccard, shared weight) of the shingle sets of texts ``left[i]`` and ``right[i]``.

    Sets are rows of the CSR pair ``(shingles, offsets)``, sorted and distinct. With
    ``weight`` (shingle hashes → non-negative floats) the similarity is the weighted
    Jaccard ``w(A ∩ B) / w(A ∪ B)``; without it every shingle weighs 1. The second
    array is ``w(A ∩ B)``: how much the two texts share, in shingles.
    """
    sim = np.zeros(len(left), np.float64)
    shared = np.zeros(len(left), np.float64)
    for start in range(0, len(left), _BLOCK):
        stop = min(start + _BLOCK, len(left))
        sim[start:stop], shared[start:stop] = _block(
            shingles, offsets, left[start:stop], right[start:stop], weight
        )
    return sim, shared


def _block(shingles, offsets, left, right, weight):
    p = len(left)
    values, owners, totals = [], [], []
    for side in (left, right):
        lengths = offsets[side + 1] - offsets[side]
        flat = shingles[concat_ranges(offsets[side], lengths)]
        owner = np.repeat(np.arange(p, dtype=np.int64), lengths)
        w = None if weight is None else weight(flat)
        totals.append(np.bincount(owner, weights=w, minlength=p))
        values.append(flat)
        owners.append(owner)
    combined = np.concatenate(
        [
            (o.astype(np.uint64) << np.uint64(32)) | v.astype(np.uint64)
            for o, v in zip(owners, values)
        ]
    )
    combined.sort()
    # Each set is distinct, so a value seen twice for one pair is in both sets.
    both = combined[1:][combined[1:] == combined[:-1]]
    both_owner = (both >> np.uint64(32)).astype(np.int64)
    both_w = None if weight is None else weight((both & np.uint64(0xFFFFFFFF)).astype(np.uint32))
    inter = np.bincount(both_owner, weights=both_w, minlength=p)
    union = totals[0] + totals[1] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        sim = np.where(union > 0, inter / union, 0.0)
    return sim, inter
