"""The parsers on pages saved from the simulator, and on broken ones."""

from __future__ import annotations

import gzip
import json

import pytest
from crawl_helpers import page

from crawlers.parse import (
    ParseError,
    parse_complaint_detail,
    parse_complaint_list,
    parse_cpsc_csv,
    parse_cpsc_json,
    parse_reviews_html,
    parse_reviews_json,
    parse_safety_gate_csv,
    parse_samr_notice,
    parse_samr_notice_list,
)
from crawlers.parse.navigation import parse_search_json, parse_sitemap

BASE = "http://127.0.0.1:8000"


# --------------------------------------------------------------------------- reviews
def test_youpin_review_api_page_with_cursor():
    p = parse_reviews_json(page("youpin_reviews_1.json"), f"{BASE}/youpin/api/reviews?item=1")
    assert (p.total, len(p.reviews), p.has_more) == (35, 10, True)
    assert p.next_cursor == "MTUwMTY2NDY1MTc1OjEw"
    r = p.reviews[0]
    assert r["id"] == "4812778381389"
    assert r["rating"] == 5 and r["posted"] == "2026-10-31T07:09:34"
    assert isinstance(r["helpful"], int) and r["content"]
    assert len({x["id"] for x in p.reviews}) == 10


def test_pinjia_review_api_page_numbers_and_epoch_times():
    p = parse_reviews_json(page("pinjia_reviews_1.json"), f"{BASE}/pinjia/api/reviews")
    assert (p.total, len(p.reviews), p.has_more, p.next_cursor) == (21, 10, True, None)
    assert p.reviews[0]["id"] == "2218176190541"
    assert p.reviews[0]["posted"].endswith("Z")
    assert p.reviews[0]["images"] == ["/img/review/973882527782.png"]


def test_lehuo_gbk_review_page_with_charset_only_in_meta():
    body = page("lehuo_reviews_1.html")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    url = f"{BASE}/lehuo/goods/1166917729/reviews_1.html"
    p = parse_reviews_html(body, url, headers={"Content-Type": "text/html"})
    assert (p.total, len(p.reviews), p.has_more) == (16, 10, True)
    assert p.next_url == f"{BASE}/lehuo/goods/1166917729/reviews_2.html"
    first = p.reviews[0]
    assert first["id"] == "4200975792205"
    assert first["posted"] is None and first["posted_text"] == "今天"  # relative: resolved later
    assert "😊" in p.reviews[1]["content"]  # emoji as character references
    assert all(1 <= r["rating"] <= 5 for r in p.reviews)
    followups = [r for r in p.reviews if r["followup_content"]]
    assert len(followups) == 1 and followups[0]["followup_days"] > 0
    assert "追评" not in followups[0]["followup_content"]


def test_pinjia_html_comments_page():
    url = f"{BASE}/pinjia/comments.html?goods_id=332691834434"
    p = parse_reviews_html(page("pinjia_comments_1.html"), url)
    assert len(p.reviews) == 10 and p.has_more
    assert p.next_url.endswith("goods_id=332691834434&page=2")
    api = parse_reviews_json(page("pinjia_reviews_1.json"), url)
    assert [r["id"] for r in p.reviews] == [r["id"] for r in api.reviews]
    assert [r["content"] for r in p.reviews] == [r["content"] for r in api.reviews]


@pytest.mark.parametrize(
    "body",
    [
        page("youpin_reviews_1.json")[:700],  # cut short
        page("youpin_reviews_1.json").replace(b'":', b'"', 1),  # broken syntax
        b"<html><body>upstream error</body></html>",
        b"",
        b'{"code":404,"message":"not found"}',
        b"[1, 2, 3]",
        b'{"items": [{"user": "no id"}], "next_cursor": null}',
    ],
)
def test_broken_review_json_raises_parse_error(body):
    with pytest.raises(ParseError) as info:
        parse_reviews_json(body, f"{BASE}/youpin/api/reviews?item=1")
    assert info.value.url.endswith("item=1")


def test_html_page_without_reviews_is_an_error_but_an_empty_list_is_not():
    with pytest.raises(ParseError):
        parse_reviews_html(page("tousu_complaint.html"), f"{BASE}/x")
    empty = page("lehuo_reviews_1.html")
    start, end = (
        empty.index(b'<ul class="rate-list">'),
        empty.index(b"</ul>", empty.index(b"rate-list")),
    )
    empty = empty[: start + len(b'<ul class="rate-list">')] + empty[end:]
    p = parse_reviews_html(empty, f"{BASE}/lehuo/goods/1/reviews_1.html")
    assert p.reviews == []


