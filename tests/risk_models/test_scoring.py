"""The likelihood model: cold-start rules, learning from inspection outcomes, and the
champion/challenger rule on held-out outcomes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import func, select

from ecqm.warehouse.schema import (
    inspection_results,
    model_versions,
    products,
    risk_assessments,
    risk_signals,
)
from risk_models.scoring import LearnedScorer, RuleScorer, current_scorer, outcomes, train
from risk_models.signals import PRODUCT_SIGNALS

NOW = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC)
AS_OF = dt.date(2026, 6, 1)


def test_rules_rise_with_every_signal_and_stay_probabilities():
    rules = RuleScorer.load()
    zero = np.zeros((1, len(PRODUCT_SIGNALS)))
    base = rules.predict_proba(zero)[0]
    assert base == pytest.approx(rules.base_probability)
    for j, name in enumerate(PRODUCT_SIGNALS):
        x = zero.copy()
        x[0, j] = 1.0
        assert rules.predict_proba(x)[0] >= base, name
    everything = np.ones((1, len(PRODUCT_SIGNALS)))
    assert 0.99 < rules.predict_proba(everything)[0] < 1.0
    # A labelling gap alone cannot make a product likely to fail.
    x = zero.copy()
    x[0, PRODUCT_SIGNALS.index("banned_terms")] = 1.0
    assert rules.predict_proba(x)[0] < 0.15


def test_rules_refuse_unknown_signals(tmp_path):
    p = tmp_path / "rules.yaml"
    p.write_text(
        "version: x\nbase_probability: 0.1\nweights: {tiktok_virality: 2}\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="tiktok_virality"):
        RuleScorer.load(p)


def _world(conn, n: int, truth, seed: int) -> None:
    """``n`` products assessed on AS_OF with random signal strengths, each tested once
    after it; the verdict drawn from ``truth(strengths)``."""
    rng = np.random.default_rng(seed)
    conn.execute(
        products.insert(),
        [{"product_key": f"k{i}", "first_seen_at": NOW, "last_seen_at": NOW} for i in range(n)],
    )
    ids = [r for (r,) in conn.execute(select(products.c.id).order_by(products.c.id))]
    X = np.zeros((n, len(PRODUCT_SIGNALS)))
    used = [
        PRODUCT_SIGNALS.index(s)
        for s in ("review_hazard", "complaints_hazard", "sanwu", "price_anomaly")
    ]
    for j in used:
        on = rng.random(n) < 0.35
        X[on, j] = rng.uniform(0.2, 1.0, on.sum())
    p = truth(X)
    failed = rng.random(n) < p
    conn.execute(
        risk_assessments.insert(),
        [
            {
                "as_of": AS_OF,
                "product_id": pid,
                "probability": 0.1,
                "likelihood": 2,
                "severity": 2,
                "level": "low",
                "model_version": "x",
                "matrix_version": "x",
                "summary": "",
                "explanation": {},
                "is_confirmed": False,
                "review_status": "pending",
                "assessed_at": NOW,
            }
            for pid in ids
        ],
    )
    sig = []
    for i, pid in enumerate(ids):
        for j in used:
            if X[i, j] > 0:
                sig.append(
                    {
                        "as_of": AS_OF,
                        "subject_kind": "product",
                        "subject_id": pid,
                        "signal": PRODUCT_SIGNALS[j],
                        "channel": "active_monitoring",
                        "window_end": NOW,
                        "value": 1.0,
                        "strength": float(X[i, j]),
                        "detail": "",
                        "evidence": {},
                        "computed_at": NOW,
                    }
                )
    conn.execute(risk_signals.insert(), sig)
    start = dt.date(2026, 7, 1)
    conn.execute(
        inspection_results.insert(),
        [
            {
                "task_id": f"T{i}",
                "product_id": pid,
                "test_item": "发热",
                "verdict": "fail" if failed[i] else "pass",
                "report_number": f"R{i}",
                "tested_on": start + dt.timedelta(days=i % 120),
            }
            for i, pid in enumerate(ids)
        ],
    )


def test_too_few_outcomes_train_nothing(warehouse_conn, tmp_path):
    _world(warehouse_conn, 60, lambda X: np.full(len(X), 0.3), seed=1)
    result = train(warehouse_conn, tmp_path, NOW)
    assert result.version is None and not result.promoted
    assert "training needs 200" in result.reason
    assert (
        warehouse_conn.execute(
            select(func.count())
            .select_from(model_versions)
            .where(model_versions.c.kind == "learned")
        ).scalar_one()
        == 0
    )


def test_a_better_challenger_is_promoted_and_then_scores(warehouse_conn, tmp_path):
    # The truth weighs price anomalies far more and complaints far less than the rules do.
    def truth(X):
        z = (
            -2.2
            + 4.0 * X[:, PRODUCT_SIGNALS.index("price_anomaly")]
            + 0.3 * X[:, PRODUCT_SIGNALS.index("complaints_hazard")]
        )
        return 1 / (1 + np.exp(-z))

    _world(warehouse_conn, 900, truth, seed=2)
    result = train(warehouse_conn, tmp_path, NOW)
    assert result.promoted, result.reason
    assert result.metrics["brier"] < result.champion_metrics["brier"]
    rows = {r.version: r for r in warehouse_conn.execute(select(model_versions)).all()}
    rules = RuleScorer.load()
    assert rows[rules.version].status == "retired"
    learned = rows[result.version]
    assert learned.status == "champion" and learned.kind == "learned" and learned.rows == 900
    assert learned.window_start.date() == dt.date(2026, 7, 1)
    assert set(learned.metrics) >= {"holdout", "champion_holdout"}
    champion = current_scorer(warehouse_conn, tmp_path, NOW)
    assert isinstance(champion, LearnedScorer) and champion.version == result.version
    coef = dict(zip(PRODUCT_SIGNALS, champion.coefficients(), strict=True))
    assert coef["price_anomaly"] > coef["complaints_hazard"]


def test_a_worse_challenger_is_not_promoted(warehouse_conn, tmp_path):
    # Outcomes follow the rules exactly: a model learned from a few hundred of them can
    # only do worse on the held-out quarter.
    rules = RuleScorer.load()
    _world(warehouse_conn, 240, rules.predict_proba, seed=3)
    result = train(warehouse_conn, tmp_path, NOW)
    assert result.version is not None and not result.promoted, result.reason
    assert result.metrics["brier"] >= result.champion_metrics["brier"]
    status = dict(
        warehouse_conn.execute(select(model_versions.c.version, model_versions.c.status)).all()
    )
    assert status == {rules.version: "champion", result.version: "rejected"}
    assert current_scorer(warehouse_conn, tmp_path, NOW).version == rules.version


def test_a_missing_artifact_falls_back_to_the_rules(warehouse_conn, tmp_path):
    warehouse_conn.execute(
        model_versions.insert().values(
            model_name="risk_score",
            version="learned-gone",
            kind="learned",
            status="champion",
            trained_at=NOW,
            rows=300,
            metrics={},
            params={},
            artifact="models/risk_score/gone.pkl",
        )
    )
    assert current_scorer(warehouse_conn, tmp_path, NOW).kind == "rules"


def test_a_retest_supersedes_the_first_report_of_its_task(warehouse_conn):
    _world(warehouse_conn, 3, lambda X: np.ones(len(X)), seed=4)
    first = outcomes(warehouse_conn)
    assert first["failed"].tolist() == [1, 1, 1]
    # T1's seller asked for a retest (复检) on the backup sample, which passed; T2's retest,
    # dated earlier than its report, is not the newest and changes nothing.
    pid = dict(
        warehouse_conn.execute(
            select(inspection_results.c.task_id, inspection_results.c.product_id)
        ).all()
    )
    warehouse_conn.execute(
        inspection_results.insert(),
        [
            {
                "task_id": "T1",
                "product_id": pid["T1"],
                "test_item": "发热",
                "verdict": "pass",
                "report_number": "R1-复检",
                "tested_on": dt.date(2026, 7, 20),
            },
            {
                "task_id": "T2",
                "product_id": pid["T2"],
                "test_item": "发热",
                "verdict": "pass",
                "report_number": "R2-earlier",
                "tested_on": dt.date(2026, 6, 1),
            },
        ],
    )
    after = outcomes(warehouse_conn).set_index("task_id")["failed"].to_dict()
    assert after == {"T0": 1, "T1": 0, "T2": 1}
