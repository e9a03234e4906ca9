"""Near-duplicate review clusters on hand-written Chinese review sets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.duplicates import ReviewClusterIndex, cluster_name, find_review_clusters

FARMED = (
    "收到货了，包装很严实，打开一看做工非常精细，孩子拿到手就不肯放下，"
    "颜色和图片一模一样，客服小姐姐也很耐心，下次还会再来"
)
FARMED_2 = "第二次回购了！这款电热水壶烧水特别快，三分钟就开了，304不锈钢内胆没有异味，颜值也高，推荐给大家"

COPIES = [
    ("c1", FARMED),
    ("c2", FARMED.replace("，", ",") + "👍👍"),  # half-width punctuation, emoji
    ("c3", "  " + FARMED.replace("，", " ") + "！！！"),  # spaces instead of commas
    ("c4", FARMED.replace("精细", "精系")),  # one typo
    ("c5", FARMED.replace("孩子", "孩纸").replace("耐心", "耐新") + "～～"),  # two typos
    ("c6", "ＯＫ！" + FARMED + "❤️🌹"),  # full-width prefix and emoji
]

# Genuine reviews built from the same stock phrases, each with its own substance.
STOCK_SHARERS = [
    ("g1", "物流很快，质量不错，好评！宝宝穿上很合身，面料软软的"),
    ("g2", "物流很快，质量不错，好评！给老爸买的剃须刀，刮得很干净"),
    ("g3", "物流很快，质量不错，好评！电水壶烧水特别快，没有异味"),
    ("g4", "物流很快，质量不错，好评！充电宝容量很足，能充三次手机"),
    ("g5", "宝贝收到了，物流很快，质量不错，五星好评，性价比很高，会回购的"),
    ("g6", "宝贝收到了，物流很快，质量不错，五星好评，性价比很高，会回购的！"),
    ("g7", "宝贝收到了、物流很快、质量不错、五星好评、性价比很高、会回购的~"),
    ("g8", "好评"),
    ("g9", "好评！"),
    ("g10", "好评👍"),
    ("g11", "物流很快"),
    ("g12", "物流很快~"),
    ("g13", "物流很快。。。"),
]


def test_copies_with_punctuation_emoji_and_typos_form_one_cluster():
    clusters = find_review_clusters(COPIES)
    assert sorted(clusters) == [f"c{i}" for i in range(1, 7)]
    assert set(clusters.values()) == {cluster_name("c1")}


def test_two_farmed_texts_make_two_clusters():
    reviews = COPIES + [
        (f"d{i}", FARMED_2 + end) for i, end in enumerate(["", "！", "👍", "。。。"])
    ]
    clusters = find_review_clusters(reviews)
    assert len(clusters) == 10
    assert clusters["d0"] == clusters["d3"] != clusters["c1"]


def test_genuine_reviews_sharing_stock_phrases_are_not_clustered():
    assert find_review_clusters(STOCK_SHARERS) == {}


def test_stock_phrases_around_copies_do_not_hide_them():
    reviews = STOCK_SHARERS + COPIES
    assert sorted(find_review_clusters(reviews)) == [f"c{i}" for i in range(1, 7)]


def test_different_reviews_of_the_same_product_are_not_clustered():
    reviews = [
        ("h1", "用了三天插头就发烫，闻到一股焦糊味，赶紧拔了，太危险了，大家千万别买"),
        ("h2", "用了五天插头有点发烫，还有一股焦味，已经申请退货了，商家还不认账"),
        ("h3", "用了一周开关失灵，烧水烧到一半自己断电，客服让我自己找售后"),
        ("h4", "用了三天插头就发烫，闻到一股焦糊味，赶紧拔了，孩子吓哭了，已经投诉了"),
    ]
    assert find_review_clusters(reviews) == {}


def test_a_pair_is_below_min_cluster_size():
    pair = COPIES[:2]
    assert find_review_clusters(pair) == {}
    assert sorted(find_review_clusters(pair, min_cluster_size=2)) == ["c1", "c2"]
    assert find_review_clusters(COPIES, min_cluster_size=7) == {}
    assert len(find_review_clusters(COPIES, min_cluster_size=6)) == 6


def test_empty_and_whitespace_texts_are_ignored():
    reviews = [("e1", ""), ("e2", "   "), ("e3", "\n\t\u3000"), ("e4", None), ("e5", "！！👍")] * 3
    index = ReviewClusterIndex()
    assert index.add([(f"{i}{k}", t) for k, (i, t) in enumerate(reviews)]) == {}
    assert index.reviews_seen == 15
    assert index.reviews_ignored == 15
    assert index.distinct_texts == 0
    # Mixed in with real copies they change nothing.
    assert sorted(find_review_clusters(reviews[:5] + COPIES)) == [f"c{i}" for i in range(1, 7)]


def test_threshold_decides_whether_typo_copies_join():
    strict = find_review_clusters(COPIES, threshold=0.95)
    assert sorted(strict) == ["c1", "c2", "c3", "c6"]  # identical once normalised
    assert len(find_review_clusters(COPIES, threshold=0.6)) == 6


def test_cluster_ids_do_not_depend_on_batch_size():
    reviews = STOCK_SHARERS + COPIES + [(f"d{i}", FARMED_2 + "!" * i) for i in range(4)]
    expected = find_review_clusters(reviews)
    for size in (1, 2, 5, 1000):
        assert find_review_clusters(reviews, batch_size=size) == expected


def test_incremental_add_gives_the_one_shot_clusters():
    reviews = STOCK_SHARERS + COPIES + [(f"d{i}", FARMED_2 + "!" * i) for i in range(4)]
    reviews = reviews[::2] + reviews[1::2]  # interleave copies and stock sharers
    one_shot = find_review_clusters(reviews)
    index = ReviewClusterIndex()
    seen: dict[str, str] = {}
    for start in range(0, len(reviews), 4):
        seen |= index.add(reviews[start : start + 4])
    assert index.clusters() == one_shot
    assert seen == one_shot


def test_add_reports_earlier_reviews_when_their_cluster_fills_up():
    index = ReviewClusterIndex()
    assert index.add(COPIES[:2]) == {}  # a pair: not yet a cluster
    found = index.add([COPIES[4]])  # a typo copy makes three
    assert sorted(found) == ["c1", "c2", "c5"]
    assert index.add([COPIES[5]]) == {"c6": cluster_name("c1")}
    assert index.add(STOCK_SHARERS) == {}


def test_new_reviews_join_an_existing_cluster_after_save_and_load(tmp_path):
    index = ReviewClusterIndex(threshold=0.75, min_cluster_size=3)
    index.add(COPIES[:3] + STOCK_SHARERS)
    path = index.save(tmp_path / "review-clusters")
    assert path.suffix == ".npz"
    again = ReviewClusterIndex.load(path)
    assert (again.threshold, again.min_cluster_size) == (0.75, 3)
    assert again.clusters() == index.clusters()
    assert again.add([("late", FARMED.replace("做工", "作工") + "!!")]) == {
        "late": cluster_name("c1")
    }
    assert again.add([("other", FARMED_2)]) == {}
    # The loaded index goes on exactly as the one that never left memory.
    index.add([("late", FARMED.replace("做工", "作工") + "!!"), ("other", FARMED_2)])
    assert again.clusters() == index.clusters()
    assert again.reviews_seen == index.reviews_seen == 18


def test_load_refuses_other_files(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, meta=np.array('{"format": "something-else", "version": 1}'))
    with pytest.raises(ValueError, match="not a review cluster index"):
        ReviewClusterIndex.load(path)


@pytest.mark.parametrize(
    "kwargs",
    [{"threshold": 0.0}, {"threshold": 1.5}, {"min_cluster_size": 1}, {"min_shingles": 0}],
)
def test_bad_parameters_are_refused(kwargs):
    with pytest.raises(ValueError):
        ReviewClusterIndex(**kwargs)


HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
DECORATION = st.sampled_from(
    ["！", "，", "~", "。。。", "👍", "😊😊", " ", "!!!", "❤️", "【", "\u3000"]
)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(HAN, min_size=24, max_size=60, unique=True),
    st.lists(
        st.lists(st.tuples(st.integers(0, 60), DECORATION), max_size=12), min_size=3, max_size=5
    ),
)
def test_any_long_text_copied_with_different_punctuation_is_one_cluster(chars, decorations):
    reviews = []
    for k, inserts in enumerate(decorations):
        text = list(chars)
        for at, mark in sorted(inserts, reverse=True):
            text.insert(min(at, len(text)), mark)
        reviews.append((f"r{k}", "".join(text)))
    clusters = find_review_clusters(reviews)
    assert sorted(clusters) == sorted(r for r, _ in reviews)
    assert set(clusters.values()) == {cluster_name("r0")}


def test_reviews_added_again_are_not_counted_twice():
    index = ReviewClusterIndex()
    assert index.add(COPIES[:2]) == {}
    assert index.add(COPIES[:2] + [COPIES[0]]) == {}  # a re-run, not a third copy
    assert index.reviews_repeated == 3
    assert find_review_clusters([COPIES[0]] * 5) == {}
    assert sorted(index.add(COPIES[2:3])) == ["c1", "c2", "c3"]
