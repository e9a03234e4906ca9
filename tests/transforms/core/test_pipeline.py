"""Staging → core on SQLite and PostgreSQL: every row accounted for, newest version wins
whatever the chunking, idempotent runs, rebuild equal to incremental, no personal data."""

from __future__ import annotations

import datetime as dt

import pytest
from core_rows import (  # type: ignore[import-not-found]
    FETCHED,
    SALT,
    complaint,
    core_snapshot,
    listing,
    recall,
    review,
    stage,
)
from sqlalchemy import select

from ecqm.warehouse.schema import (
    complaints,
    listing_snapshots,
    listings,
    process_runs,
    process_watermarks,
    products,
    quarantine,
    recalls,
    reviews,
    shops,
)
from transforms.core import TableBreakage, process_staging, rebuild_core, reconcile
from transforms.pii import assert_no_pii

LATER = FETCHED + dt.timedelta(days=1)
SPAM = "宝贝收到了做工精细颜色鲜艳孩子爱不释手和卖家描述的完全一致以后还会光顾的五星好评推荐购买"


def _run(engine, home, run_id, **kw):
    return process_staging(engine, run_id=run_id, salt=SALT, home=home, data_docs=False, **kw)


def _rows(engine, table, *where):
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(table).where(*where)).mappings()]


def _mixed_batch(engine):
    stage(
        engine,
        "listing",
        [
            listing("1001"),
            listing(
                "1002",
                name="美的 電熱水壺 MK-HJ1512 （白色）",
                price="¥79.90",
                shop_id="5002",
                shop_name="好物电器专营店",
            ),
            listing("1003", price="面议¥abc"),  # unreadable price: quarantined
            listing("1004", name="   "),  # no title: quarantined
            listing(
                "1001", fetched_at=LATER, price="69.00", sales_volume="已售10w+"
            ),  # newer version
        ],
    )
    stage(
        engine,
        "review",
        [
            review("r1", "1001", "水壶很好用，烧水快，没有异味"),
            review(
                "r2", "1001", "有问题加我微信或打13912345678，邮箱buyer@example.com", user="张三丰"
            ),
            review("r3", "1002", "底座有点烫", rating=0),  # rating 0 on a review: quarantined
            review("r4", "9999", "还没上架的商品的评价"),  # listing not crawled yet
            *[review(f"s{i}", "1002", SPAM) for i in range(5)],
            review(
                "r1",
                "1001",
                "水壶很好用，烧水快，没有异味",
                fetched_at=LATER,
                followup_content="用了一个月还不错",
            ),
        ],
    )
    stage(
        engine,
        "complaint",
        [
            complaint("17370000001", listing_url="http://x.example/youpin/item/1001.html"),
            complaint(
                "17370000002", listing_url="http://x.example/youpin/item/9999.html", status="已完成"
            ),
        ],
    )
    stage(
        engine,
        "recall",
        [
            recall(
                "24100", url="http://r.example/cpsc.csv", extra={"consumer_action": "Stop using"}
            ),
            recall(
                "24100",
                url="http://r.example/cpsc.json",
                extra={"consumer_contact": "toll-free 888-691-9691"},
            ),
            recall(
                "ZH-2023-00001",
                source="samr",
                url="http://r.example/notice.html",
                brands=["乐博士"],
                date="2023-13-45",
            ),
        ],
    )


def test_every_staging_row_ends_in_core_merged_or_quarantine(warehouse, home):
    _mixed_batch(warehouse)
    report = _run(warehouse, home, "run-1")
    t = report.tables
    assert (
        t["stg_listings"].rows_in,
        t["stg_listings"].to_core,
        t["stg_listings"].merged,
        t["stg_listings"].quarantined,
    ) == (5, 2, 1, 2)
    assert (
        t["stg_reviews"].rows_in,
        t["stg_reviews"].to_core,
        t["stg_reviews"].merged,
        t["stg_reviews"].quarantined,
    ) == (10, 8, 1, 1)
    assert (t["stg_complaints"].to_core, t["stg_complaints"].quarantined) == (2, 0)
    assert (
        t["stg_recalls"].rows_in,
        t["stg_recalls"].to_core,
        t["stg_recalls"].merged,
        t["stg_recalls"].quarantined,
    ) == (3, 1, 1, 1)
    assert all(x.balanced for x in t.values())
    with warehouse.connect() as conn:
        checks = reconcile(conn, "run-1")
        stored = {r.staging_table: r.balanced for r in conn.execute(select(process_runs))}
    assert len(checks) == 4 and all(c.ok for c in checks), [c.problems() for c in checks]
    assert stored == dict.fromkeys(
        ("stg_listings", "stg_reviews", "stg_complaints", "stg_recalls"), True
    )

    q = {(r["record_key"].split(":")[0], r["rule"]): r for r in _rows(warehouse, quarantine)}
    assert ("stg_listings", "normalise:price") in q
    assert "面议¥abc" in q["stg_listings", "normalise:price"]["value"]
    assert "price" in q["stg_listings", "normalise:price"]["reason"]
    assert ("stg_listings", "required:title") in q
    assert any(k[0] == "stg_reviews" and "rating" in k[1] for k in q)
    assert any(k[0] == "stg_recalls" and "date" in k[1] for k in q)


