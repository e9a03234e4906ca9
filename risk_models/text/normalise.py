"""Review text in the one form the lexicon and the models read.

:func:`normalise_texts` works on a whole batch at once: the texts are joined with line
breaks (each text's own line breaks become spaces first), and NFKC, Traditional →
Simplified (:func:`transforms.normalise.text.to_simplified`), lower case and the removal
of invisible characters run once over the joined string, in C, before it is split again.
That is what makes scoring tens of thousands of reviews a second possible; calling
:func:`transforms.normalise.text.clean_text` per review costs about as much as all of
the model's other work together.

The result matches what ``clean_text`` followed by ``to_simplified`` and ``lower``
gives for review text, except that markup is not stripped (reviews are plain text;
HTML entities such as ``&amp;`` are still unescaped) and NFKC is applied to every
character (``m²`` becomes ``m2``: no review model cares).

- full-width letters, digits and punctuation become ASCII (``ＡＢ１２，！`` → ``ab12,!``);
- ``…`` becomes ``...``; CJK punctuation ``。、「」`` is kept;
- control, format (zero-width, bidirectional, byte-order mark) and private-use
  characters are dropped; runs of whitespace become one space;
- ``None``, NaN and other non-text values become the empty string.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Iterable

from transforms.normalise.text import to_simplified

__all__ = ["normalise_text", "normalise_texts"]

# Cc and the Cf characters that occur in scraped text, and the private-use area
# (icon-font glyphs). Whitespace controls (tab, carriage return, the separators
# \x1c-\x1f) are left to the whitespace rule, so they become spaces, not nothing.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u00ad\u061c\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ue000-\uf8ff]+"
)
_SPACES = re.compile(r"[^\S\n]+")
_BREAKS = re.compile(r"\s+")


def _as_text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    s = value if isinstance(value, str) else str(value)
    while "&" in s:  # until stable, as clean_text does: "&amp;lt;" is "<"
        unescaped = html.unescape(s)
        if unescaped == s:
            break
        s = unescaped
    return s


def _finish(s: str) -> str:
    """NFKC, Simplified, lower case and single spaces, on text without invisible
    characters (removed first: NFKC must see the characters that end up side by side)."""
    s = unicodedata.normalize("NFKC", s)
    s = to_simplified(s) or ""
    return _SPACES.sub(" ", s.lower())


def normalise_texts(texts: Iterable[object]) -> list[str]:
    """Normalised review texts, one per input, in order.

    Examples
    --------
    >>> normalise_texts(["ＬＥＤ燈  漏電了！", None, "無異味\\n很好"])
    ['led灯 漏电了!', '', '无异味 很好']
    """
    prepared = [
        t if type(t) is str and "&" not in t else _as_text(t)  # exact str: no subclasses
        for t in texts
    ]
    if not prepared:
        return []
    joined = "\n".join(prepared)
    if joined.count("\n") != len(prepared) - 1:  # a review with line breaks of its own
        prepared = [_BREAKS.sub(" ", t) if "\n" in t else t for t in prepared]
        joined = "\n".join(prepared)
    out = _finish(_INVISIBLE.sub("", joined)).split("\n")
    if len(out) != len(prepared):  # pragma: no cover - NFKC never makes a line break
        return [normalise_text(t) for t in prepared]
    return [s.strip() for s in out]


def normalise_text(text: object) -> str:
    """One normalised review text (see :func:`normalise_texts`).

    >>> normalise_text("  完全沒有異味，ＯＫ ")
    '完全没有异味,ok'
    """
    s = _INVISIBLE.sub("", _as_text(text))
    return _finish(_BREAKS.sub(" ", s)).strip()
