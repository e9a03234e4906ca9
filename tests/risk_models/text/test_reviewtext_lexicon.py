"""The smoke-word lexicon: terms, classes, negation scope, cues, validation."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from risk_models.text.lexicon import (
    FEATURE_NAMES,
    HAZARD_CLASSES,
    LEXICON_FILE,
    Lexicon,
    LexiconError,
    load_lexicon,
    trie_pattern,
)


def asserted(lexicon: Lexicon, text: str) -> list[tuple[str, str]]:
    return [(h.term, h.hazard) for h in lexicon.hits(text) if not h.negated]


@pytest.mark.parametrize(
    "text",
    [
        "不漏电",
        "没有异味",
        "一点也不烫",
        "无异味",
        "没有出现漏电",
        "不会起火",
        "未发现异味",
        "完全不刺鼻",
        "也不掉毛",
        "外壳不烫手，很安全",
        "用了三个月都没出现过漏电的情况",
        "敏感肌用着也没过敏",
        "边缘打磨得很圆润，没有毛刺",
        "担心会漏电，用了一周发现是多虑了",
        "万一起火怎么办？用了才放心",
        "会不会漏电？客服说不会",
        "异味完全没有。",
        "防漏电设计，带漏电保护",
        "零甲醛，除异味效果好",
        "用了不过敏",
        "無異味，不燙手",
        "ＡＢＳ材质，完全不刺鼻！",
    ],
)
def test_negated_and_protective_mentions_are_no_hazard(lexicon: Lexicon, text: str) -> None:
    assert asserted(lexicon, text) == []


@pytest.mark.parametrize(
    ("text", "hazard"),
    [
        ("用了三天就冒烟了", "fire"),
        ("插上电没几分钟 冒烟了", "fire"),  # 没几分钟 is time, not negation
        ("没用几天就漏电了", "electric_shock"),  # 就 ends the negator's scope
        ("质量不错，就是漏电", "electric_shock"),
        ("东西不错，不过有点异味", "chemical_odour"),  # 不过 = however
        ("用了不到一个星期，外壳很烫", "burn"),
        ("没想到会起火", "fire"),
        ("过敏没有好转，还更严重了", "allergy_skin"),  # 没有 does not end the clause
        ("主要是漏电，太吓人", "electric_shock"),
        ("孩子差点吞下去", "choking_small_parts"),
        ("杯子把手断了", "cut_breakage"),
        ("一打开全是刺鼻的化学味", "chemical_odour"),
        ("用完脸上起红疹", "allergy_skin"),
        ("電水壺漏電了", "electric_shock"),  # Traditional
        ("ＬＥＤ燈冒煙了！", "fire"),  # full-width and Traditional
        ("外壳摸着烫。", "burn"),
    ],
)
def test_reported_hazards_are_asserted(lexicon: Lexicon, text: str, hazard: str) -> None:
    assert hazard in {h for _, h in asserted(lexicon, text)}


def test_a_mixed_review_keeps_the_reported_hazard_and_drops_the_denied_one(
    lexicon: Lexicon,
) -> None:
    hits = lexicon.hits("用了三天就冒煙了，還好沒有漏電")
    assert [(h.term, h.hazard, h.negated) for h in hits] == [
        ("冒烟", "fire", False),
        ("漏电", "electric_shock", True),
    ]
    assert lexicon.hazard_of(hits) == "fire"


def test_hit_offsets_index_the_normalised_text(lexicon: Lexicon) -> None:
    text = "ＬＥＤ燈 用了兩天 就漏電了！😡"
    norm = lexicon.normalise(text)
    for hit in lexicon.hits(text):
        assert norm[hit.start : hit.end] == hit.term


def test_neutral_phrases_hide_the_terms_inside_them(lexicon: Lexicon) -> None:
    for text in ("烫金logo很精致", "空气炸锅炸了个鸡翅", "发烧友推荐", "孩子乐坏了", "熨烫很平整"):
        assert lexicon.hits(text) == [], text


def test_performance_timing_pattern(lexicon: Lexicon) -> None:
    (hit,) = lexicon.hits("才用两次就不亮了")
    assert hit.hazard == "performance"
    assert hit.term == "才用两次就不亮了"


def test_severity_order_decides_between_classes(lexicon: Lexicon) -> None:
    hits = lexicon.hits("质量太差，用了两天开关就坏了，还冒烟")
    assert lexicon.hazard_of(hits) == "fire"
    assert lexicon.hazard_of(lexicon.hits("质量太差")) == "performance"
    assert lexicon.hazard_of(lexicon.hits("很好用")) == "none"


def test_delivery_and_service_cues(lexicon: Lexicon) -> None:
    text = "快递太慢了，包装都压坏了，客服也不理人"
    assert lexicon.hits(text) == []  # 压坏了 is the parcel, not 坏了 the product
    assert {c.term for c in lexicon.cues(text)} >= {"快递", "压坏", "客服"}
    assert all(c.hazard == "not_product" for c in lexicon.cues(text))


def test_features_agree_with_hits(lexicon: Lexicon) -> None:
    texts = [
        "用了三天就冒烟了，还好没有漏电",
        "",
        "快递太慢了",
        "没有异味，不烫手",
        "质量差，掉色，还过敏",
        None,
    ]
    counts = lexicon.features(texts)
    assert counts.shape == (len(texts), len(FEATURE_NAMES))
    col = {n: i for i, n in enumerate(FEATURE_NAMES)}
    for row, text in zip(counts, texts):
        hits = lexicon.hits(text)
        for c in HAZARD_CLASSES:
            assert row[col[f"asserted:{c}"]] == sum(
                1 for h in hits if h.hazard == c and not h.negated
            )
            assert row[col[f"negated:{c}"]] == sum(1 for h in hits if h.hazard == c and h.negated)
        assert row[col["not_product"]] == len(lexicon.cues(text))
    assert lexicon.classes_of(counts) == [
        "fire",
        "none",
        "none",
        "none",
        "allergy_skin",
        "none",
    ]


def test_features_do_not_leak_across_texts(lexicon: Lexicon) -> None:
    # A negator at the end of one review must not reach the term at the start of the next.
    counts = lexicon.features(["质量还行 没有", "漏电了"])
    assert counts[1, HAZARD_CLASSES.index("electric_shock")] == 1


@given(
    st.lists(
        st.sampled_from(["漏电", "不", "没有", "，", "快递", "冒烟", "好", " ", "就"]), max_size=12
    )
)
def test_batch_features_equal_one_by_one(parts: list[str]) -> None:
    lexicon = load_lexicon()
    text = "".join(parts)
    texts = [text, "不漏电", text[::-1]]
    together = lexicon.features(texts)
    apart = np.vstack([lexicon.features([t]) for t in texts])
    assert np.array_equal(together, apart)


def test_trie_pattern_prefers_the_longest_term() -> None:
    words = ["漏电", "漏电保护", "漏水", "电"]
    pattern = re.compile(trie_pattern(words))
    assert [m.group() for m in pattern.finditer("漏电保护器漏电漏水电")] == [
        "漏电保护",
        "漏电",
        "漏水",
        "电",
    ]


@given(st.lists(st.text(alphabet="abc", min_size=1, max_size=4), min_size=1, max_size=8))
def test_trie_pattern_matches_the_longest_word_at_the_start(words: list[str]) -> None:
    pattern = re.compile(trie_pattern(words))
    for w in words:
        m = pattern.match(w + "z")
        longest = max((x for x in words if (w + "z").startswith(x)), key=len)
        assert m is not None and m.group() == longest


def test_the_shipped_file_loads_and_covers_every_class() -> None:
    lexicon = load_lexicon()
    assert lexicon.priority[-1] == "performance"
    assert set(lexicon.priority) == set(HAZARD_CLASSES)
    assert {h for h in lexicon.terms.values()} == set(HAZARD_CLASSES)
    assert lexicon.version and len(lexicon.sha256) == 64
    assert load_lexicon() is lexicon  # compiled once per process


def test_lexicon_pickles_as_its_source() -> None:
    lexicon = load_lexicon()
    copy = pickle.loads(pickle.dumps(lexicon))
    assert copy == lexicon and copy is not lexicon
    assert copy.hits("漏电了") == lexicon.hits("漏电了")


def _doc(**changes: object) -> str:
    import yaml

    doc = yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8"))
    for key, value in changes.items():
        doc[key] = value
    return yaml.safe_dump(doc, allow_unicode=True)


def test_validation_lists_every_problem() -> None:
    import yaml

    doc = yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8"))
    doc["hazards"]["sharp_edges"] = {"terms": ["锋利"]}
    del doc["hazards"]["burn"]
    doc["hazards"]["fire"]["terms"].append("漏电")  # already electric_shock
    doc["hazards"]["fire"]["patterns"] = ["(unclosed"]
    doc["not_product"].append(" ")
    with pytest.raises(LexiconError) as info:
        Lexicon.from_yaml(yaml.safe_dump(doc, allow_unicode=True))
    text = str(info.value)
    assert "sharp_edges" in text
    assert "missing classes ['burn']" in text
    assert "'漏电' is already listed under electric_shock" in text
    assert "patterns[0]" in text
    assert "blank entry" in text
    assert len(info.value.errors) == 5


@pytest.mark.parametrize("source", ["- just\n- a list\n", "version: [\n", ""])
def test_not_a_lexicon(source: str) -> None:
    with pytest.raises(LexiconError):
        Lexicon.from_yaml(source)


def test_full_width_entries_in_the_file_are_normalised() -> None:
    import yaml

    doc = yaml.safe_load(_doc())
    doc["hazards"]["fire"]["terms"].append("ＸＸ燒焦味")
    lexicon = Lexicon.from_yaml(yaml.safe_dump(doc, allow_unicode=True))
    assert lexicon.terms["xx烧焦味"] == "fire"
    assert lexicon.sha256 != load_lexicon().sha256
