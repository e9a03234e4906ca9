"""Nasty core-row DataFrames, each row labelled with the failures it must produce.

Every case is a row plus the ``(rule, value)`` pairs it should be reported for (none
for a good row). The frames mix what real upstream code hands over: ``None`` next to
``NaN`` and ``pd.NA``, pandas' ``str`` dtype next to ``object`` columns, datetimes in
Asia/Shanghai next to UTC, nullable ``Int64``, an index that is not ``0..n-1``.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

# Whether importing the package pulls in GX (it must not: DAG files import it at parse
# time). Known here only if nothing imported GX before this conftest ran.
GX_PRELOADED = "great_expectations" in sys.modules
import transforms.quality  # noqa: E402, F401  (the import under test)

GX_IMPORTED_BY_PACKAGE = not GX_PRELOADED and "great_expectations" in sys.modules

UTC = dt.UTC
SH = ZoneInfo("Asia/Shanghai")
FETCHED = dt.datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
HASH = "name:" + "0123456789abcdef" * 2
CATEGORIES = ("electric_kettle", "hair_dryer", "power_bank")

NOT_NULL = "expect_column_values_to_not_be_null"
BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"
REGEX = "expect_column_values_to_match_regex"
LENGTH = "expect_column_value_lengths_to_be_between"
UNIQUE = "expect_compound_columns_to_be_unique"
PAIR = "expect_column_pair_values_a_to_be_greater_than_b"


@dataclass
class Case:
    """A table's test frame and the failures it must yield, as (key, rule, value)."""

    table: str
    key_columns: tuple[str, ...]
    frame: pd.DataFrame
    expected: set[tuple[str, str, str | None]]
    good_keys: set[str] = field(default_factory=set)
    reference: dict[str, Any] = field(default_factory=dict)


def build(
    table: str,
    key_columns: Sequence[str],
    rows: Sequence[tuple[dict[str, Any], Sequence[tuple[str, str | None]]]],
    *,
    key_of: Callable[[int, dict[str, Any]], str],
    dtypes: dict[str, Any] | None = None,
    reference: dict[str, Any] | None = None,
) -> Case:
    labels = [f"s{i}" for i in range(len(rows))]
    frame = pd.DataFrame([r for r, _ in rows], index=labels)
    for column, dtype in (dtypes or {}).items():
        frame[column] = frame[column].astype(dtype)
    expected = {
        (key_of(i, r), rule, value) for i, (r, fails) in enumerate(rows) for rule, value in fails
    }
    good = {key_of(i, r) for i, (r, fails) in enumerate(rows) if not fails}
    return Case(table, tuple(key_columns), frame, expected, good, reference or {})


def _pk(i: int, row: dict[str, Any], a: str = "platform", b: str = "external_id") -> str:
    parts = [row.get(a), row.get(b)]
    shown = ["" if p is None or (isinstance(p, float) and np.isnan(p)) else str(p) for p in parts]
    key = "|".join(shown)
    return key + (f"#s{i}" if "" in shown else "")


