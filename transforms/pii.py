"""Personal data: pseudonyms, display masks and free-text scrubbing.

Complaints carry complainants' names, phones, addresses, ID-card numbers and emails;
review bodies and complaint descriptions sometimes carry phone numbers, WeChat or QQ
ids, bank cards and addresses in free text. None of it may leave staging in clear.
This module gives the transforms three tools and the tests one detector:

``pseudonymise(value, kind=..., salt=...)``
    A stable keyed hash (HMAC-SHA256 over the normalised value), ``kind:`` + 32 hex
    characters, so one person links across records without being readable. The salt
    is a secret from settings (``ecqm.settings.load().pii_salt()``, i.e.
    ``ECQM_PII_SALT``); an empty salt is an error.

``mask_name``, ``mask_phone``, ``mask_id_number``, ``mask_email``, ``mask_address``
    Display masks for staff: 张**, 138****5678, 0571-****5678,
    110105********1234, z***@example.com, 浙江省杭州市西湖区****. Every mask is
    idempotent (masking a masked value changes nothing).

``scrub_text(text, salt=...)``
    Replaces personal data in free text by placeholders (``[手机号]``, ``[电话]``,
    ``[身份证号]``, ``[邮箱]``, ``[微信]``, ``[QQ]``, ``[银行卡]``, ``[姓名]``,
    ``[地址]``) and counts them by kind; :class:`ScrubResult` also carries a
    pseudonym of every value it removed, so records can still be linked.

``assert_no_pii(value)``
    Kinds of raw personal data (mobile numbers, valid ID numbers, emails) found in a
    string or any nested JSON value: what a test runs over whole tables.

How product information is kept apart from personal data
---------------------------------------------------------
* Text is matched on an index-preserving copy in which full-width forms
  (１３８, ＠, －, （）) and the ideographic space are mapped to ASCII one character
  for one, so ``１３８１２３４５６７８`` is found and replacements land on the original.
* Digit runs are matched whole (never inside a longer run), so 19-digit order numbers,
  GTINs, CCC numbers and timestamps never yield a phone or an ID number.
* An 18-digit ID number must have a valid region code, a real birth date and a valid
  ISO 7064 MOD 11-2 check digit; 15-digit ones a valid region code and birth date. An
  order number with a wrong check digit is therefore left alone.
* A number right after a product or order cue (订单号, 订单, 单号, 运单号, 编号,
  证书编号, CCC, 3C, 认证, 条码, 批号, 序列号, SN, 型号, 货号, No.) is product
  information and is not masked (an e-mail address always is); nor are hex digests
  and pseudonyms.
* Bank cards: 16–19 digits (contiguous or in groups of four) with a valid Luhn check.
  CCC certificate numbers are 16 digits too and pass Luhn one time in ten, so a 16-digit
  number that reads as a certificate number — a year 1990–2099 then the issuing body
  and product codes — is kept as a certificate number unless a bank cue (银行卡, 卡号,
  账号, 信用卡, 转账 ...) stands just before it. No card scheme issues numbers that
  begin 19 or 20 (Mastercard's 2-series starts at 2221), so no real card is lost that
  way. Any other Luhn-valid 16–19 digit number without a product cue is masked as a
  card: a bare order number that happens to pass Luhn loses its digits, which costs
  less than leaking a card.
* Phone numbers need the whole mobile pattern ``1[3-9]`` + 9 digits (spaces, dashes
  or dots allowed between digits, optional +86 / 0086 / (+86) prefix); landlines need
  a real area code (010, 02x, or a four-digit 03xx–09xx code) and a 7–8 digit number
  not starting with 0 or 1. Prices, dates, capacities (20000mAh) and standard numbers
  (GB 4706.1-2005) match neither.
* Addresses: the province / city / district part is kept (it names the jurisdiction,
  not the person); the street, house number, estate, building, unit and room are
  replaced. A street needs a 路/街/大道/巷/弄/胡同 name followed by a 号 number, or a
  building/unit/room sequence (3栋2单元501室); "5号电池" or "3号发货" are left alone.
* Names are found only after an explicit cue with a colon (姓名：, 联系人：, 收货人：,
  投诉人：...).
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

__all__ = [
    "KINDS",
    "PLACEHOLDERS",
    "ScrubResult",
    "assert_no_pii",
    "id_check_digit",
    "is_valid_id_number",
    "luhn_valid",
    "mask_address",
    "mask_email",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "normalise",
    "pseudonymise",
    "scrub_text",
]

# Kinds accepted by pseudonymise(); the prefix of every pseudonym.
KINDS = frozenset({"name", "phone", "email", "id_number", "address", "wechat", "qq", "bank_card"})

# What scrub_text() puts in place of each kind it finds.
PLACEHOLDERS: Mapping[str, str] = {
    "mobile": "[手机号]",
    "landline": "[电话]",
    "id_number": "[身份证号]",
    "email": "[邮箱]",
    "wechat": "[微信]",
    "qq": "[QQ]",
    "bank_card": "[银行卡]",
    "name": "[姓名]",
    "address": "[地址]",
}

# The pseudonym kind of each scrubbed kind.
_PSEUDONYM_KIND = {
    "mobile": "phone",
    "landline": "phone",
    "id_number": "id_number",
    "email": "email",
    "wechat": "wechat",
    "qq": "qq",
    "bank_card": "bank_card",
    "name": "name",
    "address": "address",
}

_PSEUDONYM_HEX = 32
_MAX_SWEEPS = 8

# ----------------------------------------------------------------------------- normalising


def _fold_table() -> dict[int, str]:
    """One character for one: full-width ASCII, ideographic space and dashes to ASCII."""
    table = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}
    table[0x3000] = " "
    for cp in (0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xFE58, 0xFE63):
        table[cp] = "-"
    table[0x00A0] = " "
    return table


_FOLD = _fold_table()


_FOLDABLE = re.compile("[" + "".join(map(chr, sorted(_FOLD))) + "]")


def _fold(text: str) -> str:
    if text.isascii() or not _FOLDABLE.search(text):
        return text  # nothing to fold (the table maps no ASCII character)
    return text.translate(_FOLD)


_CJK = "\u4e00-\u9fff"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")


def _squeeze(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = " ".join(text.split())
    return _SPACE_BETWEEN_CJK.sub("", text)


def _phone_digits(value: str) -> str:
    s = unicodedata.normalize("NFKC", value).strip()
    digits = re.sub(r"[^0-9]", "", s)
    international = False
    if digits.startswith("0086") and len(digits) > 12:
        digits, international = digits[4:], True
    elif digits.startswith("86") and (s.startswith(("+", "(+", "(86")) or len(digits) == 13):
        digits, international = digits[2:], True
    if international and digits and not digits.startswith(("0", "1")):
        digits = "0" + digits  # +86 571 8812 3456 is 0571-88123456
    return digits


def normalise(value: str, *, kind: str) -> str:
    """The form of ``value`` that :func:`pseudonymise` hashes.

    phone: digits only, +86 / 0086 removed; email: lower-cased; id_number: no spaces,
    upper-case X; name and address: NFKC, whitespace collapsed (and removed between
    Chinese characters); wechat: lower-cased; qq and bank_card: digits only.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {sorted(KINDS)}")
    if not isinstance(value, str):
        raise TypeError(f"value must be str, not {type(value).__name__}")
    if kind == "phone":
        return _phone_digits(value)
    if kind in ("qq", "bank_card"):
        return re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", value))
    squeezed = _squeeze(value)
    if kind == "email" or kind == "wechat":
        return squeezed.replace(" ", "").lower()
    if kind == "id_number":
        return squeezed.replace(" ", "").upper()
    return squeezed


