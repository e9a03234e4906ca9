"""Same seed and clock give byte-identical pages; other seeds give other pages."""

from __future__ import annotations

from datetime import date
from typing import Any

from sim_helpers import Client

from simulator.server import SimulatorServer
from simulator.world import World


def sample_urls(truth: dict[str, Any]) -> list[str]:
    urls = [
        "/",
        "/robots.txt",
        "/youpin/",
        "/lehuo/",
        "/pinjia/",
        "/tousu/",
        "/recall/",
        "/youpin/search?keyword=%E7%94%B5%E7%83%AD%E6%B0%B4%E5%A3%B6",
        "/lehuo/search?q=%E5%85%85%E7%94%B5%E5%AE%9D",
        "/pinjia/api/search?q=%E6%AF%9B%E7%BB%92%E7%8E%A9%E5%85%B7",
        "/pinjia/search?q=%E7%94%B5%E5%90%B9%E9%A3%8E",
        "/youpin/sitemap.xml",
        "/youpin/sitemaps/items-1.xml",
        "/lehuo/sitemap_index.xml",
        "/lehuo/sitemap/goods_1.xml.gz",
        "/pinjia/sitemap.xml",
        "/pinjia/sitemap-malls-1.xml",
        "/recall/download/cpsc_recalls.csv",
        "/recall/download/cpsc_recalls.json",
        "/recall/download/safety_gate_alerts.csv",
        "/recall/notices",
        "/recall/overseas?source=eu",
        "/tousu/list?status=completed",
        "/tousu/list?page=2",
    ]
    for p in truth["products"][::2]:
        for lst in p["listings"]:
            urls.append(lst["url"])
            if lst["platform"] == "youpin":
                urls.append(f"/youpin/api/reviews?item={lst['id']}")
            elif lst["platform"] == "lehuo":
                if lst["review_count"]:
                    urls.append(f"/lehuo/goods/{lst['id']}/reviews_1.html")
            else:
                urls.append(f"/pinjia/api/reviews?goods_id={lst['id']}")
    urls += [s["url"] for s in truth["shops"][::3]]
    urls += [c["url"] for c in truth["complaints"][::3]]
    urls += [r["url"] for r in truth["recalls"]]
    return urls


def crawl(world: World, urls: list[str]) -> dict[str, tuple[int, bytes]]:
    with SimulatorServer(world) as srv:
        client = Client(srv.base_url)
        out = {}
        for u in urls:
            status, _, body = client.get(u)
            out[u] = (status, body)
        client.close()
    return out


def test_same_seed_gives_identical_bytes(truth: dict[str, Any]) -> None:
    urls = sample_urls(truth)
    assert len(urls) >= 250
    first = crawl(World(100, 7), urls)
    second = crawl(World(100, 7), urls)
    assert all(status == 200 for status, _ in first.values()), [
        u for u, (s, _) in first.items() if s != 200
    ]
    diffs = [u for u in urls if first[u] != second[u]]
    assert diffs == []


def test_other_seed_gives_other_pages(truth: dict[str, Any]) -> None:
    urls = [
        "/youpin/",
        "/tousu/",
        "/recall/notices",
        "/youpin/search?keyword=%E7%94%B5%E5%90%B9%E9%A3%8E",
        "/recall/download/cpsc_recalls.csv",
    ]
    a = crawl(World(100, 7), urls)
    b = crawl(World(100, 8), urls)
    assert all(a[u] != b[u] for u in urls)


def test_clock_fixes_dates(truth: dict[str, Any]) -> None:
    w1 = World(60, 3, date(2026, 11, 1))
    w2 = World(60, 3, date(2026, 11, 1))
    lst = next(w1.listing(*k) for pid in range(60) for k in w1.listings_of(pid) if k[0] == "lehuo")
    path = f"/lehuo/goods/{lst.ext_id}.html"
    assert crawl(w1, [path]) == crawl(w2, [path])
    later = crawl(World(60, 3, date(2027, 3, 1)), [path])
    assert later != crawl(w1, [path])
    clock = truth["clock"]
    for p in truth["products"]:
        for lst in p["listings"]:
            assert all(r["posted"][:10] <= clock for r in lst["reviews"])
    assert all(c["filed"][:10] <= clock for c in truth["complaints"])
    assert all(r["published"] <= clock for r in truth["recalls"])