def reviews_case() -> Case:
    def review(i: int, **changes: Any) -> dict[str, Any]:
        row = {
            "platform": "lehuo",
            "external_id": f"r{i}",
            "listing_id": 17,
            "listing_external_id": "it100",
            "rating": 4.0,
            "text": "质量很好，物流快",
            "author_hash": HASH,
            "posted_at": dt.datetime(2026, 10, 30, 20, 15, tzinfo=SH),
            "fetched_at": FETCHED,
        }
        row.update(changes)
        return row

    b = f"{BETWEEN}:rating"
    rows = [
        (review(0), []),
        (review(1, rating=None, text=None, posted_at=None, author_hash=None), []),
        (review(2, rating=np.nan, text="好" * 5000, posted_at=FETCHED + dt.timedelta(days=1)), []),
        (review(3, rating=0), [(b, "0")]),
        (review(4, rating=7.0), [(b, "7")]),
        (review(5, rating=4.5, text=""), [(f"{LENGTH}:text", "")]),
        (
            review(6, posted_at=dt.datetime(2000, 1, 1, 7, 59, tzinfo=SH)),
            [(f"{BETWEEN}:posted_at", "1999-12-31T23:59:00+00:00")],
        ),
        (
            review(7, posted_at=FETCHED + dt.timedelta(days=1, seconds=1)),
            [(f"{PAIR}:posted_at", "2026-11-02T02:00:01+00:00")],
        ),
        (review(8, platform="taobao"), [(f"{IN_SET}:platform", "taobao")]),
        (
            review(9, platform="pinjia", external_id="dup"),
            [(f"{UNIQUE}:platform,external_id", "pinjia|dup")],
        ),
        (
            review(10, platform="pinjia", external_id="dup", rating=2),
            [(f"{UNIQUE}:platform,external_id", "pinjia|dup")],
        ),
        (review(11, platform=None), [(f"{NOT_NULL}:platform", None)]),
        (review(12, platform="youpin", external_id=np.nan), [(f"{NOT_NULL}:external_id", None)]),
        (review(13, author_hash="张三"), [(f"{REGEX}:author_hash", "张三")]),
        (review(14, text="差" * 5001), [(f"{LENGTH}:text", "差" * 2000)]),
        (review(15, listing_id=0), [(f"{BETWEEN}:listing_id", "0")]),
        (review(16, listing_id=pd.NA, listing_external_id=None), []),
        (
            review(17, rating=-1, platform="taobao"),
            [(b, "-1"), (f"{IN_SET}:platform", "taobao")],
        ),
    ]
    return build(
        "reviews",
        ("platform", "external_id"),
        rows,
        key_of=_pk,
        dtypes={"platform": "str", "listing_id": "Int64", "fetched_at": "datetime64[us, UTC]"},
    )


def listings_case() -> Case:
    def listing(i: int, **changes: Any) -> dict[str, Any]:
        row = {
            "platform": "youpin",
            "external_id": f"{100000 + i}",
            "shop_id": 3,
            "product_id": None,
            "url": f"https://youpin.example/item/{100000 + i}.html",
            "title": "小米 电热水壶 1.5L 304不锈钢",
            "category_code": "electric_kettle",
            "category_method": "path",
            "category_confidence": 0.9,
            "brand": "小米",
            "model": "MJDSH02YM",
            "price_fen": 9900,
            "currency": "CNY",
            "ccc_number": "2021010701234567",
            "gtin": "6932978520447",
            "attributes": {"sku": "A1"},
            "first_seen_at": FETCHED,
            "last_seen_at": FETCHED,
        }
        row.update(changes)
        return row

    price = f"{BETWEEN}:price_fen"
    gtin = f"{REGEX}:gtin"
    rows = [
        (listing(0), []),
        (
            listing(
                1, price_fen=None, currency=None, ccc_number="CCC", gtin=None, category_code=None
            ),
            [],
        ),
        (listing(2, price_fen=10**10 - 1, gtin="12345678"), []),
        (listing(3, price_fen=-100), [(price, "-100")]),
        (listing(4, price_fen=10**10), [(price, "10000000000")]),
        (listing(5, category_code="toaster"), [(f"{IN_SET}:category_code", "toaster")]),
        (listing(6, currency="rmb"), [(f"{REGEX}:currency", "rmb")]),
        (listing(7, gtin="６９３２９７８５２０４４７"), [(gtin, "６９３２９７８５２０４４７")]),
        (listing(8, gtin="12345678\n"), [(gtin, "12345678\n")]),
        (listing(9, gtin="123456789"), [(gtin, "123456789")]),
        (listing(10, title="   "), [(f"{REGEX}:title", "   ")]),
        (listing(11, title=None), [(f"{NOT_NULL}:title", None)]),
        (listing(12, category_confidence=1.5), [(f"{BETWEEN}:category_confidence", "1.5")]),
        (
            listing(13, first_seen_at=FETCHED, last_seen_at=FETCHED - dt.timedelta(seconds=1)),
            [(f"{PAIR}:last_seen_at", "2026-11-01T01:59:59+00:00")],
        ),
        (listing(14, brand="品" * 129), [(f"{LENGTH}:brand", "品" * 129)]),
        (listing(15, ccc_number="3C"), [(f"{REGEX}:ccc_number", "3C")]),
        (listing(16, url="youpin.example/item/1"), [(f"{REGEX}:url", "youpin.example/item/1")]),
    ]
    return build(
        "listings",
        ("platform", "external_id"),
        rows,
        key_of=_pk,
        dtypes={"price_fen": "Int64", "platform": "str"},
        reference={"category_code": set(CATEGORIES)},
    )


