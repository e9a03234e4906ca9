"""Assessment end to end on a small warehouse (SQLite and PostgreSQL): every channel
feeds the level, explanations cite rows that exist, staff decisions hold, reruns change
nothing, and the BI mart reads it all."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, text

from ecqm.warehouse.schema import (
    complaints,
    inspection_results,
    listing_snapshots,
    listings,
    model_versions,
    products,
    recall_matches,
    recalls,
    review_scores,
    reviews,
    risk_assessments,
    risk_decisions,
    risk_signals,
    shops,
)
from risk_models.assess import assess
from risk_models.decisions import import_decisions

AS_OF = dt.date(2026, 11, 20)
SEEN = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)
EVIDENCE_TABLES = {
    "reviews": reviews,
    "complaints": complaints,
    "listings": listings,
    "listing_snapshots": listing_snapshots,
    "recalls": recalls,
    "shops": shops,
    "inspection_results": inspection_results,
}
PRAISE = [
    "烧水很快，外观简洁，用了一个月没毛病",
    "不漏电，没有异味，家里老人也会用",
    "物流快，包装严实，水壶颜值高",
    "声音不大，保温效果还可以",
    "性价比不错，推荐购买",
    "手感很好，开关灵敏",
]
FIRE = [
    "用了三天底座冒烟了，还有烧焦味，吓死人",
    "插头烧黑了，差点起火，大家别买",
    "烧水的时候底座冒火花，冒烟，太危险",
    "加热时有烧焦的味道，底座发黑冒烟",
]


@pytest.fixture(scope="session")
def risk_home(tmp_path_factory) -> Path:
    """One home for the session, so the review text model is trained once per worker."""
    return tmp_path_factory.mktemp("risk-home")


@pytest.fixture
def world(warehouse_engine):
    """Four kettles: a fire defect reported in reviews and a complaint and recalled
    abroad; a counterfeit 三无 listing without CCC; a quiet one; one that failed a test."""
    from transforms.reference.load import load_reference

    with warehouse_engine.begin() as c:
        load_reference(c)
        c.execute(
            shops.insert(),
            [
                {
                    "platform": "youpin",
                    "external_id": f"s{i}",
                    "name": f"店{i}",
                    "phone_hash": "ph-ring" if i in (2, 3) else f"ph{i}",
                    "first_seen_at": SEEN,
                    "last_seen_at": SEEN,
                }
                for i in range(1, 5)
            ],
        )
        sid = dict(c.execute(select(shops.c.external_id, shops.c.id)).all())
        c.execute(
            products.insert(),
            [
                {
                    "product_key": f"k{i}",
                    "brand": "九阳" if i == 3 else "美度",
                    "model": f"MD-15{i}0",
                    "category_code": "electric_kettle",
                    "producer_name": "九阳股份有限公司" if i == 3 else "浙江美度电器有限公司",
                    "first_seen_at": SEEN,
                    "last_seen_at": SEEN,
                }
                for i in range(1, 5)
            ],
        )
        pid = dict(c.execute(select(products.c.product_key, products.c.id)).all())
        base = {
            "platform": "youpin",
            "currency": "CNY",
            "category_code": "electric_kettle",
            "brand": "美度",
            "ccc_number": "2021010701234567",
            "producer_name": "浙江美度电器有限公司",
            "origin": "浙江杭州",
            "first_seen_at": SEEN,
            "last_seen_at": SEEN,
        }
        rows = [
            {
                **base,
                "external_id": "L1",
                "product_id": pid["k1"],
                "shop_id": sid["s1"],
                "title": "美度电热水壶 MD-1510 1.7L",
                "brand": "MEIDU/美度",
                "model": "MD-1510",
                "price_fen": 12900,
            },
            {
                **base,
                "external_id": "L2a",
                "product_id": pid["k2"],
                "shop_id": sid["s2"],
                "title": "美度电热水壶 MD-1520",
                "model": "MD-1520",
                "price_fen": 13900,
            },
            {
                **base,
                "external_id": "L2b",
                "product_id": pid["k2"],
                "shop_id": sid["s3"],
                "title": "MEID0电热水壶 全网最低价",
                "model": "MD-1520",
                "price_fen": 3900,
                "ccc_number": None,
                "producer_name": None,
                "origin": None,
            },
            {
                **base,
                "external_id": "L3",
                "product_id": pid["k3"],
                "shop_id": sid["s1"],
                "title": "九阳电热水壶 K15-F5",
                "model": "K15-F5",
                "brand": "九阳",
                "producer_name": "九阳股份有限公司",
                "price_fen": 12500,
            },
            {
                **base,
                "external_id": "L4",
                "product_id": pid["k4"],
                "shop_id": sid["s4"],
                "title": "美度电热水壶 MD-1540",
                "model": "MD-1540",
                "price_fen": 11900,
            },
        ]
        c.execute(listings.insert(), rows)
        lid = dict(c.execute(select(listings.c.external_id, listings.c.id)).all())
        c.execute(
            listing_snapshots.insert(),
            [{"listing_id": i, "captured_at": SEEN, "price_fen": 100} for i in lid.values()],
        )
        revs = []
        n = 0
        for ext, texts in (
            ("L1", PRAISE * 3 + FIRE),
            ("L2a", PRAISE * 2),
            ("L3", PRAISE * 3),
            ("L4", PRAISE * 2),
        ):
            for j, t in enumerate(texts):
                n += 1
                revs.append(
                    {
                        "platform": "youpin",
                        "external_id": f"r{n}",
                        "listing_id": lid[ext],
                        "rating": 1.0 if t in FIRE else 5.0,
                        "text": t,
                        "posted_at": SEEN - dt.timedelta(days=200 - 8 * j),
                        "fetched_at": SEEN,
                    }
                )
        c.execute(reviews.insert(), revs)
        c.execute(
            complaints.insert().values(
                source="tousu",
                complaint_number="17370000001",
                listing_id=lid["L1"],
                shop_id=sid["s1"],
                title="电水壶底座起火",
                problem="烧水时底座冒烟起火，烧坏了台面",
                filed_at=SEEN - dt.timedelta(days=20),
                fetched_at=SEEN,
            )
        )
        c.execute(
            recalls.insert().values(
                source="cpsc",
                recall_number="26001",
                title="Meidu Electric Kettles Recalled",
                product_name="Electric Kettles",
                brands=["Meidu"],
                models=["MD1510", "MD1511"],
                hazard="The kettle base can overheat, posing fire and burn hazards.",
                published_on=dt.date(2026, 10, 1),
                fetched_at=SEEN,
            )
        )
        c.execute(
            inspection_results.insert(),
            [
                {
                    "task_id": "T-1",
                    "product_id": pid["k4"],
                    "listing_id": lid["L4"],
                    "shop_id": sid["s4"],
                    "test_item": "发热",
                    "verdict": "fail",
                    "defect_class": "严重",
                    "report_number": "R-1",
                    "tested_on": dt.date(2026, 9, 1),
                },
                {
                    "task_id": "T-1",
                    "product_id": pid["k4"],
                    "listing_id": lid["L4"],
                    "shop_id": sid["s4"],
                    "test_item": "标志和说明",
                    "verdict": "pass",
                    "defect_class": None,
                    "report_number": "R-1",
                    "tested_on": dt.date(2026, 9, 1),
                },
            ],
        )
    return {"products": pid, "listings": lid, "shops": sid}


def _assessed(engine):
    with engine.connect() as c:
        return {
            r.product_id: r
            for r in c.execute(select(risk_assessments).where(risk_assessments.c.as_of == AS_OF))
        }


def _risk_tables(engine):
    with engine.connect() as c:
        out = {}
        for t in (risk_signals, risk_assessments, review_scores, recall_matches, model_versions):
            skip = {"computed_at", "assessed_at", "scored_at", "matched_at", "trained_at"}
            cols = [col for col in t.columns if col.name not in skip]
            out[t.name] = sorted(map(repr, c.execute(select(*cols)).all()))
        return out


def test_every_channel_moves_the_level_and_explanations_cite_real_rows(
    warehouse_engine, world, risk_home
):
    report = assess(warehouse_engine, AS_OF, home=risk_home)
    p = world["products"]
    a = _assessed(warehouse_engine)
    assert report.products == 4 and sum(report.levels.values()) == 4
    # The fire defect: reviews, a complaint and a CPSC recall agree.
    fire = a[p["k1"]]
    assert fire.level == "high" and fire.hazard == "fire" and fire.severity == 4
    assert fire.is_confirmed and "召回" in fire.confirmation
    channels = {t["channel"] for t in fire.explanation["top_signals"]}
    assert {"active_monitoring", "complaints", "overseas"} <= channels
    assert fire.summary.startswith("高风险")
    # The counterfeit listing: price far below the product's other listing, no CCC,
    # no producer, a banned term, a shop in a network.
    fake = {t["signal"] for t in a[p["k2"]].explanation["top_signals"]}
    assert {"price_anomaly", "missing_ccc", "sanwu"} <= fake
    assert a[p["k2"]].probability > a[p["k3"]].probability
    # The quiet kettle, praised in words that mention hazards only to deny them.
    quiet = a[p["k3"]]
    assert quiet.level == "low" and quiet.explanation["top_signals"] == []
    assert quiet.summary == "低风险：未发现风险信号"
    # The failed inspection confirms its product.
    assert a[p["k4"]].is_confirmed and "检验不合格" in a[p["k4"]].confirmation
    # Every evidence id exists in its table.
    with warehouse_engine.connect() as c:
        for row in a.values():
            for top in row.explanation["top_signals"]:
                for table, ids in top["evidence"].items():
                    t = EVIDENCE_TABLES[table]
                    found = {i for (i,) in c.execute(select(t.c.id).where(t.c.id.in_(ids)))}
                    assert found == set(ids), (row.product_id, top["signal"], table)
        match = c.execute(select(recall_matches)).one()
        assert match.recall_number == "26001" and match.listing_id == world["listings"]["L1"]
        assert c.execute(select(model_versions.c.model_name, model_versions.c.status)).all()


def test_a_rerun_of_the_same_date_changes_nothing(warehouse_engine, world, risk_home):
    assess(warehouse_engine, AS_OF, home=risk_home)
    first = _risk_tables(warehouse_engine)
    again = assess(warehouse_engine, AS_OF, home=risk_home)
    assert again.reviews_scored == 0
    assert _risk_tables(warehouse_engine) == first


def test_staff_decisions_hold_until_the_risk_rises(warehouse_engine, world, risk_home, tmp_path):
    p = world["products"]
    assess(warehouse_engine, AS_OF, home=risk_home)
    f = tmp_path / "decisions.csv"
    f.write_text(
        "product_id,decision,reviewer,decided_at,reason\n"
        f"{p['k2']},dismiss,王工,2026-11-20 18:00,核实为正品清仓价\n"
        f"{p['k3']},confirm,李工,2026-11-20 18:00,线下抽检发现问题\n",
        encoding="utf-8",
    )
    with warehouse_engine.begin() as c:
        import_decisions(c, f)
        level_then = c.execute(
            select(risk_decisions.c.level_at_decision).where(risk_decisions.c.product_id == p["k2"])
        ).scalar_one()
    next_day = AS_OF + dt.timedelta(days=1)
    report = assess(warehouse_engine, next_day, home=risk_home)
    with warehouse_engine.connect() as c:
        rows = {
            r.product_id: r
            for r in c.execute(select(risk_assessments).where(risk_assessments.c.as_of == next_day))
        }
    assert rows[p["k2"]].review_status == "dismissed" and not rows[p["k2"]].is_confirmed
    assert "王工" in rows[p["k2"]].review_note
    assert rows[p["k3"]].review_status == "confirmed" and rows[p["k3"]].is_confirmed
    assert report.dismissed == 1
    # New fire reports on the dismissed product raise its level: back to staff.
    with warehouse_engine.begin() as c:
        c.execute(
            reviews.insert(),
            [
                {
                    "platform": "youpin",
                    "external_id": f"new{i}",
                    "listing_id": world["listings"]["L2a"],
                    "rating": 1.0,
                    "text": t,
                    "posted_at": SEEN + dt.timedelta(days=10 + i),
                    "fetched_at": SEEN,
                }
                for i, t in enumerate(FIRE * 2)
            ],
        )
    later = AS_OF + dt.timedelta(days=2)
    assess(warehouse_engine, later, home=risk_home)
    with warehouse_engine.connect() as c:
        row = c.execute(
            select(risk_assessments).where(
                risk_assessments.c.as_of == later, risk_assessments.c.product_id == p["k2"]
            )
        ).one()
    if row.level != level_then:
        assert row.review_status == "pending" and "重新复核" in row.review_note


def test_the_mart_shows_the_newest_assessment_per_product(warehouse_engine, world, risk_home):
    assess(warehouse_engine, AS_OF - dt.timedelta(days=30), home=risk_home)
    assess(warehouse_engine, AS_OF, home=risk_home)
    with warehouse_engine.connect() as c:
        rows = (
            c.execute(text("select * from mart_risk_current order by product_id")).mappings().all()
        )
    assert len(rows) == 4
    assert {str(r["as_of"])[:10] for r in rows} == {AS_OF.isoformat()}
    fire = next(r for r in rows if r["product_id"] == world["products"]["k1"])
    assert fire["level_zh"] == "高风险" and fire["level_rank"] == 4
    assert fire["category_zh"] == "电热水壶" and fire["listings_count"] == 1


def test_the_database_counts_reviews_as_the_frame_code_does(warehouse_engine, world, risk_home):
    """Per-product review counts come from SQL; :func:`stats_of` states the same rules in
    pandas. Both must agree (spam clusters out, the 90-day window, the 0.5 flags)."""
    import pandas as pd

    from risk_models.frames import load_frames, stats_of, window_end

    with warehouse_engine.begin() as c:
        c.execute(
            reviews.update()
            .where(reviews.c.external_id.in_(["r1", "r2"]))
            .values(spam_cluster_id="c9")
        )
    assess(warehouse_engine, AS_OF, home=risk_home)
    with warehouse_engine.connect() as c:
        frames = load_frames(c, AS_OF)
        full = pd.DataFrame(
            [
                tuple(r)
                for r in c.execute(
                    select(
                        reviews.c.id,
                        listings.c.product_id,
                        reviews.c.posted_at,
                        reviews.c.spam_cluster_id,
                        review_scores.c.negative_probability,
                        review_scores.c.defect_probability,
                        review_scores.c.hazard,
                    )
                    .join(listings, listings.c.id == reviews.c.listing_id)
                    .join(review_scores, review_scores.c.review_id == reviews.c.id)
                )
            ],
            columns=[
                "id",
                "product_id",
                "posted_at",
                "spam_cluster_id",
                "negative_probability",
                "defect_probability",
                "hazard",
            ],
        )
    full["posted_at"] = pd.to_datetime(full["posted_at"], utc=True)
    flagged, stats = stats_of(full, window_end(AS_OF))
    got = frames.review_stats.sort_values("product_id").reset_index(drop=True)
    want = stats.sort_values("product_id").reset_index(drop=True)
    assert (
        got[["product_id", "n", "defects", "negatives", "n_recent", "defects_recent"]]
        .astype(int)
        .equals(
            want[["product_id", "n", "defects", "negatives", "n_recent", "defects_recent"]].astype(
                int
            )
        )
    )
    assert (got["first"] == want["first"]).all()
    assert sorted(frames.reviews["id"]) == sorted(flagged["id"])
    assert int(got["n"].sum()) == len(full) - 2


def _match(engine, state):
    """One recall-matching run (as the assessment runs it) and the state it recorded."""
    import json

    from risk_models.assess import match_recalls

    with engine.begin() as c:
        total, committed = match_recalls(c, SEEN, state)
    committed()
    with engine.connect() as c:
        rows = sorted(
            (r.listing_id, r.recall_id, r.score) for r in c.execute(select(recall_matches)).all()
        )
    (path,) = state.glob("recall_matches-*.json")
    return total, rows, json.loads(path.read_text())


def test_recall_matching_takes_only_new_listings_when_nothing_else_changed(
    warehouse_engine, world, tmp_path
):
    """The daily matching re-reads only the listings written since the last run, and
    gives what matching every listing gives; a new recall, rows of recall_matches
    changed by someone else or a lost state file make it match every listing again."""
    from risk_models.assess import match_recalls

    state = tmp_path / "state"
    total, first, st = _match(warehouse_engine, state)
    assert total == 1 and not st["incremental"] and st["listings_matched"] == 5
    total, again, st = _match(warehouse_engine, state)
    assert (total, again) == (1, first) and st["incremental"] and st["listings_matched"] == 0

    # The quiet kettle's listing is crawled again under the recalled model (a newer
    # staging row), and a new listing of the recalled kettle appears.
    with warehouse_engine.begin() as c:
        c.execute(
            listings.update()
            .where(listings.c.id == world["listings"]["L3"])
            .values(title="美度电热水壶 MD-1511 1.5L", brand="美度", model="MD-1511", staging_id=90)
        )
        c.execute(
            listings.insert().values(
                platform="lehuo",
                external_id="L5",
                product_id=world["products"]["k1"],
                title="美度 电热水壶 MD1510",
                brand="美度",
                model="MD1510",
                first_seen_at=SEEN,
                last_seen_at=SEEN,
            )
        )
    with warehouse_engine.connect() as c:
        l5 = c.execute(select(listings.c.id).where(listings.c.external_id == "L5")).scalar_one()
    total, grown, st = _match(warehouse_engine, state)
    assert st["incremental"] and st["listings_matched"] == 2
    assert total == 3
    assert {lid for lid, _, _ in grown} == {world["listings"]["L1"], world["listings"]["L3"], l5}
    # The same as matching every listing afresh.
    with warehouse_engine.begin() as c:
        assert match_recalls(c, SEEN)[0] == 3
    with warehouse_engine.connect() as c:
        assert (
            sorted((r.listing_id, r.recall_id, r.score) for r in c.execute(select(recall_matches)))
            == grown
        )

    # The recalled model is renamed away again: its match goes.
    with warehouse_engine.begin() as c:
        c.execute(
            listings.update()
            .where(listings.c.id == world["listings"]["L3"])
            .values(title="九阳电热水壶 K15-F5", brand="九阳", model="K15-F5", staging_id=91)
        )
    total, shrunk, st = _match(warehouse_engine, state)
    assert st["incremental"] and st["listings_matched"] == 1 and total == 2
    assert world["listings"]["L3"] not in {lid for lid, _, _ in shrunk}

    # A new recall: every listing again.
    with warehouse_engine.begin() as c:
        c.execute(
            recalls.insert().values(
                source="cpsc",
                recall_number="26002",
                title="Jiuyang Kettles Recalled",
                brands=["Joyoung"],
                models=["K15-F5"],
                hazard="burn hazard",
                published_on=dt.date(2026, 11, 2),
                fetched_at=SEEN,
            )
        )
    *_, st = _match(warehouse_engine, state)
    assert not st["incremental"] and st["listings_matched"] == 6
    *_, st = _match(warehouse_engine, state)
    assert st["incremental"] and st["listings_matched"] == 0
    # Someone else deletes a match: every listing again, and the match is back.
    with warehouse_engine.begin() as c:
        c.execute(
            recall_matches.delete().where(recall_matches.c.listing_id == world["listings"]["L1"])
        )
    total_before = total
    total, rows, st = _match(warehouse_engine, state)
    assert not st["incremental"] and world["listings"]["L1"] in {lid for lid, _, _ in rows}
    assert total >= total_before
    # The state file lost: every listing again.
    for f in state.glob("recall_matches-*.json"):
        f.unlink()
    *_, st = _match(warehouse_engine, state)
    assert not st["incremental"]
