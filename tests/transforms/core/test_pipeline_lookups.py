"""How processing finds core rows: by natural key through the key's index, and the
reviews a chunk wrote for the near-duplicate index, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from core_rows import SALT, listing, review, stage  # type: ignore[import-not-found]
from sqlalchemy import select

import transforms.core.pipeline as pipeline
from ecqm.warehouse.schema import listings, reviews
from transforms.core import process_staging, rebuild_core
from transforms.core.pipeline import _existing, _ids

LATER = dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC)
SPAM = "宝贝收到了做工精细颜色鲜艳孩子爱不释手和卖家描述的完全一致以后还会光顾的五星好评推荐购买"


def _run(engine, home, run_id, **kw):
    return process_staging(engine, run_id=run_id, salt=SALT, home=home, data_docs=False, **kw)


def test_existing_finds_rows_by_key_in_batches(warehouse, home, monkeypatch):
    stage(
        warehouse,
        "listing",
        [listing(str(1000 + i), platform=("youpin", "lehuo")[i % 2]) for i in range(7)],
    )
    _run(warehouse, home, "run-1")
    monkeypatch.setattr(pipeline, "KEY_BATCH", 2)
    wanted = [("youpin", "1000"), ("lehuo", "1001"), ("youpin", "1001"), ("lehuo", "1005")]
    wanted += [("youpin", "1004"), ("youpin", "1006"), (None, "1002"), ("lehuo", None)]
    with warehouse.connect() as conn:
        found = _existing(conn, listings, ("platform", "external_id"), wanted)
        ids = _ids(conn, listings, ("platform", "external_id"), wanted)
        every = {
            (r.platform, r.external_id): r.id
            for r in conn.execute(
                select(listings.c.platform, listings.c.external_id, listings.c.id)
            )
        }
    hits = [("youpin", "1000"), ("lehuo", "1001"), ("lehuo", "1005"), ("youpin", "1004")]
    hits += [("youpin", "1006")]
    assert sorted(found) == sorted(hits)
    assert ids == {k: every[k] for k in hits}
    assert (
        found[("lehuo", "1005")]["title"]
        and found[("lehuo", "1005")]["id"] == every[("lehuo", "1005")]
    )


def test_reviews_written_again_join_the_index_in_core_order(warehouse, home):
    """A review fetched again keeps its core row (and id): the index takes the new
    reviews by id range and the rewritten ones by key, and a rebuild, which reads core
    in id order, finds the same clusters."""
    stage(warehouse, "listing", [listing("1001")])
    stage(
        warehouse,
        "review",
        [review(f"s{i}", "1001", SPAM) for i in range(2)] + [review("a", "1001", "一般般吧")],
    )
    _run(warehouse, home, "run-1", chunk_rows=2)
    stage(
        warehouse,
        "review",
        [review("s0", "1001", SPAM, fetched_at=LATER), review("s2", "1001", SPAM + "！")],
        run="crawl-2",
    )
    _run(warehouse, home, "run-2", chunk_rows=1)

    def flagged():
        with warehouse.connect() as conn:
            rows = conn.execute(select(reviews.c.external_id, reviews.c.spam_cluster_id))
            return {e: c for e, c in rows}

    incremental = flagged()
    assert {e for e, c in incremental.items() if c} == {"s0", "s1", "s2"}
    rebuild_core(warehouse, run_id="rebuild", salt=SALT, home=home, data_docs=False)
    assert flagged() == incremental


def test_reconcile_recounts_in_batches_and_names_rows_missing_from_core(
    warehouse, home, monkeypatch
):
    import importlib

    from ecqm.warehouse.schema import stg_reviews
    from transforms.core import reconcile

    stage(warehouse, "listing", [listing("1001"), listing("1002")])
    stage(
        warehouse,
        "review",
        [
            review("r1", "1001", "水壶很好用"),
            review("r2", "1002", "底座有点烫", rating=0),  # quarantined
            review("r3", "1002", "还行"),
            review("r1", "1001", "水壶很好用，烧水快", fetched_at=LATER),
            review("r4", "1001", "一般"),
        ],
    )
    _run(warehouse, home, "run-1")

    def outcome():
        with warehouse.connect() as conn:
            return {c.staging_table: (c.counted, c.missing, c.ok) for c in reconcile(conn, "run-1")}

    whole = outcome()
    assert whole["stg_reviews"] == (
        {"rows_in": 5, "quarantined": 1, "to_core": 3, "merged": 1},
        [],
        True,
    )
    # The package exports the function under the module's name.
    monkeypatch.setattr(importlib.import_module("transforms.core.reconcile"), "BATCH", 2)
    assert outcome() == whole
    with warehouse.begin() as conn:
        conn.execute(reviews.delete().where(reviews.c.external_id == "r1"))
        r1_ids = sorted(
            conn.execute(select(stg_reviews.c.id).where(stg_reviews.c.external_id == "r1"))
            .scalars()
            .all()
        )
    counted, missing, ok = outcome()["stg_reviews"]
    assert missing == r1_ids and not ok


def test_the_core_tables_a_run_grows_are_analyzed_as_they_double(warehouse, home, monkeypatch):
    """On PostgreSQL a run analyzes each core table it grows once the rows it took in pass
    ANALYZE_ROWS + its size at its last analyze, so the key look-ups of later chunks have
    statistics even where autovacuum is off; SQLite needs none and gets none."""
    from sqlalchemy import text

    monkeypatch.setattr(pipeline, "ANALYZE_ROWS", 3)
    stage(warehouse, "listing", [listing(str(2000 + i)) for i in range(12)])
    stage(warehouse, "review", [review(f"r{i}", "2000", f"第{i}条 还不错") for i in range(5)])
    report = _run(warehouse, home, "run-1", chunk_rows=4)
    if warehouse.dialect.name != "postgresql":
        assert report.analyzed == []
        return
    # Listings: 4 taken in (> 3 + 0) → analyzed at 4 rows; 8 more (> 3 + 4) → at 12 rows.
    assert report.analyzed.count("listings") == 2
    assert report.analyzed.count("reviews") == 1  # 4 (> 3), then 1 (not > 3 + 4)
    assert "complaints" not in report.analyzed
    with warehouse.connect() as conn:
        tuples = dict(
            conn.execute(
                text(
                    "select relname, reltuples from pg_class where relname in "
                    "('listings', 'reviews') and relnamespace = current_schema()::regnamespace"
                )
            ).all()
        )
    assert tuples == {"listings": 12, "reviews": 4}
    again = _run(warehouse, home, "run-2")
    assert again.analyzed == []  # nothing taken in


def test_the_saved_review_index_is_used_only_for_the_database_it_was_made_from(
    warehouse, home, monkeypatch
):
    """The near-duplicate index saved under ECQM_HOME records the database beside the
    watermark: a warehouse dropped and made again at the same URL, even at the same
    watermark, gets an index rebuilt from its own reviews."""
    import json

    from ecqm.warehouse.engine import database_identity
    from transforms.duplicates import ReviewClusterIndex

    stage(warehouse, "listing", [listing("1001")])
    stage(warehouse, "review", [review(f"s{i}", "1001", SPAM) for i in range(3)])
    _run(warehouse, home, "run-1")
    (meta_file,) = (home / "state").glob("review_clusters-*.json")
    meta = json.loads(meta_file.read_text())
    with warehouse.connect() as conn:
        assert meta["database"] == database_identity(conn)
    loaded = []
    load = ReviewClusterIndex.load
    monkeypatch.setattr(
        ReviewClusterIndex,
        "load",
        classmethod(lambda cls, *a, **kw: loaded.append(a) or load(*a, **kw)),
    )
    state = pipeline._ClusterState(warehouse, home, meta["last_staging_id"])
    assert len(loaded) == 1 and len(state.index.clusters()) == 3
    meta_file.write_text(json.dumps({**meta, "database": "postgresql:0"}))
    state = pipeline._ClusterState(warehouse, home, meta["last_staging_id"])
    assert len(loaded) == 1  # rebuilt from core, not loaded
    assert len(state.index.clusters()) == 3