def snapshots_case() -> Case:
    def snap(i: int, **changes: Any) -> dict[str, Any]:
        row = {
            "listing_id": 100 + i,
            "captured_at": FETCHED,
            "price_fen": 9900,
            "list_price_fen": 12900,
            "sales_volume": 12000,
            "sales_is_lower_bound": True,
            "availability": "InStock",
            "rating": 4.8,
            "review_count": 1234,
            "evidence_sha256": "ab" * 32,
        }
        row.update(changes)
        return row

    def key(i: int, row: dict[str, Any]) -> str:
        at = row["captured_at"]
        return f"{row['listing_id']}|{at.astimezone(UTC).isoformat()}"

    unique = f"{UNIQUE}:listing_id,captured_at"
    same_instant = FETCHED.astimezone(SH)
    rows = [
        (snap(0), []),
        (snap(1, price_fen=None, rating=None, sales_volume=None, availability=None), []),
        (snap(2, sales_volume=-1), [(f"{BETWEEN}:sales_volume", "-1")]),
        (snap(3, rating=0.0), [(f"{BETWEEN}:rating", "0")]),
        (snap(4, availability="有货"), [(f"{IN_SET}:availability", "有货")]),
        (
            snap(5, review_count=-3, list_price_fen=-1),
            [(f"{BETWEEN}:review_count", "-3"), (f"{BETWEEN}:list_price_fen", "-1")],
        ),
        # One listing captured twice at the same instant, written in two time zones.
        (snap(6, listing_id=900), [(unique, f"900|{FETCHED.isoformat()}")]),
        (
            snap(7, listing_id=900, captured_at=same_instant),
            [(unique, f"900|{FETCHED.isoformat()}")],
        ),
        (snap(8, evidence_sha256="AB" * 32), [(f"{REGEX}:evidence_sha256", "AB" * 32)]),
    ]
    return build(
        "listing_snapshots",
        ("listing_id", "captured_at"),
        rows,
        key_of=key,
        dtypes={"sales_volume": "Int64", "review_count": "Int64"},
    )


def complaints_case() -> Case:
    def complaint(i: int, **changes: Any) -> dict[str, Any]:
        row = {
            "source": "tousu",
            "complaint_number": f"1700{i:04d}",
            "title": "充电宝鼓包",
            "respondent": "某某旗舰店",
            "platform": "lehuo",
            "amount_fen": 5900,
            "status": "processing",
            "complainant_hash": HASH,
            "filed_at": dt.datetime(2026, 10, 20, 9, 30, tzinfo=SH),
            "steps": [{"actor": "平台", "text": "已受理"}],
            "fetched_at": FETCHED,
        }
        row.update(changes)
        return row

    def key(i: int, row: dict[str, Any]) -> str:
        return f"{row['source']}|{row['complaint_number']}"

    rows = [
        (complaint(0), []),
        (complaint(1, amount_fen=None, status=None, platform=None, filed_at=None), []),
        (complaint(2, amount_fen=-500), [(f"{BETWEEN}:amount_fen", "-500")]),
        (complaint(3, status="已完成"), [(f"{IN_SET}:status", "已完成")]),
        (
            complaint(4, filed_at=dt.datetime(2026, 11, 3, 12, 0, tzinfo=SH)),
            [(f"{PAIR}:filed_at", "2026-11-03T04:00:00+00:00")],
        ),
        (complaint(5, source="Tousu"), [(f"{REGEX}:source", "Tousu")]),
        (complaint(6, complaint_number=""), [(f"{LENGTH}:complaint_number", "")]),
    ]
    return build("complaints", ("source", "complaint_number"), rows, key_of=key)


