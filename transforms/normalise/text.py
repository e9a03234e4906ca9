"""Scraped text made plain: :func:`clean_text` and :func:`to_simplified`.

:func:`clean_text` unescapes HTML entities (repeatedly, so ``&amp;lt;`` in a
double-escaped feed comes out as ``<`` and is then stripped as markup), removes tags,
applies NFKC, drops invisible characters and collapses whitespace to single spaces, so
the result is one line. It repeats these steps until nothing changes, which makes it
idempotent.

What NFKC changes, and what is kept:

- Full-width ASCII letters, digits and punctuation (``ＡＢ１２``, ``，：；！？（）``) and the
  ideographic space become their ASCII forms. They are width variants with the same
  meaning, and ASCII forms are what the price, sales and date readers expect.
- CJK punctuation proper (``。、「」『』【】《》〈〉·``) has no compatibility decomposition:
  NFKC leaves it alone, and so does this module.
- Where NFKC would change the meaning, the character is kept as written: superscripts and
  subscripts (``m²``, ``m³``), circled and parenthesised numbers and enclosed CJK
  (``①``, ``⑴``, ``㊣``, list markers in descriptions), and vulgar fractions (``½``).
  Squared unit signs are spelt with the superscript rather than a bare digit (``㎡`` →
  ``m²``, not ``m2``).

Invisible characters removed: control characters (C0, C1; tabs and line breaks become
spaces first), format characters (zero-width space and joiners, soft hyphen, byte-order
mark, bidirectional marks), private-use characters (icon-font glyphs) and lone
surrogates.

:func:`to_simplified` converts Traditional Chinese to Simplified with the character table
in :mod:`.hanzi` plus word rules for the few characters whose conversion depends on the
word (乾燥 → 干燥 but 乾隆; 穿著 → 穿着 but 著名; 瞭解 → 了解 but 瞭望).
"""

from __future__ import annotations

import functools
import html
import re
import sys
import unicodedata

from transforms.normalise.hanzi import TRADITIONAL_TO_SIMPLIFIED

__all__ = ["clean_text", "to_simplified"]

_PROTECTED_CHARS = (
    "\u00b9\u00b2\u00b3\u00bc-\u00be\u2070-\u209f\u2150-\u215f\u2189\u2460-\u24ff\u3200-\u32ff"
)
_PROTECTED = re.compile(f"([{_PROTECTED_CHARS}])")
_SQUARED_UNITS = str.maketrans(
    {
        "㎟": "mm²",
        "㎠": "cm²",
        "㎡": "m²",
        "㎢": "km²",
        "㎣": "mm³",
        "㎤": "cm³",
        "㎥": "m³",
        "㎦": "km³",
    }
)
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)|<!\[CDATA\[|\]\]>", re.S)
# Block-level tags separate words; inline tags (<b>, <span>) sit inside a word or phrase.
_BLOCK_TAG = re.compile(
    r"</?(?:br|p|div|li|ul|ol|tr|td|th|table|h[1-6]|dd|dt|dl|section|article|header|footer|"
    r"blockquote|pre|hr)\b[^<>]*>",
    re.I,
)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<![A-Za-z][^<>]*>")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs"})
_MAX_ROUNDS = 20
# The characters :func:`_nfkc` keeps or rewrites itself: a text without any (most
# scraped text) is normalised in one call.
_SPECIAL = re.compile(f"[{_PROTECTED_CHARS}{''.join(map(chr, _SQUARED_UNITS))}]")


@functools.cache
def _invisible() -> re.Pattern[str]:
    """A character class of every character in :data:`_INVISIBLE_CATEGORIES`, built
    from this Python's Unicode database on first use."""
    ranges: list[list[int]] = []
    for cp in range(sys.maxunicode + 1):
        if unicodedata.category(chr(cp)) in _INVISIBLE_CATEGORIES:
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    parts = (f"\\U{a:08x}" + (f"-\\U{b:08x}" if b > a else "") for a, b in ranges)
    return re.compile("[" + "".join(parts) + "]")


