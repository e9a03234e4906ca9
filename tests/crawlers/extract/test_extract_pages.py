"""extract_listing on hand-written pages in the shapes real shops use."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import pytest

from crawlers.extract import ListingExtract, extract_listing

D = Decimal
URL = "https://shop.example.cn/item/30071234.html"


def extract(page_bytes, name: str, url: str = URL, **kw) -> ListingExtract:
    return extract_listing(page_bytes(name), url, **kw)


def test_jsonld_graph_with_references(page_bytes):
    x = extract(page_bytes, "jsonld_graph.html")
    assert x.name == "美厨 MK-15S 电热水壶 1.5L 304不锈钢"
    assert x.brand == "美厨（MEICHU）"  # resolved through its @id
    assert (x.sku, x.gtin, x.model) == ("880011", "6901234567892", "MK-15S")
    # The price comes from the priceSpecification, the ListPrice one is the list price.
    assert (x.price, x.currency, x.list_price) == (D("129.00"), "CNY", D("199.00"))
    assert x.availability == "InStock"
    assert (x.rating, x.review_count) == (4.7, 1286)
    assert x.manufacturer == "佛山美厨电器有限公司"
    assert x.image_urls == [
        "https://shop.example.cn/img/880011-1.jpg",
        "https://img.example.cn/880011-2.jpg",
    ]
    # BreadcrumbList sorted by position, home left out.
    assert x.category_path == ["厨房电器", "电热水壶"]
    assert x.sources["price"] == x.sources["brand"] == x.sources["category_path"] == "jsonld"
    # What JSON-LD lacks comes from the page: spec table, shop link, sales text.
    assert (x.origin, x.ccc, x.shop_id) == ("广东佛山", "2021010701234567", "7001")
    assert x.sales_volume == "月销 3,412 件"
    assert x.sources["origin"] == "generic"


def test_jsonld_list_with_several_offers(page_bytes):
    x = extract(page_bytes, "jsonld_offers.html")
    # Prices as number and as string; the cheapest offer is the price, the dearest the top.
    assert (x.price, x.price_high, x.currency) == (D("89.90"), D("109.00"), "CNY")
    assert x.sku == "55120033"
    assert x.availability == "InStock"  # one variant in stock makes the listing available
    assert x.name == "暖暖 充电宝 20000mAh 22.5W快充"  # not the related product


def test_jsonld_aggregate_offer_inside_html_comment(page_bytes):
    x = extract(page_bytes, "jsonld_aggregate.html")
    assert (x.price, x.price_high, x.currency) == (D("1299.00"), D("1599"), "CNY")
    assert x.availability == "LimitedAvailability"
    assert x.brand == "童趣 TONGQU"
    # The product's category is more specific than the visible trail.
    assert x.category_path == ["玩具", "毛绒玩具"]
    assert x.sources["price"] == "jsonld"


def test_broken_jsonld_falls_back(page_bytes):
    x = extract(page_bytes, "jsonld_broken.html")
    assert x.ok
    assert "invalid JSON-LD script skipped" in x.problems
    assert x.name == "飞利 电吹风 HD-1800 负离子 大功率"
    assert (x.price, x.list_price) == (D("149.00"), D("199.00"))
    assert x.sources["price"] == "generic"
    assert (x.brand, x.model) == ("飞利（FEILI）", "HD-1800")
    assert x.availability == "LimitedAvailability"  # 仅剩3件


def test_microdata_only(page_bytes):
    x = extract(page_bytes, "microdata_only.html")
    assert x.sources["price"] == "microdata"
    assert (x.name, x.brand, x.sku, x.gtin) == (
        "洁净 儿童牙刷 软毛 3支装",
        "洁净 JIEJING",
        "7788-3",
        "6923450657713",
    )
    assert (x.price, x.currency, x.availability) == (D("19.90"), "CNY", "SoldOut")
    assert (x.rating, x.review_count) == (4.9, 356)
    assert x.image_urls == ["https://shop.example.cn/p/7788/main.jpg"]


def test_rdfa(page_bytes):
    x = extract(page_bytes, "rdfa_product.html")
    assert x.sources["price"] == "rdfa"
    assert (x.name, x.brand, x.sku) == ("安睡 天然乳胶枕 成人护颈", "安睡", "AS-LP01")
    assert (x.price, x.currency, x.availability) == (D("268.00"), "CNY", "InStock")


def test_open_graph_only(page_bytes):
    x = extract(page_bytes, "opengraph_only.html")
    assert x.sources["price"] == "opengraph"
    assert (x.price, x.currency, x.list_price) == (D("34.99"), "EUR", D("49.99"))
    assert (x.brand, x.sku, x.availability) == ("Küchenwelt", "WK-17-EU", "InStock")
    assert x.image_urls == ["https://shop.example.cn/media/wk17.jpg"]


def test_no_structured_data_chinese_shop(page_bytes):
    x = extract(page_bytes, "plain_cn.html")
    assert set(x.sources.values()) == {"generic"}
    assert x.name == "康宁 电热水壶 KN-1708 1.7L 家用 烧水壶 现货速发"
    # ¥<span>109</span><span>.00</span> labelled 活动价 beats the header cart total, the
    # recommended product, the price quoted in a review and the 秒杀 banner.
    assert (x.price, x.currency) == (D("109.00"), "CNY")
    assert x.list_price == D("169.00")  # 划线价
    assert x.coupon_price == D("89.00")  # 券后价, not the 立减20元 saving
    assert (x.brand, x.model) == ("康宁（KANGNING）", "KN-1708")
    assert (x.manufacturer, x.origin) == ("宁波康宁电器有限公司", "浙江宁波")
    assert (x.ccc, x.gtin) == ("2020010703299817", "6901234567892")
    assert x.sku == "30071234"  # data-goods-id
    assert x.availability == "InStock"
    assert (x.shop_id, x.shop_name) == ("88123", "康宁小家电专卖店")
    assert x.category_path == ["家用电器", "厨房小电", "电热水壶"]  # the product itself dropped
    assert (x.rating, x.review_count, x.sales_volume) == (4.8, 12000, "月销1.2万+")
    assert x.image_urls == [
        "https://img.example.cn/g/30071234/1.jpg",
        "https://img.example.cn/g/30071234/2.jpg",
    ]
    assert x.description == "1.7升大容量，一次烧水全家够用。\n304不锈钢内胆，防干烧保护。"


def test_no_structured_data_usd_and_eur(page_bytes):
    x = extract(page_bytes, "plain_usd.html", "https://gadgets.example.com/p/ab-17")
    assert (x.price, x.currency, x.list_price) == (D("1299.99"), "USD", D("1499.99"))
    assert (x.brand, x.model, x.origin, x.availability) == ("AeroBrew", "AB-17", "China", "InStock")
    assert x.category_path == ["Kitchen", "Kettles"]
    y = extract(page_bytes, "plain_eur.html", "https://huber.example.de/ht-2200")
    # Decimal commas; the UVP is the list price; shipping and an accessory are not the price.
    assert (y.price, y.currency, y.list_price) == (D("1299.00"), "EUR", D("1499.00"))
    assert (y.brand, y.availability) == ("Huber", "InStock")


def test_range_full_width_and_presale(page_bytes):
    x = extract(page_bytes, "plain_range.html")
    assert (x.price, x.price_high, x.currency) == (D("89"), D("129"), "CNY")
    assert (x.name, x.brand, x.model, x.origin) == (
        "小象 儿童T恤 纯棉 短袖 夏季",
        "小象",
        "XT-2026",
        "江苏南通",
    )
    assert x.availability == "PreOrder"
    y = extract(page_bytes, "fullwidth.html")
    assert (y.price, y.currency) == (D("1299.00"), "CNY")
    assert y.brand == "安心 ANXIN"  # ideographic space normalised
    assert y.availability == "OutOfStock"
    assert y.ccc is None  # 3C认证 in the title and 证书: 无 are not a certificate


def test_price_only_in_a_script_blob(page_bytes):
    x = extract(page_bytes, "script_blob.html")
    assert (x.price, x.currency, x.list_price) == (D("39.90"), "CNY", D("59.90"))
    assert (x.name, x.sku) == ("优洁 洗衣凝珠 52颗", "99001122")


@pytest.mark.parametrize("name", ["gbk_meta.html", "gb2312_http_equiv.html", "gbk_undeclared.html"])
def test_gbk_pages(page_bytes, name):
    x = extract(page_bytes, name)
    assert x.encoding == "gb18030"
    assert x.name == "喆美 电吹风 ZM-2000 负离子 家用大功率"
    assert (x.price, x.list_price, x.coupon_price) == (D("1299.00"), D("1599.00"), D("1199.00"))
    assert (x.brand, x.model) == ("喆美（ZHEMEI）", "ZM-2000")
    assert (x.manufacturer, x.origin, x.ccc) == (
        "中山喆美电器有限公司",
        "广东中山",
        "2019010703155521",
    )
    assert (x.availability, x.shop_id, x.shop_name) == ("InStock", "6612", "喆美个护专营店")
    assert x.category_path == ["个护电器", "电吹风"]


def test_gbk_page_behind_a_lying_header(page_bytes):
    x = extract(page_bytes, "gbk_meta.html", headers={"content-type": "text/html; charset=UTF-8"})
    assert x.encoding == "gb18030" and x.brand == "喆美（ZHEMEI）"


@pytest.mark.parametrize("name", ["big5_meta.html", "big5_undeclared.html"])
def test_big5_pages(page_bytes, name):
    x = extract(page_bytes, name, "https://tw.example.com/p/yx15")
    assert x.encoding == "big5"
    assert x.name == "優選 電熱水壺 YX-15 不鏽鋼 1.5公升"
    assert (x.price, x.currency, x.list_price) == (D("1280"), "TWD", D("1680"))
    assert (x.brand, x.model, x.origin) == (
        "優選",
        "YX-15",
        "台灣",
    )  # traditional labels 型號, 產地
    assert x.availability == "InStock"  # 現貨
    assert x.category_path == ["廚房家電", "電熱水壺"]


def test_text_input_and_payload_is_json_safe(page_bytes):
    text = page_bytes("plain_cn.html").decode("utf-8")
    x = extract_listing(text, URL)
    assert x.encoding is None and x.price == D("109.00")
    payload = x.to_payload()
    assert payload["price"] == "109.00" and payload["list_price"] == "169.00"
    assert "error" not in payload
    assert json.loads(json.dumps(payload, ensure_ascii=False)) == payload


@pytest.mark.parametrize("body", [b"", b"   \n\t  ", ""])
def test_empty_body(body):
    x = extract_listing(body, URL)
    assert x.error == "empty body" and not x.ok
    assert x.to_payload()["error"] == "empty body"


def test_binary_garbage():
    body = random.Random(37538).randbytes(8192)
    x = extract_listing(body, URL)
    assert x.error is not None and x.error.startswith("not an HTML page")
    assert x.price is None and x.sources == {}


def test_png_and_plain_text_are_not_pages():
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    assert extract_listing(png, URL).error.startswith("not an HTML page")
    assert (
        extract_listing("只是一段文字，价格¥89".encode(), URL).error
        == "not an HTML page: no markup found"
    )


def test_truncated_and_unclosed_html_still_extracts():
    body = "<html><body><h1>半截页面</h1><div class='price'>¥59.90<div><table><tr><td>品牌<td>半截".encode()
    x = extract_listing(body, URL)
    assert x.ok and (x.name, x.price, x.brand) == ("半截页面", D("59.90"), "半截")


def test_profile_selectors_fill_gaps_after_structured_data(page_bytes):
    selectors = {
        "price": ".goods-price .now",
        "brand": "xpath://ul[@class='attrs']/li[1]/text()",
        "sku": "xpath:substring-after(//li[contains(., '型号')], '：')",
        "shop_name": ".no-such-element",
        "category_path": "title::text",
    }
    x = extract(page_bytes, "jsonld_broken.html", selectors=selectors)
    assert x.sources["price"] == "selector" and x.price == D("149.00")
    assert x.brand == "品牌：飞利（FEILI）" and x.sources["brand"] == "selector"
    assert x.sku == "HD-1800"
    # Structured data still wins over a selector.
    y = extract(page_bytes, "microdata_only.html", selectors={"price": "h1"})
    assert y.sources["price"] == "microdata"


@pytest.mark.parametrize(
    "selectors",
    [{"colour": ".c"}, {"price": "div[[["}, {"price": "xpath://div["}],
)
def test_bad_selectors_raise(page_bytes, selectors):
    with pytest.raises(ValueError):
        extract(page_bytes, "plain_cn.html", selectors=selectors)


def test_base_href_resolves_relative_links():
    body = (
        "<html><head><base href='https://cdn.example.cn/shop/'></head><body><h1>X</h1>"
        "<div class='gallery'><img src='a.jpg'><img src='../b.jpg'></div><span class='price'>¥1</span>"
        "</body></html>"
    ).encode()
    x = extract_listing(body, "https://www.example.cn/item/1.html")
    assert x.image_urls == ["https://cdn.example.cn/shop/a.jpg", "https://cdn.example.cn/b.jpg"]
