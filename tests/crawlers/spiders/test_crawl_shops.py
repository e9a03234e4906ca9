"""Shop pages: the parser on every simulated platform's pages and on nasty variants of
them, the profiles' shop links, and a crawl that reads each shop page once."""

from __future__ import annotations

import urllib.request
from collections import Counter

import pytest
from crawl_helpers import SEED, crawl, items_of, serve, truth_listings, truth_of

from crawlers.parse import ParseError, parse_shop_page
from crawlers.profiles import ProfileError, load_profile, load_profiles
from simulator import World
from simulator.server import SimulatorServer

FACTS = {
    "platform": "platform",
    "external_id": "id",
    "name": "name",
    "company": "company",
    "credit_code": "credit_code",
    "contact": "contact",
    "phone": "phone",
    "address": "address",
    "province": "province",
    "city": "city",
}


@pytest.fixture(scope="module")
def shop_pages() -> dict[str, list[tuple[str, bytes, dict[str, str], dict]]]:
    """Every shop page of a small world as served over HTTP, by platform, with its truth."""
    world = World(products=60, seed=SEED)
    truth = truth_of(world)
    out: dict[str, list[tuple[str, bytes, dict[str, str], dict]]] = {}
    with SimulatorServer(world) as srv:
        for shop in truth["shops"]:
            url = srv.base_url + shop["url"]
            with urllib.request.urlopen(url) as resp:
                page = (url, resp.read(), dict(resp.headers), shop)
            out.setdefault(shop["platform"], []).append(page)
    return out


def _one(shop_pages, platform: str) -> tuple[str, str, dict]:
    """A page of ``platform`` as text (the simulator's pages are UTF-8 or GBK)."""
    url, body, headers, shop = shop_pages[platform][0]
    return url, body.decode("gbk" if platform == "lehuo" else "utf-8"), shop


# --------------------------------------------------------------------------- parser
@pytest.mark.parametrize("platform", ["youpin", "lehuo", "pinjia"])
def test_every_shop_page_reads_as_the_truth_says(shop_pages, platform):
    pages = shop_pages[platform]
    assert len(pages) > 10
    for url, body, headers, shop in pages:
        record = parse_shop_page(body, url, headers=headers, platform=platform)
        assert {k: record[k] for k in FACTS} == {k: shop[v] for k, v in FACTS.items()}, url
        assert record["url"] == url


def test_gbk_page_decoded_from_its_meta_tag_alone(shop_pages):
    url, body, _, shop = shop_pages["lehuo"][0]
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    record = parse_shop_page(body, url, headers={"Content-Type": "text/html"})
    assert record["company"] == shop["company"] and record["platform"] == "lehuo"


def test_pinjia_names_no_place_so_the_address_does(shop_pages):
    url, html, shop = _one(shop_pages, "pinjia")
    assert "所在地" not in html
    record = parse_shop_page(html, url)
    assert (record["province"], record["city"]) == (shop["province"], shop["city"])
    municipal = html.replace(shop["address"], "上海市浦东新区张江路88号创新园3号楼1201室")
    record = parse_shop_page(municipal, url)
    assert (record["province"], record["city"]) == ("上海市", "上海市")


@pytest.mark.parametrize(
    ("shown", "read"),
    [
        ("０５７１－８８８８　１２３４", "0571-8888 1234"),  # full-width digits and space
        ("0571-88881234", "0571-88881234"),  # landline
        ("(0571) 8888 1234", "(0571) 8888 1234"),  # area code in brackets
        ("+86 138 1234 5678", "+86 138 1234 5678"),  # mobile with country code
        ("１３８１２３４５６７８", "13812345678"),
        ("暂无", None),
        ("", None),
    ],
)
@pytest.mark.parametrize("platform", ["youpin", "lehuo", "pinjia"])
def test_phone_numbers_as_shown_folded_to_ascii(shop_pages, platform, shown, read):
    url, html, shop = _one(shop_pages, platform)
    assert html.count(shop["phone"]) == 1
    record = parse_shop_page(html.replace(shop["phone"], shown), url)
    assert record["phone"] == read
    assert record["contact"] == shop["contact"] and record["address"] == shop["address"]


def test_missing_lines_leave_their_fields_empty(shop_pages):
    url, html, shop = _one(shop_pages, "youpin")
    for label in ("联系电话", "联系人", "统一社会信用代码"):
        start = html.index(f"<li>{label}：")
        html = html[:start] + html[html.index("</li>", start) + len("</li>") :]
    record = parse_shop_page(html, url)
    assert record["phone"] is None and record["contact"] is None
    assert record["credit_code"] is None
    assert record["company"] == shop["company"] and record["address"] == shop["address"]
    # No licence block at all: a shop page still, with its name and place.
    start = html.index('<div class="license">')
    bare = html[:start] + html[html.index("</div>", start) + len("</div>") :]
    record = parse_shop_page(bare, url)
    assert record["name"] == shop["name"] and record["company"] is None
    assert record["city"] == shop["city"]