def _check_salt(salt: bytes) -> None:
    if not isinstance(salt, bytes | bytearray):
        raise TypeError(f"salt must be bytes, not {type(salt).__name__}")
    if not salt:
        raise ValueError("the PII salt is empty; set ECQM_PII_SALT")


def pseudonymise(value: str, *, kind: str, salt: bytes) -> str:
    """``kind:`` + the first 32 hex characters of HMAC-SHA256(salt, kind, normalised value).

    The same person (same normalised value) gets the same pseudonym under one salt;
    another salt or another kind gives an unrelated one. ``salt`` comes from settings
    (``ECQM_PII_SALT``), never from code; empty salts and values that normalise to
    nothing are errors (an empty value would link every unknown person together).
    """
    _check_salt(salt)
    norm = normalise(value, kind=kind)
    if not norm:
        raise ValueError(f"nothing to pseudonymise in {kind} value")
    message = f"{kind}\x1f{norm}".encode()
    digest = hmac.new(bytes(salt), message, hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:_PSEUDONYM_HEX]}"


# ----------------------------------------------------------------------------- validators

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82 83 91".split()
)


def id_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of an 18-digit resident ID number."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("an ID number body is 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def _valid_date(y: int, m: int, d: int) -> bool:
    try:
        date(y, m, d)
    except ValueError:
        return False
    return True


