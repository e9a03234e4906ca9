"""What the parsers share: decoding, whitespace, Chinese dates and money."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from parsel import Selector
from w3lib.encoding import html_to_unicode


class ParseError(ValueError):
    """The page is not what the parser reads (wrong page, cut short, broken markup)."""

    def __init__(self, url: str, what: str) -> None:
        self.url = url
        self.what = what
        super().__init__(f"{url}: {what}")


def to_text(body: bytes | str, headers: Mapping[str, str] | None = None) -> str:
    """Decode an HTML body: BOM, then the Content-Type charset, then ``<meta>``, then sniffing."""
    if isinstance(body, str):
        return body
    content_type = None
    for k, v in (headers or {}).items():
        if k.lower() == "content-type":
            content_type = v
    _, text = html_to_unicode(content_type, body)
    return text


def html_selector(body: bytes | str, headers: Mapping[str, str] | None = None) -> Selector:
    return Selector(text=to_text(body, headers))


def load_json(body: bytes | str, url: str) -> Any:
    try:
        if isinstance(body, bytes):
            body = body.decode("utf-8-sig")
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(url, f"malformed JSON: {exc}") from None


def clean(text: str | None) -> str | None:
    """Collapse whitespace (including full-width spaces); None for empty."""
    if text is None:
        return None
    out = re.sub(r"[\s\u3000\xa0]+", " ", text).strip()
    return out or None


def joined_text(sel: Any) -> str | None:
    """All text under a selector (or selector list), whitespace collapsed."""
    return clean("".join(sel.xpath(".//text()").getall()))


_CN_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def absolute_date(text: str | None) -> str | None:
    """``2025年3月5日`` or ``2025-03-05`` as ISO; None for relative forms (3天前, 昨天)."""
    if not text:
        return None
    m = _CN_DATE.search(text) or _ISO_DATE.search(text)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        return None


def yuan_to_fen(text: str | None) -> int | None:
    """``¥1,299.00`` / ``￥89`` / ``59.9`` as integer fen; None when there is no amount."""
    if not text:
        return None
    m = re.search(r"(\d[\d,]*)(?:\.(\d{1,2}))?", text)
    if not m:
        return None
    whole = int(m.group(1).replace(",", ""))
    frac = (m.group(2) or "0").ljust(2, "0")
    return whole * 100 + int(frac)