def test_other_markup_for_the_same_facts(shop_pages):
    """Labels in their own elements, half-width colons, synonyms, another order."""
    url, html, shop = _one(shop_pages, "youpin")
    start = html.index('<div class="license">')
    end = html.index("</div>", start) + len("</div>")
    block = (
        '<div class="license"><ul>'
        f"<li><span>客服电话</span><em>{shop['phone']}</em></li>"
        f"<li>负责人 : {shop['contact']}</li>"
        f"<li><b>公司名称：</b><span>{shop['company']}</span></li>"
        f"<li>地址:{shop['address']}</li>"
        f"<li>信用代码：{shop['credit_code'].lower()}</li>"
        "</ul></div>"
    )
    record = parse_shop_page(html[:start] + block + html[end:], url)
    assert {k: record[k] for k in FACTS} == {k: shop[v] for k, v in FACTS.items()}


def test_credit_code_folded_to_upper_case_ascii(shop_pages):
    url, html, shop = _one(shop_pages, "lehuo")
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in shop["credit_code"])
    record = parse_shop_page(html.replace(shop["credit_code"], full_width), url)
    assert record["credit_code"] == shop["credit_code"]


def test_the_id_comes_from_the_url_when_the_page_has_none(shop_pages):
    url, html, shop = _one(shop_pages, "pinjia")
    record = parse_shop_page(html.replace(f'data-mall="{shop["id"]}"', ""), url)
    assert record["external_id"] == shop["id"]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><body>upstream error</body></html>",
        '<html><body><div class="shop-head"><h1 class="shop-name"> </h1></div></body></html>',
        '<html><body><div class="goods-wrap" data-gid="1"><div class="g-title">水壶</div>'
        "</div></body></html>",
    ],
)
def test_pages_that_are_no_shop_pages_raise_parse_error(body):
    with pytest.raises(ParseError) as info:
        parse_shop_page(body, "http://127.0.0.1:8000/youpin/shop/1.html")
    assert info.value.url.endswith("/youpin/shop/1.html")


def test_a_shop_page_without_an_id_anywhere_is_an_error():
    body = '<div class="mall-head"><div class="mall-name">好物小铺</div></div>'
    with pytest.raises(ParseError, match="no shop id"):
        parse_shop_page(body, "http://127.0.0.1:8000/pinjia/somewhere")


# ------------------------------------------------------------------------- profiles
def test_marketplace_profiles_know_their_shop_pages():
    base = "http://127.0.0.1:8000"
    cases = {
        "youpin": ("/youpin/shop/35671549.html", "35671549"),
        "lehuo": ("/lehuo/store/749597247/", "749597247"),
        "pinjia": ("/pinjia/mall/1412109338", "1412109338"),
    }
    for name, (path, shop_id) in cases.items():
        links = load_profile(name).links
        assert links.is_shop(base + path) and links.shop_id(base + path) == shop_id
        # Later pages of a shop show the same licence: only the first is a shop page.
        assert not links.is_shop(f"{base}{path}?page=2")
        assert not links.is_detail(base + path)
        assert not links.is_shop(base + "/youpin/item/1.html")
    assert load_profile("tousu").links.shop is None


@pytest.mark.parametrize(
    ("profile", "change", "message"),
    [
        ("youpin", {"shop": "(unclosed"}, "links.shop is not a valid regular"),
        ("tousu", {"shop": "^/tousu/shop/(?P<id>\\d+)$"}, "links.shop is only for marketplace"),
        ("youpin", {"shop": 5}, "links.shop must be text"),
    ],
)
def test_bad_shop_links_name_file_and_field(profile, change, message, tmp_path):
    import yaml

    doc = yaml.safe_load(load_profile(profile).path.read_text(encoding="utf-8"))
    doc["links"].update(change)
    (tmp_path / f"{profile}.yaml").write_text(
        yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8"
    )
    with pytest.raises(ProfileError) as info:
        load_profiles(tmp_path)
    assert message in str(info.value) and f"{profile}.yaml" in str(info.value)


# ---------------------------------------------------------------------------- crawl
def test_the_crawl_reads_each_shop_page_once(tmp_path):
    for site in serve(tmp_path, products=20):
        result = crawl(site, "lehuo", tmp_path)
        shops = items_of(result, "shop")
        ids = [s["external_id"] for s in shops]
        assert len(ids) == len(set(ids)), "a shop landed twice"
        assert result.items["shop"] == len(shops)
        truth = {s["id"]: s for s in site.truth["shops"] if s["platform"] == "lehuo"}
        listed = {x["shop_id"] for x in truth_listings(site.truth, "lehuo")}
        assert listed <= set(ids)
        for s in shops:
            assert s["kind"] == "shop" and s["source"] == s["platform"] == "lehuo"
            assert s["listing_external_id"] is None and s["url"].startswith(site.base_url)
            t = truth[s["external_id"]]
            assert {k: s["payload"][k] for k in FACTS} == {k: t[v] for k, v in FACTS.items()}
        # One whole fetch per shop page; a faulted attempt is retried, nothing more.
        served = Counter(
            e["path"]
            for e in site.log_entries()
            if e["path"].startswith("/lehuo/store/") and e["status"] == 200 and not e["fault"]
        )
        assert served and max(served.values()) == 1, served.most_common(3)
        assert set(served) >= {truth[i]["url"] for i in listed}
