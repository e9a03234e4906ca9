"""Site-wide pages: the index, robots.txt, health, images and sitemaps."""

from __future__ import annotations

import gzip
import struct
import zlib
from xml.sax.saxutils import escape as xml_escape

from ..catalog import CATEGORIES, GROUP_CODES
from ..layout import MAX_LISTINGS, PLATFORMS
from ..rng import stable_hash
from ..world import PLATFORM_ZH, World, listing_path, shop_path
from .base import NotFound, Request, Response, document, html_response, offsite_footer
from .market import cat_id

CHUNK = 10_000
DISALLOWED = (
    "/youpin/cart/",
    "/lehuo/member/",
    "/pinjia/api/internal/",
    "/tousu/user/",
    "/recall/manage/",
)
SITEMAPS = {
    "youpin": "/youpin/sitemap.xml",
    "lehuo": "/lehuo/sitemap_index.xml",
    "pinjia": "/pinjia/sitemap.xml",
}


def index(world: World, req: Request) -> Response:
    links = "".join(f'<li><a href="/{p}/">{PLATFORM_ZH[p]}</a></li>' for p in PLATFORMS)
    body = (
        f'<h1>电子商务产品质量监测模拟环境</h1><ul class="sites">{links}'
        '<li><a href="/tousu/">消费投诉平台</a></li><li><a href="/recall/">缺陷产品召回信息平台</a></li></ul>'
        f"<p>商品数 {world.products}</p>{offsite_footer()}"
    )
    return html_response(document("站点导航", body))


def robots(world: World, req: Request) -> Response:
    lines = ["User-agent: *"] + [f"Disallow: {p}" for p in DISALLOWED]
    lines += ["Disallow: /*?*sort=", "", "User-agent: BadBot", "Disallow: /", ""]
    lines += [f"Sitemap: {req.base}{s}" for s in SITEMAPS.values()]
    return Response(200, ("\n".join(lines) + "\n").encode(), "text/plain; charset=utf-8")


def health(world: World, req: Request) -> Response:
    return Response(200, b'{"status":"ok"}', "application/json")


def image(world: World, req: Request) -> Response:
    h = stable_hash(world.seed, "png", req.path)
    rgb = bytes(((h >> 16) & 0xFF, (h >> 8) & 0xFF, h & 0xFF))
    return Response(200, _png(16, 16, rgb), "image/png", [("Cache-Control", "max-age=86400")])


def _png(w: int, h: int, rgb: bytes) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + tag
            + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + rgb * w for _ in range(h))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------- sitemaps
def _lastmod(world: World, *key: object) -> str:
    from datetime import timedelta

    return f"{world.clock - timedelta(days=1 + stable_hash(world.seed, 'lastmod', *key) % 60):%Y-%m-%d}"


def _urlset(urls: list[tuple[str, str]]) -> str:
    body = "".join(
        f"<url><loc>{xml_escape(u)}</loc><lastmod>{m}</lastmod></url>\n" for u, m in urls
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{body}</urlset>\n'
    )


def _index_doc(locs: list[str]) -> str:
    body = "".join(f"<sitemap><loc>{u}</loc></sitemap>\n" for u in locs)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{body}</sitemapindex>\n'
    )


_LEHUO_KIND = {"items": "goods", "shops": "stores"}
_PINJIA_KIND = {"items": "goods", "shops": "malls"}


def chunk_path(platform: str, kind: str, n: int) -> str:
    if platform == "youpin":
        return f"/youpin/sitemaps/{kind}-{n}.xml"
    if platform == "lehuo":
        return f"/lehuo/sitemap/{_LEHUO_KIND[kind]}_{n}.xml.gz"
    return f"/pinjia/sitemap-{_PINJIA_KIND[kind]}-{n}.xml"


def _chunks(total: int) -> int:
    return max(1, -(-total // CHUNK))


def sitemap_index(world: World, req: Request, platform: str) -> Response:
    pi = PLATFORMS.index(platform)
    items = len(world.layout.everything(pi))
    shops = sum(world.shop_counts[(platform, g)] for g in GROUP_CODES)
    locs = [req.base + chunk_path(platform, "items", n) for n in range(1, _chunks(items) + 1)]
    locs += [req.base + chunk_path(platform, "shops", n) for n in range(1, _chunks(shops) + 1)]
    if platform == "youpin":
        locs.append(req.base + "/youpin/sitemaps/categories.xml")
    return Response(200, _index_doc(locs).encode(), "application/xml; charset=utf-8")


def sitemap_chunk(world: World, req: Request, platform: str, kind: str, n: int) -> Response:
    urls: list[tuple[str, str]] = []
    start = (n - 1) * CHUNK
    if kind == "items":
        enum = world.layout.everything(PLATFORMS.index(platform))
        if n < 1 or start >= max(1, len(enum)):
            raise NotFound("chunk")
        code = world.item_codes[platform]
        for pid, j in enum.range(start, start + CHUNK):
            ext = code.encode(pid * MAX_LISTINGS + j)
            urls.append((req.base + listing_path(platform, ext), _lastmod(world, platform, ext)))
    elif kind == "shops":
        sizes = [(g, world.shop_counts[(platform, g)]) for g in GROUP_CODES]
        total = sum(s for _, s in sizes)
        if n < 1 or start >= total:
            raise NotFound("chunk")
        i = 0
        for g, size in sizes:
            lo, hi = max(start - i, 0), min(start + CHUNK - i, size)
            for idx in range(lo, hi):
                ext = world.shop_codes[platform].encode(
                    idx * len(GROUP_CODES) + GROUP_CODES.index(g)
                )
                urls.append(
                    (req.base + shop_path(platform, ext), _lastmod(world, platform, "shop", ext))
                )
            i += size
    else:
        urls = [
            (req.base + f"/youpin/list/{cat_id('youpin', i)}.html", f"{world.clock:%Y-%m-%d}")
            for i in range(len(CATEGORIES))
        ]
    text = _urlset(urls)
    if platform == "lehuo":
        return Response(200, gzip.compress(text.encode(), mtime=0), "application/x-gzip")
    return Response(200, text.encode(), "application/xml; charset=utf-8")