def recalls_case() -> Case:
    def recall(i: int, **changes: Any) -> dict[str, Any]:
        row = {
            "source": "cpsc_recalls",
            "recall_number": f"26-{i:03d}",
            "title": "Power banks recalled due to fire hazard",
            "brands": ["Acme"],
            "country": "United States",
            "published_on": dt.date(2026, 10, 30),
            "url": f"https://www.cpsc.gov/Recalls/2026/{i}",
            "fetched_at": FETCHED,
        }
        row.update(changes)
        return row

    def key(i: int, row: dict[str, Any]) -> str:
        return f"{row['source']}|{row['recall_number']}"

    rows = [
        (recall(0), []),
        (recall(1, published_on=None, url=None, country=None), []),
        (
            recall(2, published_on=dt.date(1969, 12, 31)),
            [(f"{BETWEEN}:published_on", "1969-12-31T00:00:00+00:00")],
        ),
        (
            recall(3, published_on=dt.date(2026, 11, 5)),
            [(f"{PAIR}:published_on", "2026-11-05T00:00:00+00:00")],
        ),
        (recall(4, country="X" * 65), [(f"{LENGTH}:country", "X" * 65)]),
    ]
    return build("recalls", ("source", "recall_number"), rows, key_of=key)


def shops_case() -> Case:
    def shop(i: int, **changes: Any) -> dict[str, Any]:
        row = {
            "platform": "pinjia",
            "external_id": f"shop{i}",
            "name": "某某旗舰店",
            "region_code": "330106",
            "phone_hash": "phone:" + "ab" * 16,
            "first_seen_at": FETCHED - dt.timedelta(days=30),
            "last_seen_at": FETCHED,
        }
        row.update(changes)
        return row

    rows = [
        (shop(0), []),
        (shop(1, region_code=None, phone_hash=None), []),
        (shop(2, region_code="33010"), [(f"{REGEX}:region_code", "33010")]),
        (shop(3, phone_hash="13812345678"), [(f"{REGEX}:phone_hash", "13812345678")]),
        (shop(4, name=""), [(f"{LENGTH}:name", ""), (f"{REGEX}:name", "")]),
    ]
    return build("shops", ("platform", "external_id"), rows, key_of=_pk)


def products_case() -> Case:
    def product(i: int, **changes: Any) -> dict[str, Any]:
        row = {
            "product_key": f"xiaomi|mjdsh02ym|{i}",
            "brand": "小米",
            "model": "MJDSH02YM",
            "category_code": "electric_kettle",
            "gtin": "06932978520447",
            "first_seen_at": FETCHED,
            "last_seen_at": FETCHED,
        }
        row.update(changes)
        return row

    def key(i: int, row: dict[str, Any]) -> str:
        return str(row["product_key"])

    rows = [
        (product(0), []),
        (product(1, category_code="kettle"), [(f"{IN_SET}:category_code", "kettle")]),
        (product(2, product_key="xiaomi|mjdsh02ym|0"), []),
    ]
    # Row 2 repeats row 0's key: both are reported.
    case = build(
        "products",
        ("product_key",),
        rows,
        key_of=key,
        reference={"category_code": list(CATEGORIES)},
    )
    dup = ("expect_column_values_to_be_unique:product_key", "xiaomi|mjdsh02ym|0")
    case.expected |= {("xiaomi|mjdsh02ym|0", *dup)}
    case.good_keys.discard("xiaomi|mjdsh02ym|0")
    return case


CASES: dict[str, Callable[[], Case]] = {
    "reviews": reviews_case,
    "listings": listings_case,
    "listing_snapshots": snapshots_case,
    "complaints": complaints_case,
    "recalls": recalls_case,
    "shops": shops_case,
    "products": products_case,
}


@pytest.fixture(scope="session")
def validated() -> Callable[[str, str], tuple[Case, Any]]:
    """Validate each case once per row source; later tests reuse the result."""
    from transforms.quality import validate_rows

    done: dict[tuple[str, str], tuple[Case, Any]] = {}

    def get(table: str, source: str = "pandas") -> tuple[Case, Any]:
        if (table, source) not in done:
            case = CASES[table]()
            result = validate_rows(
                table,
                case.frame,
                key_columns=case.key_columns,
                run_id="run-20261101",
                reference=case.reference,
                row_source=source,  # type: ignore[arg-type]
            )
            done[(table, source)] = (case, result)
        return done[(table, source)]

    return get
