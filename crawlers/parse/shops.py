"""Shop pages: the licence data a platform shows for a seller.

Every platform shows the same facts in its own markup: 优品 a ``ul`` of ``标签：值``
lines under 营业执照信息, 乐货 a ``table.qualification`` of ``th``/``td`` rows, 拼佳
``p`` lines in ``div.mall-cert``. The reader does not depend on the positions: it
collects label/value pairs (``dt``/``dd``, ``th``/``td``, ``标签：值`` lines) and knows
each fact by its labels (企业名称 or 公司名称, 联系电话 or 客服电话, 联系人 or 负责人 ...).
Every shop page becomes the same dict::

    {"platform", "external_id", "name", "company", "credit_code", "contact", "phone",
     "address", "province", "city", "url"}

Values are kept as the page shows them (whitespace collapsed; phone numbers and credit
codes with full-width characters folded to ASCII): the contact, phone and address are
personal data and leave the raw layer only as pseudonyms. ``province`` and ``city``
come from the page's 所在地 line, or else from the start of the address.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from crawlers.parse.common import ParseError, clean, html_selector, joined_text

SHOP_FIELDS = (
    "platform",
    "external_id",
    "name",
    "company",
    "credit_code",
    "contact",
    "phone",
    "address",
    "province",
    "city",
    "url",
)

# Labels of each fact, most specific first; a label matches the whole label text.
_LABELS: dict[str, tuple[str, ...]] = {
    "company": (
        "企业名称",
        "公司名称",
        "主体名称",
        "经营者名称",
        "营业执照名称",
        "名称",
    ),
    "credit_code": (
        "统一社会信用代码",
        "社会信用代码",
        "信用代码",
        "营业执照注册号",
        "注册号",
    ),
    "contact": ("联系人", "负责人", "店主", "法定代表人", "法人代表", "经营者"),
    "phone": ("联系电话", "客服电话", "电话", "手机", "手机号码", "联系方式", "服务电话"),
    "address": ("经营地址", "企业地址", "公司地址", "注册地址", "住所", "地址", "经营场所"),
    "location": ("所在地", "所在地区", "所在城市", "店铺所在地", "发货地"),
}
_LABEL_OF = {label: fact for fact, labels in _LABELS.items() for label in labels}
_PAIR = re.compile(r"^\s*(?P<label>[\u4e00-\u9fff]{1,10})\s*[:：]\s*(?P<value>.*?)\s*$")
_NO_VALUE = frozenset(("暂无", "无", "未填写", "未公开", "-", "--", "—", "/", "null", "none"))

# Where each platform puts the shop head; the first one found is read.
_HEADS = (
    ("youpin", "div.shop-head", "data-shop-id", "h1.shop-name, .shop-name"),
    ("lehuo", "div.store-head", "data-store", "h1, .store-name"),
    ("pinjia", "div.mall-head", "data-mall", ".mall-name, h1"),
)
_URL_ID = re.compile(r"/(?:shop|store|mall)/(?P<id>\d+)(?:[./?#]|$)")
_PLATFORM_IN_PATH = re.compile(r"^/(youpin|lehuo|pinjia)/")

_MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")
_CJK = "\u4e00-\u9fff"
_PROVINCE = re.compile(
    rf"^(?P<province>北京市|天津市|上海市|重庆市|[{_CJK}]{{2,3}}?省"
    rf"|内蒙古自治区|广西壮族自治区|西藏自治区|宁夏回族自治区|新疆维吾尔自治区"
    r"|香港特别行政区|澳门特别行政区)"
)
# A city: up to seven characters none of which starts a district or street, then 市,
# 自治州, 地区 or 盟.
_CITY = re.compile(
    rf"^(?P<city>(?:(?![省区县路街道号巷弄镇乡])[{_CJK}]){{1,7}}?(?:市|自治州|地区|盟))"
)


def parse_shop_page(
    body: bytes | str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    platform: str | None = None,
) -> dict[str, Any]:
    """Read one shop page (any of the three platforms) into a shop record.

    ``platform`` defaults to the platform the markup (or the URL path) belongs to.
    Raises :class:`ParseError` when the page is no shop page: no shop head, no shop id,
    or no shop name.
    """
    sel = html_selector(body, headers)
    found = next(((h, sel.css(h[1])) for h in _HEADS if sel.css(h[1])), None)
    if found is None:
        raise ParseError(url, "no shop head on the page (not a shop page, or cut short)")
    (head_platform, _, id_attr, name_css), heads = found
    head = heads[0]
    shop_id = clean(head.attrib.get(id_attr)) or _id_from_url(url)
    if not shop_id:
        raise ParseError(url, "no shop id on the page or in the URL")
    name = joined_text(head.css(name_css)[:1])
    if not name:
        raise ParseError(url, "the shop page names no shop")
    facts = _facts(_pairs(head))
    province, city = _region(facts.get("location"))
    if not city:
        a_province, a_city = _region(facts.get("address"))
        province, city = province or a_province, a_city
    return {
        "platform": platform or _platform_from_url(url) or head_platform,
        "external_id": shop_id,
        "name": name,
        "company": facts.get("company"),
        "credit_code": _folded(facts.get("credit_code"), squeeze=True),
        "contact": facts.get("contact"),
        "phone": _phone(facts.get("phone")),
        "address": facts.get("address"),
        "province": province,
        "city": city,
        "url": url,
    }


# --------------------------------------------------------------------------- reading


def _pairs(head: Any) -> Iterable[tuple[str, str | None]]:
    """Label/value pairs anywhere under the shop head, in page order: ``dt``/``dd``,
    ``th``/``td``, a label element followed by value elements, ``标签：值`` lines."""
    for dt_ in head.css("dt"):
        dd = dt_.xpath("following-sibling::*[1][self::dd]")
        yield joined_text(dt_) or "", joined_text(dd) if dd else None
    for tr in head.css("tr"):
        th, td = tr.css("th"), tr.css("td")
        if th and td:
            yield joined_text(th[:1]) or "", joined_text(td[:1])
    for el in head.css("li, p, span, div, td"):
        if el.xpath(".//li | .//p | .//div | .//table | .//ul | .//dl"):
            continue  # a container: its lines are read one by one
        children = el.xpath("./*")
        if len(children) >= 2:
            label = joined_text(children[:1]) or ""
            if re.sub(r"[\s:：]+", "", label) in _LABEL_OF:
                yield label, clean(" ".join(filter(None, map(joined_text, children[1:]))))
                continue
        text = joined_text(el)
        if text:
            for part in re.split(r"\s*[·|｜]\s*", text):
                m = _PAIR.match(part)
                if m:
                    yield m.group("label"), m.group("value")


def _facts(pairs: Iterable[tuple[str, str | None]]) -> dict[str, str]:
    """The first non-empty value of each fact; a more specific label wins over a later,
    more generic one (统一社会信用代码 over 注册号)."""
    out: dict[str, str] = {}
    rank: dict[str, int] = {}
    for label, value in pairs:
        label = re.sub(r"[\s:：]+", "", label)
        fact = _LABEL_OF.get(label)
        value = clean(value)
        if fact is None or not value or value.lower() in _NO_VALUE:
            continue
        r = _LABELS[fact].index(label)
        if fact not in out or r < rank[fact]:
            out[fact], rank[fact] = value, r
    return out


def _folded(value: str | None, *, squeeze: bool = False) -> str | None:
    """Full-width letters, digits and dashes as ASCII (one character for one)."""
    if not value:
        return None
    out = unicodedata.normalize("NFKC", value)
    out = re.sub(r"[\u2010-\u2015\u2212\ufe58\ufe63]", "-", out)
    out = re.sub(r"\s+", "" if squeeze else " ", out).strip()
    if squeeze:
        out = out.upper()
    return out or None


def _phone(value: str | None) -> str | None:
    """The phone number as shown, folded to ASCII; ``None`` when it holds no digit."""
    out = _folded(value)
    if not out or not re.search(r"[0-9]", out):
        return None
    return out


def _region(text: str | None) -> tuple[str | None, str | None]:
    """(province, city) named at the start of ``text`` (浙江省 杭州市, 浙江省杭州市西湖区…,
    上海市浦东新区…); a municipality is its own city."""
    if not text:
        return None, None
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    province = None
    m = _PROVINCE.match(s)
    if m:
        province = m.group("province")
        s = s[m.end() :]
    m = _CITY.match(s)
    city = m.group("city") if m else None
    if city is None and province in _MUNICIPALITIES:
        city = province
    return province, city


def _id_from_url(url: str) -> str | None:
    m = _URL_ID.search(urlsplit(url).path)
    return m.group("id") if m else None


def _platform_from_url(url: str) -> str | None:
    m = _PLATFORM_IN_PATH.match(urlsplit(url).path)
    return m.group(1) if m else None
