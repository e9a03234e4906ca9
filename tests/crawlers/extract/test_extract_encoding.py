"""decode_html: BOMs, declared charsets, lying headers, sniffing, and bytes that are not text."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawlers.extract.encoding import decode_html, normalise_label

TEXT = "<html><body><h1>美的 电热水壶 1.7L</h1><p>价格：￥1,299.00 券后价￥1,199.00 有货</p></body></html>"
TRADITIONAL = "<html><body><h1>優選 電熱水壺</h1><p>售價 NT$1,280 現貨供應，這個水壺採用不鏽鋼。</p></body></html>"


def test_utf8_with_and_without_bom():
    body = TEXT.encode("utf-8")
    assert decode_html(body) == (TEXT, "utf-8")
    assert decode_html(codecs.BOM_UTF8 + body) == (TEXT, "utf-8")
    # A BOM beats a header that says otherwise.
    assert decode_html(codecs.BOM_UTF8 + body, "text/html; charset=gbk") == (TEXT, "utf-8")


def test_utf16_bom():
    body = codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le")
    assert decode_html(body) == (TEXT, "utf-16-le")


@pytest.mark.parametrize("label", ["gbk", "GB2312", "gb18030", "x-gbk", '"GBK"'])
def test_gbk_declared_in_header(label):
    assert decode_html(TEXT.encode("gbk"), f"text/html; charset={label}") == (TEXT, "gb18030")


def test_gbk_header_lies_utf8():
    # The server says UTF-8; the bytes are GBK: strict decoding fails, sniffing wins.
    assert decode_html(TEXT.encode("gbk"), "text/html; charset=utf-8") == (TEXT, "gb18030")


def test_iso8859_header_over_gbk_is_not_believed():
    assert decode_html(TEXT.encode("gbk"), "text/html; charset=ISO-8859-1") == (TEXT, "gb18030")


def test_meta_charset_and_http_equiv():
    for meta in (
        '<meta charset="gbk">',
        '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">',
    ):
        page = f"<html><head>{meta}</head>{TEXT}</html>"
        assert decode_html(page.encode("gbk")) == (page, "gb18030")


def test_gb2312_label_with_gbk_only_character():
    # 喆 is in GBK but not in GB2312; decoding the label literally would fail.
    page = '<meta charset="gb2312"><h1>喆美 电吹风</h1>' + TEXT
    assert decode_html(page.encode("gbk")) == (page, "gb18030")


def test_gb18030_four_byte_characters_undeclared():
    page = TEXT + "<p>生僻字 𠀀 和 € 符号</p>"
    assert decode_html(page.encode("gb18030")) == (page, "gb18030")


def test_big5_undeclared_is_not_mistaken_for_gbk():
    assert decode_html(TRADITIONAL.encode("big5")) == (TRADITIONAL, "big5")


def test_big5_declared_as_gbk_is_caught():
    # Big5 bytes mostly decode under GBK without error, as nonsense.
    assert decode_html(TRADITIONAL.encode("big5"), "text/html; charset=gbk") == (
        TRADITIONAL,
        "big5",
    )


def test_utf8_page_with_stale_gbk_meta():
    page = '<meta charset="gbk">' + TEXT
    assert decode_html(page.encode("utf-8")) == (page, "utf-8")


def test_hand_written_pages(page_bytes):
    assert decode_html(page_bytes("gbk_undeclared.html"))[1] == "gb18030"
    assert decode_html(page_bytes("gbk_meta.html"))[1] == "gb18030"
    assert decode_html(page_bytes("gb2312_http_equiv.html"))[1] == "gb18030"
    assert decode_html(page_bytes("big5_undeclared.html"))[1] == "big5"
    text, enc = decode_html(page_bytes("big5_meta.html"))
    assert enc == "big5" and "電熱水壺" in text


def test_corrupt_gbk_decodes_with_replacement_and_says_so():
    body = TEXT.encode("gbk")
    broken = body[:40] + b"\xff" + body[40:]
    text, enc = decode_html(broken, "text/html; charset=utf-8")
    assert enc == "gb18030+replace"
    assert "\ufffd" in text and "券后价" in text


def test_unknown_label_falls_back_to_sniffing():
    assert decode_html(TEXT.encode("gbk"), "text/html; charset=klingon") == (TEXT, "gb18030")


def test_normalise_label():
    assert normalise_label("GB2312") == "gb18030"
    assert normalise_label("big5") == "big5hkscs"
    assert normalise_label("UTF8") == "utf-8"
    assert normalise_label("no-such-charset") is None


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=2000),
    st.sampled_from(
        [
            None,
            "text/html",
            "text/html; charset=utf-8",
            "text/html; charset=gbk",
            "text/html; charset=big5",
            "charset=bogus",
        ]
    ),
)
def test_never_raises(body, ctype):
    text, enc = decode_html(body, ctype)
    assert isinstance(text, str) and enc


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.characters(codec="gbk", exclude_categories=("Cs",)), min_size=20, max_size=300
    )
)
def test_gbk_text_round_trips_when_declared(text):
    assert decode_html(text.encode("gbk"), "text/html; charset=gbk")[0] == text
