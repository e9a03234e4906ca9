"""Weak labels, training entry points and the cached default model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from risk_models.text import train as train_module
from risk_models.text.lexicon import Lexicon
from risk_models.text.model import ReviewScorer
from risk_models.text.train import (
    LOW_RATING_WEIGHT,
    default_scorer,
    simulator_corpus,
    train_from_rows,
    train_weak,
    weak_labels,
)


def labels_of(lexicon: Lexicon, rows: list[tuple[str, float | None]]):
    texts = [t for t, _ in rows]
    return weak_labels(lexicon.features(texts), [r for _, r in rows], lexicon)


def test_weak_labels(lexicon: Lexicon) -> None:
    rows = [
        ("快递太慢了，包装都压坏了", 1),  # delivery only: negative, no defect
        ("用了三天就冒烟了", 1),  # hazard
        ("质量好到冒烟了，给个五星", 5),  # sarcasm: five stars, still a fire report
        ("一拉就开线了，失望", 2),  # defect vocabulary in the lexicon
        ("颜色和图片差很多，差评", 1),  # bad, no hit, no delivery cue: defect, lower weight
        ("一般般吧", 3),  # neutral: no negative label, no defect at lower weight
        ("很好用，没有异味，不漏电", 5),
        ("很好用", None),  # unrated
    ]
    w = labels_of(lexicon, rows)
    assert np.isnan(w.negative[5]) and w.negative_weight[5] == 0
    assert w.negative.tolist()[:5] == [1, 1, 0, 1, 1]
    assert w.negative_weight[7] == 0
    assert w.defect.tolist() == [0, 1, 1, 1, 1, 0, 0, 0]
    assert w.defect_weight[4] == LOW_RATING_WEIGHT
    assert w.defect_weight[0] == 1 and w.defect_weight[1] == 1
    assert 0 < w.defect_weight[5] < 1 and 0 < w.defect_weight[7] < 1
    assert w.hazard.tolist() == [
        "none",
        "fire",
        "fire",
        "performance",
        "performance",
        "none",
        "none",
        "none",
    ]
    counts = w.counts()
    assert counts["defect"]["defect_rows"] == 4
    assert counts["hazard"]["fire"] == 2


def test_weak_labels_need_one_rating_per_text(lexicon: Lexicon) -> None:
    with pytest.raises(ValueError, match="2 texts but 1 ratings"):
        weak_labels(lexicon.features(["a", "b"]), [1], lexicon)


def test_training_reads_only_what_a_crawler_sees() -> None:
    texts, ratings, window = simulator_corpus(20, 3)
    assert len(texts) == len(ratings) > 100
    assert all(isinstance(t, str) for t in texts)
    assert set(ratings) <= {1, 2, 3, 4, 5}
    assert window[0] <= window[1]


def test_metadata(scorer: ReviewScorer) -> None:
    meta = scorer.metadata
    assert meta["source"] == "test corpus"
    assert meta["training_window"][0] <= meta["training_window"][1]
    assert meta["rows"]["fitted"] + meta["rows"]["held_out"] == meta["rows"]["unique_with_text"]
    assert meta["rows"]["unique_with_text"] < meta["rows"]["input"]  # farmed copies kept once
    assert meta["weak_labels"]["hazard"]["none"] > 0
    holdout = meta["metrics"]["weak_label_holdout"]
    assert holdout["defect"]["average_precision"] > 0.9
    assert meta["lexicon"] == scorer.lexicon.source_version
    json.dumps(meta)  # stored as JSON by callers


def test_train_from_rows_with_missing_ratings(training_corpus) -> None:
    texts, ratings, _ = training_corpus
    rows = [(t, None if i % 3 == 0 else r) for i, (t, r) in enumerate(zip(texts[:4000], ratings))]
    rows += [(None, 5), ("", 1)]
    scorer = train_from_rows(iter(rows), source="warehouse", window=("2026-01-01", "2026-06-30"))
    assert scorer.metadata["source"] == "warehouse"
    assert scorer.metadata["training_window"] == ["2026-01-01", "2026-06-30"]
    assert scorer.score(["用了三天就冒烟了"]).hazard == ["fire"]


def test_training_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="only one negative class"):
        train_weak(["很好用", "不错", "喜欢"], [5, 5, 4])
    with pytest.raises(ValueError, match="no review text"):
        train_weak(["", None], [1, 5])
    with pytest.raises(ValueError, match="ratings"):
        train_weak(["很好用"], [5, 4])


def test_default_scorer_trains_once_then_loads(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(train_module, "_LOADED", {})
    first = default_scorer(tmp_path, products=60, seed=11)
    folder = tmp_path / "models" / "review_text"
    (pointer,) = folder.glob("default-*.json")
    assert json.loads(pointer.read_text())["version"] == first.version
    assert (folder / f"{first.version}.joblib").exists()
    assert default_scorer(tmp_path, products=60, seed=11) is first  # kept in the process

    def no_training(*args, **kwargs):
        raise AssertionError("should have loaded the cached model")

    monkeypatch.setattr(train_module, "_LOADED", {})
    monkeypatch.setattr(train_module, "train_weak", no_training)
    loaded = default_scorer(tmp_path, products=60, seed=11)
    assert loaded.version == first.version


def test_default_scorer_retrains_over_a_damaged_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(train_module, "_LOADED", {})
    first = default_scorer(tmp_path, products=60, seed=11)
    path = tmp_path / "models" / "review_text" / f"{first.version}.joblib"
    path.write_bytes(b"truncated")
    monkeypatch.setattr(train_module, "_LOADED", {})
    again = default_scorer(tmp_path, products=60, seed=11)
    assert again.version == first.version  # the fit is deterministic
    assert ReviewScorer.load(path).version == first.version


def test_default_home_comes_from_settings(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ECQM_HOME", str(tmp_path))
    assert train_module.model_dir() == tmp_path / "models" / "review_text"
