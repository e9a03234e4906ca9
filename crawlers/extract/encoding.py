"""Decode the bytes of an HTML page the way a careful browser would, and a bit more.

Chinese shops still serve GBK, GB2312 and Big5 pages, often with a charset that is
declared only in a ``<meta>`` tag, declared wrongly in the HTTP header, or not at
all. :func:`decode_html` tries, in order:

1. a byte-order mark (UTF-8, UTF-16);
2. the ``charset`` of the HTTP ``Content-Type`` header;
3. ``<meta charset>`` or ``<meta http-equiv="Content-Type" content="...charset=...">``
   in the first few kilobytes;
4. sniffing: valid UTF-8 is UTF-8; otherwise GB18030 and Big5 are tried and the one
   whose text looks like Chinese wins.

A declared encoding is only believed if the bytes decode under it without error,
so a header that says ``utf-8`` over GBK bytes is caught. GBK and GB2312 labels are
decoded as GB18030, their superset, so characters outside GB2312 survive. Nothing
here raises on bad bytes: the worst case is a decode with replacement characters,
reported by an encoding name ending in ``+replace``.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["REPLACED_SUFFIX", "decode_html", "normalise_label"]

REPLACED_SUFFIX = "+replace"
_PRESCAN_BYTES = 4096
_SAMPLE_CHARS = 20000
_EVIDENCE = 8  # CJK characters needed before overruling a declared charset

_CHARSET_IN_HEADER = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.I)
_CHARSET_IN_META = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.I | re.S
)

# WHATWG labels that matter for Chinese pages, mapped to the codec used to decode.
_ALIASES = {
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "gb_2312": "gb18030",
    "gb_2312-80": "gb18030",
    "csgb2312": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "chinese": "gb18030",
    "iso-ir-58": "gb18030",
    "euc-cn": "gb18030",
    "gb18030": "gb18030",
    "big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "csbig5": "big5hkscs",
    "cp950": "big5hkscs",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    # WHATWG: these labels mean windows-1252 in practice.
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
}
# Names reported to callers (codec names are an implementation detail).
_REPORTED = {"gb18030": "gb18030", "big5hkscs": "big5", "utf-8": "utf-8", "cp1252": "windows-1252"}

# Frequent characters of Chinese text, in simplified and traditional forms. Correctly
# decoded text is full of them; GBK read as Big5 (or the reverse) almost never is.
_COMMON_HAN = frozenset(
    "的一是不了人我在有他这中大来上个国到说们为子和你地出道也时年得就那要下以生会自着去之"
    "过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前"
    "所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声"
    "全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使"
    "教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑"
    "性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果"
    "亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让"
    "认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留"
    "红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息"
    "写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则"
    "首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坏兴切价格购买货店铺"
    "评价质量款式颜色尺码包邮正号码规型牌厂送退换客服务优惠券销售全新官方旗舰"
    "這個來國們說時為會對後還發過與實當麼點動現經種兩問長東開間見話聽頭條學"
    "電機體關無樣萬進場應總數給業視產車點購買賣貨價質評論運費優惠專門號碼類"
)


def normalise_label(label: str) -> str | None:
    """The Python codec for a charset label, or ``None`` if it is unknown.

    GBK and GB2312 map to GB18030 and Big5 to Big5-HKSCS (their supersets), so a
    page labelled with the narrower set still decodes when it strays outside it.

    Examples
    --------
    >>> normalise_label("GB2312"), normalise_label("utf8"), normalise_label("nope")
    ('gb18030', 'utf-8', None)
    """
    key = label.strip().strip("\"'").lower()
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        name = codecs.lookup(key).name
    except LookupError:
        return None
    return _ALIASES.get(name, name)


def _reported(codec: str) -> str:
    return _REPORTED.get(codec, codec)


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _CHARSET_IN_HEADER.search(content_type)
    return normalise_label(m.group(1)) if m else None


def _meta_charset(body: bytes) -> str | None:
    m = _CHARSET_IN_META.search(body[:_PRESCAN_BYTES])
    if not m:
        return None
    codec = normalise_label(m.group(1).decode("ascii", "replace"))
    # A page that is UTF-16 in bytes cannot carry an ASCII meta tag; one that says so lies.
    if codec and codec.startswith("utf-16"):
        return "utf-8"
    return codec


def _han_counts(text: str) -> tuple[int, int]:
    """(CJK characters, common Chinese characters) in ``text``."""
    cjk = common = 0
    for ch in text:
        if ch >= "\u2e80":
            cjk += 1
            if ch in _COMMON_HAN:
                common += 1
    return cjk, common


def _han_score(text: str) -> float:
    """Share of the CJK characters of ``text`` that are common ones (0 when none)."""
    cjk, common = _han_counts(text)
    return common / cjk if cjk else 0.0


def _looks_utf8(text: str) -> bool:
    """True when UTF-8 decoding produced real multibyte text, not a lucky accident."""
    return sum(1 for ch in text if ch > "\x7f") >= 3


def _sniff(body: bytes) -> tuple[str, str] | None:
    text = _strict(body, "utf-8")
    if text is not None:
        return text, "utf-8"
    best: tuple[float, str, str] | None = None
    for codec in ("gb18030", "big5hkscs"):
        decoded = _strict(body, codec)
        if decoded is None:
            continue
        score = _han_score(decoded[:_SAMPLE_CHARS])
        if best is None or score > best[0]:
            best = (score, decoded, codec)
    if best is not None:
        return best[1], _reported(best[2])
    return None


def _lossy(body: bytes, preferred: list[str]) -> tuple[str, str]:
    """Decode with replacement under whichever candidate loses the fewest characters."""
    best: tuple[int, int, str, str] | None = None
    candidates = list(dict.fromkeys([*preferred, "utf-8", "gb18030", "big5hkscs"]))
    for rank, codec in enumerate(candidates):
        try:
            text = body.decode(codec, errors="replace")
        except LookupError:
            continue
        bad = text.count("\ufffd")
        if best is None or (bad, rank) < (best[0], best[1]):
            best = (bad, rank, text, codec)
    assert best is not None
    return best[2], _reported(best[3]) + REPLACED_SUFFIX


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode an HTML page to text.

    Parameters
    ----------
    body
        The raw bytes as fetched (already un-gzipped).
    content_type
        The HTTP ``Content-Type`` header, if known.

    Returns
    -------
    tuple of (str, str)
        The text (without a byte-order mark) and the name of the encoding used:
        ``utf-8``, ``gb18030`` (for GBK, GB2312 and GB18030 pages), ``big5``,
        ``utf-16-le`` …; a name ending in ``+replace`` means some bytes were invalid
        under every candidate and were replaced by U+FFFD.

    Examples
    --------
    >>> decode_html("价格".encode("gbk"), "text/html; charset=utf-8")
    ('价格', 'gb18030')
    """
    if body.startswith(codecs.BOM_UTF8):
        text = _strict(body[3:], "utf-8")
        return (text, "utf-8") if text is not None else _lossy(body[3:], ["utf-8"])
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if body.startswith(bom):
            text = _strict(body[2:], codec)
            return (text, codec) if text is not None else _lossy(body[2:], [codec])

    declared = [c for c in (_header_charset(content_type), _meta_charset(body)) if c]
    for codec in dict.fromkeys(declared):
        if codec == "cp1252":
            # Servers label pages ISO-8859-1 by default; for CJK bytes that is never true.
            continue
        text = _strict(body, codec)
        if text is None:
            continue
        return _second_opinion(body, text, codec)
    sniffed = _sniff(body)
    if sniffed is not None:
        if "cp1252" in declared and sniffed[1] != "utf-8" and _han_score(sniffed[0]) < 0.3:
            return body.decode("cp1252", errors="replace"), "windows-1252"
        return sniffed
    return _lossy(body, declared)


def _second_opinion(body: bytes, text: str, codec: str) -> tuple[str, str]:
    """Check a legacy declaration that decoded cleanly against the likelier reading."""
    if codec == "utf-8":
        return text, "utf-8"
    # A legacy label over bytes that are valid, non-trivial UTF-8 is a stale template:
    # GBK or Big5 text is essentially never valid UTF-8 by chance.
    as_utf8 = _strict(body, "utf-8")
    if as_utf8 is not None and _looks_utf8(as_utf8):
        return as_utf8, "utf-8"
    other = {"gb18030": "big5hkscs", "big5hkscs": "gb18030"}.get(codec)
    if other is not None:
        # Big5 bytes mostly decode as GBK (and the reverse) without error, as nonsense.
        # Overrule the declaration only on plenty of evidence.
        cjk, common = _han_counts(text[:_SAMPLE_CHARS])
        if cjk >= _EVIDENCE and common < 0.25 * cjk:
            alt = _strict(body, other)
            if alt is not None:
                alt_cjk, alt_common = _han_counts(alt[:_SAMPLE_CHARS])
                if alt_cjk >= _EVIDENCE and alt_common >= 0.5 * alt_cjk:
                    return alt, _reported(other)
    return text, _reported(codec)