def test_values_are_normalised_and_the_newest_version_wins(warehouse, home):
    _mixed_batch(warehouse)
    _run(warehouse, home, "run-1")
    by_ext = {r["external_id"]: r for r in _rows(warehouse, listings)}
    assert by_ext["1001"]["price_fen"] == 6900  # the later version
    assert by_ext["1001"]["first_seen_at"] == FETCHED and by_ext["1001"]["last_seen_at"] == LATER
    assert by_ext["1002"]["price_fen"] == 7990
    assert by_ext["1002"]["title"].startswith(
        "美的 电热水壶 MK-HJ1512 (白色)"
    )  # Simplified, half-width
    snaps = sorted(
        (s["captured_at"], s["price_fen"], s["sales_volume"], s["sales_is_lower_bound"])
        for s in _rows(warehouse, listing_snapshots)
    )
    assert (FETCHED, 8900, 12000, True) in snaps and (LATER, 6900, 100000, True) in snaps
    assert {s["external_id"] for s in _rows(warehouse, shops)} == {"5001", "5002"}
    revs = {r["external_id"]: r for r in _rows(warehouse, reviews)}
    assert revs["r1"]["attributes"]["followup_text"] == "用了一个月还不错"
    assert revs["r1"]["posted_at"] is not None and revs["r1"]["posted_at"] < FETCHED
    # 3天前, read in Asia/Shanghai against the fetch time
    assert revs["r4"]["listing_id"] is None and revs["r4"]["listing_external_id"] == "9999"
    cps = {c["complaint_number"]: c for c in _rows(warehouse, complaints)}
    assert cps["17370000001"]["listing_id"] == by_ext["1001"]["id"]
    assert cps["17370000001"]["shop_id"] is not None and cps["17370000001"]["platform"] == "youpin"
    assert cps["17370000001"]["filed_at"] == dt.datetime(2026, 11, 1, 1, 30, tzinfo=dt.UTC)
    assert cps["17370000002"]["status"] == "resolved"
    (cpsc,) = _rows(warehouse, recalls, recalls.c.source == "cpsc")
    assert cpsc["attributes"]["formats"] == ["csv", "json"]
    assert cpsc["attributes"]["extra"] == {
        "consumer_action": "Stop using",
        "consumer_contact": "toll-free 888-691-9691",
    }
    assert {p["product_key"] for p in _rows(warehouse, products)}
    assert all(li["product_id"] is not None for li in by_ext.values())


def test_personal_data_never_reaches_core(warehouse, home):
    _mixed_batch(warehouse)
    _run(warehouse, home, "run-1")
    with warehouse.connect() as conn:
        for t in (shops, products, listings, listing_snapshots, reviews, complaints, recalls):
            for row in conn.execute(select(t)).mappings():
                found = assert_no_pii(
                    dict(row), skip_keys=("complaint_number", "external_id", "listing_url", "url")
                )
                assert not found, (t.name, found, dict(row))
    c = _rows(warehouse, complaints, complaints.c.complaint_number == "17370000001")[0]
    assert c["complainant_hash"].startswith("name:")
    assert c["attributes"]["phone_hash"].startswith("phone:")
    assert "李小明" not in str(c) and "13812345678" not in str(c) and "建国路88号" not in str(c)
    r2 = _rows(warehouse, reviews, reviews.c.external_id == "r2")[0]
    assert "[手机号]" in r2["text"] and "[邮箱]" in r2["text"] and "张三丰" not in str(r2)


