"""Matching keys for product identity: brands, model codes, GTINs and titles.

Listings of one physical product are written differently by every shop: the brand as
``MEIDOO/美度``, ``美度（MEIDOO）``, ``meidoo`` or ``美度官方旗舰店``; the model as
``MD-53P13A``, ``md53p13a``, ``MD 53P13A``, ``ＭＤ－５３Ｐ１３Ａ`` or ``MD-53P13A型``; the
barcode with spaces, or with a wrong check digit. The functions here reduce each of
these to a key that is equal exactly when the spellings name the same thing, and they
are pure (no learned state), so that keys computed in different processes or years
agree. What is learned from the data (that ``meidoo`` and ``美度`` are one brand) is
kept by :class:`~transforms.resolve.resolver.ProductResolver`, not here.

The key functions are idempotent: a key passed through its own function comes back
unchanged, which lets keys stored in the warehouse be normalised again safely.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from crawlers.extract.values import gtin_check_ok
from transforms.normalise import clean_text, to_simplified

__all__ = [
    "brand_display_parts",
    "brand_parts",
    "is_cjk_key",
    "is_strong_model",
    "model_display",
    "normalise_brand",
    "normalise_gtin",
    "normalise_model",
    "title_codes",
    "title_key",
]

_CACHE = 1 << 16
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
# Trade-mark signs go before NFKC, which would turn ™ into the letters "TM".
_MARKS = str.maketrans("", "", "™®©℠")


def _plain(text: str) -> str | None:
    """:func:`clean_text` then :func:`to_simplified`, with trade-mark signs dropped first.

    Plain ASCII without markup (most model codes and barcodes) only needs its spaces
    collapsed, which is what the full cleaning would do to it, at a fraction of the cost.
    """
    text = text.translate(_MARKS)
    if text.isascii() and text.isprintable() and "<" not in text and "&" not in text:
        return " ".join(text.split()) or None
    cleaned = clean_text(to_simplified(text))
    # NFKC can make characters that the Traditional table converts (full-width forms do
    # not, but compatibility ideographs do), so convert once more.
    return to_simplified(cleaned) if cleaned is not None else None


# --------------------------------------------------------------------------- brands

# Words shops put around a brand name that are not part of it. Stripped repeatedly from
# both ends of the Chinese part, longest first, so 美度官方旗舰店 and 美度品牌 become 美度.
_CJK_NOISE = tuple(
    sorted(
        (
            "官方旗舰店",
            "官方直营店",
            "品牌旗舰店",
            "旗舰店",
            "专卖店",
            "专营店",
            "直营店",
            "官方店",
            "自营店",
            "官方",
            "自营",
            "正品",
            "品牌",
            "授权",
            "旗舰",
        ),
        key=len,
        reverse=True,
    )
)
# Whole Latin words that are shop labels rather than brand names.
_LATIN_NOISE = frozenset(
    {"official", "store", "flagship", "shop", "brand", "online", "authorized", "authorised"}
)
# Values that say "no brand".
_NO_BRAND = frozenset(
    {
        "无",
        "无品牌",
        "暂无",
        "其他",
        "其它",
        "不详",
        "未知",
        "三无",
        "杂牌",
        "通用",
        "none",
        "na",
        "n/a",
        "null",
        "other",
        "others",
        "unknown",
        "nobrand",
        "generic",
        "oem",
    }
)
# Separators between a brand's names: MEIDOO/美度, 美度|MEIDOO, 美度（MEIDOO）, 美度、MEIDOO.
_BRAND_SPLIT = re.compile(r"[/|\\、,;()\[\]{}<>【】「」『』《》〈〉]+")
# A run of Chinese characters, with digits glued to it (361度, 小米10) and the middle dot
# of transliterated names; what lies between such runs is Latin.
_CJK_RUN = re.compile(f"[0-9]*(?:[{_CJK}·]+[0-9]*)+")
_LATIN_KEEP = re.compile(r"[^0-9a-z]+")
_HAS_LATIN_LETTER = re.compile(r"[A-Za-z]")


def _fold_latin(s: str) -> str:
    """Case-fold and drop accents (Nestlé → nestle), then keep letters and digits only."""
    s = unicodedata.normalize("NFKD", s.casefold())
    s = "".join(c for c in s if not unicodedata.combining(c))
    return _LATIN_KEEP.sub("", s)


def _strip_cjk_noise(s: str) -> str:
    changed = True
    while changed and s:
        changed = False
        for word in _CJK_NOISE:
            if s.endswith(word) and len(s) > len(word):
                s, changed = s[: -len(word)], True
            elif s.startswith(word) and len(s) > len(word):
                s, changed = s[len(word) :], True
            elif s == word:
                return ""
    return s


def _script_runs(part: str) -> list[str]:
    runs: list[str] = []
    pos = 0
    for m in _CJK_RUN.finditer(part):
        runs.extend((part[pos : m.start()], m.group(0)))
        pos = m.end()
    runs.append(part[pos:])
    return runs


def _brand_runs(text: str | None) -> tuple[tuple[str, str], ...]:
    """(key, display) for each name in a brand text, in order of appearance."""
    if text is None:
        return ()
    cleaned = _plain(text)
    if cleaned is None:
        return ()
    if "".join(cleaned.casefold().split()) in _NO_BRAND:
        return ()
    out: list[tuple[str, str]] = []
    for part in _BRAND_SPLIT.split(cleaned):
        for run in _script_runs(part):
            run = run.strip(" .-_&+'\"·*#~:")
            if not run:
                continue
            if _CJK_CHAR.search(run):
                key = _strip_cjk_noise(run.replace("·", ""))
                display = key
            elif _HAS_LATIN_LETTER.search(run) or run.isdigit():
                words = [w for w in run.split() if _fold_latin(w) not in _LATIN_NOISE]
                # A year or a size written beside the name (MEIDOO 2026) is not part of it.
                if any(_HAS_LATIN_LETTER.search(w) for w in words):
                    words = [w for w in words if not _fold_latin(w).isdigit()]
                key = _fold_latin("".join(words))
                display = " ".join(words)
            else:
                continue
            if key and key not in _NO_BRAND:
                out.append((key, display))
    # A digit-only run next to a name is part of it only when glued (361度); on its own
    # (a year, a size) it is not a brand.
    if len(out) > 1:
        out = [(k, d) for k, d in out if not k.isdigit()]
    seen: set[str] = set()
    unique = []
    for key, display in out:
        if key not in seen:
            seen.add(key)
            unique.append((key, display))
    return tuple(unique)


@lru_cache(maxsize=_CACHE)
def _brand_runs_cached(text: str) -> tuple[tuple[str, str], ...]:
    return _brand_runs(text)


def brand_parts(text: str | None) -> tuple[str, ...]:
    """Every name a brand text gives, as keys: ``MEIDOO/美度`` → ``('meidoo', '美度')``.

    Names written together in one brand field are aliases of one brand; the resolver
    learns them from here. Order follows the text; duplicates are dropped.
    """
    if text is None:
        return ()
    return tuple(k for k, _ in _brand_runs_cached(text))


def brand_display_parts(text: str | None) -> tuple[tuple[str, str], ...]:
    """``(key, display)`` per name: the key and the name as written, cleaned (``MEIDOO``)."""
    if text is None:
        return ()
    return _brand_runs_cached(text)


def is_cjk_key(key: str) -> bool:
    """Whether a brand key is a Chinese name (the anchor of a brand) rather than Latin."""
    return _CJK_CHAR.search(key) is not None


def normalise_brand(text: str | None) -> str | None:
    """A canonical brand key for one brand text, or ``None`` when it names no brand.

    The text is cleaned (HTML, NFKC, full-width forms), converted to Simplified Chinese,
    split into its names (``LATIN/中文``, ``中文（LATIN）``, ``LATIN 中文``), and stripped
    of shop words (旗舰店, 官方, 品牌, official store). Latin names are case-folded with
    accents and punctuation dropped (``Dr. Lebo`` → ``drlebo``).

    When a text gives both a Chinese and a Latin name, the Chinese name is the key: in
    this market it is the registered name, and Latin aliases vary (pinyin, English,
    misspelt on counterfeits). A Latin-only text gets its Latin key; mapping that to the
    Chinese name needs the aliases a resolver has learned
    (:meth:`ProductResolver.canonical_brand`).

    Examples
    --------
    >>> normalise_brand("MEIDOO/美度")
    '美度'
    >>> normalise_brand("美度官方旗舰店")
    '美度'
    >>> normalise_brand("ＭＥＩＤＯＯ")
    'meidoo'
    >>> normalise_brand("無品牌") is None
    True
    """
    parts = brand_parts(text)
    if not parts:
        return None
    for key in parts:
        if is_cjk_key(key):
            return key
    return parts[0]


# --------------------------------------------------------------------------- models

_MODEL_LABEL = re.compile(
    r"^(?:(?:(?:产品|规格|商品)?型号|货号|款号|MODEL\s*(?:NO\.?|NUMBER)|ART\.?\s*NO\.?)\s*[:#]?"
    r"|MODEL\s*[:#])\s*",
    re.I,
)
# A bracketed remark in Chinese: MD-53P13A（白色）, MD-53P13A【升级款】.
_CJK_REMARK = re.compile(f"[(\\[【][^)\\]】]*[{_CJK}][^)\\]】]*[)\\]】]")
_CJK_EDGES = re.compile(f"^[{_CJK}\\s:]+|[{_CJK}\\s:]+$")
_MODEL_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−_.·・]+")
_NO_MODEL = frozenset(
    {
        "无",
        "暂无",
        "其他",
        "其它",
        "不详",
        "未知",
        "通用",
        "见详情",
        "详见详情页",
        "详情见页面",
        "见描述",
        "均码",
        "NA",
        "N/A",
        "NONE",
        "NULL",
        "OTHER",
        "UNKNOWN",
        "/",
        "\\",
        "*",
        "?",
        "0",
    }
)


def _model_once(s: str) -> str:
    s = _MODEL_LABEL.sub("", s)
    s = _CJK_REMARK.sub(" ", s)
    core = _CJK_EDGES.sub("", s)
    # A model written only in Chinese (经典款) keeps its characters.
    return _MODEL_SEPARATORS.sub("", core or s)


@lru_cache(maxsize=_CACHE)
def _model_forms(text: str) -> tuple[str | None, str | None]:
    """(key, display) of a model text; one cleaning for both."""
    cleaned = _plain(text)
    if cleaned is None:
        return None, None
    upper = cleaned.upper()
    if upper in _NO_MODEL:
        return None, None
    s = upper
    for _ in range(5):
        # Removing separators can leave a combining mark next to a letter: compose again.
        nxt = unicodedata.normalize("NFKC", _model_once(s))
        if nxt == s:
            break
        s = nxt
    if not s or s in _NO_MODEL or not any(c.isalnum() for c in s):
        return None, None
    shown = _CJK_REMARK.sub(" ", _MODEL_LABEL.sub("", upper))
    core = _CJK_EDGES.sub("", shown).strip()
    return s, " ".join((core or shown).split()) or None


def normalise_model(text: str | None) -> str | None:
    """A canonical model code, or ``None`` when the text holds none.

    Upper-case; full-width forms folded; spaces, hyphens, dashes, dots and underscores
    removed; a leading label (型号：, Model No.) and Chinese words at either end
    (``MD-53P13A型``, ``新款MD-53P13A``, ``MD-53P13A（白色）``) dropped.

    Kept on purpose: every letter and digit of the code, and other punctuation (``/``,
    ``+``, brackets with Latin content). ``MD-53P13A`` and ``MD-53P13`` are different
    models of one brand, and a stray colour code may be a different variant, so the key
    never guesses: two spellings meet only when they differ in case, width or
    separators.

    Examples
    --------
    >>> normalise_model("md 53p13a型")
    'MD53P13A'
    >>> normalise_model("ＭＤ－５３Ｐ１３Ａ")
    'MD53P13A'
    >>> normalise_model("型号：暂无") is None
    True
    """
    if text is None:
        return None
    return _model_forms(text)[0]


def model_display(text: str | None) -> str | None:
    """The model as it should be shown: cleaned, upper-case, label and Chinese ends dropped.

    ``md-53p13a型`` → ``MD-53P13A``; separators are kept (unlike the key).
    """
    if text is None:
        return None
    return _model_forms(text)[1]


# A figure with a unit (1500W, 20000MAH, 1.7L as 17L) is a specification, not a code.
_QUANTITY = re.compile(r"[0-9]+(?:W|KW|V|L|ML|MAH|WH|MM|CM|M|G|KG|HZ|A|P|K|英寸|寸|升|毫安)")


def is_strong_model(key: str | None) -> bool:
    """Whether a model key is specific enough to identify a product without the brand.

    Codes such as ``MD53P13A`` (letters and digits, five or more characters) are
    practically unique; ``X1``, ``PRO`` or ``2020`` are shared by many brands. Only
    strong codes may join listings whose brand spellings cannot be reconciled (pinyin
    against an English alias, a misspelt counterfeit brand). A figure with a unit
    (``1500W``, ``20000MAH``) is never strong.
    """
    if key is None or len(key) < 5 or _QUANTITY.fullmatch(key):
        return False
    return any(c.isdigit() for c in key) and any(c.isalpha() and c.isascii() for c in key)


_CODE_TOKEN = re.compile(r"[A-Z0-9][A-Z0-9\-.]*[A-Z0-9]")
_LETTER_PREFIX = re.compile(r"[A-Z]{1,4}")
_GLUED_DIGITS = re.compile(r"(.*[0-9].*[A-Z])([0-9]{3,})")


def title_codes(title: str | None) -> tuple[str, ...]:
    """Model-like codes written in a title, as model keys, strong codes only.

    A title often names the model (``美度电水壶 MD-53P13A 家用``) even when the page has
    no model field. Codes split by one space after a short letter prefix (``MD 53P13A``)
    are joined as well. Codes are read in runs of Latin letters and digits, so a model
    glued to Chinese text (``电水壶MD53P13A家用``) is found too.
    """
    if not title:
        return ()
    cleaned = _plain(title)
    if cleaned is None:
        return ()
    text = cleaned.upper()
    tokens = [(m.group(0), m.start(), m.end()) for m in _CODE_TOKEN.finditer(text)]
    found: list[str] = []
    for i, (tok, _start, end) in enumerate(tokens):
        key = normalise_model(tok)
        if is_strong_model(key):
            found.append(key)  # type: ignore[arg-type]
            # A code glued to a figure of the Chinese word after it (MD31K79A304不锈钢):
            # also the code without the trailing digits, when it ends in a letter.
            glued = _GLUED_DIGITS.fullmatch(key)  # type: ignore[arg-type]
            if glued and _CJK_CHAR.match(text, end) and is_strong_model(glued.group(1)):
                found.append(glued.group(1))
        if i + 1 < len(tokens) and _LETTER_PREFIX.fullmatch(tok):
            nxt, nstart, _ = tokens[i + 1]
            if text[end:nstart] == " " and nxt[0].isdigit():
                joined = normalise_model(tok + nxt)
                if is_strong_model(joined):
                    found.append(joined)  # type: ignore[arg-type]
    return tuple(dict.fromkeys(found))


# --------------------------------------------------------------------------- GTIN

_GTIN_SEPARATORS = re.compile(r"[\s\-]+")
# GS1 prefixes that are not unique articles: restricted circulation (2, 02, 04),
# coupons (05, 98, 99).
_RESTRICTED = ("2", "02", "04", "05", "98", "99")


def normalise_gtin(text: str | None) -> str | None:
    """A valid GTIN as 13 digits (EAN-13), or ``None``.

    Spaces and hyphens are removed and full-width digits folded. A 12-digit UPC-A gets
    its leading zero and a 14-digit GTIN-14 with indicator ``0`` loses it, so the same
    article has one key. Rejected: a wrong check digit (a typo, or a made-up number),
    one digit repeated, restricted-circulation numbers (prefixes 2, 02, 04: given out
    in-store or inside a company, not unique across shops) and coupon numbers.

    Examples
    --------
    >>> normalise_gtin("6910843372643")
    '6910843372643'
    >>> normalise_gtin("6910843372644") is None
    True
    """
    if text is None:
        return None
    cleaned = _plain(str(text))
    if cleaned is None:
        return None
    digits = _GTIN_SEPARATORS.sub("", cleaned)
    if not digits.isascii() or not digits.isdigit():
        return None
    if len(digits) == 12:
        digits = "0" + digits
    elif len(digits) == 14 and digits[0] == "0":
        digits = digits[1:]
    if len(digits) != 13 or len(set(digits)) == 1 or digits.startswith(_RESTRICTED):
        return None
    return digits if gtin_check_ok(digits) else None


# --------------------------------------------------------------------------- titles

# Marketing words that say nothing about which product it is; removed before comparing
# titles so that 正品包邮 on one shop and 顺丰速发 on another do not count as difference.
_TITLE_NOISE = tuple(
    sorted(
        (
            "官方正品",
            "正品",
            "包邮",
            "顺丰包邮",
            "新款",
            "热卖",
            "现货速发",
            "现货",
            "速发",
            "厂家直销",
            "官方授权",
            "授权",
            "送礼",
            "品质保障",
            "旗舰款",
            "旗舰店",
            "限时特惠",
            "特惠",
            "爆款",
            "七天无理由",
            "实体店同款",
            "清仓",
            "特价",
            "假一赔十",
            "专柜正品",
            "原装正品",
            "工厂尾单",
            "官方",
            "促销",
            "秒杀",
            "包退换",
        ),
        key=len,
        reverse=True,
    )
)
_TITLE_NOISE_RE = re.compile("|".join(map(re.escape, _TITLE_NOISE)) + r"|20\d\d年?")
_TITLE_DROP = re.compile(f"[^{_CJK}0-9a-z]+")


def _drop_code(m: re.Match[str]) -> str:
    return "" if is_strong_model(normalise_model(m.group(0))) else m.group(0)


def title_key(title: str | None, remove: tuple[str, ...] = ()) -> str:
    """A title reduced for fuzzy comparison.

    Cleaned, Simplified, case-folded; marketing words, model codes, the given words
    (the listing's own brand names, which shops spell differently) and everything that
    is not a Chinese character, letter or digit removed.
    """
    if not title:
        return ""
    cleaned = _plain(title)
    if cleaned is None:
        return ""
    s = _CODE_TOKEN.sub(_drop_code, cleaned.upper()).casefold()
    s = _TITLE_NOISE_RE.sub("", s)
    s = _TITLE_DROP.sub("", s)
    for word in sorted(remove, key=lambda w: (-len(w), w)):
        if len(word) >= 2:
            s = s.replace(word, "")
    return s
