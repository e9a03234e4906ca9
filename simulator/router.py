"""Maps request paths to page renderers."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qsl

from .sites import common, lehuo, pinjia, recall, tousu, youpin
from .sites.base import NotFound, Request, Response, document, html_response, json_response
from .world import World

Handler = Callable[..., Response]

_ROUTES: list[tuple[re.Pattern[str], Handler]] = [
    (re.compile(p), h)
    for p, h in (
        (r"/", common.index),
        (r"/robots\.txt", common.robots),
        (r"/__health", common.health),
        (r"/img/(?:youpin|lehuo|pinjia|review)/\d{12}\.png", common.image),
        (r"/youpin/", youpin.home),
        (r"/youpin/search", youpin.search),
        (r"/youpin/list/(\d+)\.html", youpin.category),
        (r"/youpin/item/(\d+)\.html", youpin.item),
        (r"/youpin/shop/(\d+)\.html", youpin.shop),
        (r"/youpin/api/reviews", youpin.reviews_api),
        (r"/youpin/cart/.*", youpin.cart),
        (r"/youpin/sitemap\.xml", lambda w, r: common.sitemap_index(w, r, "youpin")),
        (
            r"/youpin/sitemaps/(items|shops)-(\d+)\.xml",
            lambda w, r, k, n: common.sitemap_chunk(w, r, "youpin", k, int(n)),
        ),
        (
            r"/youpin/sitemaps/categories\.xml",
            lambda w, r: common.sitemap_chunk(w, r, "youpin", "categories", 1),
        ),
        (r"/lehuo/", lehuo.home),
        (r"/lehuo/search", lehuo.search),
        (r"/lehuo/cat/(\d+)_(\d+)\.html", lehuo.category),
        (r"/lehuo/goods/(\d+)\.html", lehuo.goods),
        (r"/lehuo/goods/(\d+)/reviews_(\d+)\.html", lehuo.reviews_page),
        (r"/lehuo/store/(\d+)/", lehuo.store),
        (r"/lehuo/member/.*", lehuo.member),
        (r"/lehuo/sitemap_index\.xml", lambda w, r: common.sitemap_index(w, r, "lehuo")),
        (
            r"/lehuo/sitemap/goods_(\d+)\.xml\.gz",
            lambda w, r, n: common.sitemap_chunk(w, r, "lehuo", "items", int(n)),
        ),
        (
            r"/lehuo/sitemap/stores_(\d+)\.xml\.gz",
            lambda w, r, n: common.sitemap_chunk(w, r, "lehuo", "shops", int(n)),
        ),
        (r"/pinjia/", pinjia.home),
        (r"/pinjia/search", pinjia.search_shell),
        (r"/pinjia/api/search", pinjia.search_api),
        (r"/pinjia/c/(\d+)", pinjia.category),
        (r"/pinjia/goods\.html", pinjia.goods),
        (r"/pinjia/comments\.html", pinjia.comments_page),
        (r"/pinjia/api/reviews", pinjia.reviews_api),
        (r"/pinjia/mall/(\d+)", pinjia.mall),
        (r"/pinjia/api/internal/.*", pinjia.internal),
        (r"/pinjia/sitemap\.xml", lambda w, r: common.sitemap_index(w, r, "pinjia")),
        (
            r"/pinjia/sitemap-goods-(\d+)\.xml",
            lambda w, r, n: common.sitemap_chunk(w, r, "pinjia", "items", int(n)),
        ),
        (
            r"/pinjia/sitemap-malls-(\d+)\.xml",
            lambda w, r, n: common.sitemap_chunk(w, r, "pinjia", "shops", int(n)),
        ),
        (r"/tousu/", tousu.list_page),
        (r"/tousu/list", tousu.list_page),
        (r"/tousu/complaint/(\d+)", tousu.detail),
        (r"/tousu/user/(.*)", tousu.user),
        (r"/recall/", recall.home),
        (r"/recall/notices", recall.notices),
        (r"/recall/notice/([A-Z]{2}-\d{4}-\d{5})\.html", recall.notice),
        (r"/recall/overseas", recall.overseas),
        (r"/recall/overseas/(cpsc|eu)/([\w-]+)\.html", recall.overseas_detail),
        (r"/recall/download/cpsc_recalls\.csv", recall.cpsc_csv),
        (r"/recall/download/cpsc_recalls\.json", recall.cpsc_json),
        (r"/recall/download/safety_gate_alerts\.csv", recall.eu_csv),
        (r"/recall/manage/.*", recall.manage),
    )
]
_SLASH = {"/youpin", "/lehuo", "/pinjia", "/tousu", "/recall"}
JSON_PREFIXES = ("/youpin/api/", "/pinjia/api/", "/recall/download/cpsc_recalls.json")


def parse_query(raw: str) -> dict[str, str]:
    """Query arguments; percent-encoded bytes are read as UTF-8, else as GBK."""
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        pairs = parse_qsl(raw, keep_blank_values=True, encoding="gbk", errors="replace")
    return dict(pairs)


def route(world: World, target: str, base: str) -> Response:
    path, _, raw = target.partition("?")
    if path in _SLASH:
        return Response(
            301, b"", "text/html", [("Location", path + "/" + ("?" + raw if raw else ""))]
        )
    req = Request(path, parse_query(raw), base)
    for pattern, handler in _ROUTES:
        m = pattern.fullmatch(path)
        if m:
            try:
                return handler(world, req, *m.groups())
            except (NotFound, KeyError, IndexError):
                return not_found(path)
    return not_found(path)


def is_json_path(path: str) -> bool:
    return path.startswith(JSON_PREFIXES)


def not_found(path: str) -> Response:
    if is_json_path(path):
        return json_response({"code": 404, "message": "not found"}, 404)
    body = document(
        "页面不存在",
        '<div class="err404"><h1>404</h1><p>抱歉，您访问的页面不存在或已下架。</p>'
        '<a href="/">返回首页</a></div>',
    )
    return html_response(body, status=404)