def _strip_markup(s: str) -> str:
    if "&" not in s and "<" not in s and "]]>" not in s:
        return s  # no entity, tag, comment or CDATA marker
    s = html.unescape(s)
    s = _SCRIPT.sub(" ", s)
    s = _COMMENT.sub(" ", s)
    s = _BLOCK_TAG.sub(" ", s)
    return _TAG.sub("", s)


def _nfkc(s: str) -> str:
    if s.isascii():
        return s
    if not _SPECIAL.search(s):
        return unicodedata.normalize("NFKC", s)
    s = s.translate(_SQUARED_UNITS)
    parts = _PROTECTED.split(s)
    # Odd indices are the protected characters that split() captured.
    return "".join(p if i % 2 else unicodedata.normalize("NFKC", p) for i, p in enumerate(parts))


def _drop_invisible(s: str) -> str:
    if s.isascii() and s.isprintable():
        return s
    # Tab, line feed and the other control characters that space words become spaces.
    return _invisible().sub(lambda m: " " if m.group().isspace() else "", s)


def _clean_once(s: str) -> str:
    s = _strip_markup(s)
    s = _nfkc(s)
    s = _drop_invisible(s)
    return " ".join(s.split())


def clean_text(s: str | None) -> str | None:
    """Plain single-line text from a scraped value, or ``None`` when nothing is left.

    Parameters
    ----------
    s
        Raw text: may hold HTML entities and tags, full-width characters, zero-width and
        control characters, line breaks and runs of spaces.

    Returns
    -------
    str or None
        ``None`` for ``None``, the empty string, or text that is only markup and spaces.

    Examples
    --------
    >>> clean_text("<b>小米&nbsp;手环８</b>\\u200b  ＮＦＣ版")
    '小米 手环8 NFC版'
    >>> clean_text("容量：１．５Ｌ，面积２０㎡")
    '容量:1.5L,面积20m²'
    >>> clean_text(" <br> ") is None
    True
    """
    if s is None:
        return None
    if not isinstance(s, str):
        raise TypeError(f"clean_text takes str or None, not {type(s).__name__}")
    for _ in range(_MAX_ROUNDS):
        cleaned = _clean_once(s)
        if cleaned == s:
            break
        s = cleaned
    return s or None


# Word rules for characters that are also correct simplified characters in some words.
# They run on the output of the character table, so the context is already simplified.
# Each rule is tried only when its character is there.
_WORD_RULES = (
    ("乾", re.compile("乾(?![隆坤])"), "干"),
    ("瞭", re.compile("瞭(?!望)"), "了"),
    ("藉", re.compile("(?<![狼慰蕴])藉"), "借"),
    ("覆", re.compile("(?<=[答回批])覆"), "复"),
    (
        "著",
        re.compile("(?<=[穿衣随接跟沿有带睡看试靠])著(?![名作称述])|著(?=[色凉急火陆装手重迷])"),
        "着",
    ),
)


def to_simplified(s: str | None) -> str | None:
    """Traditional Chinese characters in ``s`` converted to Simplified.

    Everything else (Latin letters, digits, characters that are the same in both
    scripts) is returned unchanged, and converting the output again changes nothing.

    Examples
    --------
    >>> to_simplified("無線藍牙耳機 乾燥劑 買一送一 隨機發貨")
    '无线蓝牙耳机 干燥剂 买一送一 随机发货'
    >>> to_simplified("著名品牌 穿著舒適 乾隆")
    '著名品牌 穿着舒适 乾隆'
    """
    if s is None:
        return None
    if not isinstance(s, str):
        raise TypeError(f"to_simplified takes str or None, not {type(s).__name__}")
    s = s.translate(TRADITIONAL_TO_SIMPLIFIED)
    for char, pattern, replacement in _WORD_RULES:
        if char in s:
            s = pattern.sub(replacement, s)
    return s