# --------------------------------------------------------------------------- complaints
def test_complaint_detail_keeps_personal_data_as_found():
    url = f"{BASE}/tousu/complaint/17370000000"
    c = parse_complaint_detail(page("tousu_complaint.html"), url)
    assert c["number"] == "17370000000"
    assert c["respondent"] == "悦购生活馆" and c["platform_name"] == "拼佳"
    assert c["amount_fen"] == 3600 and c["status"] == "已完成"
    assert c["complainant"] == "黎娟"
    assert c["phone"] == "16696900508"
    assert c["id_number"] == "510107197108091488"
    assert c["address"].startswith("四川省成都市")
    assert c["email"] is None
    assert c["listing_url"] == f"{BASE}/pinjia/goods.html?goods_id=369598596237"
    assert c["shop_url"] == f"{BASE}/pinjia/mall/1424866552"
    assert [s["actor"] for s in c["steps"]][0] == "投诉人"
    assert c["steps"] == sorted(c["steps"], key=lambda s: s["time"])
    assert c["rating"] == 4 and c["rating_text"] == "处理结果基本满意"
    json.dumps(c)  # JSON-safe


def test_complaint_with_email():
    c = parse_complaint_detail(page("tousu_complaint_email.html"), f"{BASE}/tousu/complaint/1")
    assert c["number"] == "17370000304" and c["email"] == "azsgcq7@qq.com"


def test_complaint_list_page():
    url = f"{BASE}/tousu/list?status=completed"
    rows = parse_complaint_list(page("tousu_list_completed.html"), url)
    assert len(rows) == 20
    assert all(r["url"] == f"{BASE}/tousu/complaint/{r['number']}" for r in rows)
    assert {r["status"] for r in rows} == {"已完成"}
    assert all(r["respondent"] and r["platform_name"] for r in rows)
    assert not any("**" in json.dumps(r, ensure_ascii=False) for r in rows)  # masked names dropped


def test_broken_complaint_pages():
    with pytest.raises(ParseError):
        parse_complaint_detail(b"<html><body><h1>404</h1></body></html>", f"{BASE}/x")
    with pytest.raises(ParseError):
        parse_complaint_list(b"<html><body>503</body></html>", f"{BASE}/x")
    no_number = page("tousu_complaint.html").replace(b"17370000000", b"")
    with pytest.raises(ParseError):
        parse_complaint_detail(no_number, f"{BASE}/x")
    # A body cut in half still has its number: the record is partial, not wrong.
    half = page("tousu_complaint.html")[:1500]
    c = parse_complaint_detail(half, f"{BASE}/x")
    assert c["number"] == "17370000000" and c["steps"] == []


# --------------------------------------------------------------------------- recalls
def test_samr_notice():
    url = f"{BASE}/recall/notice/ZH-2023-00001.html"
    r = parse_samr_notice(page("recall_notice.html"), url)
    assert (r["source"], r["external_id"], r["url"]) == ("samr", "ZH-2023-00001", url)
    assert r["brands"] == ["罗家纺"] and r["product_name"] == "内衣"
    assert r["models"] == ["LJ37J01A", "LJ-100Q", "LJ-489V", "LJ-616Q", "LJ-115Q", "LJ-687U"]
    assert r["date"] == "2023-12-17" and r["units"] == 27057
    assert r["hazard"] and r["remedy"] and r["description"] and r["producer"]


def test_samr_notice_list():
    rows = parse_samr_notice_list(page("recall_notices.html"), f"{BASE}/recall/notices")
    assert len(rows) == 14
    assert all(r["url"].startswith(f"{BASE}/recall/notice/ZH-") for r in rows)
    assert [r["date"] for r in rows] == sorted((r["date"] for r in rows), reverse=True)


