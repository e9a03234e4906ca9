"""clean_text and to_simplified on scraped product text."""

from __future__ import annotations

import pickle
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import transforms.normalise as normalise
from transforms.normalise import NormaliseError, clean_text, to_simplified
from transforms.normalise.hanzi import TRADITIONAL_TO_SIMPLIFIED


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (None, None),
        ("", None),
        ("   \t\n ", None),
        ("<br/>&nbsp;<p></p>", None),
        ("\u200b\ufeff", None),
        ("小米&nbsp;手环８", "小米 手环8"),
        ("ＡＰＰＬＥ　ｉＰｈｏｎｅ１５", "APPLE iPhone15"),
        ("￥１，２９９．００", "¥1,299.00"),
        ("&lt;b&gt;包邮&lt;/b&gt;", "包邮"),
        ("&amp;lt;b&amp;gt;包邮", "包邮"),  # escaped twice by the feed
        ("AT&amp;T 数据线", "AT&T 数据线"),
        ("价格<100元", "价格<100元"),
        ("<span>价</span><span>格</span>", "价格"),
        ("第一行<br>第二行", "第一行 第二行"),
        ("<div>a</div><div>b</div>", "a b"),
        ("<script>var x = '<b>';</script>正品", "正品"),
        ("<!-- 注释 -->正品", "正品"),
        ("零\u200b宽\u200c字\u200d符", "零宽字符"),
        ("\u202e反向\u202c文字", "反向文字"),
        ("软\u00ad连字符", "软连字符"),
        ("图标\ue600字体", "图标字体"),
        ("控制\x00\x07字符\x7f", "控制字符"),
        ("多行\r\n\r\n  文本\t制表", "多行 文本 制表"),
        ("【正品保证】「官方」《说明书》。", "【正品保证】「官方」《说明书》。"),
        ("好用，推荐！（真的）", "好用,推荐!(真的)"),
        ("面积２０㎡，体积３㎥", "面积20m²,体积3m³"),
        ("①防水②防尘", "①防水②防尘"),
        ("m² x³ ½杯", "m² x³ ½杯"),
        ("㊣品", "㊣品"),
        ("温度３０℃", "温度30°C"),
        ("１５㎏装", "15kg装"),
        ("ｶﾀｶﾅ", "カタカナ"),
        ("e\u0301", "é"),
    ],
)
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


def test_clean_text_rejects_non_text():
    with pytest.raises(TypeError):
        clean_text(12)  # type: ignore[arg-type]


_NASTY = st.text(
    alphabet=st.sampled_from(
        list("价格小米手环<>/&;#ltgampnbsp ab1２３，：（）①²㎡\u200b\u3000\xa0\t\n\ue600-!")
    )
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), _NASTY))
def test_clean_text_is_idempotent(s):
    once = clean_text(s)
    assert clean_text(once) == once


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_clean_text_output_is_one_visible_line(s):
    out = clean_text(s)
    if out is None:
        return
    assert out == out.strip() and "  " not in out
    assert not any(c.isspace() and c != " " for c in out)
    assert not any(unicodedata.category(c) in {"Cc", "Cf", "Co", "Cs"} for c in out)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E)))
def test_full_width_ascii_folds_to_ascii(s):
    wide = "".join(chr(ord(c) + 0xFEE0) for c in s)
    assert clean_text(wide) == clean_text(s)


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        ("無線藍牙耳機", "无线蓝牙耳机"),
        ("電動牙刷 充電寶 保溫杯", "电动牙刷 充电宝 保温杯"),
        ("買一送一 隨機發貨", "买一送一 随机发货"),
        ("洗髮水 頭髮 發貨", "洗发水 头发 发货"),
        ("麵條 餅乾 乾燥劑", "面条 饼干 干燥剂"),
        ("乾隆 乾坤", "乾隆 乾坤"),
        ("著名品牌 穿著舒適 顯著", "著名品牌 穿着舒适 显著"),
        ("瞭解 瞭望", "了解 瞭望"),
        ("藉口 狼藉", "借口 狼藉"),
        ("商家回覆 覆蓋", "商家回复 覆盖"),
        ("空氣淨化器 遊戲 裏面", "空气净化器 游戏 里面"),
        ("鈕釦 鑑定 瀋陽", "钮扣 鉴定 沈阳"),
        ("後蓋 一隻 製造 臺灣", "后盖 一只 制造 台湾"),
        ("iPhone 15 Pro 256GB", "iPhone 15 Pro 256GB"),
        ("简体中文不变", "简体中文不变"),
        (None, None),
        ("", ""),
    ],
)
def test_to_simplified(traditional, simplified):
    assert to_simplified(traditional) == simplified


def test_table_has_no_chains():
    keys = set(TRADITIONAL_TO_SIMPLIFIED)
    assert not [k for k, v in TRADITIONAL_TO_SIMPLIFIED.items() if ord(v) in keys]
    assert len(TRADITIONAL_TO_SIMPLIFIED) > 2000


_HANZI = st.text(
    alphabet=st.one_of(
        st.sampled_from([chr(k) for k in TRADITIONAL_TO_SIMPLIFIED]),
        st.sampled_from(list("乾著瞭藉覆隆坤望狼慰蕴答回穿名色随干了借着复的是ab1 ")),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    )
)


@settings(max_examples=400, deadline=None)
@given(_HANZI)
def test_to_simplified_is_idempotent_on_its_output(s):
    once = to_simplified(s)
    assert to_simplified(once) == once


@settings(max_examples=200, deadline=None)
@given(_HANZI)
def test_to_simplified_keeps_length_and_leaves_no_table_key(s):
    out = to_simplified(s)
    assert len(out) == len(s)
    assert not any(ord(c) in TRADITIONAL_TO_SIMPLIFIED for c in out)


def test_error_names_value_and_problem_and_pickles():
    err = NormaliseError("price", "¥abc", "no amount found")
    assert isinstance(err, ValueError)
    assert str(err) == "cannot read price '¥abc': no amount found"
    again = pickle.loads(pickle.dumps(err))
    assert (again.field, again.value, again.problem) == ("price", "¥abc", "no amount found")
    assert "…" in str(NormaliseError("price", "x" * 500, "too long"))


def test_package_exports():
    for name in normalise.__all__:
        assert getattr(normalise, name) is not None


def test_invisible_characters_are_exactly_the_invisible_categories():
    from transforms.normalise.text import _INVISIBLE_CATEGORIES, _invisible

    pattern = _invisible()
    for cp in range(0x110000):
        c = chr(cp)
        assert (pattern.fullmatch(c) is not None) == (
            unicodedata.category(c) in _INVISIBLE_CATEGORIES
        ), hex(cp)


def _nfkc_reference(s: str) -> str:
    from transforms.normalise.text import _PROTECTED, _SQUARED_UNITS

    parts = _PROTECTED.split(s.translate(_SQUARED_UNITS))
    return "".join(p if i % 2 else unicodedata.normalize("NFKC", p) for i, p in enumerate(parts))


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            list("aé\u0301ｶﾞ가\u1100\u1161ﬁⅫ１，㎡²③½⑴㊣中著乾 \u200b\t")
            + [chr(c) for c in (0x00B9, 0x2070, 0x2189, 0x24FF, 0x3200, 0x339F, 0x33A6)]
        ),
        max_size=20,
    )
)
def test_nfkc_short_cuts_match_the_full_procedure(s):
    from transforms.normalise.text import _nfkc

    assert _nfkc(s) == _nfkc_reference(s)
