"""Pages parse, ids in the truth resolve, lists and sitemaps cover every listing once."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from sim_helpers import Client, fetch

from simulator.catalog import BANNED_TERMS, CATEGORIES, EXEMPT_PHRASES
from simulator.people import id_check_digit
from simulator.recalls import SOURCES
from simulator.server import SimulatorServer
from simulator.sites.recall import CPSC_COLUMNS, EU_COLUMNS

LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def by_platform(listings: list[dict[str, Any]], platform: str) -> list[dict[str, Any]]:
    return [x for x in listings if x["platform"] == platform]


def test_every_truth_id_serves_200(server: SimulatorServer, truth: dict[str, Any]) -> None:
    client = Client(server.base_url)
    urls = [lst["url"] for p in truth["products"] for lst in p["listings"]]
    urls += [s["url"] for s in truth["shops"]] + [c["url"] for c in truth["complaints"]]
    urls += [r["url"] for r in truth["recalls"]] + [
        x["url"] for p in truth["products"] for x in p["recalls"]
    ]
    bad = [u for u in urls if client.get(u)[0] != 200]
    assert bad == []
    assert client.get("/youpin/item/1.html")[0] == 404
    assert client.get("/tousu/complaint/17370000001")[0] == 404
    client.close()


def test_youpin_json_ld(server: SimulatorServer, listings: list[dict[str, Any]]) -> None:
    shapes = set()
    for lst in by_platform(listings, "youpin"):
        status, _, body = fetch(server.base_url, lst["url"])
        blocks = LD.findall(body.decode("utf-8"))
        assert len(blocks) == 1
        doc = json.loads(blocks[0])
        product = (
            next(n for n in doc["@graph"] if n["@type"] == "Product") if "@graph" in doc else doc
        )
        shapes.add(
            "graph"
            if "@graph" in doc
            else type(product["offers"]).__name__ + product["offers"].get("@type", "")
            if isinstance(product["offers"], dict)
            else "list"
        )
        assert product["sku"] == lst["id"]
        assert product.get("gtin13") == lst["product"]["gtin"]
        offers = product["offers"]
        first = offers[0] if isinstance(offers, list) else offers
        price = first.get("price", first.get("lowPrice"))
        assert round(float(price) * 100) == lst["price_fen"]
        assert first["priceCurrency"] == "CNY"
        assert first["availability"].startswith("https://schema.org/")
    assert {"graph", "list", "dictOffer", "dictAggregateOffer"} <= shapes


def test_lehuo_is_gbk_with_microdata(
    server: SimulatorServer, listings: list[dict[str, Any]]
) -> None:
    header_charset = meta_only = 0
    for lst in by_platform(listings, "lehuo")[:40]:
        status, headers, body = fetch(server.base_url, lst["url"])
        assert status == 200
        text = body.decode("gbk")
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
        if "charset=GBK" in headers["content-type"]:
            header_charset += 1
        else:
            meta_only += 1
            assert re.search(
                r'<meta (charset="gbk"|http-equiv="Content-Type" content="text/html; charset=gb2312")',
                text,
            )
        assert 'itemtype="https://schema.org/Product"' in text and 'itemprop="price"' in text
        shown = f"{lst['price_fen'] // 100:,}.{lst['price_fen'] % 100:02d}"
        assert f'￥<span itemprop="price" content="{shown.replace(",", "")}">{shown}</span>' in text
        assert re.search(r"月销[\d.]+万?\+?", text)
    assert header_charset and meta_only
    pages = [
        fetch(server.base_url, f"/lehuo/goods/{x['id']}/reviews_1.html")[2].decode("gbk")
        for x in by_platform(listings, "lehuo")
        if x["review_count"]
    ][:30]
    assert any(re.search(r"\d+天前|昨天|今天|\d+月\d+日", p) for p in pages)


def test_pinjia_has_no_structured_data(
    server: SimulatorServer, listings: list[dict[str, Any]]
) -> None:
    for lst in by_platform(listings, "pinjia")[:20]:
        text = fetch(server.base_url, lst["url"])[2].decode("utf-8")
        assert "itemprop" not in text and "ld+json" not in text
        assert 'class="g-price"' in text and "¥" in text


def _youpin_ids(server: SimulatorServer, path: str) -> list[str]:
    ids, page = [], 1
    while True:
        status, _, body = fetch(server.base_url, f"{path}{'&' if '?' in path else '?'}page={page}")
        if status == 404:
            return ids
        found = re.findall(r'<li class="goods-item" data-sku="(\d+)"', body.decode())
        ids += found
        if 'class="next"' not in body.decode():
            return ids
        page += 1


def test_search_pagination_covers_each_category_once(
    server: SimulatorServer, listings: list[dict[str, Any]]
) -> None:
    for cat in CATEGORIES:
        want = {
            p: sorted(
                x["id"]
                for x in listings
                if x["platform"] == p and x["product"]["category"] == cat.code
            )
            for p in ("youpin", "lehuo", "pinjia")
        }
        got = _youpin_ids(server, f"/youpin/search?keyword={quote(cat.keywords[-1])}")
        assert sorted(got) == want["youpin"], cat.code
        ids: list[str] = []
        page = 1
        while True:
            data = json.loads(
                fetch(server.base_url, f"/pinjia/api/search?q={quote(cat.zh)}&page={page}")[2]
            )
            ids += [str(i["goods_id"]) for i in data["items"]]
            if not data["has_more"]:
                break
            page += 1
        assert sorted(ids) == want["pinjia"], cat.code
    cat = CATEGORIES[0]
    q = quote(cat.zh.encode("gbk"))  # GBK-encoded query, as a GBK form submits it
    body = fetch(server.base_url, f"/lehuo/search?q={q}")[2].decode("gbk")
    got = re.findall(r'href="/lehuo/goods/(\d+)\.html" target', body)
    want_lehuo = {
        x["id"]
        for x in listings
        if x["platform"] == "lehuo" and x["product"]["category"] == cat.code
    }
    assert set(got) == want_lehuo
    assert "power_bank" == next(c.code for c in CATEGORIES if "移动电源" in c.keywords)


def _locs(xml: bytes) -> list[str]:
    return re.findall(r"<loc>(.*?)</loc>", xml.decode("utf-8"))


@pytest.mark.parametrize(
    "platform, index",
    [
        ("youpin", "/youpin/sitemap.xml"),
        ("lehuo", "/lehuo/sitemap_index.xml"),
        ("pinjia", "/pinjia/sitemap.xml"),
    ],
)
def test_sitemaps_list_every_listing_once(
    server: SimulatorServer,
    listings: list[dict[str, Any]],
    truth: dict[str, Any],
    platform: str,
    index: str,
) -> None:
    urls: list[str] = []
    for chunk in _locs(fetch(server.base_url, index)[2]):
        assert chunk.startswith("http://sim.test:8000/")
        body = fetch(server.base_url, chunk.removeprefix("http://sim.test:8000"))[2]
        if chunk.endswith(".gz"):
            body = gzip.decompress(body)
        urls += [u.removeprefix("http://sim.test:8000").replace("&amp;", "&") for u in _locs(body)]
    want = [x["url"] for x in listings if x["platform"] == platform]
    items = [u for u in urls if u in set(want)]
    assert sorted(items) == sorted(want) and len(items) == len(set(items))
    shops = sorted(s["url"] for s in truth["shops"] if s["platform"] == platform)
    assert sorted(u for u in urls if u in set(shops)) == shops


def test_robots_disallowed_paths_exist_and_are_linked(
    server: SimulatorServer, listings: list[dict[str, Any]], truth: dict[str, Any]
) -> None:
    robots = fetch(server.base_url, "/robots.txt")[2].decode()
    disallowed = re.findall(r"^Disallow: (/\S+/)$", robots, re.M)
    assert {"/youpin/cart/", "/lehuo/member/", "/pinjia/api/internal/", "/tousu/user/"} <= set(
        disallowed
    )
    pages = [
        fetch(server.base_url, by_platform(listings, p)[0]["url"])[2]
        for p in ("youpin", "lehuo", "pinjia")
    ]
    pages.append(fetch(server.base_url, truth["complaints"][0]["url"])[2])
    html = b"".join(pages).decode("utf-8", errors="replace")
    for prefix in disallowed:
        if prefix == "/recall/manage/":
            continue
        links = re.findall(r'href="(' + re.escape(prefix) + r'[^"]*)"', html)
        assert links, prefix
        assert fetch(server.base_url, links[0].replace("&amp;", "&"))[0] == 200
    assert "http://127.0.0.2:" in html and "https://www.example.com/" in html


def test_review_api_cursor_pagination(
    server: SimulatorServer, listings: list[dict[str, Any]]
) -> None:
    lst = max(by_platform(listings, "youpin"), key=lambda x: x["review_count"])
    assert lst["review_count"] > 10
    ids, cursor = [], None
    while True:
        path = f"/youpin/api/reviews?item={lst['id']}" + (f"&cursor={cursor}" if cursor else "")
        data = json.loads(fetch(server.base_url, path)[2])
        ids += [i["id"] for i in data["items"]]
        cursor = data["next_cursor"]
        if cursor is None:
            break
    assert ids == [r["id"] for r in lst["reviews"]]


def test_complaint_lists(server: SimulatorServer, truth: dict[str, Any]) -> None:
    def numbers(query: str) -> list[str]:
        out, page = [], 1
        while True:
            status, _, body = fetch(server.base_url, f"/tousu/list?{query}page={page}")
            if status != 200:
                return out
            found = re.findall(r'data-sn="(\d+)"', body.decode())
            if not found:
                return out
            out += found
            page += 1

    everything = numbers("")
    by_date = [
        c["number"] for c in sorted(truth["complaints"], key=lambda c: c["filed"], reverse=True)
    ]
    assert everything == by_date
    union = []
    for code, zh in (
        ("pending", "待分配"),
        ("processing", "处理中"),
        ("replied", "已回复"),
        ("completed", "已完成"),
    ):
        part = numbers(f"status={code}&")
        assert part == [c["number"] for c in truth["complaints"][::-1] if c["status"] == zh]
        union += part
    assert sorted(union) == sorted(everything)
    detail = fetch(server.base_url, truth["complaints"][0]["url"])[2].decode()
    phone = re.search(r"联系电话：(\d+)", detail)
    assert phone and re.fullmatch(r"1[3-9]\d{9}", phone.group(1))
    ids = [c["id_number"] for c in truth["complaints"] if c["id_number"]]
    assert ids and all(len(i) == 18 and id_check_digit(i[:17]) == i[17] for i in ids)
    kinds = {c["kind"] for c in truth["complaints"]}
    assert {"hazard", "logistics", "refund"} <= kinds


def test_recall_downloads(server: SimulatorServer, truth: dict[str, Any]) -> None:
    status, headers, body = fetch(server.base_url, "/recall/download/cpsc_recalls.csv")
    assert body.startswith(b"\xef\xbb\xbf") and b"\r\n" in body
    rows = list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline="")))
    assert tuple(rows[0]) == CPSC_COLUMNS
    assert all(re.fullmatch(r"\d{5}", r[0]) for r in rows[1:])
    assert all(re.fullmatch(r"[A-Z][a-z]+ \d{1,2}, \d{4}", r[2]) for r in rows[1:])
    cpsc = [r for r in truth["recalls"] if r["source"] == "cpsc"]
    assert sorted(r[0] for r in rows[1:]) == sorted(r["number"] for r in cpsc)
    data = json.loads(fetch(server.base_url, "/recall/download/cpsc_recalls.json")[2])
    assert {
        "RecallNumber",
        "RecallDate",
        "Title",
        "Description",
        "Products",
        "Hazards",
        "Remedies",
        "Manufacturers",
        "ManufacturerCountries",
    } <= set(data[0])
    assert {"Name", "Model", "Type", "NumberOfUnits"} <= set(data[0]["Products"][0])
    eu = list(
        csv.reader(
            io.StringIO(
                fetch(server.base_url, "/recall/download/safety_gate_alerts.csv")[2].decode()
            )
        )
    )
    assert tuple(eu[0]) == EU_COLUMNS
    assert all(re.fullmatch(r"A\d{2}/\d{5}/\d{2}", r[0]) for r in eu[1:])
    assert {r["source"] for r in truth["recalls"]} == set(SOURCES)


def test_recalls_match_planted_products(truth: dict[str, Any]) -> None:
    products = {p["id"]: p for p in truth["products"]}
    matched = [r for r in truth["recalls"] if r["matched_product"] is not None]
    assert matched and len(matched) < len(truth["recalls"]) / 2

    def norm(m: str) -> str:
        return re.sub(r"[^0-9a-z]", "", m.lower()).removesuffix("1")

    for r in matched:
        p = products[r["matched_product"]]
        assert p["defect"] and p["defect"]["cause"] == "recall"
        assert norm(p["model"]) in {norm(m) for m in r["models"]}
        assert p["model"] not in r["models"]  # spelled differently from the product's own model
        assert {x["id"] for x in r["matched_listings"]} == {x["id"] for x in p["listings"]}
    models = {norm(p["model"]) for p in truth["products"]}
    for r in truth["recalls"]:
        if r["matched_product"] is None:
            assert not models & {norm(m) for m in r["models"]}


def test_listing_signals_match_pages(
    server: SimulatorServer, listings: list[dict[str, Any]]
) -> None:
    kinds = {"banned": 0, "exempt": 0, "missing_ccc": 0, "sanwu": 0, "counterfeit": 0}
    for lst in listings:
        body = fetch(server.base_url, lst["url"])[2]
        text = body.decode("gbk" if lst["platform"] == "lehuo" else "utf-8")
        visible = re.sub(r"<script.*?</script>", "", text, flags=re.S)
        cleaned = visible
        for phrase in EXEMPT_PHRASES + tuple(lst["exempt_phrases"]):
            cleaned = cleaned.replace(phrase, "")
        found = {t for t in BANNED_TERMS if t in cleaned}
        assert found == {b["term"] for b in lst["banned_terms"]}, (lst["url"], found)
        kinds["banned"] += bool(found)
        kinds["exempt"] += bool(lst["exempt_phrases"])
        ccc = re.findall(r"\b(20\d{14})\b", visible)
        if lst["ccc_shown"]:
            assert lst["ccc_shown"] in ccc
        else:
            assert not ccc
        kinds["missing_ccc"] += lst["missing_ccc"]
        assert ("生产企业" in visible or "生产厂家" in visible) == lst["manufacturer_shown"], lst[
            "url"
        ]
        kinds["sanwu"] += lst["sanwu"]
        kinds["counterfeit"] += lst["counterfeit"]
    assert all(kinds.values()), kinds
