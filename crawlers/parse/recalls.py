"""Recalls: SAMR-style notice pages, the CPSC recall export (CSV and JSON) and the EU
Safety Gate alerts CSV, all read into one record shape::

    {"source": "samr" | "cpsc" | "safety_gate", "external_id", "url", "title",
     "product_name", "brands", "models", "hazard", "hazard_type", "remedy", "date",
     "country", "description", "units", "producer", "extra": {...}}

``external_id`` is the source's own number (CPSC ``Recall Number``, Safety Gate
alert number, SAMR notice number); ``date`` is ISO; ``country`` the country of
manufacture or origin as the source states it. Rows that cannot be read are left out
and described in ``errors`` when a list is passed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from datetime import datetime
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

CPSC_REQUIRED = ("Recall Number", "Date", "Name of product", "Description")
SAFETY_GATE_REQUIRED = ("Alert number", "Publication date", "Product", "Brand")
_UNITS = re.compile(r"(\d[\d,]*)")
_MODELS = re.compile(
    r"model\s+(?:numbers?|nos?\.?|names?)\s*(?:include\s+|are\s+|:\s*)?(?P<list>.+?)(?:\.\s|\.$|$)",
    re.I,
)


def _record(source: str, external_id: str, url: str, **values: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "source": source,
        "external_id": external_id,
        "url": url,
        "title": None,
        "product_name": None,
        "brands": [],
        "models": [],
        "hazard": None,
        "hazard_type": None,
        "remedy": None,
        "date": None,
        "country": None,
        "description": None,
        "units": None,
        "producer": None,
        "extra": {},
    }
    rec.update(values)
    return rec


def _split(text: str | None, seps: str) -> list[str]:
    if not text:
        return []
    parts = re.split(rf"\s*(?:[{re.escape(seps)}]|\band\b)\s*", text)
    return [p.strip() for p in parts if p and p.strip()]


def _units(text: str | None) -> int | None:
    m = _UNITS.search(text or "")
    return int(m.group(1).replace(",", "")) if m else None


def _us_date(text: str | None) -> str | None:
    text = clean(text)
    if not text:
        return None
    for fmt in ("%B %d, %Y", "%b %d, %Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _cpsc_brand(description: str | None, product_name: str | None) -> list[str]:
    """CPSC names no brand column; descriptions read "This recall involves <brand> <product>"."""
    if not description:
        return []
    if product_name:
        m = re.search(
            rf"recall involves\s+(?:the\s+)?(?P<brand>.+?)\s+{re.escape(product_name)}",
            description,
            re.I,
        )
        if m and len(m.group("brand")) <= 60:
            return [m.group("brand").strip()]
    return []


def _cpsc_models(description: str | None) -> list[str]:
    m = _MODELS.search(description or "")
    return _split(m.group("list"), ",;") if m else []


# --------------------------------------------------------------------------- SAMR


def parse_samr_notice_list(
    body: bytes | str, url: str, *, headers: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """The notices on a list page: url, title, date."""
    sel = html_selector(body, headers)
    box = sel.css("ul.notice-list")
    if not box:
        raise ParseError(url, "no notice list on the page")
    out = []
    for li in box.css("li"):
        href = li.css("a::attr(href)").get()
        if not href:
            continue
        out.append(
            {
                "url": urljoin(url, href),
                "title": joined_text(li.css("a")),
                "date": absolute_date(li.css(".date::text").get()),
            }
        )
    return out


_SAMR_FIELDS = {
    "生产者": "producer",
    "产品名称": "product_name",
    "品牌": "brand",
    "型号规格": "models",
    "生产批次": "batches",
    "召回数量": "units",
    "缺陷情况": "defect",
    "可能导致的后果": "consequence",
    "维修/召回措施": "remedy",
    "联系方式": "contact",
}


def parse_samr_notice(
    body: bytes | str, url: str, *, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A 缺陷产品召回 notice page: number, producer, product, brand, models, batches,
    units, defect, consequence, measures, contact."""
    sel = html_selector(body, headers)
    box = sel.css("div.notice")
    if not box:
        raise ParseError(url, "no recall notice on the page")
    meta = joined_text(box.css("p.meta")) or ""
    m = re.search(r"召回编号[：:]\s*([A-Za-z0-9\-]+)", meta)
    number = m.group(1) if m else box.attrib.get("data-number")
    if not number:
        raise ParseError(url, "the notice has no number")
    fields: dict[str, str | None] = {}
    for tr in box.css("tr"):
        label = clean(tr.css("th::text").get())
        if label in _SAMR_FIELDS:
            fields[_SAMR_FIELDS[label]] = joined_text(tr.css("td"))
    if not fields.get("product_name"):
        raise ParseError(url, "the notice names no product")
    date_m = re.search(r"发布日期[：:]\s*(\S+)", meta)
    return _record(
        "samr",
        number,
        url,
        title=joined_text(box.css("h1")),
        product_name=fields.get("product_name"),
        brands=[fields["brand"]] if fields.get("brand") else [],
        models=_split(fields.get("models"), "、,，;；/"),
        hazard=fields.get("consequence"),
        remedy=fields.get("remedy"),
        date=absolute_date(date_m.group(1)) if date_m else None,
        description=fields.get("defect"),
        units=_units(fields.get("units")),
        producer=fields.get("producer"),
        extra={
            "batches": _split(fields.get("batches"), "；;"),
            "units_text": fields.get("units"),
            "contact": fields.get("contact"),
            "jurisdiction": "CN",
        },
    )


