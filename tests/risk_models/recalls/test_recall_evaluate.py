"""Recall matching against the simulator's planted truth: listing-level precision and
recall of at least 0.95 on small worlds (the whole path: recall files and pages rendered
by the simulator, read by the crawl's parsers, cleaned into core rows, brand aliases
learned from resolved products)."""

from __future__ import annotations

import pytest

from risk_models.recalls.evaluate import evaluate, main
from risk_models.recalls.speed import measure


@pytest.mark.parametrize(("products", "seed"), [(2000, 20191001), (1500, 7)])
def test_precision_and_recall_on_the_simulator(products, seed):
    result = evaluate(products, seed)
    assert result.true_pairs >= 20, "the world must plant recalls of products it sells"
    assert result.precision >= 0.95, result.false_positives
    assert result.recall >= 0.95, result.false_negatives
    assert set(result.by_evidence) <= {
        "gtin",
        *(f"{b}+{m}" for b in ("brand", "brand~fuzzy", "no_brand")
          for m in ("model", "model_in_title", "model~fuzzy")),
    }  # fmt: skip


def test_learned_aliases_are_what_finds_pinyin_and_latin_spellings():
    learned = evaluate(2000, 20191001)
    shipped_only = evaluate(2000, 20191001, learn=False)
    assert shipped_only.recall < learned.recall
    assert shipped_only.precision >= 0.95


def test_command_line(capsys):
    assert main(["--products", "400", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "recall" in out


def test_speed_measurement_runs():
    result = measure(listings=300, recalls=30, seed=3)
    assert result["listings"] == 300 and result["recalls"] == 30
    assert result["seconds_match"] >= 0