def is_valid_id_number(value: str) -> bool:
    """An 18-character ID with region, birth date and check digit right, or a 15-digit
    old-style ID with region and birth date right."""
    s = value.strip().upper()
    if not s.isascii():
        return False
    if len(s) == 18 and s[:17].isdigit() and (s[17].isdigit() or s[17] == "X"):
        if s[:2] not in _ID_PROVINCES:
            return False
        y, m, d = int(s[6:10]), int(s[10:12]), int(s[12:14])
        if not 1900 <= y <= 2099 or not _valid_date(y, m, d):
            return False
        return id_check_digit(s[:17]) == s[17]
    if len(s) == 15 and s.isdigit():
        if s[:2] not in _ID_PROVINCES:
            return False
        return _valid_date(1900 + int(s[6:8]), int(s[8:10]), int(s[10:12]))
    return False


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by payment cards."""
    if not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


# ----------------------------------------------------------------------------- masks

_MASKED_PHONE = re.compile(r"[0-9\- ]*\*[0-9*\- ]*")
_LANDLINE_DIGITS = re.compile(r"(010|02[0-9]|0[3-9][0-9]{2})([2-9][0-9]{6,7})")


def mask_name(value: str) -> str:
    """Keep the first character only, then a fixed ``**`` that hides the length:
    张三 → 张**, 欧阳娜娜 → 欧**. A single character becomes ``*``."""
    s = _squeeze(value)
    if not s:
        return ""
    if len(s) == 1:
        return "*"
    return s[0] + "**"


def mask_phone(value: str) -> str:
    """Mobiles 138****5678; landlines keep the area code: 0571-****5678.
    Anything else keeps at most its last four digits."""
    s = unicodedata.normalize("NFKC", value).strip()
    if not s:
        return ""
    if _MASKED_PHONE.fullmatch(s):
        return s  # already masked
    digits = _phone_digits(s)
    if re.fullmatch(r"1[3-9][0-9]{9}", digits):
        return f"{digits[:3]}****{digits[-4:]}"
    m = _LANDLINE_DIGITS.fullmatch(digits)
    if m:
        area, number = m.groups()
        return f"{area}-{'*' * (len(number) - 4)}{number[-4:]}"
    if len(digits) < 7:
        return "*" * max(len(digits), 4)
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_id_number(value: str) -> str:
    """Keep the first six (region) and last four characters: 110105********1234."""
    s = unicodedata.normalize("NFKC", value).replace(" ", "").strip().upper()
    if re.fullmatch(r"[0-9]{6}\*+[0-9X]{4}", s):
        return s
    if re.fullmatch(r"[0-9]{17}[0-9X]|[0-9]{15}", s):
        return s[:6] + "*" * (len(s) - 10) + s[-4:]
    return "*" * len(s)  # not an ID number: nothing is kept


_MASKED_LOCAL = re.compile(r".?\*\*\*")


def mask_email(value: str) -> str:
    """Keep the first character of the mailbox and the domain: z***@example.com."""
    s = _squeeze(value).replace(" ", "")
    local, at, domain = s.rpartition("@")
    if not at:
        local = s
    if _MASKED_LOCAL.fullmatch(local):
        masked = local  # already masked
    else:
        masked = local[:1] + "***"
    if not at:
        return masked if s else ""
    return f"{masked}@{domain.lower()}"


_PROVINCE_SHORT = (
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 "
    "湖北 湖南 广东 海南 四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门"
).split()
_PROVINCE_RE = (
    "(?:"
    + "|".join(sorted(_PROVINCE_SHORT, key=len, reverse=True))
    + ")(?:壮族自治区|回族自治区|维吾尔自治区|特别行政区|自治区|省|市)?"
)
_CITY_RE = rf"(?:(?![省区县路街道号巷弄])[{_CJK}]){{1,7}}?(?:自治州|地区|市|盟)"
_DISTRICT_RE = rf"(?:(?![省市路街道号巷弄])[{_CJK}]){{1,7}}(?:区|县|旗|市|镇)"
_REGION = re.compile(rf"(?:{_PROVINCE_RE})?(?:{_CITY_RE})?(?:{_DISTRICT_RE})?")


def mask_address(value: str) -> str:
    """Keep province, city and district (or the town of a city without districts, as in
    广东省东莞市虎门镇); drop the rest: 浙江省杭州市西湖区****."""
    s = _squeeze(value).replace(" ", "")
    if not s:
        return ""
    m = _REGION.match(s)
    return (m.group(0) if m else "") + "****"


# ----------------------------------------------------------------------------- detectors

_DIGITS_NOT_BEFORE = r"(?<![0-9])"
_DIGITS_NOT_AFTER = r"(?![0-9])"
_SEP = r"[ \t.\-]?"

# 11-digit mobiles, optionally grouped and prefixed with the country code.
_MOBILE = re.compile(
    _DIGITS_NOT_BEFORE
    + r"(?:(?:\+|00)?86[ \t\-]?|\(\+?86\)[ \t]?)?"
    + r"1[3-9][0-9]"
    + rf"(?:{_SEP}[0-9]){{8}}"
    + _DIGITS_NOT_AFTER
)
_LANDLINE = re.compile(
    _DIGITS_NOT_BEFORE
    + r"(?:\((?:010|02[0-9]|0[3-9][0-9]{2})\)[ \t]?|(?:010|02[0-9]|0[3-9][0-9]{2})[ \t\-]?)"
    + r"[2-9][0-9]{2,3}[ \t\-]?[0-9]{4}"
    + r"(?:转[0-9]{1,5})?"
    + _DIGITS_NOT_AFTER
)
_ID18 = re.compile(
    _DIGITS_NOT_BEFORE
    + r"[0-9]{6}[ \t]?[0-9]{8}[ \t]?[0-9]{3}(?:[0-9](?![0-9])|[Xx](?![A-Za-z0-9]))"
)
_ID15 = re.compile(_DIGITS_NOT_BEFORE + r"[0-9]{15}" + _DIGITS_NOT_AFTER)
_CARD = re.compile(
    _DIGITS_NOT_BEFORE
    + r"(?:[0-9]{16,19}|[0-9]{4}(?:[ \-][0-9]{4}){3}(?:[ \-]?[0-9]{1,3})?)"
    + _DIGITS_NOT_AFTER
)
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9](?:[A-Za-z0-9._%+\-]*[A-Za-z0-9_%+\-])?"
    r"@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,24}(?![A-Za-z\-])"
)
_CUE_TAIL = r"[ \t]*(?:号码?|账号|帐号|id|ID)?[ \t]*(?:是|为|:|：)?[ \t]*(?:是|为)?[ \t]*"
_WECHAT = re.compile(
    r"(?i:(?<![A-Za-z])(?:微信|威信|薇信|徽信|v信|vx|wx|weixin|wechat|加v(?![A-Za-z])))"
    + _CUE_TAIL
    + r"(?P<id>[A-Za-z][A-Za-z0-9_\-]{5,19}(?![A-Za-z0-9_\-])|[0-9]{5,12}(?![0-9]))"
)
_QQ = re.compile(
    r"(?i:(?<![A-Za-z])(?:qq|扣扣|企鹅号|q号))(?:群)?"
    + _CUE_TAIL
    + r"(?P<id>[1-9][0-9]{4,11})"
    + _DIGITS_NOT_AFTER
)
_NAME = re.compile(
    r"(?:姓名|真实姓名|收货人|收件人|联系人|投诉人|寄件人|持卡人|户名|申请人|举报人|当事人)"
    rf"[ \t]*[:：]\s*(?P<id>[{_CJK}](?:[{_CJK}·]){{1,3}})"
)

# Street addresses. The street name may not start at these characters, so the
# words before an address (我住在, 寄到, 西湖区) stay outside it.
_STREET_CHAR = rf"(?:(?![省市区县旗镇乡在于住址到寄送往至是的从和与及我你他她家：:])[{_CJK}])"
_UNIT = r"(?:号楼|号院|号|幢|栋|座|单元|楼|层|室|户|房)"
_ADDRESS_TAIL = (
    rf"(?:[ \t]?(?:[{_CJK}A-Za-z]){{0,10}}?[0-9]+(?:-[0-9]+)?{_UNIT})*"  # 龙湖香醍24幢3单元2303室
)
_STREET_ADDRESS = re.compile(
    rf"{_STREET_CHAR}{{1,8}}?(?:大道|大街|路|街|巷|弄|胡同)"
    r"(?:[0-9]+(?:-[0-9]+)?(?:弄|巷)[ \t]?)?[0-9]+(?:-[0-9]+)?(?:号院|号楼|号)" + _ADDRESS_TAIL
)
_ESTATE = rf"(?:{_STREET_CHAR}{{1,8}}?(?:小区|花园|家园|公寓|华庭|新村|社区|大厦|广场|公馆|苑|园|城|府|里))?"
_BUILDING_ADDRESS = re.compile(  # (?<![0-9]): never start inside a run of digits
    _ESTATE
    + r"(?<![0-9])[0-9]+(?:号楼|幢|栋|座)[ \t]?[0-9]+单元(?:[ \t]?[0-9]+(?:室|房|户|号))?"
    + "|"
    + _ESTATE
    + r"(?<![0-9])[0-9]+(?:号楼|幢|栋|座)[ \t]?[0-9]+(?:室|房|户)"
    + "|"
    + _ESTATE
    + r"(?<![0-9])[0-9]+单元[ \t]?[0-9]+(?:室|房|户)"
)

# Spans that are product information or pseudonyms, never personal data.
_PRODUCT_CUE = re.compile(
    r"(?:订单编号|订单号码?|订单|物流单号|快递单号|运单号|单号|投诉编号|证书编号|证书号|"
    r"认证编号|编号|认证|条形码|条码|批次号?|批号|序列号|型号|货号|商品编码|"
    r"(?<![A-Za-z0-9])(?i:ccc|3c|s/n|sn|sku|gtin|ean|no\.?)(?![A-Za-z]))"
    r"[ \t]*[:：#]?\s*(?P<id>[0-9A-Za-z][0-9A-Za-z\-]{4,40})"
)
_HEX_TOKEN = re.compile(
    r"(?<![0-9A-Za-z])(?=[0-9A-Fa-f]*[A-Fa-f])(?=[0-9A-Fa-f]*[0-9])[0-9A-Fa-f]{24,}(?![0-9A-Za-z])"
    r"|(?<![0-9A-Za-z])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
    r"(?![0-9A-Za-z])"
)
_BANK_CUE = re.compile(
    r"(?:银行卡|银行|卡号|储蓄卡|信用卡|借记卡|账号|帐号|账户|帐户|转账|收款|打款|汇款|"
    r"支付宝|(?i:card|account))"
)
_CCC_SHAPE = re.compile(r"(?:199[0-9]|20[0-9][0-9])[0-9]{12}")


def _protected(norm: str) -> list[tuple[int, int]]:
    """Sorted, disjoint spans of product numbers, digests and pseudonyms."""
    spans = sorted(
        [m.span("id") for m in _PRODUCT_CUE.finditer(norm)]
        + [m.span() for m in _HEX_TOKEN.finditer(norm)]
    )
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    a, b = span
    i = bisect.bisect_left(spans, (b, b)) - 1  # the last protected span starting before b
    return i >= 0 and spans[i][1] > a


class _Protection:
    """The protected spans of one folded text, worked out when a detector first matches:
    most texts match nothing, and finding product numbers costs more than the detectors."""

    __slots__ = ("_norm", "_spans")

    def __init__(self, norm: str) -> None:
        self._norm = norm
        self._spans: list[tuple[int, int]] | None = None

    def overlaps(self, span: tuple[int, int]) -> bool:
        if self._spans is None:
            self._spans = _protected(self._norm)
        return _overlaps(span, self._spans)


def _digits(s: str) -> str:
    return re.sub(r"[^0-9]", "", s)


@dataclass(frozen=True)
class _Hit:
    kind: str
    start: int
    end: int
    value: str  # the personal value itself (for pseudonyms)


def _accept_id18(m: re.Match[str], norm: str) -> str | None:
    value = re.sub(r"[ \t]", "", m.group(0)).upper()
    return value if is_valid_id_number(value) else None


def _accept_id15(m: re.Match[str], norm: str) -> str | None:
    return m.group(0) if is_valid_id_number(m.group(0)) else None


def _accept_card(m: re.Match[str], norm: str) -> str | None:
    digits = _digits(m.group(0))
    if not 16 <= len(digits) <= 19 or digits[0] == "0" or not luhn_valid(digits):
        return None
    if len(digits) == 16 and _CCC_SHAPE.fullmatch(digits):
        before = norm[max(0, m.start() - 12) : m.start()]
        if not _BANK_CUE.search(before):
            return None  # a CCC certificate number
    return digits


def _accept_mobile(m: re.Match[str], norm: str) -> str | None:
    digits = _digits(m.group(0))
    return digits[-11:]


def _accept_landline(m: re.Match[str], norm: str) -> str | None:
    return _phone_digits(m.group(0).split("转")[0])


def _accept_email(m: re.Match[str], norm: str) -> str | None:
    return m.group(0).lower()


def _accept_group(m: re.Match[str], norm: str) -> str | None:
    return m.group("id")


def _accept_whole(m: re.Match[str], norm: str) -> str | None:
    return m.group(0)


_Accept = Callable[[re.Match[str], str], "str | None"]

# What a folded text must contain for a detector to have anything to find: every
# pattern but WeChat's and names' needs an ASCII digit, e-mail addresses need an "@",
# and WeChat ids and names need their cue words (with the detector's own flags).
_NEEDS_DIGIT = re.compile(r"[0-9]")
_NEEDS_AT = re.compile(r"@")
_NEEDS_WECHAT_CUE = re.compile(r"(?i:微信|威信|薇信|徽信|v信|vx|wx|weixin|wechat|加v)")
_NEEDS_NAME_CUE = re.compile(
    r"姓名|收货人|收件人|联系人|投诉人|寄件人|持卡人|户名|申请人|举报人|当事人"
)

# Order matters: e-mail before QQ and WeChat, ID numbers before cards, cards before
# phones (a grouped card holds phone-like digits), phones before WeChat (微信同号).
_DETECTORS: tuple[tuple[str, re.Pattern[str], _Accept, bool, re.Pattern[str]], ...] = (
    # (kind, pattern, accept, replace only the "id" group, what the text needs)
    ("email", _EMAIL, _accept_email, False, _NEEDS_AT),
    ("id_number", _ID18, _accept_id18, False, _NEEDS_DIGIT),
    ("id_number", _ID15, _accept_id15, False, _NEEDS_DIGIT),
    ("bank_card", _CARD, _accept_card, False, _NEEDS_DIGIT),
    ("mobile", _MOBILE, _accept_mobile, False, _NEEDS_DIGIT),
    ("landline", _LANDLINE, _accept_landline, False, _NEEDS_DIGIT),
    ("wechat", _WECHAT, _accept_group, True, _NEEDS_WECHAT_CUE),
    ("qq", _QQ, _accept_group, True, _NEEDS_DIGIT),
    ("name", _NAME, _accept_group, True, _NEEDS_NAME_CUE),
    ("address", _STREET_ADDRESS, _accept_whole, False, _NEEDS_DIGIT),
    ("address", _BUILDING_ADDRESS, _accept_whole, False, _NEEDS_DIGIT),
)
_RAW_KINDS = ("email", "id_number", "mobile")  # what assert_no_pii reports
# A folded text without any of the detectors' needs (most review text) has nothing to find.
_NEEDS_ANY = re.compile(
    "|".join(f"(?:{p})" for p in dict.fromkeys(d[4].pattern for d in _DETECTORS))
)


def _find(
    norm: str,
    kind: str,
    pattern: re.Pattern[str],
    accept: _Accept,
    group: bool,
    protection: _Protection,
) -> Iterator[_Hit]:
    for m in pattern.finditer(norm):
        span = m.span("id") if group else m.span()
        if span[0] == span[1]:
            continue
        # An e-mail address is never product information, whatever precedes it.
        if kind != "email" and protection.overlaps(span):
            continue
        value = accept(m, norm)
        if value:
            yield _Hit(kind, span[0], span[1], value)


# ----------------------------------------------------------------------------- scrubbing


@dataclass(frozen=True)
class ScrubResult:
    """Scrubbed text, how many values of each kind were replaced, and the pseudonym of
    each replaced value (in order of replacement) for linking records."""

    text: str
    counts: Mapping[str, int] = field(default_factory=dict)
    pseudonyms: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __bool__(self) -> bool:  # true when something was removed
        return self.total > 0


def scrub_text(text: str, *, salt: bytes) -> ScrubResult:
    """Replace personal data in free text by placeholders; see the module notes for
    what is found and what product information is kept. Idempotent: scrubbing a
    scrubbed text changes nothing."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    _check_salt(salt)
    return _scrub(text, salt)


