"""Complaints from a 黑猫投诉-style portal: list pages and complaint pages.

Complaint pages name the complainant (name, phone, address, sometimes ID number and
e-mail). The records keep them as found: masking is a later stage, inside the
warehouse. Nothing here logs a record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

from crawlers.parse.common import (
    ParseError,
    clean,
    html_selector,
    joined_text,
    yuan_to_fen,
)

_TARGET = re.compile(r"^(?P<name>.*?)[（(](?P<platform>[^（()）]+)[）)]\s*$")
_NUMBER = re.compile(r"^\d{6,20}$")

# label on the page -> field of the record
_FIELDS = {
    "投诉编号": "number",
    "投诉对象": "respondent",
    "投诉问题": "problem",
    "投诉要求": "demand",
    "涉诉金额": "amount_text",
    "投诉进度": "status",
}
_PERSON = {
    "投诉人": "complainant",
    "联系电话": "phone",
    "联系地址": "address",
    "身份证号": "id_number",
    "电子邮箱": "email",
}


def _split_target(text: str | None) -> tuple[str | None, str | None]:
    if not text:
        return None, None
    m = _TARGET.match(text)
    if not m:
        return text, None
    return clean(m.group("name")), clean(m.group("platform"))


def parse_complaint_list(
    body: bytes | str, url: str, *, headers: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """The complaints on a list page: number, url, title, filed, status, respondent,
    platform name and demand (the list shows only a masked name, which is not kept)."""
    sel = html_selector(body, headers)
    if not sel.css("div.list, div.blackcat-con"):
        raise ParseError(url, "no complaint list on the page")
    out = []
    for row in sel.css("div.blackcat-con"):
        href = row.css("h1 a::attr(href)").get()
        number = row.attrib.get("data-sn") or (href or "").rstrip("/").rsplit("/", 1)[-1]
        if not href or not _NUMBER.match(number or ""):
            raise ParseError(url, "a complaint row has no number or link")
        target = joined_text(row.css("p.target")) or ""
        respondent, platform = _split_target(target.split("：", 1)[-1])
        demand = joined_text(row.css("p.demand")) or ""
        out.append(
            {
                "number": number,
                "url": urljoin(url, href),
                "title": joined_text(row.css("h1")),
                "filed": clean(row.css(".info .time::text").get()),
                "status": clean(row.css(".info .state::text").get()),
                "respondent": respondent,
                "platform_name": platform,
                "demand": clean(demand.split("：", 1)[-1]) if demand else None,
            }
        )
    return out


def parse_complaint_detail(
    body: bytes | str, url: str, *, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """One complaint with its steps, the complained listing and shop, and the
    complainant's personal data as shown."""
    sel = html_selector(body, headers)
    box = sel.css("div.ts-detail")
    if not box:
        raise ParseError(url, "no complaint on the page")
    rec: dict[str, Any] = dict.fromkeys(
        (*_FIELDS.values(), *_PERSON.values(), "title", "platform_name", "amount_fen")
    )
    rec["title"] = joined_text(box.css("h1"))
    for li in box.css("ul.ts-q-list > li"):
        label = clean(li.css("label::text").get())
        if label:
            key = _FIELDS.get(label.rstrip("：:"))
            if key:
                label_len = len("".join(li.css("label ::text").getall()))
                full = "".join(li.xpath(".//text()").getall())
                rec[key] = clean(full[label_len:]) if full else None
            continue
        text = joined_text(li) or ""
        link = li.css("a")
        if text.startswith("涉诉商品") and link:
            rec["listing_url"] = urljoin(url, link.attrib.get("href", ""))
            rec["listing_title"] = joined_text(link)
        elif text.startswith("涉诉商家") and link:
            rec["shop_url"] = urljoin(url, link.attrib.get("href", ""))
            rec["shop_name"] = joined_text(link)
    rec.setdefault("listing_url", None)
    rec.setdefault("listing_title", None)
    rec.setdefault("shop_url", None)
    rec.setdefault("shop_name", None)
    rec["number"] = rec["number"] or box.attrib.get("data-sn")
    if not _NUMBER.match(rec["number"] or ""):
        raise ParseError(url, "the complaint has no number")
    rec["respondent"], rec["platform_name"] = _split_target(rec["respondent"])
    rec["amount_fen"] = yuan_to_fen(rec["amount_text"])
    for li in box.css("div.ts-person li"):
        text = joined_text(li) or ""
        label, sep, value = text.partition("：")
        key = _PERSON.get(label.strip())
        if key and sep:
            rec[key] = clean(value)
    rec["detail"] = joined_text(box.css("div.ts-desc p"))
    rec["steps"] = [
        {
            "time": clean(s.css(".ts-time::text").get()),
            "actor": clean(s.css(".ts-actor::text").get()),
            "text": joined_text(s.css("p")),
        }
        for s in box.css("ul.ts-d-steplist > li")
    ]
    rec["steps"].sort(key=lambda s: s["time"] or "")
    rate = box.css("div.ts-rate")
    rec["rating"] = (rate.css(".stars::text").get() or "").count("★") or None if rate else None
    rate_text = joined_text(rate) or ""
    rec["rating_text"] = clean(rate_text.split("：", 1)[-1].lstrip("★☆ ")) if rate else None
    return rec
