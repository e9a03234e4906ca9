"""Listing fields from plain HTML, for pages without structured data.

The rules are the ones a person uses reading a Chinese shop page: label:value pairs in
spec tables and lists (品牌：X, 型号：Y, 生产企业：Z, 产地：W, 3C证书编号：N), the page
heading for the name, classes and ``data-*`` attributes that name what they hold
(``.price``, ``.brand``, ``data-sku``), breadcrumbs, links to the shop, stock words and
buy buttons (有货, 无货, 预售, 加入购物车), counts next to their words (月销1.2万+,
1.2万条评价, 评分4.8). Prices are read by :mod:`crawlers.extract.prices`.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from .money import fold_width
from .page import Page
from .prices import script_price, visible_prices
from .values import (
    TRADITIONAL,
    availability_term,
    ccc_value,
    clean_text,
    gtin_value,
    to_count,
    to_rating,
    with_traditional,
)

__all__ = ["generic_fields", "meta_fields", "spec_pairs"]

LABELS: dict[str, tuple[str, ...]] = {
    "brand": ("品牌", "品牌名称", "商标", "brand", "marke", "marque"),
    "model": ("型号", "规格型号", "产品型号", "型号规格", "model", "model no"),
    "manufacturer": (
        "生产企业",
        "生产企业名称",
        "生产厂家",
        "生产厂商",
        "制造商",
        "制造商名称",
        "生产商",
        "厂家",
        "厂商",
        "厂名",
        "生产者",
        "制造企业",
        "manufacturer",
    ),
    "origin": (
        "产地",
        "原产地",
        "生产地",
        "产品产地",
        "商品产地",
        "origin",
        "place of origin",
        "country of origin",
    ),
    "ccc": (
        "3C证书编号",
        "3C认证",
        "3C证书",
        "3C编号",
        "3C产品认证编号",
        "CCC证书编号",
        "CCC认证",
        "CCC证书",
        "CCC编号",
        "CCC",
        "3C",
        "认证编号",
        "证书编号",
        "强制性产品认证编号",
    ),
    "gtin": ("条形码", "条码", "商品条码", "69码", "EAN", "GTIN", "UPC", "barcode"),
    "sku": ("商品编号", "商品ID", "商品编码", "货品编号", "SKU"),
    "availability": ("库存", "库存状态", "商品状态", "现货状态", "availability", "stock"),
    "shop_name": ("店铺", "店铺名称", "商家", "卖家", "seller", "sold by"),
}
_FIELD_OF_LABEL = {
    label.lower(): field for field, labels in LABELS.items() for label in with_traditional(labels)
}
_LABEL_RE = re.compile(
    r"(?<![\w])("
    + "|".join(re.escape(label) for label in sorted(_FIELD_OF_LABEL, key=len, reverse=True))
    + r")\s*[:：]\s*",
    re.I,
)
_TWO_LEAVES = etree.XPath("//body//*[count(*)=2 and not(*/*)]")
_DATA_ATTRS = {
    "sku": (
        "data-sku",
        "data-sku-id",
        "data-skuid",
        "data-item-id",
        "data-itemid",
        "data-goods-id",
        "data-goodsid",
        "data-gid",
        "data-product-id",
        "data-productid",
        "data-pid",
    ),
    "brand": ("data-brand", "data-brand-name"),
    "availability": ("data-stock", "data-availability", "data-stock-status"),
}
_URL_ID_PARAMS = (
    "goods_id",
    "goodsid",
    "item_id",
    "itemid",
    "product_id",
    "productid",
    "sku",
    "skuid",
    "id",
)
_URL_ID_PATH = re.compile(
    r"/(?:item|goods|product|products|p|detail|dp)/(?:[^/]*?)(\d{5,})(?:\.html?)?/?$|/(\d{6,})\.html?$",
    re.I,
)
_SHOP_HREF = re.compile(
    r"/(?:shop|store|mall|seller|shops|stores|dian|dianpu)[/_-](?P<id>[A-Za-z0-9]*\d[A-Za-z0-9]*)(?:[/.?#]|$)"
    r"|[?&](?:shop_?id|store_?id|mall_?id|seller_?id)=(?P<qid>[A-Za-z0-9]+)"
    r"|//(?:shop|store)(?P<hid>\d+)\.",
    re.I,
)
_GENERIC_LINK_TEXT = re.compile(
    r"^(进店|进入店铺|进店逛逛|店铺首页|关注|收藏|联系客服|客服|visit|more)", re.I
)
_SHOP_NAME_PARTS = frozenset(("shop", "store", "mall", "seller", "dianpu"))
_NAME_PARTS = frozenset(("name", "title"))
_NOT_PRODUCT_NAME = frozenset(
    "shop store mall seller brand cat category user nick site logo page section crumb "
    "breadcrumb nav menu tab hd sub sku spec".split()
)
_SALES = re.compile(
    r"(?:月销量?|已售|已拼|总销量|累计销量|销量|已抢)\s*[:：]?\s*\d[\d,.]*\s*[万千]?\+?\s*(?:件|笔|单|份)?"
    r"|\d[\d,.]*\s*[万千]?\+?\s*(?:人付款|人购买|人已买|人收货|件已售|sold)"
)
_REVIEWS = re.compile(
    r"(?:累计评价|商品评价|评价数|评论数|全部评价|用户评价|累计评论|评价)\s*[:：(（]?\s*"
    r"(?P<a>\d[\d,]*(?:\.\d+)?\s*万?)\+?"
    r"|(?P<b>\d[\d,]*(?:\.\d+)?\s*万?)\+?\s*(?:条评价|人评价|条评论|个评价|人评论|条点评|reviews|ratings)",
    re.I,
)
_RATING = re.compile(
    r"(?<!店铺)(?<!商家)(?<!服务)(?<!物流)(?<!描述)(?:商品评分|综合评分|评分|rating)\s*[:：]?\s*"
    r"(\d(?:\.\d{1,2})?)(?![\d%])",
    re.I,
)
_CCC_TEXT = re.compile(r"(?:CCC|3C)[^\d\n]{0,16}(\d{16})(?!\d)", re.I)
_STOCK_PARTS = frozenset(
    ("stock", "availability", "inventory", "kucun", "instock", "outofstock", "soldout")
)
_TOKEN_SPLIT = re.compile(r"[\s·•|/,，;；、]+")
_STOCK_TOKENS = {
    "有货": "InStock",
    "现货": "InStock",
    "在售": "InStock",
    "无货": "OutOfStock",
    "缺货": "OutOfStock",
    "暂时缺货": "OutOfStock",
    "暂无库存": "OutOfStock",
    "到货通知": "OutOfStock",
    "售罄": "SoldOut",
    "已售罄": "SoldOut",
    "已抢光": "SoldOut",
    "预售": "PreOrder",
    "预定": "PreOrder",
    "预订": "PreOrder",
    "立即预订": "PreOrder",
    "支付定金": "PreOrder",
    "已下架": "Discontinued",
    "下架": "Discontinued",
    "停售": "Discontinued",
    "库存紧张": "LimitedAvailability",
}
_STOCK_TOKENS.update({k.translate(TRADITIONAL): v for k, v in _STOCK_TOKENS.items()})
_BUY_BUTTON = re.compile(
    r"^(加入购物车|立即购买|马上抢|立即抢购|发起拼单|add to (cart|bag|basket)|buy now)$", re.I
)
_LIMITED = re.compile(r"仅剩\s*\d+\s*件|only \d+ left", re.I)
_HOME = re.compile(
    r"^(首页|首頁|主页|主頁|网站首页|商城首页|全部分类|所有分类|全部商品|home)$", re.I
)
_CRUMB_SEP = re.compile(r"\s*(?:>|›|»|＞|→|\\)\s*|\s+/\s+")
_SCRIPT_NAME = re.compile(
    r"""["']?(?:goods|item|product|sku)_?[Nn]ame["']?\s*:\s*"((?:[^"\\]|\\.){2,200})"""
)
_SCRIPT_ID = re.compile(
    r"""["']?(?:goods|item|product|sku)_?[Ii]d["']?\s*:\s*["']?([A-Za-z0-9_-]{3,40})"""
)
_GALLERY_PARTS = frozenset(
    "gallery preview swiper slider slide carousel thumb thumbs pic pics imgs images album photo "
    "photos zoom mainpic booth".split()
)
_IMG_JUNK = re.compile(r"logo|icon|avatar|sprite|blank|placeholder|loading|spacer|pixel", re.I)
_DESC_PARTS = (("desc", "description", "intro", "introduction"), ("detail", "details", "content"))