def test_a_second_run_finds_nothing_and_changes_nothing(warehouse, home):
    _mixed_batch(warehouse)
    first = _run(warehouse, home, "run-1")
    before = core_snapshot(warehouse)
    again = _run(warehouse, home, "run-2")
    assert again.rows_in == 0 and again.tables == {}
    assert core_snapshot(warehouse) == before
    # The same run id retried after finishing (an Airflow retry): it takes nothing new
    # and reports the counts it already recorded.
    retried = _run(warehouse, home, "run-1")
    assert {k: v.as_dict() for k, v in retried.tables.items()} == {
        k: v.as_dict() for k, v in first.tables.items()
    }
    assert core_snapshot(warehouse) == before


def test_late_listing_links_earlier_reviews_and_complaints(warehouse, home):
    _mixed_batch(warehouse)
    _run(warehouse, home, "run-1")
    stage(warehouse, "listing", [listing("9999", fetched_at=LATER)], run="crawl-2")
    report = _run(warehouse, home, "run-2")
    assert report.tables["stg_listings"].rows_in == 1
    (late,) = _rows(warehouse, listings, listings.c.external_id == "9999")
    assert _rows(warehouse, reviews, reviews.c.external_id == "r4")[0]["listing_id"] == late["id"]
    assert (
        _rows(warehouse, complaints, complaints.c.complaint_number == "17370000002")[0][
            "listing_id"
        ]
        == late["id"]
    )


def test_copied_reviews_are_flagged_not_deleted(warehouse, home):
    _mixed_batch(warehouse)
    _run(warehouse, home, "run-1")
    flagged = {r["external_id"]: r["spam_cluster_id"] for r in _rows(warehouse, reviews)}
    assert len({flagged[f"s{i}"] for i in range(5)}) == 1 and flagged["s0"] is not None
    assert flagged["r1"] is None and flagged["r2"] is None


@pytest.mark.parametrize("chunk_rows", [2, 5])
def test_chunking_does_not_change_the_result(warehouse, home, chunk_rows, tmp_path):
    _mixed_batch(warehouse)
    # Out of fetch order: an older copy of 1001 staged after the newer one.
    stage(
        warehouse,
        "listing",
        [listing("1001", fetched_at=FETCHED - dt.timedelta(days=3), price="99.00")],
        run="crawl-0",
    )
    _run(warehouse, home, "small", chunk_rows=chunk_rows)
    small = core_snapshot(warehouse)
    rebuild_core(
        warehouse,
        run_id="big",
        salt=SALT,
        home=tmp_path / "other-home",
        data_docs=False,
        chunk_rows=10_000,
    )
    assert core_snapshot(warehouse) == small
    by_ext = {r["external_id"]: r for r in _rows(warehouse, listings)}
    assert by_ext["1001"]["price_fen"] == 6900  # the stale copy only adds a snapshot
    assert by_ext["1001"]["first_seen_at"] == FETCHED - dt.timedelta(days=3)
    with warehouse.connect() as conn:
        assert all(c.ok for c in reconcile(conn, "big"))


def test_rebuild_gives_the_tables_incremental_runs_made(warehouse, home):
    _mixed_batch(warehouse)
    _run(warehouse, home, "run-1")
    stage(
        warehouse,
        "listing",
        [listing("9999", fetched_at=LATER), listing("1002", fetched_at=LATER, price="75.00")],
        run="crawl-2",
    )
    stage(warehouse, "review", [review(f"s{i}", "9999", SPAM) for i in range(5, 8)], run="crawl-2")
    stage(
        warehouse,
        "recall",
        [recall("24100", url="http://r.example/cpsc.json", fetched_at=LATER, remedy="Replace")],
        run="crawl-2",
    )
    _run(warehouse, home, "run-2")
    stage(warehouse, "review", [review("r9", "1001", "第三批的评价")], run="crawl-3")
    _run(warehouse, home, "run-3")
    incremental = core_snapshot(warehouse)
    report = rebuild_core(warehouse, run_id="rebuild", salt=SALT, home=home, data_docs=False)
    assert report.tables["stg_listings"].rows_in == 7
    assert core_snapshot(warehouse) == incremental
    with warehouse.connect() as conn:
        marks = dict(
            tuple(r)
            for r in conn.execute(
                select(process_watermarks.c.staging_table, process_watermarks.c.run_id)
            )
        )
    assert set(marks.values()) == {"rebuild"}


