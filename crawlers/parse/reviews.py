"""Reviews from the shops' review APIs (JSON) and review pages (HTML).

Every review becomes the same dict, whatever the shop::

    {"id", "user", "rating", "posted", "posted_text", "content", "variant",
     "images", "helpful", "followup_days", "followup_content"}

``posted`` is an ISO date or date-time when the page states one; pages that say
``3天前`` or ``昨天`` keep that in ``posted_text`` and leave ``posted`` empty, to be
resolved later against the fetch time (so the same page always gives the same record).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from crawlers.parse.common import (
    ParseError,
    absolute_date,
    clean,
    html_selector,
    joined_text,
    load_json,
)


@dataclass
class ReviewPage:
    """One page of reviews and how to get the next one."""

    reviews: list[dict[str, Any]] = field(default_factory=list)
    total: int | None = None
    has_more: bool = False
    next_cursor: str | None = None
    next_url: str | None = None


def _review(**values: Any) -> dict[str, Any]:
    base = dict.fromkeys(
        (
            "id",
            "user",
            "rating",
            "posted",
            "posted_text",
            "content",
            "variant",
            "images",
            "helpful",
            "followup_days",
            "followup_content",
        )
    )
    base["images"] = []
    base.update(values)
    if base["id"] in (None, ""):
        raise ValueError("review without id")
    base["id"] = str(base["id"])
    return base


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    return int(value)


def parse_reviews_json(body: bytes | str, url: str) -> ReviewPage:
    """A review API page: ``{"items", "next_cursor", "total"}`` (cursor paging) or
    ``{"success", "data", "has_more", "total"}`` (page numbers)."""
    data = load_json(body, url)
    if not isinstance(data, dict):
        raise ParseError(url, f"expected a JSON object, got {type(data).__name__}")
    try:
        if isinstance(data.get("items"), list):
            return _cursor_page(data, url)
        if isinstance(data.get("data"), list):
            return _numbered_page(data)
    except (TypeError, ValueError, AttributeError) as exc:
        raise ParseError(url, f"unexpected review record: {exc}") from None
    reason = data.get("message") or data.get("error_msg") or "no review list"
    raise ParseError(url, f"not a review page ({reason})")


def _cursor_page(data: dict[str, Any], url: str) -> ReviewPage:
    reviews = []
    for it in data["items"]:
        append = it.get("append") or {}
        posted = it.get("date")
        reviews.append(
            _review(
                id=it.get("id"),
                user=it.get("user"),
                rating=_int(it.get("rating")),
                posted=posted.replace(" ", "T") if isinstance(posted, str) else None,
                posted_text=posted,
                content=it.get("content"),
                variant=it.get("sku"),
                images=list(it.get("images") or []),
                helpful=_int(it.get("useful")),
                followup_days=_int(append.get("days_after")),
                followup_content=append.get("content"),
            )
        )
    cursor = data.get("next_cursor") or None
    return ReviewPage(reviews, _int(data.get("total")), cursor is not None, cursor)


def _numbered_page(data: dict[str, Any]) -> ReviewPage:
    reviews = []
    for it in data["data"]:
        append = it.get("append") or {}
        stamp = it.get("time")
        posted = (
            datetime.fromtimestamp(int(stamp), UTC).isoformat().replace("+00:00", "Z")
            if stamp not in (None, "")
            else None
        )
        reviews.append(
            _review(
                id=it.get("review_id"),
                user=it.get("name"),
                rating=_int(it.get("score")),
                posted=posted,
                posted_text=str(stamp) if stamp is not None else None,
                content=it.get("comment"),
                variant=it.get("specs"),
                images=list(it.get("pictures") or []),
                followup_days=_int(append.get("days")),
                followup_content=append.get("comment"),
            )
        )
    return ReviewPage(reviews, _int(data.get("total")), bool(data.get("has_more")))


_FOLLOWUP_DAYS = re.compile(r"(\d+)\s*天后")
_STAR_CLASS = re.compile(r"\bstar-(\d)\b")


def parse_reviews_html(
    body: bytes | str, url: str, *, headers: Mapping[str, str] | None = None
) -> ReviewPage:
    """A review page in HTML: ``li.rate-item`` rows (乐货网 style) or ``div.cmt`` rows
    with ``data-id`` (拼佳 style). The next page is the pager's ``a.next``."""
    sel = html_selector(body, headers)
    rows = sel.css("ul.rate-list > li.rate-item")
    if rows or sel.css("ul.rate-list"):
        reviews = [_rate_item(r) for r in rows]
        m = re.search(r"累计评价\s*(\d+)", joined_text(sel.css(".rate-head")) or "")
        total = int(m.group(1)) if m else None
    elif sel.css("div.cmt-page"):
        reviews = [_cmt(r) for r in sel.css("div.cmt-page div.cmt[data-id]")]
        total = None
    else:
        raise ParseError(url, "no review list on the page")
    for r in reviews:
        if not r["id"]:
            raise ParseError(url, "a review row has no id")
    nxt = sel.css(".pages a.next::attr(href), .pager a.next::attr(href)").get()
    return ReviewPage(
        [_review(**r) for r in reviews],
        total,
        nxt is not None,
        None,
        urljoin(url, nxt) if nxt else None,
    )


def _rate_item(row: Any) -> dict[str, Any]:
    rid = (row.attrib.get("id") or "").removeprefix("r")
    star_class = row.css(".star::attr(class)").get() or ""
    m = _STAR_CLASS.search(star_class)
    rating = int(m.group(1)) if m else (row.css(".star::text").get() or "").count("★") or None
    date_text = clean(row.css(".info .date::text").get())
    follow = joined_text(row.css(".append"))
    days = _FOLLOWUP_DAYS.search(follow or "")
    return {
        "id": rid,
        "user": clean(row.css(".user::text").get()),
        "rating": rating,
        "posted": absolute_date(date_text),
        "posted_text": date_text,
        "content": joined_text(row.css(".content")),
        "variant": clean(row.css(".info .sku::text").get()),
        "images": row.css(".pics img::attr(src)").getall(),
        "followup_days": int(days.group(1)) if days else None,
        "followup_content": follow.split("：", 1)[1] if follow and "：" in follow else follow,
    }


def _cmt(row: Any) -> dict[str, Any]:
    stars = re.search(r"(\d)", row.css(".s::text").get() or "")
    date_text = clean(row.css(".t::text").get())
    follow = joined_text(row.css("p.add"))
    days = _FOLLOWUP_DAYS.search(follow or "")
    return {
        "id": row.attrib.get("data-id"),
        "user": clean(row.css(".u::text").get()),
        "rating": int(stars.group(1)) if stars else None,
        "posted": absolute_date(date_text),
        "posted_text": date_text,
        "content": joined_text(row.css("p:not(.add)")),
        "variant": clean(row.css(".spec::text").get()),
        "images": row.css("img::attr(src)").getall(),
        "followup_days": int(days.group(1)) if days else None,
        "followup_content": follow.split("：", 1)[1] if follow and "：" in follow else follow,
    }
