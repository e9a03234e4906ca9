"""One staging row → the core rows it says something about.

Pure functions: a staging row (its columns and JSON payload) and the run's
:class:`Toolkit` in, plain dicts ready for the core tables out. A value that cannot be
read raises :class:`RecordError` naming the field, the value and the rule, and the
caller quarantines the whole staging row; a value that is merely absent becomes
``NULL``. Personal data never leaves this module in clear: names, phones, emails, ID
numbers and addresses become salted pseudonyms, and free text is scrubbed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from crawlers.extract.values import gtin_value
from transforms.normalise import (
    NormaliseError,
    clean_text,
    parse_posted,
    parse_sales,
    price_to_fen,
    to_five_scale,
    to_simplified,
)
from transforms.pii import is_valid_id_number, pseudonymise, scrub_text

SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
MAX_TEXT = 20_000
MAX_REVIEW_TEXT = 5_000  # the reviews suite refuses longer; a longer one is cut, not lost
_STATUS = {
    "已完成": "resolved",
    "已解决": "resolved",
    "已办结": "resolved",
    "处理中": "processing",
    "已回复": "replied",
    "商家已回复": "replied",
    "已分配": "assigned",
    "待分配": "submitted",
    "已受理": "accepted",
    "待受理": "submitted",
    "审核中": "submitted",
    "已提交": "submitted",
    "已关闭": "closed",
    "已撤销": "withdrawn",
    "已撤诉": "withdrawn",
}


class RecordError(ValueError):
    """A staging row that cannot become a core row: which field, which value, why."""

    def __init__(self, field: str, value: Any, reason: str, rule: str | None = None) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        self.rule = rule or f"normalise:{field}"
        shown = repr(value)
        if len(shown) > 120:
            shown = shown[:117] + "..."
        super().__init__(f"{field}: {reason} (value {shown})")


def _no_region(province: str | None, city: str | None) -> str | None:
    return None


@dataclass(frozen=True)
class Toolkit:
    """What the record builders need from the run: the PII salt, the category mapper
    (``(path, title) -> (code, method, confidence)``), the platform recogniser
    (``url -> (platform, listing external id)``) and the region look-up
    (``(province, city) -> ref_regions code``, ``None`` when the city is unknown)."""

    salt: bytes
    categorise: Callable[[Sequence[str], str | None], tuple[str | None, str | None, float]]
    listing_of_url: Callable[[str], tuple[str, str] | None]
    region_of: Callable[[str | None, str | None], str | None] = _no_region


# --------------------------------------------------------------------------- helpers


def text(
    value: Any, *, simplified: bool = True, limit: int = MAX_TEXT, field: str = "text"
) -> str | None:
    """Clean display text; Traditional characters folded to Simplified. Numbers are
    read as text; a JSON list or object where text belongs is refused."""
    if value is None:
        return None
    if isinstance(value, list | dict | tuple):
        raise RecordError(field, value, f"expected text, found a JSON {type(value).__name__}")
    if not isinstance(value, str):
        value = str(value)
    out = clean_text(value)
    if out and simplified:
        out = to_simplified(out)
    if out and len(out) > limit:
        out = out[: limit - 1] + "…"
    return out or None


def scrubbed(
    value: Any,
    salt: bytes,
    *,
    limit: int = MAX_TEXT,
    known: Sequence[tuple[str, str]] = (),
    field: str = "text",
) -> str | None:
    """Display text with personal data replaced by placeholders.

    ``known`` lists (value, placeholder) pairs the record itself names (the
    complainant's name and address): a name in running text has no pattern to find it
    by, but when the record says who the person is, every mention of them goes.
    """
    out = text(value, limit=limit, field=field)
    if not out:
        return None
    for raw, placeholder in known:
        out = out.replace(raw, placeholder)
    return scrub_text(out, salt=salt).text


def known_values(pairs: Sequence[tuple[Any, str]]) -> list[tuple[str, str]]:
    """The personal values a record names, cleaned the way :func:`text` cleans running
    text, longest first (so a full address goes before the name inside it)."""
    out = []
    for value, placeholder in pairs:
        v = text(value, limit=1000)
        if v and len(v) >= 2:
            out.append((v, placeholder))
    return sorted(out, key=lambda x: -len(x[0]))


def pseudonym(value: Any, kind: str, salt: bytes) -> str | None:
    if value is None:
        return None
    raw = str(value).strip()
    if not raw:
        return None
    try:
        return pseudonymise(raw, kind=kind, salt=salt)
    except ValueError:  # nothing left after normalising (a lone "-")
        return None


def money_fen(value: Any, field: str) -> int | None:
    """A price as shown (``"19.90"``, ``¥89-129``, ``券后¥59``) → integer fen."""
    if value is None or value == "":
        return None
    try:
        price = price_to_fen(str(value))
    except NormaliseError as exc:
        raise RecordError(field, value, str(exc)) from exc
    return None if price is None else price.fen


def gtin(value: Any) -> str | None:
    """A GTIN when it is 8, 12, 13 or 14 digits with a valid check digit, else ``None``
    (the raw value stays in ``attributes``: a wrong barcode is a listing fact, not a
    reason to lose the row)."""
    return gtin_value(value, check=True)


def aware(value: Any, field: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise RecordError(field, value, "not an ISO date-time") from exc
        return aware(parsed, field)
    raise RecordError(field, value, "not a date-time")


def local_time(value: Any, field: str) -> dt.datetime | None:
    """``2026-05-05 09:40:41`` as shown on a Chinese site: Asia/Shanghai → UTC."""
    if value in (None, ""):
        return None
    s = str(value).strip()
    try:
        parsed = dt.datetime.fromisoformat(s.replace("/", "-"))
    except ValueError as exc:
        raise RecordError(field, value, "not a date-time (expected YYYY-MM-DD hh:mm:ss)") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed.astimezone(dt.UTC)


def date_only(value: Any, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise RecordError(field, value, "not a date (expected YYYY-MM-DD)") from exc


def rating(value: Any, field: str = "rating") -> float | None:
    if value is None or value == "":
        return None
    try:
        return to_five_scale(value)
    except NormaliseError as exc:
        raise RecordError(field, value, str(exc)) from exc


def count(value: Any, field: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        n = int(Decimal(str(value)))
    except (InvalidOperation, ValueError) as exc:
        raise RecordError(field, value, "not a whole number") from exc
    if n < 0:
        raise RecordError(field, value, "is negative")
    return n


def _payload(row: Mapping[str, Any]) -> Mapping[str, Any]:
    payload = row["payload"]
    if not isinstance(payload, Mapping):
        raise RecordError("payload", payload, "is not a JSON object", rule="staging:payload")
    return payload


def _drop_none(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, [], {}, "")}


# -------------------------------------------------------------------------- listings


@dataclass
class ListingParts:
    listing: dict[str, Any]
    shop: dict[str, Any] | None
    snapshot: dict[str, Any]


def category_inputs(row: Mapping[str, Any]) -> tuple[tuple[str, ...], str | None]:
    """The cleaned breadcrumb and title a listing is categorised by."""
    p = row.get("payload")
    if not isinstance(p, Mapping):
        return (), None
    crumbs = p.get("category_path") or []
    if not isinstance(crumbs, list):
        crumbs = [crumbs]
    path = tuple(c for c in (text(x, limit=200, field="category_path") for x in crumbs) if c)
    return path, text(p.get("name"), limit=1000, field="name")


def listing_parts(row: Mapping[str, Any], kit: Toolkit) -> ListingParts:
    """A ``stg_listings`` row → its ``listings`` row, its shop and one snapshot."""
    p = _payload(row)
    fetched = aware(row["fetched_at"], "fetched_at")
    path_t, title = category_inputs(row)
    if not title:
        raise RecordError("name", p.get("name"), "a listing needs a title", rule="required:title")
    path = list(path_t)
    code, method, confidence = kit.categorise(path, title)
    currency = text(p.get("currency"), simplified=False) or "CNY"
    if not re.fullmatch(r"[A-Za-z]{3}", currency):
        raise RecordError("currency", currency, "not an ISO 4217 code")
    price = money_fen(p.get("price"), "price")
    sales_text = p.get("sales_volume")
    try:
        sales = parse_sales(sales_text) if sales_text not in (None, "") else None
    except NormaliseError as exc:
        raise RecordError("sales_volume", sales_text, str(exc)) from exc
    raw_gtin = text(p.get("gtin"), simplified=False)
    shop_id = text(p.get("shop_id"), simplified=False, limit=128)
    platform = row["platform"]
    description = scrubbed(p.get("description"), kit.salt)
    listing = {
        "platform": platform,
        "external_id": row["external_id"],
        "url": p.get("url") or row.get("url"),
        "title": scrub_text(title, salt=kit.salt).text,
        "category_code": code,
        "category_method": method,
        "category_confidence": confidence,
        "platform_category": " > ".join(path) or None,
        "brand": text(p.get("brand"), limit=128),
        "model": text(p.get("model"), simplified=False, limit=128),
        "price_fen": price,
        "currency": currency.upper(),
        "ccc_number": text(p.get("ccc"), simplified=False, limit=32),
        "producer_name": text(p.get("manufacturer"), limit=256),
        "origin": text(p.get("origin"), limit=128),
        "gtin": gtin(raw_gtin),
        "attributes": _drop_none(
            {
                "sku": text(p.get("sku"), simplified=False),
                "shop_external_id": shop_id,
                "shop_name": text(p.get("shop_name"), limit=256),
                "description": description,
                "gtin_shown": raw_gtin,
                "price_high_fen": money_fen(p.get("price_high"), "price_high"),
                "coupon_price_fen": money_fen(p.get("coupon_price"), "coupon_price"),
                "images": len(p.get("image_urls") or []) or None,
                "category_path": path,
            }
        ),
        "first_seen_at": fetched,
        "last_seen_at": fetched,
        "staging_id": row["id"],
    }
    shop = None
    if shop_id:
        shop = {
            "platform": platform,
            "external_id": shop_id,
            "name": text(p.get("shop_name"), limit=256) or shop_id,
            "first_seen_at": fetched,
            "last_seen_at": fetched,
        }
    snapshot = {
        "captured_at": fetched,
        "price_fen": price,
        "list_price_fen": money_fen(p.get("list_price"), "list_price"),
        "sales_volume": sales.count if sales else None,
        "sales_is_lower_bound": sales.is_lower_bound if sales else None,
        "availability": text(p.get("availability"), simplified=False, limit=32),
        "rating": _listing_rating(p.get("rating")),
        "review_count": count(p.get("review_count"), "review_count"),
        "evidence_sha256": row.get("evidence_sha256"),
    }
    return ListingParts(listing, shop, snapshot)


def _listing_rating(value: Any) -> float | None:
    """A listing's average rating; 0 (or 0.0, 0分) is what a listing without reviews
    shows, which is no rating rather than a bad one."""
    try:
        if value is not None and float(str(value).rstrip("分")) == 0:
            return None
    except ValueError:
        pass
    return rating(value)


# ----------------------------------------------------------------------------- shops

# The columns a shop page sets; a listing page sets only the name and the sightings.
SHOP_PAGE_COLUMNS = (
    "company_name",
    "region_code",
    "contact_hash",
    "phone_hash",
    "address_hash",
    "url",
    "attributes",
)
_CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}\Z")
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_PHONE_SEPARATORS = re.compile(r"[/,，;；、|]|或")
_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x)\s*[0-9]{1,6}\s*$", re.IGNORECASE)


def credit_code(value: Any) -> tuple[str | None, bool | None]:
    """A unified social credit code (统一社会信用代码) as (code, check character right).

    Upper case without spaces, full-width forms folded. An 18-character code is checked
    (GB 32100-2015); another identifier (an old 15-digit 注册号) is kept as shown with
    no verdict. A value that reads as a resident ID number is personal data, not a
    company's code, and is dropped.
    """
    code = text(value, simplified=False, limit=64, field="credit_code")
    if not code:
        return None, None
    code = re.sub(r"[\s\-]", "", code).upper()
    if not code or is_valid_id_number(code):
        return None, None
    if not _CREDIT_CODE.match(code):
        return code, (False if len(code) == 18 else None)
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(code[:17], _CREDIT_WEIGHTS, strict=True))
    return code, _CREDIT_CHARS[(31 - total % 31) % 31] == code[17]


def _shown(value: Any, field: str) -> str | None:
    """Personal text as shown, or ``None`` when the page masks it (138****5678, 张**):
    a mask names no one in particular, and its pseudonym would link strangers."""
    out = text(value, simplified=False, limit=1000, field=field)
    if not out or "*" in out or "＊" in out:
        return None
    return out


def _phone(value: Any) -> str | None:
    """The first phone number of a field that may list several (``0571-88881234 /
    13812345678``), without an extension (转 8001)."""
    shown = _shown(value, "phone")
    if not shown:
        return None
    for part in _PHONE_SEPARATORS.split(shown):
        part = _EXTENSION.sub("", part).strip()
        if re.search(r"[0-9].*[0-9].*[0-9]", part):
            return part
    return None


def shop_row(row: Mapping[str, Any], kit: Toolkit) -> dict[str, Any]:
    """A ``stg_shops`` row (a shop page) → the core ``shops`` row it describes.

    The company name and its credit code are kept (a company is not a person); the
    contact person, phone and address become salted pseudonyms, the same ones a
    complaint naming them gets, so shops sharing any of them can be linked without
    the values. Phone numbers are compared as digits (0571-8888 1234, 057188881234
    and +86 571 8888 1234 are one number). The region is the ``ref_regions`` code of
    the city named, ``None`` when the city is unknown.
    """
    p = _payload(row)
    fetched = aware(row["fetched_at"], "fetched_at")
    name = text(p.get("name"), limit=256, field="name")
    if not name:
        raise RecordError(
            "name", p.get("name"), "a shop page needs the shop's name", rule="required:name"
        )
    province = text(p.get("province"), limit=64, field="province")
    city = text(p.get("city"), limit=64, field="city")
    code, code_ok = credit_code(p.get("credit_code"))
    url = p.get("url") or row.get("url")
    return {
        "platform": row["platform"],
        "external_id": row["external_id"],
        "name": name,
        "company_name": text(p.get("company"), limit=256, field="company"),
        "region_code": kit.region_of(province, city),
        "contact_hash": pseudonym(_shown(p.get("contact"), "contact"), "name", kit.salt),
        "phone_hash": pseudonym(_phone(p.get("phone")), "phone", kit.salt),
        "address_hash": pseudonym(_shown(p.get("address"), "address"), "address", kit.salt),
        "url": text(url, simplified=False, field="url"),
        "attributes": _drop_none(
            {
                "credit_code": code,
                "credit_code_valid": code_ok,
                "province": province,
                "city": city,
                "shop_url": text(url, simplified=False, field="url"),
                "page_fetched_at": fetched.isoformat(),
            }
        ),
        "first_seen_at": fetched,
        "last_seen_at": fetched,
        "fetched_at": fetched,
        "staging_id": row["id"],
    }


# --------------------------------------------------------------------------- reviews


def review_row(row: Mapping[str, Any], kit: Toolkit) -> dict[str, Any]:
    """A ``stg_reviews`` row → its ``reviews`` row (text scrubbed, author pseudonymised)."""
    p = _payload(row)
    fetched = aware(row["fetched_at"], "fetched_at")
    posted: dt.datetime | None = None
    if p.get("posted"):
        posted_raw = p["posted"]
        try:
            posted = parse_posted(posted_raw, fetched)
        except NormaliseError as exc:
            raise RecordError("posted", posted_raw, str(exc)) from exc
    if posted is None and p.get("posted_text"):
        try:
            posted = parse_posted(p["posted_text"], fetched)
        except NormaliseError as exc:
            raise RecordError("posted_text", p["posted_text"], str(exc)) from exc
    followup = scrubbed(p.get("followup_content"), kit.salt)
    return {
        "platform": row["platform"],
        "external_id": row["external_id"],
        "listing_external_id": row.get("listing_external_id"),
        "rating": rating(p.get("rating")),
        "text": scrubbed(p.get("content"), kit.salt, limit=MAX_REVIEW_TEXT, field="content"),
        "author_hash": pseudonym(p.get("user"), "name", kit.salt),
        "posted_at": posted,
        "attributes": _drop_none(
            {
                "variant": text(p.get("variant"), limit=256),
                "images": len(p.get("images") or []) or None,
                "followup_days": count(p.get("followup_days"), "followup_days"),
                "followup_text": followup,
                "helpful": count(p.get("helpful"), "helpful"),
            }
        ),
        "fetched_at": fetched,
        "staging_id": row["id"],
    }


# ------------------------------------------------------------------------ complaints


def complaint_row(row: Mapping[str, Any], kit: Toolkit) -> dict[str, Any]:
    """A ``stg_complaints`` row → its ``complaints`` row.

    The complainant's name, phone, email, ID number and address become pseudonyms;
    the narrative and every step are scrubbed. The listing complained about is
    recognised from its URL by the site profiles, so the complaint links to the
    listing (and its shop) once both are in core.
    """
    p = _payload(row)
    fetched = aware(row["fetched_at"], "fetched_at")
    known = known_values(
        [
            (p.get("address"), "[地址]"),
            (p.get("email"), "[邮箱]"),
            (p.get("id_number"), "[身份证号]"),
            (p.get("phone"), "[手机号]"),
            (p.get("complainant"), "[姓名]"),
        ]
    )
    steps = []
    for i, s in enumerate(p.get("steps") or []):
        if not isinstance(s, Mapping):
            raise RecordError(f"steps[{i}]", s, "a step is an object with time, actor, text")
        steps.append(
            _drop_none(
                {
                    "time": local_time(s.get("time"), f"steps[{i}].time"),
                    "actor": scrubbed(s.get("actor"), kit.salt, limit=256, known=known),
                    "text": scrubbed(s.get("text"), kit.salt, limit=4000, known=known),
                }
            )
        )
    filed = local_time(p.get("filed"), "filed") if p.get("filed") else None
    if filed is None and steps and steps[0].get("time"):
        filed = steps[0]["time"]
    listing_url = p.get("listing_url")
    platform = None
    if listing_url:
        found = kit.listing_of_url(listing_url)
        platform = found[0] if found else None
    amount = p.get("amount_fen")
    if amount is None and p.get("amount_text"):
        amount = money_fen(p.get("amount_text"), "amount_text")
    elif amount is not None:
        amount = count(amount, "amount_fen")
    status_text = text(p.get("status"), limit=64)
    contact = {
        "phone_hash": pseudonym(p.get("phone"), "phone", kit.salt),
        "email_hash": pseudonym(p.get("email"), "email", kit.salt),
        "id_number_hash": pseudonym(p.get("id_number"), "id_number", kit.salt),
        "address_hash": pseudonym(p.get("address"), "address", kit.salt),
    }
    return {
        "source": row["source"],
        "complaint_number": row["complaint_number"],
        "title": scrubbed(p.get("title"), kit.salt, limit=1000, known=known),
        "respondent": text(p.get("respondent"), limit=256),
        "platform": platform,
        "listing_url": listing_url,
        "problem": scrubbed(p.get("problem"), kit.salt, known=known),
        "demand": scrubbed(p.get("demand"), kit.salt, known=known),
        "amount_fen": amount,
        "status": _STATUS.get(status_text or "", "other" if status_text else None),
        "complainant_hash": pseudonym(p.get("complainant"), "name", kit.salt),
        "filed_at": filed,
        "steps": [{**s, "time": s["time"].isoformat()} if "time" in s else s for s in steps],
        "attributes": _drop_none(
            {
                "status_text": status_text,
                "detail": scrubbed(p.get("detail"), kit.salt, known=known),
                "platform_name": text(p.get("platform_name")),
                "shop_name": text(p.get("shop_name"), limit=256),
                "shop_url": p.get("shop_url"),
                "listing_title": text(p.get("listing_title"), limit=1000),
                "satisfaction": rating(p.get("rating"), "rating"),
                "satisfaction_text": scrubbed(
                    p.get("rating_text"), kit.salt, limit=1000, known=known
                ),
                **contact,
            }
        ),
        "fetched_at": fetched,
        "staging_id": row["id"],
    }


# --------------------------------------------------------------------------- recalls


def _strings(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise RecordError(field, value, "expected a list of strings")
    return [s for s in (text(v, simplified=False, limit=256) for v in value) if s]


def _scrub_json(value: Any, salt: bytes) -> Any:
    if isinstance(value, str):
        return scrub_text(value, salt=salt).text
    if isinstance(value, list):
        return [_scrub_json(v, salt) for v in value]
    if isinstance(value, Mapping):
        return {k: _scrub_json(v, salt) for k, v in value.items()}
    return value


def recall_row(row: Mapping[str, Any], kit: Toolkit) -> dict[str, Any]:
    """A ``stg_recalls`` row → its ``recalls`` row.

    One notice may arrive more than once from one source (CPSC publishes CSV and
    JSON with different extra fields); :func:`merge_recall` folds them into one row.
    """
    p = _payload(row)
    fetched = aware(row["fetched_at"], "fetched_at")
    fmt = "csv" if str(row.get("url") or p.get("url") or "").lower().endswith(".csv") else None
    if fmt is None:
        fmt = (
            "json"
            if str(row.get("url") or p.get("url") or "").lower().endswith(".json")
            else "page"
        )
    extra = p.get("extra") or {}
    if not isinstance(extra, Mapping):
        raise RecordError("extra", extra, "expected an object")
    return {
        "source": row["source"],
        "recall_number": row["recall_number"],
        "title": scrubbed(p.get("title"), kit.salt, limit=2000),
        "product_name": text(p.get("product_name"), limit=1000),
        "brands": _strings(p.get("brands"), "brands"),
        "models": _strings(p.get("models"), "models"),
        "hazard": scrubbed(p.get("hazard"), kit.salt),
        "remedy": scrubbed(p.get("remedy"), kit.salt),
        "country": text(p.get("country"), limit=64),
        "published_on": date_only(p.get("date"), "date"),
        "url": p.get("url") or row.get("url"),
        "attributes": _drop_none(
            {
                "description": scrubbed(p.get("description"), kit.salt),
                "hazard_type": text(p.get("hazard_type"), limit=128),
                "producer": text(p.get("producer"), limit=256),
                "units": count(p.get("units"), "units"),
                "extra": _scrub_json(dict(extra), kit.salt),
                "formats": [fmt],
            }
        ),
        "fetched_at": fetched,
        "staging_id": row["id"],
    }


def merge_recall(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Fold two versions of one notice: the newer one's values win where it has them,
    the older one fills its gaps, ``extra`` fields and formats are united."""
    out = dict(old)
    for k, v in new.items():
        if k == "attributes":
            continue
        if v not in (None, [], ""):
            out[k] = v
    a_old = dict(old.get("attributes") or {})
    a_new = dict(new.get("attributes") or {})
    attrs = {**a_old, **{k: v for k, v in a_new.items() if v not in (None, [], {}, "")}}
    attrs["extra"] = {**(a_old.get("extra") or {}), **(a_new.get("extra") or {})}
    attrs["formats"] = sorted(set(a_old.get("formats") or []) | set(a_new.get("formats") or []))
    out["attributes"] = _drop_none(attrs)
    out["fetched_at"] = max(old["fetched_at"], new["fetched_at"])
    return out
