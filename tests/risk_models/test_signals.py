"""Signals from every channel, on hand-built frames with the awkward cases spelled out."""

from __future__ import annotations

import numpy as np
import pytest
from risk_frames import days_ago, frames, listing, product, review

from risk_models import signals as sg
from transforms.reference.load import read_reference
from transforms.reference.terms import BannedTermMatcher


def by_name(sigs, name, subject=None):
    out = [s for s in sigs if s.signal == name and (subject is None or s.subject_id == subject)]
    return out[0] if len(out) == 1 else out


def _many_reviews(pid, lid, start_id, n, **kw):
    return [
        review(start_id + i, pid, lid, age_days=400 - i * (380 / max(n, 1)), **kw) for i in range(n)
    ]


def test_hazard_reports_count_only_real_reports_and_skip_spam_clusters():
    revs = _many_reviews(1, 10, 0, 30)
    # Two fire reports, one of them copied text in a 刷单 cluster; one negated mention
    # scored as no defect; one logistics complaint (negative, not a defect).
    revs[3].update(defect_probability=0.93, hazard="fire", negative_probability=0.97, rating=1.0)
    revs[4].update(defect_probability=0.91, hazard="fire", spam_cluster_id="c1")
    revs[5].update(defect_probability=0.1, hazard="none")
    revs[6].update(negative_probability=0.95, defect_probability=0.08, rating=1.0)
    f = frames([product(1)], [listing(10, 1)], revs)
    sigs = sg.review_signals(f)
    hz = by_name(sigs, "review_hazard", 1)
    assert hz.value == 1 and hz.hazard == "fire" and hz.channel == sg.ACTIVE
    assert hz.evidence == {"reviews": [3]}
    assert 0 < hz.strength < 0.5


def test_a_product_whose_reviews_turn_bad_shows_a_spike_against_its_own_past():
    old = _many_reviews(1, 10, 0, 60)
    for r in old:
        r["posted_at"] = days_ago(200 + r["id"])
    new = [review(100 + i, 1, 10, age_days=5 + i) for i in range(20)]
    for r in new[:8]:
        r.update(defect_probability=0.9, hazard="electric_shock")
    steady = [review(300 + i, 2, 20, age_days=5 + 3 * i) for i in range(80)]
    for r in steady[::10]:
        r.update(defect_probability=0.9, hazard="performance")
    f = frames([product(1), product(2)], [listing(10, 1), listing(20, 2)], old + new + steady)
    sigs = sg.review_signals(f)
    spike = by_name(sigs, "review_spike", 1)
    assert spike.hazard == "electric_shock"
    assert spike.value == pytest.approx(8 / 20)
    assert spike.baseline < 0.05
    assert set(spike.evidence["reviews"]) <= {r["id"] for r in new[:8]}
    # A steady 10% of performance complaints is no spike.
    assert by_name(sigs, "review_spike", 2) == []


def test_complaints_are_classified_and_counted_per_product_and_shop():
    comps = [
        {
            "id": 1,
            "listing_id": 10,
            "product_id": 1,
            "shop_id": 5,
            "filed_at": days_ago(30),
            "fetched_at": days_ago(1),
            "title": "水壶漏电",
            "problem": "烧水时摸外壳被电到",
        },
        {
            "id": 2,
            "listing_id": 10,
            "product_id": 1,
            "shop_id": 5,
            "filed_at": days_ago(40),
            "fetched_at": days_ago(1),
            "title": "物流太慢",
            "problem": "半个月才到",
        },
        {
            "id": 3,
            "listing_id": 10,
            "product_id": 1,
            "shop_id": 5,
            "filed_at": days_ago(500),
            "fetched_at": days_ago(1),
            "title": "冒烟",
            "problem": "底座冒烟",
        },
    ]

    def classify(texts):
        defect = np.array(
            [0.95 if ("电" in t and "漏" in t) or "冒烟" in t else 0.05 for t in texts]
        )
        hazard = [
            "electric_shock" if "漏电" in t else ("fire" if "冒烟" in t else "none") for t in texts
        ]
        return defect, hazard

    f = frames([product(1)], [listing(10, 1, shop_id=5)], complaints=comps)
    sigs = sg.complaint_signals(f, classify)
    hz = by_name(sigs, "complaints_hazard", 1)
    # The complaint from 500 days ago is outside the one-year window; logistics is not a
    # quality complaint.
    assert hz.value == 1 and hz.hazard == "electric_shock" and hz.evidence == {"complaints": [1]}
    assert hz.channel == sg.COMPLAINTS
    assert by_name(sigs, "complaints_quality", 1) == []
    shop = by_name(sigs, "shop_complaints", 5)
    assert shop.subject_kind == "shop" and shop.value == 1


def test_listing_checks_banned_terms_with_exemptions_ccc_and_sanwu():
    banned = BannedTermMatcher(read_reference().banned_terms)
    lst = [
        listing(10, 1, title="美度电热水壶 全网最低价 国家级品质"),
        listing(11, 1, title="美度电热水壶 开封后最佳食用期", ccc_number=None),
        listing(
            20,
            2,
            title="纯棉毛巾 100%纯棉",
            category_code="towel",
            ccc_number=None,
            producer_name=None,
            origin=None,
        ),
        listing(21, 2, title="纯棉毛巾", category_code="towel", ccc_number=None),
    ]
    prods = [product(1), product(2, category_code="towel", is_ccc_required=False, max_severity=2)]
    sigs = sg.listing_signals(frames(prods, lst), banned)
    bt = by_name(sigs, "banned_terms", 1)
    assert bt.value == 1 and bt.evidence["listings"] == [10]
    assert bt.evidence["listing_snapshots"] == [1010]
    assert "最低价" in bt.detail
    # 最佳食用期 and 100%纯棉 are exempt.
    assert by_name(sigs, "banned_terms", 2) == []
    ccc = by_name(sigs, "missing_ccc", 1)
    assert ccc.value == pytest.approx(0.5) and ccc.evidence["listings"] == [11]
    # Towels are not in the CCC catalogue.
    assert by_name(sigs, "missing_ccc", 2) == []
    sanwu = by_name(sigs, "sanwu", 2)
    assert sanwu.value == pytest.approx(0.5) and sanwu.evidence["listings"] == [20]


