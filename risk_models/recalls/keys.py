"""Keys for recall matching: model codes with their variants, codes in free text, barcodes
and brand names folded for near-spelling comparison.

The plain product-identity keys come from :mod:`transforms.resolve.keys` (the same
functions that decide which listings are one product), so that a model written
``MD-53P13A``, ``md 53p13a型`` or ``ＭＤ－５３Ｐ１３Ａ`` gives one key here as it does
there. What recall matching adds:

* **variants** — a recall names ``AB-12`` and a listing sells ``AB-12 Pro``,
  ``AB-12-A``, ``AB-12/1`` or ``AB-12升级版`` (or the other way round). The variant
  is kept apart from the base code, so that the matcher can tell an exact code from a
  variant of it and score the second lower; it never strips digits or letters that
  belong to the code itself (``MD-53P13A`` is not a variant of ``MD-53P13``);
* **codes in free text** — ``Model numbers include AB-12, AB-13 and AB-15``, ``型号：
  AB-12、AB-13``, ``AB-12 through AB-15``;
* **codes in titles** — ``美度电水壶 MD 53P13A 家用``;
* **confusable folding** for brand names a counterfeit listing misspells
  (``MEID0O``, ``5KYSTEED``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from transforms.resolve.keys import normalise_gtin, normalise_model

__all__ = [
    "ModelKey",
    "codes_in_text",
    "fold_confusables",
    "gtins_in_text",
    "is_plausible_code",
    "is_usable_model",
    "model_key",
    "models_in_text",
    "near_spelling",
    "split_models",
    "title_code_candidates",
    "title_model_keys",
]

_CACHE = 1 << 16

# A label before a model code: 型号：, 产品型号, Model No., Model #, Item no.
_LABEL = re.compile(
    r"^\s*(?:(?:产品|规格|商品)?型号(?:规格)?|货号|款号|"
    r"MODEL\s*(?:NO\.?|NUMBER|#)?|ITEM\s*(?:NO\.?|NUMBER|#)|ART\.?\s*NO\.?|STYLE\s*(?:NO\.?|#))"
    r"\s*[:：#]?\s*",
    re.I,
)
# Words after a code that are formatting, not a different product: 型, 款, 标准版.
_FORM_SUFFIX = re.compile(r"(?:\s*(?:型|款|标准版|标准款|新款|正品))+$")
# Variant words: a different edition of the same base code.
_CJK_VARIANTS = (
    "升级版",
    "升级款",
    "增强版",
    "加强版",
    "改进版",
    "豪华版",
    "尊享版",
    "高配版",
    "顶配版",
    "旗舰版",
    "青春版",
    "第二代",
    "第三代",
    "二代",
    "三代",
)
_CJK_VARIANT = re.compile(r"^(?P<base>.+?)\s*[(（]?(?P<v>" + "|".join(_CJK_VARIANTS) + r")[)）]?$")
_LATIN_WORDS = "PRO|MAX|PLUS|LITE|MINI|ULTRA|AIR|NEO|SE"
# Separated from the code (AB-12 PRO, AB-12-MAX), or glued after a digit (AB12PRO).
_LATIN_VARIANT = re.compile(
    rf"^(?P<base>.*\d.*?)(?:[\s\-_]+(?P<v>{_LATIN_WORDS}|II|III|2ND\s*GEN)|(?<=\d)(?P<g>{_LATIN_WORDS}))$"
)
# One letter after a separator (AB-12-A, AB 12 B): a colour or region edition.
_LETTER_VARIANT = re.compile(r"^(?P<base>.*\d.*?)[\s\-_]+(?P<v>[A-Z])$")
# A numbered sub-model: AB-12/1, AB-12 / 2.
_SLASH_VARIANT = re.compile(r"^(?P<base>.+?)\s*/\s*(?P<v>\d{1,2})$")

# A figure with a unit is a specification, not a code (as in transforms.resolve.keys).
_QUANTITY = re.compile(
    r"[0-9]+(?:W|KW|V|L|ML|MAH|WH|MM|CM|M|G|KG|HZ|A|P|K|H|MIN|PCS|英寸|寸|升|毫安)"
)
_YEAR = re.compile(r"(?:19|20)\d\d")


@dataclass(frozen=True, slots=True)
class ModelKey:
    """A model code as a ``base`` key and the ``variant`` written after it, if any.

    >>> model_key("AB-12 Pro")
    ModelKey(base='AB12', variant='PRO')
    >>> model_key("型号：md 53p13a型").key
    'MD53P13A'
    """

    base: str
    variant: str | None = None

    @property
    def key(self) -> str:
        """The exact key: the base, and the variant after a ``+`` when there is one."""
        return self.base if self.variant is None else f"{self.base}+{self.variant}"


def is_usable_model(key: str | None) -> bool:
    """Whether a model key can name a product at all (with the brand agreeing).

    Three characters or more, or two when letters and digits mix (``X5``); a lone
    digit or letter (what ``AB-12/1`` leaves behind when split at the slash) is not.
    """
    if not key:
        return False
    if len(key) >= 3:
        return any(c.isalnum() for c in key)
    return len(key) == 2 and any(c.isdigit() for c in key) and any(c.isalpha() for c in key)


def is_plausible_code(key: str | None) -> bool:
    """Whether a key read from free text (a title, a description) is a product code.

    Four characters or more with both a letter and a digit, not a quantity (``1500W``,
    ``20000MAH``) and not a year. ``X5`` or ``2024`` in a title say nothing.
    """
    if not key or len(key) < 4 or _QUANTITY.fullmatch(key) or _YEAR.fullmatch(key):
        return False
    return any(c.isdigit() for c in key) and any(c.isascii() and c.isalpha() for c in key)


def _variant_word(v: str) -> str:
    v = re.sub(r"\s+", "", v.upper())
    return {"第二代": "二代", "第三代": "三代", "2NDGEN": "II", "加强版": "增强版"}.get(v, v)


@lru_cache(maxsize=_CACHE)
def model_key(text: str | None) -> ModelKey | None:
    """The :class:`ModelKey` of a model text, or ``None`` when it names no usable code.

    The base key is :func:`transforms.resolve.keys.normalise_model` of the code
    without its variant: case, full-width forms, separators, labels (``型号：``) and
    formatting words (``型``, ``款``, ``标准版``) do not matter. A variant is a word
    such as ``Pro``, ``Max``, ``升级版``, ``二代``; a single letter after a separator
    (``AB-12-A``); or a number after a slash (``AB-12/1``). Letters and digits that are
    part of the code are never taken for a variant.

    >>> model_key("AB-12-A"), model_key("AB12A")
    (ModelKey(base='AB12', variant='A'), ModelKey(base='AB12A', variant=None))
    >>> model_key("ＡＢ－１２升级版")
    ModelKey(base='AB12', variant='升级版')
    """
    if not text:
        return None
    s = unicodedata.normalize("NFKC", text).strip().upper()
    s = _LABEL.sub("", s)
    s = _FORM_SUFFIX.sub("", s).strip()
    variant = None
    for pattern in (_CJK_VARIANT, _LATIN_VARIANT, _SLASH_VARIANT, _LETTER_VARIANT):
        m = pattern.match(s)
        if not m:
            continue
        base = normalise_model(m.group("base"))
        if is_usable_model(base):
            s, variant = m.group("base"), _variant_word(m.group("v") or m.group("g"))
            break
    base = normalise_model(s)
    if not is_usable_model(base):
        return None
    return ModelKey(base, variant)  # type: ignore[arg-type]


# --------------------------------------------------------------------- lists of models

_LIST_SPLIT = re.compile(r"\s*(?:[,，、;；/|]|\band\b|\bor\b|和|及|或)\s*", re.I)
_RANGE = re.compile(
    r"^(?P<a>[A-Z0-9][A-Z0-9\-. ]*?)(?P<n>\d+)\s*(?:~|～|TO|THROUGH|THRU|至|到)\s*"
    r"(?P<b>[A-Z][A-Z0-9\-. ]*?)?(?P<m>\d+)$",
    re.I,
)
MAX_RANGE = 50
"""A range longer than this (``AB-1 to AB-9999``) is not expanded."""


def _expand_range(text: str) -> list[str] | None:
    """``AB-12 to AB-15`` → AB-12 … AB-15; ``AB-12~15`` too; None when not a range."""
    m = _RANGE.match(text.strip())
    if not m:
        return None
    prefix, lo, hi = m.group("a"), m.group("n"), m.group("m")
    if m.group("b") and normalise_model(m.group("b")) != normalise_model(prefix):
        return None
    a, b = int(lo), int(hi)
    if not 0 < b - a <= MAX_RANGE:
        return None
    width = len(lo) if lo.startswith("0") else 0
    return [f"{prefix}{str(n).zfill(width)}" for n in range(a, b + 1)]


def split_models(text: str | None) -> list[str]:
    """One model field as its codes: ``AB-12、AB-13``, ``AB-12, AB-13 and AB-15``,
    ``AB-12 to AB-15`` (expanded), or a sentence with codes in it.

    >>> split_models("AB-12, AB-13 and AB-15")
    ['AB-12', 'AB-13', 'AB-15']
    >>> split_models("XY-7 to XY-9")
    ['XY-7', 'XY-8', 'XY-9']
    """
    if not text:
        return []
    text = unicodedata.normalize("NFKC", text).strip()
    whole = _expand_range(text)
    if whole is not None:
        return whole
    out: list[str] = []
    for part in _LIST_SPLIT.split(text):
        part = part.strip(" .。:：")
        if not part:
            continue
        expanded = _expand_range(part)
        if expanded is not None:
            out.extend(expanded)
        elif len(part.split()) > 3:
            # A phrase, not a code ("XY-100 printed on the label"): its codes only.
            out.extend(codes_in_text(part))
        else:
            out.append(part)
    return list(dict.fromkeys(out))


_CODE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]+(?:[\-./][A-Za-z0-9]+)*(?![A-Za-z0-9])")


def codes_in_text(text: str | None) -> list[str]:
    """Product-code-like words in a phrase (letters and digits mixed, or three digits
    or more that are not a year), as written."""
    if not text:
        return []
    text = unicodedata.normalize("NFKC", text)
    out = []
    for m in _CODE.finditer(text):
        tok = m.group(0).strip(".")
        key = normalise_model(tok)
        if key is None:
            continue
        if is_plausible_code(key) or (key.isdigit() and len(key) >= 3 and not _YEAR.fullmatch(key)):
            out.append(tok)
    return out


# "Model numbers include AB-12, AB-13 and AB-15." / "model number XY-100" / "型号：AB-12、AB-13"
_MODEL_PHRASE = re.compile(
    r"(?:\bmodel\s*(?:numbers?|nos?\.?|#|names?)?|\bitem\s*(?:numbers?|nos?\.?)|"
    r"\bstyle\s*(?:numbers?|nos?\.?)|型号(?:规格)?|货号|款号)"
    r"\s*(?:include[sd]?|including|are|is|were|was|[:：])?\s*(?P<list>.+?)(?:\.\s|。|；|;\s|\.$|$)",
    re.I | re.S,
)


def models_in_text(text: str | None) -> list[str]:
    """Codes a description or title gives as models.

    >>> models_in_text("This recall involves kettles. Model numbers include AB-12, AB-13 and AB-15.")
    ['AB-12', 'AB-13', 'AB-15']
    >>> models_in_text("涉及型号：MD-1520、MD-1521。")
    ['MD-1520', 'MD-1521']
    """
    if not text:
        return []
    out: list[str] = []
    for m in _MODEL_PHRASE.finditer(unicodedata.normalize("NFKC", text)):
        listed = m.group("list")
        for part in split_models(listed):
            out.extend(codes_in_text(part) if len(part.split()) > 1 else [part])
    return [c for c in dict.fromkeys(out) if _is_code_like(c)]


def _is_code_like(text: str) -> bool:
    key = normalise_model(text)
    return key is not None and (
        is_plausible_code(key) or (key.isdigit() and len(key) >= 3 and not _YEAR.fullmatch(key))
    )


# ---------------------------------------------------------------------------- titles

_TITLE_TOKEN = re.compile(r"[A-Z0-9]+(?:[\-./][A-Z0-9]+)*")
_PREFIX = re.compile(r"[A-Z]{1,5}")
_GLUED_DIGITS = re.compile(r"(.*[0-9].*[A-Z])[0-9]{3,}")
_CJK_AT = re.compile(r"[\u3400-\u9fff]")


def title_code_candidates(title: str | None) -> tuple[str, ...]:
    """Every key a title could be writing a model code as; unfiltered (a caller looks
    them up among known codes, then judges the hits with :func:`is_plausible_code`).

    Runs of letters and digits (``-``, ``.``, ``/`` inside: ``MD-53P13A``); a short
    letter prefix joined to the run after it when one space or dash parts them
    (``MD 53P13A``, ``TC Top365``); and a code glued to a figure of the Chinese word
    after it without that figure (``MD31K79A304不锈钢`` → ``MD31K79A``).
    """
    if not title:
        return ()
    text = unicodedata.normalize("NFKC", title).upper()
    toks = [(m.group(0), m.start(), m.end()) for m in _TITLE_TOKEN.finditer(text)]
    found: list[str] = []
    for i, (tok, _start, end) in enumerate(toks):
        key = tok.replace("-", "").replace(".", "")
        found.append(key)
        glued = _GLUED_DIGITS.fullmatch(key)
        if glued and _CJK_AT.match(text, end):
            found.append(glued.group(1))
        if i + 1 < len(toks) and _PREFIX.fullmatch(tok):
            nxt, nstart, _ = toks[i + 1]
            if text[end:nstart] in (" ", "-", "_") and any(c.isdigit() for c in nxt):
                found.append(key + nxt.replace("-", "").replace(".", ""))
    return tuple(dict.fromkeys(found))


def title_model_keys(title: str | None) -> tuple[str, ...]:
    """Model keys written in a listing title (plausible codes only).

    >>> title_model_keys("美度电热水壶 md 53p13a 1.7L 家用")
    ('MD53P13A', '53P13A')
    >>> title_model_keys("美度电水壶MD31K79A304不锈钢")
    ('MD31K79A304', 'MD31K79A')
    """
    return tuple(k for k in title_code_candidates(title) if is_plausible_code(k))


# --------------------------------------------------------------------------- barcodes

_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9][0-9 \-]{6,18}[0-9](?![0-9])")


def gtins_in_text(text: str | None) -> list[str]:
    """Valid barcodes (GTIN-8/12/13/14 with a right check digit) in free text, as
    13-digit keys (:func:`transforms.resolve.keys.normalise_gtin`).

    >>> gtins_in_text("Batch 2024-05; Barcode 6932978520447")
    ['6932978520447']
    """
    if not text:
        return []
    out = []
    for m in _DIGIT_RUN.finditer(unicodedata.normalize("NFKC", text)):
        g = normalise_gtin(m.group(0))
        if g is not None:
            out.append(g)
    return list(dict.fromkeys(out))


# ---------------------------------------------------------------------- brand spelling

# Look-alike characters that counterfeit listings swap into a brand: MEID0O, 5KYSTEED.
_CONFUSABLE = str.maketrans({"0": "o", "1": "l", "i": "l", "5": "s", "4": "a", "3": "e", "8": "b"})


def fold_confusables(key: str) -> str:
    """A Latin brand key (lower case, letters and digits) with look-alikes made equal."""
    return key.translate(_CONFUSABLE)


NEAR_MIN_LENGTH = 5
"""Brand names shorter than this are never matched by edit distance (``MI`` ≠ ``MO``)."""


def near_spelling(a: str, b: str) -> bool:
    """Whether two Latin brand keys differ only as a misspelling does.

    Equal after folding look-alikes (``meid0o`` / ``meidoo``), one edit apart when the
    longer has :data:`NEAR_MIN_LENGTH` characters or more (``mfidoo`` / ``meidoo``), or
    one a prefix of the other of four characters or more (``anker`` /
    ``ankerinnovations``).

    >>> near_spelling("meid0o", "meidoo"), near_spelling("kamgtoo", "kangtoo")
    (True, True)
    >>> near_spelling("mi", "mo"), near_spelling("meidu", "meidoo")
    (False, False)
    """
    if a == b:
        return True
    fa, fb = fold_confusables(a), fold_confusables(b)
    if fa == fb and len(fa) >= 3:
        return True
    if (
        max(len(fa), len(fb)) >= NEAR_MIN_LENGTH
        and Levenshtein.distance(fa, fb, score_cutoff=1) <= 1
    ):
        return True
    short, long_ = sorted((fa, fb), key=len)
    return len(short) >= 4 and long_.startswith(short)
