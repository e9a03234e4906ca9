"""Shop pages (``stg_shops``) into core ``shops`` on SQLite and PostgreSQL: licence fields
filled on shops first seen on listing pages and never blanked by them, newest page wins
whatever the order, bad rows quarantined, reconciliation balanced, and the rings of a
simulated world linked by exactly the pseudonyms they share."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import urllib.request

import pytest
from core_rows import (  # type: ignore[import-not-found]
    FETCHED,
    SALT,
    core_snapshot,
    listing,
    shop,
    stage,
)
from sqlalchemy import select

from crawlers.parse import parse_shop_page
from ecqm.warehouse.schema import CORE_TABLES, listings, process_runs, quarantine, shops
from simulator import World
from simulator.server import SimulatorServer
from simulator.truth import iter_truth
from transforms.core import process_staging, rebuild_core, reconcile
from transforms.pii import assert_no_pii

LATER = FETCHED + dt.timedelta(days=1)
LATEST = FETCHED + dt.timedelta(days=2)
LICENCE = ("company_name", "region_code", "contact_hash", "phone_hash", "address_hash", "url")
HASHED = {"phone": "phone_hash", "address": "address_hash", "contact": "contact_hash"}


def _run(engine, home, run_id, **kw):
    return process_staging(engine, run_id=run_id, salt=SALT, home=home, data_docs=False, **kw)


def _shops(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {r["external_id"]: dict(r) for r in conn.execute(select(shops)).mappings()}


def _balanced(engine, run_id: str) -> None:
    with engine.connect() as conn:
        checks = reconcile(conn, run_id)
        stored = {r.staging_table: r.balanced for r in conn.execute(select(process_runs))}
    assert checks and all(c.ok for c in checks), [c.problems() for c in checks]
    assert all(stored.values()), stored


def test_a_shop_page_fills_in_the_shop_a_listing_named(warehouse, home):
    stage(warehouse, "listing", [listing("1001", shop_id="5001", shop_name="美的旗舰店")])
    stage(warehouse, "shop", [shop("5001", fetched_at=LATER), shop("5002", platform="pinjia")])
    report = _run(warehouse, home, "run-1")
    t = report.tables["stg_shops"]
    assert (t.rows_in, t.to_core, t.merged, t.quarantined) == (2, 2, 0, 0)
    _balanced(warehouse, "run-1")
    got = _shops(warehouse)
    s = got["5001"]
    assert s["name"] == "美的生活电器旗舰店"  # the page is the newer sighting
    assert s["company_name"] == "佛山市美的生活电器科技有限公司"
    assert s["region_code"] == "440600"
    assert s["url"] == "http://shop.example/youpin/shop/5001.html"
    assert s["attributes"]["credit_code"] == "91440606MA4UHRRH11"
    assert all(s[c] for c in ("contact_hash", "phone_hash", "address_hash"))
    assert (s["first_seen_at"], s["last_seen_at"]) == (FETCHED, LATER)
    assert got["5002"]["platform"] == "pinjia" and got["5002"]["company_name"]
    with warehouse.connect() as conn:
        assert not conn.execute(select(quarantine)).first()
        # The listing still points at its shop, now with its licence.
        assert conn.execute(select(listings.c.shop_id)).scalar_one() == s["id"]


def test_listing_pages_seen_later_never_blank_the_licence(warehouse, home):
    stage(warehouse, "shop", [shop("5001")])
    _run(warehouse, home, "run-1")
    before = _shops(warehouse)["5001"]
    stage(
        warehouse,
        "listing",
        [listing("1001", shop_id="5001", shop_name="美的电器官方店", fetched_at=LATER)],
    )
    _run(warehouse, home, "run-2")
    after = _shops(warehouse)["5001"]
    assert {c: after[c] for c in LICENCE} == {c: before[c] for c in LICENCE}
    assert after["attributes"] == before["attributes"]
    assert after["name"] == "美的电器官方店" and after["last_seen_at"] == LATER
    assert after["first_seen_at"] == FETCHED
    # An older listing page changes neither the name nor the licence.
    stage(
        warehouse,
        "listing",
        [listing("1002", shop_id="5001", shop_name="旧名字", fetched_at=FETCHED - dt.timedelta(1))],
    )
    _run(warehouse, home, "run-3")
    last = _shops(warehouse)["5001"]
    assert last["name"] == "美的电器官方店" and {c: last[c] for c in LICENCE} == {
        c: before[c] for c in LICENCE
    }
    assert last["first_seen_at"] == FETCHED - dt.timedelta(1)


@pytest.mark.parametrize("chunk_rows", [1, 100])
def test_the_newest_shop_page_wins_in_any_order(warehouse, home, chunk_rows):
    stage(
        warehouse,
        "shop",
        [
            shop("5001", fetched_at=LATER, phone="13900000002", name="新名字"),
            shop("5001", fetched_at=FETCHED, phone="13900000001", name="旧名字"),
        ],
    )
    report = _run(warehouse, home, "run-1", chunk_rows=chunk_rows)
    t = report.tables["stg_shops"]
    assert t.rows_in == 2 and t.quarantined == 0 and t.balanced
    _balanced(warehouse, "run-1")
    s = _shops(warehouse)["5001"]
    newer = _shops_of_payload(shop("5001", phone="13900000002"))
    assert s["phone_hash"] == newer["phone_hash"] and s["name"] == "新名字"
    assert (s["first_seen_at"], s["last_seen_at"]) == (FETCHED, LATER)
    # A still older page arriving in a later run moves the first sighting back only.
    stage(warehouse, "shop", [shop("5001", fetched_at=FETCHED - dt.timedelta(1), phone="1")])
    _run(warehouse, home, "run-2", chunk_rows=chunk_rows)
    s2 = _shops(warehouse)["5001"]
    assert {c: s2[c] for c in LICENCE} == {c: s[c] for c in LICENCE} and s2["name"] == "新名字"
    assert s2["attributes"] == s["attributes"]
    assert s2["first_seen_at"] == FETCHED - dt.timedelta(1) and s2["last_seen_at"] == LATER
    # A newer page replaces the licence, including a phone it no longer shows.
    stage(warehouse, "shop", [shop("5001", fetched_at=LATEST, phone=None, company="新公司")])
    _run(warehouse, home, "run-3", chunk_rows=chunk_rows)
    s3 = _shops(warehouse)["5001"]
    assert s3["phone_hash"] is None and s3["company_name"] == "新公司"
    assert s3["last_seen_at"] == LATEST
    for run in ("run-2", "run-3"):
        _balanced(warehouse, run)


def _shops_of_payload(item: dict) -> dict:
    from transforms.core import records
    from transforms.core.records import Toolkit

    kit = Toolkit(salt=SALT, categorise=lambda p, t: (None, None, 0.0), listing_of_url=str)
    return records.shop_row({"id": 0, **item}, kit)


def test_bad_shop_rows_are_quarantined_scrubbed_and_the_run_goes_on(warehouse, home):
    stage(
        warehouse,
        "shop",
        [
            shop("5001"),
            shop("5002", name=["13812345678", "a list"]),  # not text
            shop("5003", name="   "),  # no name
            shop("5004", url="/youpin/shop/5004.html"),  # not an absolute URL: data quality
            shop("5005", fetched_at=LATER),
        ],
    )
    report = _run(warehouse, home, "run-1")
    t = report.tables["stg_shops"]
    assert (t.rows_in, t.to_core, t.merged, t.quarantined) == (5, 2, 0, 3)
    _balanced(warehouse, "run-1")
    assert set(_shops(warehouse)) == {"5001", "5005"}
    with warehouse.connect() as conn:
        q = [dict(r) for r in conn.execute(select(quarantine)).mappings()]
    assert {r["table_name"] for r in q} == {"shops"}
    rules = {r["payload"]["key"] or r["record_key"]: r["rule"] for r in q}
    assert "normalise:name" in rules.values() and "required:name" in rules.values()
    assert any("url" in r["rule"] for r in q)
    assert all(r["record_key"].startswith("stg_shops:") for r in q)
    for r in q:
        assert "13812345678" not in json.dumps(r, default=str, ensure_ascii=False)
        assert assert_no_pii(r, skip_keys=("record_key",)) == []


def test_no_personal_data_from_shop_pages_reaches_core(warehouse, home):
    items = [
        shop("5001"),
        shop(
            "5002",
            phone="13812345678",
            contact="欧阳娜娜",
            address="上海市浦东新区张江路88号3栋501室",
        ),
    ]
    stage(warehouse, "shop", items)
    _run(warehouse, home, "run-1")
    raw = [
        v for i in items for k, v in i["payload"].items() if k in ("phone", "contact", "address")
    ]
    with warehouse.connect() as conn:
        for table in CORE_TABLES:
            for row in conn.execute(select(table)).mappings():
                text = json.dumps(dict(row), default=str, ensure_ascii=False)
                assert not [v for v in raw if v in text], table.name
                assert assert_no_pii(dict(row), skip_keys=("url", "shop_url")) == []
    s = _shops(warehouse)["5002"]
    assert s["company_name"] and s["attributes"]["credit_code"]  # a company is no person
    assert s["region_code"] == "440600"  # the payload's city, not the address


def test_rebuild_gives_the_shops_the_incremental_runs_made(warehouse, home, tmp_path):
    stage(warehouse, "listing", [listing("1001", shop_id="5001")])
    stage(warehouse, "shop", [shop("5001", fetched_at=LATER), shop("5002")])
    _run(warehouse, home, "run-1")
    stage(warehouse, "shop", [shop("5001", fetched_at=FETCHED, phone="1390000000")])
    stage(warehouse, "listing", [listing("1001", shop_id="5001", fetched_at=LATEST)])
    _run(warehouse, home, "run-2")
    incremental = core_snapshot(warehouse)
    rebuild_core(warehouse, run_id="rebuild", salt=SALT, home=tmp_path / "h2", data_docs=False)
    assert core_snapshot(warehouse) == incremental
    _balanced(warehouse, "rebuild")


def test_ring_shops_share_exactly_the_pseudonyms_the_truth_says(warehouse, home):
    """Every shop page of a small world, read by the crawler's parser and staged as the
    crawl loads it, ends in core with equal pseudonyms exactly where the raw values are
    equal; for ring shops that is where both share the ring's phone, address or contact."""
    world = World(products=40, seed=11)
    truth = json.loads("".join(iter_truth(world, reviews=False)))
    items = []
    with SimulatorServer(world) as srv:
        for t in truth["shops"]:
            url = srv.base_url + t["url"]
            with urllib.request.urlopen(url) as resp:
                record = parse_shop_page(resp.read(), url, headers=dict(resp.headers))
            items.append(
                {
                    "source": t["platform"],
                    "platform": t["platform"],
                    "external_id": t["id"],
                    "url": url,
                    "payload": record,
                }
            )
    stage(warehouse, "shop", items)
    report = _run(warehouse, home, "run-1")
    assert report.tables["stg_shops"].to_core == len(truth["shops"])
    _balanced(warehouse, "run-1")
    with warehouse.connect() as conn:
        core = {
            (r["platform"], r["external_id"]): dict(r)
            for r in conn.execute(select(shops)).mappings()
        }
    by_key = {(t["platform"], t["id"]): t for t in truth["shops"]}
    assert set(core) == set(by_key)
    for key, t in by_key.items():
        assert all(core[key][c] for c in HASHED.values()), key
        assert core[key]["company_name"] == t["company"]
        assert core[key]["attributes"]["credit_code"] == t["credit_code"]
    ring_pairs = linked = 0
    for a, b in itertools.combinations(by_key, 2):
        ta, tb = by_key[a], by_key[b]
        equal = {f for f, c in HASHED.items() if core[a][c] == core[b][c]}
        assert equal == {f for f in HASHED if ta[f] == tb[f]}, (a, b)
        if ta["ring"] is not None and ta["ring"] == tb["ring"]:
            ring_pairs += 1
            assert equal == set(ta["shared"]) & set(tb["shared"]), (a, b)
            linked += bool(equal)
        elif ta["ring"] is None or tb["ring"] is None:
            assert not equal & {"phone", "address"}, (a, b)
    assert ring_pairs >= 10 and linked >= ring_pairs - 2