def test_prices_far_below_the_brand_are_flagged_and_ordinary_spread_is_not():
    prods = [product(p) for p in range(1, 7)]
    prices = [12900, 13900, 11900, 12500, 14900, 3900]
    lst = [
        listing(10 + p, p, price_fen=price) for p, price in zip(range(1, 7), prices, strict=True)
    ]
    sigs = sg.listing_signals(frames(prods, lst), None)
    flagged = [s for s in sigs if s.signal == "price_anomaly"]
    assert [s.subject_id for s in flagged] == [6]
    assert flagged[0].value == pytest.approx(3900 / 12900, rel=0.05)


def test_seller_networks_are_transitive_over_shared_pseudonyms():
    shops = [
        {
            "id": 1,
            "platform": "youpin",
            "name": "a",
            "company_name": None,
            "phone_hash": "p1",
            "address_hash": None,
            "contact_hash": None,
        },
        {
            "id": 2,
            "platform": "lehuo",
            "name": "b",
            "company_name": None,
            "phone_hash": "p1",
            "address_hash": "a9",
            "contact_hash": None,
        },
        {
            "id": 3,
            "platform": "pinjia",
            "name": "c",
            "company_name": None,
            "phone_hash": "p7",
            "address_hash": "a9",
            "contact_hash": None,
        },
        {
            "id": 4,
            "platform": "pinjia",
            "name": "d",
            "company_name": None,
            "phone_hash": "p8",
            "address_hash": "a8",
            "contact_hash": None,
        },
    ]
    import pandas as pd

    net = sg.seller_networks(pd.DataFrame(shops))
    assert net[1] == net[2] == net[3] and 4 not in net
    f = frames([product(1)], [listing(10, 1, shop_id=3)], shops=shops)
    sigs = sg.network_signals(f)
    assert by_name(sigs, "seller_network", 1).value == 3
    prod = by_name(sigs, "shop_network", 1)
    assert prod.value == 3 and prod.evidence["shops"] == [3]


def test_recall_and_history_signals_name_their_channel_and_evidence():
    matches = [
        {
            "match_id": 1,
            "listing_id": 10,
            "product_id": 1,
            "recall_id": 7,
            "source": "cpsc",
            "recall_number": "25123",
            "score": 0.92,
            "matched_on": "brand+model",
            "matched_model": "MD1520",
            "hazard": "fire",
            "published_on": None,
            "recall_title": "x",
        },
        {
            "match_id": 2,
            "listing_id": 20,
            "product_id": 2,
            "recall_id": 8,
            "source": "samr",
            "recall_number": "ZH-2026-00012",
            "score": 0.8,
            "matched_on": "gtin",
            "matched_model": None,
            "hazard": "none",
            "published_on": None,
            "recall_title": "y",
        },
    ]
    ins = [
        {
            "id": 1,
            "task_id": "T1",
            "product_id": 1,
            "shop_id": 1,
            "listing_id": 10,
            "verdict": "fail",
            "defect_class": "critical",
            "tested_on": "2026-09-01",
            "test_item": "发热",
        },
        {
            "id": 2,
            "task_id": "T1",
            "product_id": 1,
            "shop_id": 1,
            "listing_id": 10,
            "verdict": "pass",
            "defect_class": None,
            "tested_on": "2026-09-01",
            "test_item": "标志",
        },
        {
            "id": 3,
            "task_id": "T2",
            "product_id": 2,
            "shop_id": 1,
            "listing_id": 20,
            "verdict": "pass",
            "defect_class": None,
            "tested_on": "2026-09-01",
            "test_item": "标志",
        },
    ]
    f = frames(
        [product(1), product(2), product(3, producer_name="别家")],
        [listing(10, 1), listing(20, 2), listing(30, 3, shop_id=1)],
        matches=matches,
        inspections=ins,
    )
    rec = {s.subject_id: s for s in sg.recall_signals(f)}
    assert rec[1].channel == sg.OVERSEAS and rec[1].hazard == "fire"
    assert rec[1].evidence == {"recalls": [7], "listings": [10]}
    assert rec[2].channel == sg.ENFORCEMENT and rec[2].hazard is None
    hist = sg.history_signals(f)
    own = by_name(hist, "history_product", 1)
    assert own.channel == sg.LABORATORY and own.evidence == {"inspection_results": [1]}
    # Product 2 shares brand, producer and shop with the failed product 1; product 3
    # shares brand and shop only. A product's own failure is not its brand history.
    assert by_name(hist, "history_brand", 2).value == 1
    assert by_name(hist, "history_producer", 2).value == 1
    assert by_name(hist, "history_producer", 3) == []
    assert by_name(hist, "history_shop", 3).value == 1
    assert by_name(hist, "history_brand", 1) == []


def test_no_data_gives_no_signals():
    f = frames([product(1)])
    assert sg.review_signals(f) == []
    assert sg.listing_signals(f, None) == []
    assert sg.network_signals(f) == []
    assert sg.recall_signals(f) == []
    assert sg.history_signals(f) == []
    assert sg.complaint_signals(f, lambda t: (np.zeros(len(t)), ["none"] * len(t))) == []