def test_cpsc_csv_and_json_agree():
    csv_rows = parse_cpsc_csv(page("cpsc_recalls.csv"), f"{BASE}/recall/download/cpsc_recalls.csv")
    json_rows = parse_cpsc_json(
        page("cpsc_recalls.json"), f"{BASE}/recall/download/cpsc_recalls.json"
    )
    assert len(csv_rows) == len(json_rows) == 5
    first = csv_rows[0]
    assert first["external_id"] == "26100" and first["date"] == "2026-08-01"
    assert first["brands"] == ["Nordhaus"] and first["models"] == ["SC-470U"]
    assert first["country"] == "China" and first["units"] == 6407
    for a, b in zip(csv_rows, json_rows):
        assert a["source"] == b["source"] == "cpsc"
        for key in ("external_id", "date", "product_name", "brands", "models", "units", "country"):
            assert a[key] == b[key], key


def test_safety_gate_csv():
    rows = parse_safety_gate_csv(page("safety_gate_alerts.csv"), f"{BASE}/sg.csv")
    assert len(rows) == 5
    r = rows[0]
    assert (r["source"], r["external_id"], r["date"]) == (
        "safety_gate",
        "A16/00005/26",
        "2026-10-31",
    )
    assert r["brands"] == ["PANDOO"] and r["models"] == ["XX-844Q", "XX-856V", "XX-929Q", "XX-267L"]
    assert r["hazard_type"] == "Burns" and r["country"] == "China"
    # Alerts numbered the newer way (SR/nnnnn/yy) are read too.
    sg = page("safety_gate_alerts.csv").decode().split("\r\n")
    sg[1] = "SR/00949/26" + sg[1][sg[1].index(",") :]
    rows = parse_safety_gate_csv("\r\n".join(sg), f"{BASE}/sg.csv")
    assert len(rows) == 5 and rows[0]["external_id"] == "SR/00949/26"


def test_broken_recall_files():
    url = f"{BASE}/recall/download/cpsc_recalls.csv"
    with pytest.raises(ParseError, match="Recall Number"):
        parse_cpsc_csv(b"Name,Date\r\nx,y\r\n", url)
    with pytest.raises(ParseError):
        parse_cpsc_json(page("cpsc_recalls.json")[:500], url)
    with pytest.raises(ParseError):
        parse_cpsc_json(b'{"error": "rate limited"}', url)
    with pytest.raises(ParseError):
        parse_safety_gate_csv(b"<html><body>503</body></html>", url)
    with pytest.raises(ParseError):
        parse_samr_notice(b"<html><body>404</body></html>", url)
    # one bad row among good ones: the rest are read, the bad one reported
    text = page("cpsc_recalls.csv").decode("utf-8-sig").split("\r\n")
    text[2] = "not-a-number" + text[2][text[2].index(",") :]
    errors: list[str] = []
    rows = parse_cpsc_csv("\r\n".join(text).encode(), url, errors=errors)
    assert len(rows) == 4 and len(errors) == 1 and "line 3" in errors[0]
    sg = page("safety_gate_alerts.csv").decode().split("\r\n")
    sg[1] = "A16-00005-26" + sg[1][sg[1].index(",") :]
    errors = []
    assert len(parse_safety_gate_csv("\r\n".join(sg), url, errors=errors)) == 4
    assert errors


# --------------------------------------------------------------------------- navigation
def test_sitemaps_plain_and_gzipped():
    index = parse_sitemap(page("youpin_sitemap.xml"), f"{BASE}/youpin/sitemap.xml")
    assert index.kind == "sitemapindex" and len(index.urls) == 3
    urlset = parse_sitemap(page("lehuo_goods_1.xml.gz"), f"{BASE}/lehuo/sitemap/goods_1.xml.gz")
    assert urlset.kind == "urlset" and len(urlset.urls) == 100
    assert all("/lehuo/goods/" in u for u in urlset.urls)
    with pytest.raises(ParseError):
        parse_sitemap(gzip.compress(b"<html>not xml")[:20], f"{BASE}/x.xml.gz")
    with pytest.raises(ParseError):
        parse_sitemap(b"<html><body>hi</body></html>", f"{BASE}/x.xml")


def test_search_json():
    p = parse_search_json(page("pinjia_search_1.json"), f"{BASE}/pinjia/api/search?q=x&page=1")
    assert len(p.urls) == 4 and not p.has_more
    assert all(u.startswith(f"{BASE}/pinjia/goods.html?goods_id=") for u in p.urls)
    with pytest.raises(ParseError):
        parse_search_json(page("pinjia_search_1.json")[:200], f"{BASE}/x")
