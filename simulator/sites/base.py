"""Responses, requests and formatting helpers shared by the site renderers."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote

OFFSITE_LINKS = (
    ("http://127.0.0.2:8080/partner/index.html", "合作伙伴"),
    ("https://www.example.com/about/", "关于我们"),
    ("https://www.example.com/app/download", "下载APP"),
)


class NotFound(Exception):
    """Raised by a renderer when the path names nothing in the world."""


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    is_json: bool = False


@dataclass(frozen=True)
class Request:
    path: str  # without query
    query: dict[str, str]
    base: str  # scheme://host:port of the request, for absolute URLs
    raw_query: bytes = b""

    def int_arg(self, name: str, default: int = 1, lo: int = 1) -> int:
        v = self.query.get(name)
        if v is None or v == "":
            return default
        if not v.isdigit():
            raise NotFound(f"bad {name}")
        return max(lo, int(v))


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def html_response(
    text: str, charset: str = "utf-8", header_charset: bool = True, status: int = 200
) -> Response:
    body = text.encode(charset, errors="xmlcharrefreplace")
    ctype = (
        f"text/html; charset={charset.upper() if charset != 'utf-8' else 'utf-8'}"
        if header_charset
        else "text/html"
    )
    return Response(status, body, ctype)


def json_response(obj: object, status: int = 200) -> Response:
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status, body, "application/json; charset=utf-8", is_json=True)


def xml_response(text: str) -> Response:
    return Response(200, text.encode("utf-8"), "application/xml; charset=utf-8")


def yuan(fen: int) -> str:
    """1,299.00"""
    return f"{fen // 100:,}.{fen % 100:02d}"


def yuan_short(fen: int) -> str:
    """59.9 / 129 (pinjia style)."""
    s = f"{fen // 100}.{fen % 100:02d}".rstrip("0").rstrip(".")
    return s


def wan(n: int) -> str:
    """Chinese counts: 356, 1.2万+, 10万+."""
    if n >= 100000:
        return f"{n // 10000}万+"
    if n >= 10000:
        return f"{n / 10000:.1f}万+".replace(".0万", "万")
    return str(n)


def rel_date(d: date, clock: date) -> str:
    days = (clock - d).days
    if days <= 0:
        return "今天"
    if days == 1:
        return "昨天"
    if days < 30:
        return f"{days}天前"
    if d.year == clock.year:
        return f"{d.month}月{d.day}日"
    return f"{d.year}年{d.month}月{d.day}日"


def q(text: str) -> str:
    return quote(text, safe="")


def pager(href: str, page: int, pages: int, sep: str = "?", param: str = "page") -> str:
    """A page-number bar; ``href`` already holds other query arguments."""
    if pages <= 1:
        return ""
    parts = ['<div class="pager">']
    if page > 1:
        parts.append(f'<a class="prev" href="{esc(href)}{sep}{param}={page - 1}">上一页</a>')
    lo, hi = max(1, page - 3), min(pages, page + 3)
    if lo > 1:
        parts.append(f'<a href="{esc(href)}{sep}{param}=1">1</a><span>…</span>')
    for p in range(lo, hi + 1):
        if p == page:
            parts.append(f'<span class="cur">{p}</span>')
        else:
            parts.append(f'<a href="{esc(href)}{sep}{param}={p}">{p}</a>')
    if hi < pages:
        parts.append(f'<span>…</span><a href="{esc(href)}{sep}{param}={pages}">{pages}</a>')
    if page < pages:
        parts.append(f'<a class="next" href="{esc(href)}{sep}{param}={page + 1}">下一页</a>')
    parts.append(f'<span class="total">共{pages}页</span></div>')
    return "".join(parts)


def pages_for(total: int, size: int) -> int:
    return max(1, -(-total // size))


def offsite_footer() -> str:
    links = "".join(f'<a href="{u}" rel="nofollow">{t}</a> | ' for u, t in OFFSITE_LINKS)
    return f'<div class="friend-links">友情链接：{links}<a href="/">站点导航</a></div>'


def document(
    title: str,
    body: str,
    charset_meta: str = '<meta charset="utf-8">',
    head: str = "",
    lang: str = "zh-CN",
) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n{charset_meta}\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n{head}</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
