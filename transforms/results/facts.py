"""What the notices of one evaluation say about the sample, gathered from the warehouse:
the listing, product, shop, producer, lab, and the regions whose regulators are 属地.

Marketplace values are taken as they are stored (the renderer makes them safe); where a
value the notices need is missing, a plain fallback says so in Chinese rather than
failing, so a sample is never left without its notices for want of a product name.

Regions: the shop's is ``shops.region_code`` (from its licence page). The producer's is
the shop's when the shop's company is the named producer (the seller makes the
product), else the place of origin the listing states (产地, such as 浙江省宁波市),
matched against ``ref_regions``; unknown otherwise.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from ecqm.warehouse.schema import (
    listings,
    products,
    purchases,
    ref_categories,
    ref_labs,
    ref_regions,
    shops,
)
from transforms.core.regions import RegionIndex
from transforms.notify.routes import party_key

# 统一社会信用代码: 9 = registered with market regulation, then 1 enterprise, 2 个体工商户.
_CREDIT_CODE = re.compile(r"9[0-9A-Z][0-9A-Z]{16}")
_ORIGIN_NOISE = re.compile(r"^(?:产地|生产地|原产地)?[:：]?\s*(?:中国|中华人民共和国)?(?:大陆)?")


@dataclass(frozen=True)
class Region:
    """A region and its market regulator (ref_regions)."""

    code: str
    label: str
    regulator_name: str
    notify_email: str | None


@dataclass(frozen=True)
class SampleFacts:
    report_number: str
    task_id: str
    platform: str
    listing_external_id: str
    listing_url: str
    listing_title: str | None
    product_name: str
    brand: str | None
    model: str | None
    category_name: str | None
    producer_name: str | None
    shop_name: str
    shop_key: str
    shop_is_individual: bool
    shop_region: Region | None
    producer_region: Region | None
    lab_name: str | None


class RegionBook:
    """``ref_regions`` in memory: labels, regulators, and place names to codes."""

    def __init__(self, rows: list[Mapping[str, Any]]) -> None:
        self._rows = {str(r["code"]): r for r in rows}
        self._index = RegionIndex(rows)

    @classmethod
    def load(cls, conn: Connection) -> RegionBook:
        rows = [
            dict(r._mapping)
            for r in conn.execute(
                select(
                    ref_regions.c.code,
                    ref_regions.c.name,
                    ref_regions.c.level,
                    ref_regions.c.parent_code,
                    ref_regions.c.regulator_name,
                    ref_regions.c.notify_email,
                )
            )
        ]
        return cls(rows)

    def region(self, code: str | None) -> Region | None:
        row = self._rows.get(code or "")
        if row is None:
            return None
        label = row["name"]
        parent = self._rows.get(row["parent_code"] or "")
        if parent is not None and not label.startswith(parent["name"]):
            label = parent["name"] + label
        return Region(row["code"], label, row["regulator_name"], row["notify_email"] or None)

    def locate(self, place: str | None) -> str | None:
        """The region code of a place as a listing writes it (浙江省宁波市, 浙江宁波,
        广东东莞, 义乌), or ``None`` when it names no known city."""
        if not place:
            return None
        text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", place))
        text = _ORIGIN_NOISE.sub("", text)
        if not text:
            return None
        found = self._index.code_of(None, text)
        if found is not None:
            return found
        for cut in range(2, len(text) - 1):
            found = self._index.code_of(text[:cut], text[cut:])
            if found is not None:
                return found
        return None


def gather(
    conn: Connection,
    evaluation: Mapping[str, Any],
    regions: RegionBook,
    platform_name: str,
) -> SampleFacts:
    """The facts of the sample an ``evaluations`` row (a mapping) judged."""
    listing = _one(conn, listings, evaluation.get("listing_id"))
    product = _one(conn, products, evaluation.get("product_id"))
    shop = _one(conn, shops, evaluation.get("shop_id"))
    if shop is None and listing is not None and listing["shop_id"] is not None:
        shop = _one(conn, shops, listing["shop_id"])
    listing_attrs = (listing or {}).get("attributes") or {}
    bought_from = conn.execute(
        select(purchases.c.shop_name)
        .where(purchases.c.task_id == evaluation["task_id"], purchases.c.shop_name.is_not(None))
        .order_by(purchases.c.ordered_at, purchases.c.id)
        .limit(1)
    ).scalar_one_or_none()
    platform = evaluation["platform"] or (listing or {}).get("platform") or ""
    external_id = evaluation["listing_external_id"] or (listing or {}).get("external_id") or ""
    title = _text((listing or {}).get("title"))
    product_name = (
        _text((product or {}).get("name"))
        or title
        or f"任务 {evaluation['task_id']} 的样品（产品名称未记录）"
    )
    producer = _text((product or {}).get("producer_name")) or _text(
        (listing or {}).get("producer_name")
    )
    shop_name = (
        _text((shop or {}).get("name"))
        or _text(bought_from)
        or _text(listing_attrs.get("shop_name"))
        or "（店铺名称未记录）"
    )
    shop_ext = (shop or {}).get("external_id") or listing_attrs.get("shop_external_id")
    shop_key = f"{platform}/{shop_ext}" if shop_ext else f"{platform}/listing/{external_id}"
    category = None
    code = evaluation.get("category_code") or (product or {}).get("category_code")
    if code:
        category = conn.execute(
            select(ref_categories.c.name_zh).where(ref_categories.c.code == code)
        ).scalar_one_or_none()
    lab = None
    if evaluation.get("lab_code"):
        lab = conn.execute(
            select(ref_labs.c.name).where(ref_labs.c.code == evaluation["lab_code"])
        ).scalar_one_or_none() or str(evaluation["lab_code"])
    shop_region = regions.region((shop or {}).get("region_code"))
    producer_region = None
    if producer and shop is not None and _same_party(shop.get("company_name"), producer):
        producer_region = shop_region
    if producer_region is None and producer:
        producer_region = regions.region(regions.locate((listing or {}).get("origin")))
    url = _text((listing or {}).get("url")) or f"{platform_name} 商品编号 {external_id}"
    return SampleFacts(
        report_number=evaluation["report_number"],
        task_id=evaluation["task_id"],
        platform=platform,
        listing_external_id=external_id,
        listing_url=url,
        listing_title=title,
        product_name=product_name,
        brand=_text((product or {}).get("brand")) or _text((listing or {}).get("brand")),
        model=_text((product or {}).get("model")) or _text((listing or {}).get("model")),
        category_name=category,
        producer_name=producer,
        shop_name=shop_name,
        shop_key=shop_key,
        shop_is_individual=is_individual(shop),
        shop_region=shop_region,
        producer_region=producer_region,
        lab_name=lab,
    )


def is_individual(shop: Mapping[str, Any] | None) -> bool:
    """Whether a shop may be run by a person, whose name the public must not see.

    By its 统一社会信用代码 when the licence shows one (92… is a 个体工商户); else only a
    shop whose licence names a company (…公司) counts as a business. Unknown is
    individual: publishing a person's name is the mistake that cannot be taken back.
    """
    if shop is None:
        return True
    attrs = shop.get("attributes") or {}
    code = str(attrs.get("credit_code") or "").strip().upper()
    if _CREDIT_CODE.fullmatch(code):
        return code[1] == "2"
    company = _text(shop.get("company_name")) or ""
    return "公司" not in company


def _same_party(a: str | None, b: str | None) -> bool:
    return bool(a and b) and party_key(a) == party_key(b)


def _one(conn: Connection, table: Any, row_id: Any) -> dict[str, Any] | None:
    if row_id is None:
        return None
    row = conn.execute(select(table).where(table.c.id == row_id)).mappings().first()
    return dict(row) if row is not None else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