def test_a_table_that_breaks_as_a_whole_fails_the_run_after_keeping_its_rows(warehouse, home):
    stage(
        warehouse,
        "listing",
        [listing(str(2000 + i), name="") for i in range(25)] + [listing("3000")],
    )
    with pytest.raises(TableBreakage, match="stg_listings: 25 of 26 rows quarantined"):
        _run(warehouse, home, "broken")
    assert len(_rows(warehouse, quarantine, quarantine.c.run_id == "broken")) == 25
    assert len(_rows(warehouse, listings)) == 1
    with warehouse.connect() as conn:
        assert all(c.ok for c in reconcile(conn, "broken"))


def test_hostile_payloads_are_quarantined_and_the_run_goes_on(warehouse, home):
    huge = "好" * 200_000
    stage(
        warehouse,
        "listing",
        [
            listing("4001", name=["not", "text"], category_path={"a": 1}),
            listing("4002", price={"amount": 1}, rating=[5]),
            listing("4003", name=huge, description=huge, sales_volume="\u200b月销??"),
            listing("4004"),
        ],
    )
    stage(
        warehouse,
        "review",
        [
            review("h1", "4004", {"nested": "dict"}),
            review("h2", "4004", "正常", rating={"stars": 5}, posted_text=["昨天"]),
            review("h3", "4004", huge),
        ],
    )
    stage(
        warehouse,
        "complaint",
        [complaint("17370000100", steps="not a list"), complaint("17370000101", amount_fen="-5")],
    )
    stage(warehouse, "recall", [recall("99999", brands={"x": 1}), recall("99998", extra=["x"])])
    report = _run(warehouse, home, "hostile")
    with warehouse.connect() as conn:
        assert all(c.ok for c in reconcile(conn, "hostile")), [
            c.problems() for c in reconcile(conn, "hostile")
        ]
    assert all(t.balanced for t in report.tables.values())
    by_ext = {r["external_id"]: r for r in _rows(warehouse, listings)}
    assert "4004" in by_ext  # the good row made it
    assert (
        "4003" not in by_ext or len(by_ext["4003"]["title"]) <= 1000
    )  # huge text is cut, not lost
    h3 = _rows(warehouse, reviews, reviews.c.external_id == "h3")
    assert h3 and len(h3[0]["text"]) <= 5000
    q = _rows(warehouse, quarantine, quarantine.c.run_id == "hostile")
    assert q and all(r["reason"] and r["rule"] for r in q)
    rules = {r["record_key"]: r["rule"] for r in q}
    assert set(rules) >= {
        "stg_listings:1",  # a list for a title, an object for a breadcrumb
        "stg_listings:2",  # an object for a price
        "stg_reviews:1",  # an object for the review text
        "stg_reviews:2",
        "stg_complaints:1",  # steps as a string
        "stg_complaints:2",  # a negative amount
        "stg_recalls:1",
        "stg_recalls:2",
    }, rules
    assert (
        rules["stg_listings:2"] == "normalise:price"
        and rules["stg_reviews:1"] == "normalise:content"
    )
    # Re-running changes nothing.
    before = core_snapshot(warehouse)
    assert _run(warehouse, home, "hostile-again").rows_in == 0
    assert core_snapshot(warehouse) == before


def test_a_builder_that_breaks_unexpectedly_quarantines_only_that_row(warehouse, home, monkeypatch):
    from transforms.core import records

    real = records.review_row

    def flaky(row, kit):
        if row["external_id"] == "boom":
            raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")
        return real(row, kit)

    monkeypatch.setattr(records, "review_row", flaky)
    stage(warehouse, "listing", [listing("5001")])
    stage(
        warehouse,
        "review",
        [
            review("ok1", "5001", "好用"),
            review("boom", "5001", "坏"),
            review("ok2", "5001", "不错"),
        ],
    )
    report = _run(warehouse, home, "flaky")
    assert (
        report.tables["stg_reviews"].quarantined == 1 and report.tables["stg_reviews"].to_core == 2
    )
    (q,) = _rows(warehouse, quarantine, quarantine.c.run_id == "flaky")
    assert (
        q["rule"] == "normalise:unexpected"
        and "TypeError" in q["reason"]
        and q["record_key"] == "stg_reviews:2"
    )
