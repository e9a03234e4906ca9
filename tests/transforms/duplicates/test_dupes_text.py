"""Normalisation, shingles, MinHash/LSH and union-find: the parts under the clustering."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.duplicates import normalise_review_text
from transforms.duplicates.index import _union_find
from transforms.duplicates.minhash import band_keys, candidate_pairs, minhash_signatures
from transforms.duplicates.similarity import pair_similarity
from transforms.duplicates.text import shingle_sets

HAN = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF), min_size=1)
NOISE = st.text(alphabet=" ，。！？、~～!?,.…「」【】👍😊❤️🌹💯\t\n\u3000", max_size=5)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("质量很好！！👍", "质量很好"),
        ("质量　很好，，，~~～～", "质量很好"),  # ideographic space, full-width tilde
        ("ＯＫ，ＧＯＯＤ１２３", "okgood123"),  # full-width letters and digits
        ("YYDS 绝绝子❤️", "yyds绝绝子"),
        ("物流_很快__", "物流很快"),
        ("", ""),
        ("   \t\n ", ""),
        ("🎉🎉🎉", ""),
        (None, ""),
    ],
)
def test_normalise_strips_punctuation_emoji_and_width(raw, expected):
    assert normalise_review_text(raw) == expected


@given(st.lists(st.tuples(NOISE, HAN), min_size=1, max_size=6), NOISE)
def test_normalise_ignores_any_punctuation_and_emoji_between_words(pieces, tail):
    noisy = "".join(noise + word for noise, word in pieces) + tail
    assert normalise_review_text(noisy) == "".join(word for _, word in pieces)


def test_shingles_are_per_text_and_never_cross_text_boundaries():
    shingles, offsets = shingle_sets(["甲乙丙丁", "乙丙", "", "丙丁戊"])
    rows = [shingles[offsets[i] : offsets[i + 1]].tolist() for i in range(4)]
    assert [len(r) for r in rows] == [2, 0, 0, 1]

    def alone(gram: str) -> int:
        return int(shingle_sets([gram])[0][0])

    assert set(rows[0]) == {alone("甲乙丙"), alone("乙丙丁")}
    assert rows[3] == [alone("丙丁戊")]
    # "丁" + "乙丙" + "丙丁" would give these if texts ran into each other.
    assert not {alone("丁乙丙"), alone("乙丙丙"), alone("丙丙丁")} & set(shingles.tolist())


def test_shingle_sets_match_a_plain_python_reference():
    texts = ["宝贝收到了很喜欢", "aaaa", "宝贝收到了很喜欢", "ab", "收到了很喜欢宝贝"]
    shingles, offsets = shingle_sets(texts)
    for i, text in enumerate(texts):
        row = shingles[offsets[i] : offsets[i + 1]]
        assert list(row) == sorted(set(row.tolist()))
        assert len(row) == len({text[k : k + 3] for k in range(len(text) - 2)})
    assert list(shingles[offsets[0] : offsets[1]]) == list(shingles[offsets[2] : offsets[3]])


def test_minhash_agreement_estimates_jaccard():
    rng = np.random.default_rng(5)
    universe = rng.choice(2**32, size=400, replace=False).astype(np.uint32)
    a, b = np.sort(universe[:300]), np.sort(universe[100:])  # Jaccard 200 / 400 = 0.5
    offsets = np.array([0, len(a), len(a) + len(b)])
    sig = minhash_signatures(np.concatenate([a, b]), offsets, num_perm=512)
    assert abs((sig[0] == sig[1]).mean() - 0.5) < 0.08
    keys = band_keys(sig, bands=128)
    assert keys.shape == (2, 128)
    assert 0 < (keys[0] == keys[1]).mean() < 0.2  # 0.5**4 = 0.0625 of bands agree


def test_minhash_rejects_empty_sets():
    with pytest.raises(ValueError, match="at least one shingle"):
        minhash_signatures(np.array([1], np.uint32), np.array([0, 1, 1]), num_perm=4)


def test_candidate_pairs_do_not_depend_on_batching():
    rng = np.random.default_rng(1)
    keys = rng.integers(0, 6, size=(40, 3)).astype(np.uint32)  # few keys: crowded buckets
    one_new, one_old, one_table = candidate_pairs(np.zeros(0, np.uint64), keys, 0, heads=4)
    table = np.zeros(0, np.uint64)
    pairs = []
    for start, stop in [(0, 7), (7, 8), (8, 30), (30, 40)]:
        new, old, table = candidate_pairs(table, keys[start:stop], start, heads=4)
        pairs.extend(zip(new.tolist(), old.tolist()))
    assert sorted(pairs) == sorted(zip(one_new.tolist(), one_old.tolist()))
    assert np.array_equal(table, one_table)
    assert all(new > old for new, old in pairs)
    # At most ``heads`` entries are kept per key.
    assert np.bincount((table >> np.uint64(32)).astype(np.int64)).max() <= 4


def test_pair_similarity_plain_and_weighted():
    a, b = np.array([1, 2, 3, 4], np.uint32), np.array([3, 4, 5], np.uint32)
    shingles, offsets = np.concatenate([a, b]), np.array([0, 4, 7])
    sim, shared = pair_similarity(shingles, offsets, np.array([0, 1]), np.array([1, 1]))
    assert sim.tolist() == [pytest.approx(2 / 5), 1.0]
    assert shared.tolist() == [2.0, 3.0]
    # Down-weighting the shared shingles 3 and 4 makes the texts less alike.
    sim, shared = pair_similarity(
        shingles,
        offsets,
        np.array([0]),
        np.array([1]),
        lambda s: np.where(s >= 3, 0.5, 1.0) * (s != 5),
    )
    assert sim[0] == pytest.approx(1.0 / 3.0)
    assert shared[0] == pytest.approx(1.0)


@settings(max_examples=50)
@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=40),
        )
    )
)
def test_union_find_matches_a_plain_reference(case):
    n, edges = case
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    a = np.array([e[0] for e in edges], np.int64)
    b = np.array([e[1] for e in edges], np.int64)
    assert _union_find(n, a, b).tolist() == [find(x) for x in range(n)]