def _scrub(text: str, salt: bytes | None) -> ScrubResult:
    """Scrub ``text``; without a salt no pseudonyms are made (detection only)."""
    if not _NEEDS_ANY.search(_fold(text)):
        return ScrubResult(text)
    counts: Counter[str] = Counter()
    pseudonyms: list[str] = []
    # A replacement can expose a value that a neighbour hid (two e-mails written
    # back to back), so sweep until a sweep finds nothing: the result is a fixed point.
    for _ in range(_MAX_SWEEPS):
        found = False
        norm = _fold(text)
        protection = _Protection(norm)
        holds: dict[re.Pattern[str], bool] = {}  # what this ``norm`` contains
        for kind, pattern, accept, group, needs in _DETECTORS:
            if needs not in holds:
                holds[needs] = needs.search(norm) is not None
            if not holds[needs]:
                continue
            hits = list(_find(norm, kind, pattern, accept, group, protection))
            if not hits:
                continue
            found = True
            placeholder = PLACEHOLDERS[kind]
            out, pos = [], 0
            for h in hits:
                out += [text[pos : h.start], placeholder]
                pos = h.end
                counts[kind] += 1
                if salt is not None:
                    pseudonyms.append(pseudonymise(h.value, kind=_PSEUDONYM_KIND[kind], salt=salt))
            out.append(text[pos:])
            text = "".join(out)
            norm = _fold(text)  # placeholders are unchanged by folding
            protection = _Protection(norm)
            holds = {}  # a placeholder can bring a cue word ([微信], [姓名])
        if not found:
            break
    return ScrubResult(text, dict(counts), tuple(pseudonyms))


# ----------------------------------------------------------------------------- detection


def _strings(value: Any, skip_keys: Collection[str]) -> Iterator[str]:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes | bytearray):
        yield bytes(value).decode("utf-8", errors="replace")
    elif isinstance(value, int | float):
        yield str(value)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _strings(k, ())
            if k not in skip_keys:
                yield from _strings(v, skip_keys)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from _strings(v, skip_keys)
    else:
        yield str(value)


def assert_no_pii(value: Any, *, skip_keys: Collection[str] = ()) -> list[str]:
    """The kinds of raw personal data (``email``, ``id_number``, ``mobile``) found in a
    string, a number or any nested JSON value (dicts, lists); empty when clean.

    Numbers after product cues (投诉编号, 订单号 ...), hex digests and pseudonyms are
    not personal data. ``skip_keys`` names mapping keys whose values are not examined
    (a column of complaint numbers such as 17370000000 looks like a mobile number).
    """
    found: set[str] = set()
    for s in _strings(value, skip_keys):
        found.update(k for k in _scrub(s, None).counts if k in _RAW_KINDS)
        if len(found) == len(_RAW_KINDS):
            break
    return [k for k in _RAW_KINDS if k in found]