# --------------------------------------------------------------------------- pairs
def _norm_label(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(" \t:：").lower()


def spec_pairs(page: Page) -> dict[str, str]:
    """Known label:value pairs of the page (first occurrence of each field wins)."""
    found: dict[str, str] = {}

    def add(label: str, value: str) -> None:
        field = _FIELD_OF_LABEL.get(_norm_label(label))
        value = clean_text(value) or ""
        if field and value and field not in found and len(value) <= 120:
            found[field] = value

    for offset, line in page.lines:
        if page.off_main(page.owner(offset + len(line) - len(line.lstrip()))):
            continue
        cells = line.split("\t")
        if len(cells) > 1:
            if not cells[0].strip():
                cells = cells[1:]
            for i in range(0, len(cells) - 1, 2):
                add(cells[i], cells[i + 1])
        for cell in cells:
            matches = list(_LABEL_RE.finditer(cell))
            for i, m in enumerate(matches):
                end = matches[i + 1].start() if i + 1 < len(matches) else len(cell)
                add(m.group(1), cell[m.end() : end])
    for el in _TWO_LEAVES(page.tree):
        first, second = el[0], el[1]
        label = first.text_content()
        if len(label) <= 16 and _FIELD_OF_LABEL.get(_norm_label(label)):
            if not page.off_main(el):
                add(label, second.text_content())
    return found


# --------------------------------------------------------------------------- pieces
def _name(page: Page) -> str | None:
    for h1 in page.tree.iter("h1"):
        text = page.text_of(h1)
        if text and not page.off_main(h1):
            return text
    for el in page.tree.xpath("//body//*[@class]"):
        parts = page.parts(el)
        if parts & _NAME_PARTS and not parts & _NOT_PRODUCT_NAME and not page.off_main(el):
            text = page.text_of(el)
            if text and len(text) <= 300:
                return text
    return None


def _title_tag(page: Page) -> str | None:
    title = clean_text(page.tree.findtext(".//title"))
    if not title:
        return None
    for sep in (" - ", " | ", " – ", " — ", "_", "|", "-", "—"):
        head, _, tail = title.rpartition(sep)
        if head.strip() and tail.strip() and len(tail) <= 12 and not re.search(r"\d", tail):
            return head.strip()
    return title


def _data_attrs(page: Page) -> dict[str, str]:
    out: dict[str, str] = {}
    for field, names in _DATA_ATTRS.items():
        expr = " or ".join(f"@{n}" for n in names)
        for el in page.tree.xpath(f"//body//*[{expr}]"):
            if page.off_main(el):
                continue
            value = next((clean_text(el.get(n)) for n in names if clean_text(el.get(n))), None)
            if value:
                out[field] = value
                break
    return out


def _sku_from_url(url: str) -> str | None:
    parts = urlsplit(url)
    query = {k.lower(): v for k, v in parse_qs(parts.query).items()}
    for key in _URL_ID_PARAMS:
        if query.get(key) and query[key][0].strip():
            return query[key][0].strip()
    m = _URL_ID_PATH.search(parts.path)
    return (m.group(1) or m.group(2)) if m else None


def _class_text(
    page: Page,
    wanted: frozenset[str],
    skip: frozenset[str] = frozenset(),
    also: frozenset[str] | None = None,
) -> str | None:
    for el in page.tree.xpath("//body//*[@class or @id]"):
        parts = page.parts(el)
        if not parts & wanted or parts & skip or (also is not None and not parts & also):
            continue
        if not page.off_main(el):
            text = page.text_of(el)
            if text:
                return text
    return None


def _shop(page: Page) -> tuple[str | None, str | None]:
    for a in page.tree.xpath("//body//a[@href]"):
        m = _SHOP_HREF.search(a.get("href"))
        if not m:
            continue
        tag_chain = {x.tag for x in page.ancestors(a)}
        if tag_chain & {"header", "footer"}:
            continue
        shop_id = m.group("id") or m.group("qid") or m.group("hid")
        name = page.text_of(a)
        if not name or _GENERIC_LINK_TEXT.match(name):
            name = None
        return shop_id, name
    return None, None


def _first_match(
    page: Page, pattern: re.Pattern[str], main_only: bool = True
) -> re.Match[str] | None:
    for m in pattern.finditer(page.text):
        if not main_only or not page.off_main(page.owner(m.start())):
            return m
    return None


def _availability(page: Page, name: str | None) -> str | None:
    for el in page.tree.xpath("//body//*[@class or @id]"):
        parts = page.parts(el)
        if parts & _STOCK_PARTS and not page.off_main(el):
            term = availability_term(page.text_of(el)) or availability_term(" ".join(parts))
            if term:
                return term
    weak = short = None
    for offset, line in page.lines:
        text = line.strip()
        if not text or (name and (text in name or name in text)):
            continue
        if page.off_main(page.owner(offset + len(line) - len(line.lstrip()))):
            continue
        if _LIMITED.search(text):
            return "LimitedAvailability"
        for token in _TOKEN_SPLIT.split(fold_width(text)):
            if token in _STOCK_TOKENS:
                return _STOCK_TOKENS[token]
            if weak is None and _BUY_BUTTON.match(token):
                weak = "InStock"
        if len(text) <= 24 and short is None:
            short = availability_term(text)
    return short or weak


def _breadcrumbs(page: Page) -> list[str]:
    containers = page.tree.xpath(
        "//body//*[contains(translate(@class,'BREADCUM','breadcum'),'crumb') or "
        "contains(translate(@id,'BREADCUM','breadcum'),'crumb') or "
        "translate(@aria-label,'BREADCUM','breadcum')='breadcrumb']"
    )
    for box in containers:
        items = box.xpath(".//li")
        if len(items) >= 2:
            crumbs = [page.text_of(li) for li in items]
        else:
            crumbs = _CRUMB_SEP.split(page.text_of(box))
        crumbs = [c for c in (clean_text(_CRUMB_SEP.sub(" ", c)) for c in crumbs) if c]
        if crumbs:
            return crumbs
    for _, line in page.lines:
        parts = [clean_text(p) for p in _CRUMB_SEP.split(line.strip())]
        if len(parts) >= 2 and parts[0] and _HOME.match(parts[0]):
            return [p for p in parts if p]
    return []


def _images(page: Page) -> list[str]:
    urls: list[str] = []
    boxes = [
        el
        for el in page.tree.xpath("//body//*[@class or @id][.//img]")
        if page.parts(el) & _GALLERY_PARTS and not page.off_main(el)
    ]
    for box in boxes[:1]:
        for img in box.iter("img"):
            src = (
                img.get("data-src")
                or img.get("data-original")
                or img.get("data-lazy-src")
                or img.get("src")
            )
            url = page.absolute(src)
            if url and not _IMG_JUNK.search(url):
                urls.append(url)
    return list(dict.fromkeys(urls))


def _description(page: Page) -> str | None:
    for group in _DESC_PARTS:
        for el in page.tree.xpath("//body//*[@class or @id]"):
            if not page.parts(el) & set(group) or page.off_main(el):
                continue
            paras = [page.text_of(p) for p in el.xpath(".//p|.//li")]
            text = "\n".join(p for p in paras if p) or page.text_of(el)
            if text:
                return text
    return None


def _script_identity(page: Page) -> dict[str, str]:
    """Name and id of the product from a JSON state blob in a ``<script>``."""
    out: dict[str, str] = {}
    for script in page.tree.iter("script"):
        text = script.text or ""
        if (script.get("type") or "").lower() == "application/ld+json" or not text:
            continue
        if "name" not in out and (m := _SCRIPT_NAME.search(text)):
            try:
                name = json.loads(f'"{m.group(1)}"')
            except ValueError:
                name = m.group(1)
            if clean_text(name):
                out["name"] = clean_text(name)
        if "sku" not in out and (m := _SCRIPT_ID.search(text)):
            out["sku"] = m.group(1)
    return out


# --------------------------------------------------------------------------- public
def meta_fields(page: Page) -> dict[str, Any]:
    """Fields from ``<meta>`` tags (description, titles, images) and the ``<title>``."""
    metas: dict[str, str] = {}
    for el in page.tree.xpath("//meta[@content]"):
        key = (el.get("name") or el.get("property") or "").strip().lower()
        value = clean_text(el.get("content"))
        if key and value:
            metas.setdefault(key, value)
    out: dict[str, Any] = {}
    name = metas.get("og:title") or metas.get("twitter:title") or _title_tag(page)
    if name:
        out["name"] = name
    description = metas.get("description") or metas.get("og:description")
    if description:
        out["description"] = description
    image = metas.get("og:image") or metas.get("twitter:image")
    if image and page.absolute(image):
        out["image_urls"] = [page.absolute(image)]
    return out


def generic_fields(page: Page) -> dict[str, Any]:
    """Listing fields read from the visible page, without structured data.

    Returns
    -------
    dict
        Only the fields found; ``breadcrumbs`` is the raw trail (home entry included),
        trimmed into ``category_path`` by the caller.
    """
    out: dict[str, Any] = {}

    def put(key: str, value: Any) -> None:
        if value not in (None, "", []):
            out.setdefault(key, value)

    pairs = spec_pairs(page)
    data = _data_attrs(page)
    name = _name(page)
    put("name", name)
    put("brand", pairs.get("brand") or data.get("brand"))
    brand_box = _class_text(page, frozenset({"brand"}), frozenset({"list", "logo", "nav"}))
    if brand_box:
        put("brand", re.sub(r"^(品牌|brand)\s*[:：]\s*", "", brand_box, flags=re.I))
    put("model", pairs.get("model"))
    put("manufacturer", pairs.get("manufacturer"))
    put("origin", pairs.get("origin"))
    put("sku", pairs.get("sku") or data.get("sku"))
    put("gtin", gtin_value(pairs.get("gtin")))

    prices = visible_prices(page)
    if prices.price is None:
        # A page rendered by JavaScript: its state blob is the only place with data.
        prices = script_price(page)
        if prices.price is not None:
            state = _script_identity(page)
            put("name", state.get("name"))
            put("sku", state.get("sku"))
    put("sku", _sku_from_url(page.url))
    if prices.price is not None:
        put("price", prices.price.amount)
        put("price_high", prices.price.high)
        put("currency", prices.price.currency)
    if prices.list_price is not None:
        put("list_price", prices.list_price.amount)
    if prices.coupon_price is not None:
        put("coupon_price", prices.coupon_price.amount)

    put(
        "availability",
        availability_term(pairs.get("availability")) or availability_term(data.get("availability")),
    )
    if "availability" not in out:
        put("availability", _availability(page, name))

    ccc = ccc_value(pairs.get("ccc"))
    if ccc is None:
        m = _first_match(page, _CCC_TEXT)
        ccc = m.group(1) if m else None
    if ccc is None and page.tree.xpath(
        "//body//*[contains(translate(@class,'CC','cc'),'ccc') or contains(@class,'3c')]"
    ):
        ccc = "CCC"
    put("ccc", ccc)

    shop_id, shop_name = _shop(page)
    put("shop_id", shop_id)
    put("shop_name", shop_name or pairs.get("shop_name"))
    put("shop_name", _class_text(page, _SHOP_NAME_PARTS, also=_NAME_PARTS))

    m = _first_match(page, _RATING)
    put("rating", to_rating(m.group(1)) if m else None)
    m = _first_match(page, _REVIEWS, main_only=False)
    put("review_count", to_count(m.group("a") or m.group("b")) if m else None)
    m = _first_match(page, _SALES)
    put("sales_volume", clean_text(m.group(0)) if m else None)

    put("breadcrumbs", _breadcrumbs(page))
    put("image_urls", _images(page))
    put("description", _description(page))
    return out
