"""The scrubber's short cuts skip only work that could not find anything.

Each detector runs only when the folded text holds what its pattern needs (a digit, an
"@", a WeChat or name cue), product spans are worked out only when a detector matches,
and a text holding none of the needs is returned at once. These tests hold every short
cut to the plain rule: no detector pattern matches a text its short cut would skip.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pii_helpers import SALT

from transforms import pii
from transforms.pii import PLACEHOLDERS, scrub_text

PIECES = [
    *"0123456789１２３＠@-.:：_ \t（）()+",
    "微信",
    "威信",
    "V信",
    "vx",
    "WX",
    "weixin",
    "WeChat",
    "加v",
    "qq",
    "扣扣",
    "姓名",
    "收货人",
    "联系人：",
    "户名",
    "订单号",
    "型号",
    "SN",
    "路",
    "号",
    "栋",
    "单元",
    "室",
    "张三",
    "abc",
    "好评",
    "很满意",
    *PLACEHOLDERS.values(),
]
texts = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=texts)
def test_a_detector_is_skipped_only_when_its_pattern_cannot_match(text: str) -> None:
    norm = pii._fold(text)
    for kind, pattern, _accept, _group, needs in pii._DETECTORS:
        if needs.search(norm) is None:
            assert pattern.search(norm) is None, kind
    if pii._NEEDS_ANY.search(norm) is None:
        assert all(d[4].search(norm) is None for d in pii._DETECTORS)


@settings(max_examples=200, deadline=None)
@given(text=texts)
def test_fold_changes_only_what_the_table_maps(text: str) -> None:
    assert pii._fold(text) == text.translate(pii._FOLD)


def test_plain_review_text_comes_back_as_it_was() -> None:
    text = "宝贝收到了，做工精细颜色鲜艳，孩子爱不释手"
    result = scrub_text(text, salt=SALT)
    assert result.text == text and result.counts == {} and result.pseudonyms == ()
    assert not result


def test_placeholders_bring_cue_words_and_are_left_alone() -> None:
    text = "加微信 abc12345，姓名：李四"
    once = scrub_text(text, salt=SALT)
    assert once.counts == {"wechat": 1, "name": 1}
    assert scrub_text(once.text, salt=SALT).text == once.text
