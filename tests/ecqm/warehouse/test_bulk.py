"""The bulk upsert on SQLite and PostgreSQL: idempotent, updates in place, refuses bad rows
the same way on both."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import func, select

from ecqm.warehouse.bulk import BulkLoadError, natural_key, upsert
from ecqm.warehouse.schema import ref_regions, stg_listings

FETCHED = dt.datetime(2026, 3, 5, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def listing_row(i: int, **changes) -> dict:
    payload = {
        "title": f"美的电热水壶 MK-15S0{i % 10}A 1.5L 家用 304不锈钢",
        "price": "¥1,299.00",
        "i": i,
    }
    row = {
        "source": "youpin",
        "platform": "youpin",
        "external_id": f"YP{i:08d}",
        "payload_sha256": hashlib.sha256(str(i).encode()).hexdigest(),
        "crawl_run_id": "run-1",
        "url": f"http://127.0.0.1:8000/youpin/item/{i}.html",
        "fetched_at": FETCHED,
        "evidence_sha256": None,
        "payload": payload,
    }
    row.update(changes)
    return row


def count(conn, table) -> int:
    return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_natural_keys():
    assert natural_key(stg_listings) == ("platform", "external_id", "payload_sha256")
    assert natural_key(ref_regions) == ("code",)


@pytest.mark.slow
def test_100000_rows_twice_then_a_change(warehouse_engine):
    rows = [listing_row(i) for i in range(100_000)]
    first = upsert(warehouse_engine, stg_listings, rows)
    assert (first.inserted, first.updated, first.unchanged) == (100_000, 0, 0)
    second = upsert(warehouse_engine, stg_listings, iter(rows))
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 100_000)

    rows[77_777] = listing_row(
        77_777,
        url="http://127.0.0.1:8000/youpin/item/77777.html?v=2",
        payload={"title": "改过的标题", "i": 77_777},
    )
    third = upsert(warehouse_engine, stg_listings, rows)
    assert (third.inserted, third.updated, third.unchanged) == (0, 1, 99_999)
    with warehouse_engine.connect() as conn:
        assert count(conn, stg_listings) == 100_000
        url, payload, fetched = conn.execute(
            select(stg_listings.c.url, stg_listings.c.payload, stg_listings.c.fetched_at).where(
                stg_listings.c.external_id == "YP00077777"
            )
        ).one()
    assert url.endswith("?v=2") and payload == {"title": "改过的标题", "i": 77_777}
    assert fetched == FETCHED and fetched.tzinfo is not None


def test_unchanged_rows_keep_their_load_time(warehouse_engine):
    upsert(warehouse_engine, stg_listings, [listing_row(1)])
    with warehouse_engine.connect() as conn:
        loaded = conn.execute(select(stg_listings.c.loaded_at)).scalar_one()
    upsert(warehouse_engine, stg_listings, [listing_row(1)])
    with warehouse_engine.connect() as conn:
        assert conn.execute(select(stg_listings.c.loaded_at)).scalar_one() == loaded


def test_duplicate_keys_in_one_input_last_wins(warehouse_engine):
    rows = [listing_row(1, url="first"), listing_row(2), listing_row(1, url="last")]
    result = upsert(warehouse_engine, stg_listings, rows)
    assert (result.inserted, result.duplicates_in_input) == (2, 1)
    with warehouse_engine.connect() as conn:
        assert (
            conn.execute(
                select(stg_listings.c.url).where(stg_listings.c.external_id == "YP00000001")
            ).scalar_one()
            == "last"
        )


def test_batches_smaller_than_input_and_in_callers_transaction(warehouse_engine):
    rows = [listing_row(i) for i in range(1_234)]
    with warehouse_engine.begin() as conn:
        result = upsert(conn, stg_listings, rows, batch_rows=100)
        assert result.inserted == 1_234 and count(conn, stg_listings) == 1_234
    with pytest.raises(RuntimeError):
        with warehouse_engine.begin() as conn:
            upsert(conn, stg_listings, [listing_row(i) for i in range(2_000, 2_050)])
            raise RuntimeError("the caller's transaction fails")
    with warehouse_engine.connect() as conn:
        assert count(conn, stg_listings) == 1_234, "a rolled-back load left rows behind"


NASTY = [
    ({"external_id": None}, None, "null in key"),
    ({"url": "http://x/\x00evil"}, "url", "NUL character"),
    ({"payload": {"title": "bad\u0000json"}}, "payload", "NUL character"),
    ({"payload": {"price": float("nan"), "when": object()}}, "payload", "JSON-serialisable"),
    ({"platform": "p" * 33}, "platform", "33 characters long, the column holds 32"),
    ({"fetched_at": dt.datetime(2026, 3, 5, 9, 30)}, "fetched_at", "has no time zone"),
    ({"fetched_at": "yesterday"}, "fetched_at", "Invalid isoformat"),
    ({"crawl_run_id": 42}, "crawl_run_id", "expected text, got int"),
    ({"url": "\ud83d broken surrogate"}, "url", "not valid Unicode"),
]


@pytest.mark.parametrize(("change", "column", "message"), NASTY, ids=[m for _, _, m in NASTY])
def test_bad_rows_are_named_and_set_aside(warehouse_engine, change, column, message):
    rows = [listing_row(1), listing_row(2, **change), listing_row(3)]
    with pytest.raises(BulkLoadError, match="row 1"):
        upsert(warehouse_engine, stg_listings, rows)
    rejects: list = []
    result = upsert(warehouse_engine, stg_listings, rows, rejects=rejects)
    assert (result.inserted, result.rejected) == (2, 1)
    [reject] = rejects
    assert reject.index == 1 and reject.column == column and message in reject.reason, reject
    assert reject.row["external_id"] == rows[1]["external_id"]
    assert str(reject).startswith("stg_listings: row 1")


def test_type_and_range_checks_on_reference_columns(warehouse_engine):
    good = {
        "code": "330100",
        "name": "杭州市",
        "level": "city",
        "parent_code": "330000",
        "regulator_name": "杭州市市场监督管理局",
        "notify_email": None,
        "source_version": "1",
        "is_active": True,
    }
    rejects: list = []
    rows = [good, {**good, "code": "330200", "is_active": "yes"}, {**good, "code": "3302001"}]
    result = upsert(warehouse_engine, ref_regions, rows, rejects=rejects)
    assert result.inserted == 1
    assert [(r.index, r.column) for r in rejects] == [(1, "is_active"), (2, "code")]


def test_rows_with_other_columns_are_refused(warehouse_engine):
    rows = [listing_row(1), {k: v for k, v in listing_row(2).items() if k != "url"}]
    with pytest.raises(BulkLoadError, match=r"row 1: .*missing: \['url'\]"):
        upsert(warehouse_engine, stg_listings, rows)


def test_unknown_columns_and_missing_keys_fail_fast(warehouse_engine):
    with pytest.raises(BulkLoadError, match="unknown column"):
        upsert(warehouse_engine, stg_listings, [listing_row(1, colour="red")])
    row = listing_row(1)
    del row["payload_sha256"]
    with pytest.raises(BulkLoadError, match="lack key column.*payload_sha256"):
        upsert(warehouse_engine, stg_listings, [row])


def test_empty_input_is_a_no_op(warehouse_engine):
    result = upsert(warehouse_engine, stg_listings, [])
    assert result.written == 0 and result.unchanged == 0


def test_chinese_emoji_and_quotes_round_trip(warehouse_engine):
    text = '儿童"安全"座椅 👶🏻 \\N \t tab\nnewline ,comma; ¥1,299.00 券后价'
    upsert(
        warehouse_engine,
        stg_listings,
        [listing_row(1, url=text, payload={"t": text, "n": [1, None]})],
    )
    with warehouse_engine.connect() as conn:
        url, payload = conn.execute(select(stg_listings.c.url, stg_listings.c.payload)).one()
    assert url == text and payload == {"t": text, "n": [1, None]}


def test_a_conflict_the_key_probe_misses_still_merges(warehouse_engine):
    """PostgreSQL copies batches of new rows straight into the table after probing a sample
    of their keys; an existing key outside the sample must still end as an update."""
    upsert(warehouse_engine, stg_listings, [listing_row(i) for i in range(0, 10_000, 7)])
    batch = [listing_row(i) for i in range(10_000, 15_000)]
    batch.insert(4_321, listing_row(7, url="moved"))  # exists already, not a probed position
    result = upsert(warehouse_engine, stg_listings, batch)
    assert (result.inserted, result.updated, result.unchanged) == (5_000, 1, 0)
    with warehouse_engine.connect() as conn:
        assert count(conn, stg_listings) == len(range(0, 10_000, 7)) + 5_000
        assert (
            conn.execute(
                select(stg_listings.c.url).where(stg_listings.c.external_id == "YP00000007")
            ).scalar_one()
            == "moved"
        )


def test_counts_are_right_when_a_time_is_part_of_the_key(warehouse_engine):
    """(a product, a moment) as the natural key: the second load finds every row, on
    SQLite (times stored as text) as on PostgreSQL."""
    from ecqm.warehouse.schema import products, risk_decisions

    now = dt.datetime(2026, 11, 20, 7, 30, tzinfo=dt.UTC)
    with warehouse_engine.begin() as conn:
        conn.execute(
            products.insert(),
            [{"product_key": f"k{i}", "first_seen_at": now, "last_seen_at": now} for i in range(3)],
        )
        pids = [p for (p,) in conn.execute(select(products.c.id))]
        rows = [
            {
                "product_id": p,
                "decision": "dismiss",
                "decided_by": "王工",
                "decided_at": now + dt.timedelta(minutes=i),
            }
            for i, p in enumerate(pids)
        ]
        first = upsert(conn, risk_decisions, rows)
        second = upsert(conn, risk_decisions, rows)
    assert (first.inserted, first.unchanged) == (3, 0)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 3)
