"""The one text form that category keywords, breadcrumbs and titles are compared in.

Listings arrive in every spelling a shop can produce: full-width letters and digits
(ＬＥＤ台灯), Traditional characters (電熱水壺), mixed case English (Hair Dryer), CJK
brackets around brands (美度（MEIDOO）). Keywords are matched as plain substrings, so both
sides must first be brought to one form:

* NFKC, so full-width ASCII becomes ASCII and the ideographic space a space;
* case-folded, so ``LED灯`` and ``led灯`` are one keyword;
* Traditional → Simplified with the project's table
  (:func:`transforms.normalise.text.to_simplified`), only when the text holds a
  Traditional character at all, which keeps the common case fast;
* punctuation that separates words (brackets, slashes, commas, ``+``) becomes a space and
  runs of spaces collapse to one. Hyphens and full stops stay: ``t-shirt``, ``e-bike``,
  ``1.5l``.

The result is used for matching only; nothing here is stored.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

__all__ = ["normalise"]

# Word separators after NFKC (full-width forms are already ASCII by then). CJK
# punctuation has no NFKC form, so it is listed as itself. Whitespace other than the
# plain space is handled by str.split.
_SEPARATORS = re.compile(
    "["
    + re.escape("/\\|,;:!?()[]{}<>\"'`*+=~^#@$%&_·•…、，。！？：；【】「」『』《》〈〉〔〕〖〗")
    + "]"
)


@lru_cache(maxsize=1)
def _traditional() -> tuple[re.Pattern[str], Callable[[str | None], str | None]]:
    """A character class of every Traditional character the project's table converts,
    and the converter. Imported on first use: :mod:`transforms.normalise` pulls in the
    page extractors, which module import of this package should not pay for."""
    from transforms.normalise.hanzi import TRADITIONAL_TO_SIMPLIFIED
    from transforms.normalise.text import to_simplified

    keys = "".join(sorted(chr(k) for k in TRADITIONAL_TO_SIMPLIFIED))
    # The word rules of to_simplified also touch 乾, 瞭, 藉, 覆 and 著.
    pattern = re.compile("[" + re.escape(keys + "乾瞭藉覆著") + "]")
    return pattern, to_simplified


def normalise(text: str | None) -> str:
    """``text`` in matching form; ``""`` for ``None`` or blank text.

    >>> normalise("美度（ＭＥＩＤＯＯ）電熱水壺 1.5L/304不鏽鋼")
    '美度 meidoo 电热水壶 1.5l 304不锈钢'
    """
    if not text:
        return ""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        pattern, to_simplified = _traditional()
        if pattern.search(text):
            text = to_simplified(text) or text
    return " ".join(_SEPARATORS.sub(" ", text.casefold()).split())