# --------------------------------------------------------------------------- CPSC


def _csv_rows(body: bytes | str, url: str, required: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        text = body.decode("utf-8-sig") if isinstance(body, bytes) else body.lstrip("\ufeff")
    except UnicodeDecodeError:
        text = body.decode("cp1252", errors="replace")  # type: ignore[union-attr]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    if missing:
        raise ParseError(url, f"CSV lacks the column(s) {', '.join(missing)}")
    reader.fieldnames = header
    try:
        return [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]
    except csv.Error as exc:
        raise ParseError(url, f"broken CSV: {exc}") from None


def parse_cpsc_csv(
    body: bytes | str, url: str, *, errors: list[str] | None = None
) -> list[dict[str, Any]]:
    """The CPSC recall CSV export (UTF-8 with BOM, the 22 CPSC columns)."""
    out = []
    for i, row in enumerate(_csv_rows(body, url, CPSC_REQUIRED), start=2):
        number = row.get("Recall Number", "")
        if not re.fullmatch(r"\d{4,6}", number):
            if errors is not None:
                errors.append(f"{url}: line {i}: Recall Number {number!r} is not a number")
            continue
        name = row.get("Name of product") or None
        desc = row.get("Description") or None
        out.append(
            _record(
                "cpsc",
                number,
                url,
                title=row.get("Recall Heading") or None,
                product_name=name,
                brands=_cpsc_brand(desc, name),
                models=_cpsc_models(desc),
                hazard=row.get("Hazard Description") or None,
                remedy=row.get("Remedy") or row.get("Remedy Type") or None,
                date=_us_date(row.get("Date")),
                country=row.get("Manufactured In") or None,
                description=desc,
                units=_units(row.get("Units")),
                producer=row.get("Manufacturers") or None,
                extra={
                    "units_text": row.get("Units") or None,
                    "consumer_action": row.get("Consumer Action") or None,
                    "incidents": row.get("Incidents") or None,
                    "importers": row.get("Importers") or None,
                    "distributors": row.get("Distributors") or None,
                    "sold_at": row.get("Sold At") or None,
                    "jurisdiction": "US",
                },
            )
        )
    return out


def _names(items: Any, key: str = "Name") -> list[str]:
    if not isinstance(items, list):
        return []
    return [str(x[key]).strip() for x in items if isinstance(x, dict) and x.get(key)]


def parse_cpsc_json(
    body: bytes | str, url: str, *, errors: list[str] | None = None
) -> list[dict[str, Any]]:
    """The CPSC recall API's JSON (a list of recalls with Products, Hazards, Remedies …)."""
    data = load_json(body, url)
    if not isinstance(data, list):
        raise ParseError(url, f"expected a JSON list of recalls, got {type(data).__name__}")
    out = []
    for i, it in enumerate(data):
        number = str(it.get("RecallNumber") or "").strip() if isinstance(it, dict) else ""
        if not number:
            if errors is not None:
                errors.append(f"{url}: recall {i}: no RecallNumber")
            continue
        products = it.get("Products") if isinstance(it.get("Products"), list) else []
        name = next(
            (p.get("Name") for p in products if isinstance(p, dict) and p.get("Name")), None
        )
        models: list[str] = []
        for p in products:
            if isinstance(p, dict):
                models += _split(p.get("Model"), ",;")
        desc = it.get("Description") or None
        hazards = it.get("Hazards") if isinstance(it.get("Hazards"), list) else []
        units_text = next(
            (
                p.get("NumberOfUnits")
                for p in products
                if isinstance(p, dict) and p.get("NumberOfUnits")
            ),
            None,
        )
        out.append(
            _record(
                "cpsc",
                number,
                url,
                title=it.get("Title") or None,
                product_name=name,
                brands=_cpsc_brand(desc, name),
                models=models or _cpsc_models(desc),
                hazard="; ".join(_names(hazards)) or None,
                hazard_type="; ".join(_names(hazards, "HazardType")) or None,
                remedy="; ".join(_names(it.get("Remedies"))) or None,
                date=_us_date(it.get("RecallDate")),
                country="; ".join(_names(it.get("ManufacturerCountries"), "Country")) or None,
                description=desc,
                units=_units(units_text),
                producer="; ".join(_names(it.get("Manufacturers"))) or None,
                extra={
                    "recall_id": it.get("RecallID"),
                    "units_text": units_text,
                    "page_url": it.get("URL") or None,
                    "consumer_contact": it.get("ConsumerContact") or None,
                    "importers": _names(it.get("Importers")),
                    "injuries": _names(it.get("Injuries")),
                    "jurisdiction": "US",
                },
            )
        )
    return out


# --------------------------------------------------------------------------- Safety Gate


def parse_safety_gate_csv(
    body: bytes | str, url: str, *, errors: list[str] | None = None
) -> list[dict[str, Any]]:
    """EU Safety Gate alerts as exported by the portal (one alert per row)."""
    out = []
    for i, row in enumerate(_csv_rows(body, url, SAFETY_GATE_REQUIRED), start=2):
        number = row.get("Alert number", "")
        if not re.fullmatch(r"(?:A\d{2}|SR)/\d{3,6}/\d{2}", number):
            if errors is not None:
                errors.append(f"{url}: line {i}: Alert number {number!r} is malformed")
            continue
        try:
            published = datetime.strptime(row.get("Publication date", ""), "%d/%m/%Y").date()
        except ValueError:
            published = None
        out.append(
            _record(
                "safety_gate",
                number,
                url,
                title=row.get("Name") or row.get("Product") or None,
                product_name=row.get("Product") or None,
                brands=_split(row.get("Brand"), ",;") if row.get("Brand") else [],
                models=_split(row.get("Type / number of model"), ",;"),
                hazard=row.get("Risk description") or None,
                hazard_type=row.get("Risk type") or None,
                remedy=row.get("Measures adopted by notifying country") or None,
                date=published.isoformat() if published else None,
                country=row.get("Country of origin") or None,
                description=row.get("Description") or None,
                extra={
                    "alert_type": row.get("Alert type") or None,
                    "notifying_country": row.get("Notifying country") or None,
                    "category": row.get("Product category") or None,
                    "batch_barcode": row.get("Batch number / Barcode") or None,
                    "counterfeit": row.get("Counterfeit") or None,
                    "found_also_in": row.get("Products were found and measures were taken also in")
                    or None,
                    "company_recall_page": row.get("Company recall page") or None,
                    "jurisdiction": "EU",
                },
            )
        )
    return out
