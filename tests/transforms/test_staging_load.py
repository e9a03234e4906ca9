"""Landing files → staging: idempotent, nothing silently dropped, bad lines quarantined."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from ecqm.warehouse.schema import (
    crawl_pages,
    crawl_runs,
    quarantine,
    stg_complaints,
    stg_listings,
    stg_reviews,
    stg_shops,
)
from transforms.staging import load_crawl_run

RUN = "crawl_youpin__20261101T0000"
DATE = "2026-11-01"


def _write(landing: Path, part: str, lines: list[str], profile: str = "youpin") -> None:
    folder = landing / profile / part / DATE / RUN
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shard-000.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _listing(i: int, **changes) -> str:
    record = {
        "kind": "listing",
        "source": "youpin",
        "platform": "youpin",
        "external_id": f"{100000 + i}",
        "listing_external_id": None,
        "url": f"http://127.0.0.1:8800/youpin/item/{100000 + i}.html",
        "fetched_at": "2026-11-01T02:03:04+00:00",
        "evidence_sha256": "ab" * 32,
        "crawl_run_id": RUN,
        "payload": {
            "name": f"美的 电热水壶 MK-15S0{i % 10}A",
            "price": "129.00",
            "currency": "CNY",
            "sku": str(i),
        },
    }
    record.update(changes)
    return json.dumps(record, ensure_ascii=False)


def _landing(tmp_path: Path) -> Path:
    landing = tmp_path / "landing"
    good = [_listing(i) for i in range(50)]
    bad = [
        "{not json",
        json.dumps(
            {"kind": "review", "source": "youpin", "external_id": "1", "url": "u", "payload": {}}
        ),
        _listing(60, external_id=""),
        _listing(61, fetched_at="2026-11-01 02:03:04"),
        _listing(62, payload=["not", "an", "object"]),
        _listing(63, external_id="x" * 200),
        _listing(64, payload={"name": "bad\u0000name"}),
        _listing(3),  # an exact duplicate of a good line
    ]
    _write(landing, "listings", good[:25] + bad + good[25:])
    review = {
        "kind": "review",
        "source": "youpin",
        "platform": "youpin",
        "external_id": "R1",
        "listing_external_id": "100001",
        "url": "http://127.0.0.1:8800/youpin/api/reviews?item=100001",
        "fetched_at": "2026-11-01T02:05:00Z",
        "evidence_sha256": None,
        "crawl_run_id": RUN,
        "payload": {"text": "用了两天就冒烟了👍", "rating": 1},
    }
    _write(landing, "reviews", [json.dumps(review, ensure_ascii=False)])
    _write(
        landing,
        "pages",
        [
            json.dumps(
                {
                    "sha256": "ab" * 32,
                    "url": "http://127.0.0.1:8800/youpin/item/100000.html",
                    "status": 200,
                    "headers": {"Content-Type": "text/html; charset=utf-8"},
                    "fetched_at": "2026-11-01T02:03:04Z",
                    "crawl_run_id": RUN,
                    "bytes": 5120,
                    "content_type": "text/html",
                }
            ),
            json.dumps(
                {
                    "sha256": "cd" * 32,
                    "url": "http://127.0.0.1:8800/youpin/item/100001.html",
                    "status": 429,
                    "headers": {"Retry-After": "1"},
                    "fetched_at": "2026-11-01T02:03:05Z",
                    "crawl_run_id": RUN,
                    "bytes": 0,
                    "content_type": None,
                }
            ),
            '{"sha256": "ef", "url": "x"}',
        ],
    )
    stats = landing / "youpin" / "stats" / DATE / RUN
    stats.mkdir(parents=True)
    (stats / "shard-000.json").write_text(
        json.dumps(
            {
                "pages": 120,
                "items": {"listing": 55, "review": 1},
                "errors": {"http_429": 3, "parse": 1},
                "retries": 4,
                "started_at": "2026-11-01T02:00:00+00:00",
                "finished_at": "2026-11-01T02:10:00+00:00",
                "duration_s": 600.0,
            }
        )
    )
    return landing


def _count(conn, table, *where) -> int:
    return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def test_load_is_idempotent_and_quarantines_each_bad_line(warehouse_engine, tmp_path):
    landing = _landing(tmp_path)
    with warehouse_engine.begin() as conn:
        first = load_crawl_run(
            conn, landing=landing, profile="youpin", run_id=RUN, partition_date=DATE
        )
    assert first.tables["stg_listings"].inserted == 50
    assert first.tables["stg_listings"].duplicates_in_input == 1
    assert first.tables["stg_reviews"].inserted == 1
    assert first.tables["crawl_pages"].inserted == 2
    with warehouse_engine.connect() as conn:
        reasons = {
            r.record_key.rsplit("/", 1)[-1]: (r.rule, r.reason)
            for r in conn.execute(select(quarantine))
        }
        run = conn.execute(select(crawl_runs)).one()
    # every bad line is named by file and line, with the rule it broke
    assert reasons["shard-000.jsonl:26"][0] == "landing_json"
    assert "this file holds 'listing' items" in reasons["shard-000.jsonl:27"][1]
    assert "external_id must be a non-empty string" in reasons["shard-000.jsonl:28"][1]
    assert "has no time zone" in reasons["shard-000.jsonl:29"][1]
    assert "payload must be a JSON object" in reasons["shard-000.jsonl:30"][1]
    staging_rejects = [v for k, v in reasons.items() if v[0] == "staging_value"]
    assert any("200 characters long" in reason for _, reason in staging_rejects)
    assert any("NUL character" in reason for _, reason in staging_rejects)
    assert any(v[0] == "landing_schema" for k, v in reasons.items() if "pages" in k or "shard" in k)
    assert first.quarantined == 8
    # nothing silently dropped: every line is a row, a duplicate, or quarantined
    assert first.lines == 50 + 8 + 1
    assert run.pages == 120 and run.retries == 4 and run.items == {"listing": 55, "review": 1}
    assert run.loaded["stg_listings"]["inserted"] == 50 and run.status == "loaded"

    with warehouse_engine.begin() as conn:
        second = load_crawl_run(
            conn, landing=landing, profile="youpin", run_id=RUN, partition_date=DATE
        )
    assert second.new_rows == 0
    assert second.tables["stg_listings"].unchanged == 50
    with warehouse_engine.connect() as conn:
        assert _count(conn, stg_listings) == 50 and _count(conn, stg_reviews) == 1
        assert _count(conn, quarantine) == 8 and _count(conn, crawl_pages) == 2
        assert _count(conn, crawl_runs) == 1


def test_a_changed_record_adds_a_version_and_keeps_the_first(warehouse_engine, tmp_path):
    landing = _landing(tmp_path)
    with warehouse_engine.begin() as conn:
        load_crawl_run(conn, landing=landing, profile="youpin", run_id=RUN, partition_date=DATE)
    later = "crawl_youpin__20261102T0000"
    folder = landing / "youpin" / "listings" / DATE / later
    folder.mkdir(parents=True)
    changed = json.loads(_listing(7))
    changed["payload"]["price"] = "99.00"
    (folder / "shard-000.jsonl").write_text(
        _listing(8) + "\n" + json.dumps(changed, ensure_ascii=False) + "\n"
    )
    with warehouse_engine.begin() as conn:
        result = load_crawl_run(
            conn, landing=landing, profile="youpin", run_id=later, partition_date=DATE
        )
    assert (
        result.tables["stg_listings"].inserted == 1 and result.tables["stg_listings"].unchanged == 1
    )
    with warehouse_engine.connect() as conn:
        versions = conn.execute(
            select(stg_listings.c.crawl_run_id, stg_listings.c.payload)
            .where(stg_listings.c.external_id == "100007")
            .order_by(stg_listings.c.id)
        ).all()
    assert [v.crawl_run_id for v in versions] == [RUN, later]
    assert [v.payload["price"] for v in versions] == ["129.00", "99.00"]


def test_a_run_without_files_loads_nothing_and_says_so(warehouse_engine, tmp_path):
    with warehouse_engine.begin() as conn:
        result = load_crawl_run(
            conn, landing=tmp_path, profile="tousu", run_id="r0", partition_date=DATE
        )
        row = conn.execute(select(crawl_runs)).one()
    assert result.new_rows == 0 and result.lines == 0
    assert row.status == "no_stats" and row.shards == 0
    assert _count_complaints(warehouse_engine) == 0


def _count_complaints(engine) -> int:
    with engine.connect() as conn:
        return _count(conn, stg_complaints)


def _shop(shop_id: str, **changes) -> str:
    record = {
        "kind": "shop",
        "source": "youpin",
        "platform": "youpin",
        "external_id": shop_id,
        "listing_external_id": None,
        "url": f"http://127.0.0.1:8800/youpin/shop/{shop_id}.html",
        "fetched_at": "2026-11-01T02:06:00Z",
        "evidence_sha256": "ef" * 32,
        "crawl_run_id": RUN,
        "payload": {
            "platform": "youpin",
            "external_id": shop_id,
            "name": "惠民电器专营店",
            "company": "金华恒兴商贸有限公司",
            "credit_code": "913307001LX2TU7UBP",
            "contact": "邹志海",
            "phone": "15742337588",
            "address": "浙江省金华市永康市金湖路76号创业大厦6号楼1216室",
            "province": "浙江省",
            "city": "金华市",
            "url": f"http://127.0.0.1:8800/youpin/shop/{shop_id}.html",
        },
    }
    record.update(changes)
    return json.dumps(record, ensure_ascii=False)


def test_shop_pages_load_into_stg_shops_once_per_version(warehouse_engine, tmp_path):
    landing = tmp_path / "landing"
    lines = [_shop("35671549"), _shop("46730812"), _shop("35671549"), _shop("1", platform=None)]
    _write(landing, "shops", lines)
    loads = []
    for _ in range(2):
        with warehouse_engine.begin() as conn:
            loads.append(
                load_crawl_run(
                    conn, landing=landing, profile="youpin", run_id=RUN, partition_date=DATE
                )
            )
    first, second = loads
    assert first.tables["stg_shops"].inserted == 2
    assert first.tables["stg_shops"].duplicates_in_input == 1
    assert first.quarantined == 1 and first.new_rows == 2  # no platform: not a shop record
    assert second.new_rows == 0 and second.tables["stg_shops"].unchanged == 2
    with warehouse_engine.connect() as conn:
        rows = conn.execute(select(stg_shops).order_by(stg_shops.c.id)).mappings().all()
        (q,) = conn.execute(select(quarantine)).mappings().all()
    assert [(r["platform"], r["external_id"], r["source"]) for r in rows] == [
        ("youpin", "35671549", "youpin"),
        ("youpin", "46730812", "youpin"),
    ]
    assert rows[0]["payload"]["phone"] == "15742337588" and rows[0]["crawl_run_id"] == RUN
    assert q["table_name"] == "stg_shops" and q["rule"] == "staging_value"

    # The shop changed its phone: a new version, the first one kept.
    later = "crawl_youpin__20261102T0000"
    changed = json.loads(_shop("35671549", crawl_run_id=later))
    changed["payload"]["phone"] = "0579-8765 4321"
    folder = landing / "youpin" / "shops" / DATE / later
    folder.mkdir(parents=True)
    (folder / "shard-000.jsonl").write_text(json.dumps(changed, ensure_ascii=False) + "\n")
    with warehouse_engine.begin() as conn:
        third = load_crawl_run(
            conn, landing=landing, profile="youpin", run_id=later, partition_date=DATE
        )
    assert third.tables["stg_shops"].inserted == 1
    with warehouse_engine.connect() as conn:
        phones = conn.execute(
            select(stg_shops.c.payload)
            .where(stg_shops.c.external_id == "35671549")
            .order_by(stg_shops.c.id)
        ).scalars()
        assert [p["phone"] for p in phones] == ["15742337588", "0579-8765 4321"]


def test_the_same_pages_in_another_order_load_in_the_same_order(database_url, tmp_path):
    """Staging ids, and so core ids and product keys, do not depend on arrival order."""
    import random

    from ecqm.warehouse import migrate
    from ecqm.warehouse.engine import make_engine

    lines = [_listing(i) for i in range(40)] + [
        "{not json",
        _listing(7, fetched_at="2026-11-01T02:09:00+00:00", payload={"name": "newer"}),
    ]
    orders = []
    for attempt in range(2):
        shuffled = lines[:]
        random.Random(attempt).shuffle(shuffled)
        landing = tmp_path / f"landing-{attempt}"
        _write(landing, "listings", shuffled)
        url = database_url if attempt == 0 else f"sqlite:///{tmp_path / 'second.db'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        with engine.begin() as conn:
            result = load_crawl_run(
                conn, landing=landing, profile="youpin", run_id=RUN, partition_date=DATE
            )
            assert result.tables["stg_listings"].inserted == 41
            assert result.quarantined == 1
            rows = conn.execute(
                select(stg_listings.c.external_id, stg_listings.c.payload).order_by(
                    stg_listings.c.id
                )
            ).all()
        engine.dispose()
        orders.append([(ext, payload["name"]) for ext, payload in rows])
    assert orders[0] == orders[1]
    assert [ext for ext, _ in orders[0]] == sorted(ext for ext, _ in orders[0])
    # Two versions of one listing: the earlier fetch first.
    versions = [name for ext, name in orders[0] if ext == "100007"]
    assert versions == ["美的 电热水壶 MK-15S07A", "newer"]
