"""Honest evaluation of the review models, next to the lexicon alone.

Two labelled sets, neither of which the models were trained on:

``simulator``
    every review of a simulated market built with a seed the training never used,
    against the simulator's planted truth: negative = ``sentiment == "negative"``,
    defect = ``Review.defect``, hazard = ``Review.hazard`` or ``none``. A review's
    follow-up (追评) is scored together with its text (:func:`review_text`): the truth
    is per review, and a hazard planted in a follow-up (``kind == "hazard_followup"``)
    is only visible there. The pipeline keeps ``followup_text`` in its own column and
    joins the two the same way before scoring.
``handwritten``
    ``data/handwritten_reviews.tsv``: reviews written and labelled by hand for this
    project (columns ``id, category, rating, text, negative, defect, hazard, note``).
    Ratings are not used for scoring; the models read text only.

For each set and output the report gives average precision (PR-AUC), ROC-AUC and
precision at the top 10, 50 and 100 (capped to the set size); for the hazard class,
per-class precision and recall and their macro averages, and the ranking of safety
hazards (any class but ``performance``). The *lexicon* rows are the cold start without
any model: the number of non-negated smoke words as the score, the most severe class
as the hazard, and, for negative, any smoke word or delivery/service cue. Tied scores
(the lexicon's are small integers) are counted at their expected precision under a
random order. Calibration of the probabilities is shown as the Brier score and the
expected calibration error over ten bins.

``python -m risk_models.text.evaluate [--out docs/review_models.md]`` writes the report;
with ``--out`` on an existing file, only the part between the generated-section marks
is replaced, so a hand-written preamble stays.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from risk_models.text.lexicon import (
    DATA_DIR,
    FEATURE_NAMES,
    HAZARD_CLASSES,
    NO_HAZARD,
    Lexicon,
)
from risk_models.text.model import ReviewScorer, review_text

__all__ = [
    "HANDWRITTEN_FILE",
    "EvaluationSet",
    "SetReport",
    "evaluate",
    "load_handwritten",
    "main",
    "precision_at_k",
    "render_markdown",
    "simulator_set",
]

HANDWRITTEN_FILE = DATA_DIR / "handwritten_reviews.tsv"
EVAL_PRODUCTS = 500
EVAL_SEED = 9001
"""The held-out simulated market (training uses :data:`~risk_models.text.train.SIMULATOR_SEED`)."""
TOP_K = (10, 50, 100)
BEGIN = "<!-- BEGIN GENERATED: python -m risk_models.text.evaluate -->"
END = "<!-- END GENERATED -->"
SAFETY = tuple(c for c in HAZARD_CLASSES if c != "performance")


@dataclass
class EvaluationSet:
    """Texts with their true labels."""

    name: str
    description: str
    texts: list[str]
    negative: np.ndarray
    defect: np.ndarray
    hazard: np.ndarray

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class Ranking:
    """How well one score ranks one binary label."""

    positives: int
    average_precision: float
    roc_auc: float
    precision_at: dict[int, float]
    brier: float | None = None
    calibration_error: float | None = None


@dataclass
class HazardReport:
    """Predicted hazard class against the truth, per class and macro-averaged over the
    classes present in the set."""

    per_class: dict[str, dict[str, float]]
    macro_precision: float
    macro_recall: float
    macro_f1: float
    accuracy: float


@dataclass
class SetReport:
    """Model and lexicon-baseline results on one set."""

    name: str
    description: str
    rows: int
    model: dict[str, Ranking] = field(default_factory=dict)
    lexicon: dict[str, Ranking] = field(default_factory=dict)
    model_hazard: HazardReport | None = None
    lexicon_hazard: HazardReport | None = None


# ---------------------------------------------------------------------------- sets
def load_handwritten(path: Path | str | None = None) -> EvaluationSet:
    """The hand-written set (tab-separated, UTF-8, header row). Raises ``ValueError``
    naming the line for a malformed row."""
    file = Path(path) if path is not None else HANDWRITTEN_FILE
    texts: list[str] = []
    negative: list[int] = []
    defect: list[int] = []
    hazard: list[str] = []
    codes = {*HAZARD_CLASSES, NO_HAZARD}
    with open(file, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        needed = {"text", "negative", "defect", "hazard"}
        missing = needed - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{file.name}: missing columns {sorted(missing)}")
        for row in reader:
            line = reader.line_num
            try:
                neg = int(row["negative"])
                dfc = int(row["defect"])
            except (TypeError, ValueError):
                raise ValueError(
                    f"{file.name}:{line}: negative and defect must be 0 or 1"
                ) from None
            hz = (row["hazard"] or "").strip()
            if neg not in (0, 1) or dfc not in (0, 1) or hz not in codes:
                raise ValueError(
                    f"{file.name}:{line}: negative/defect must be 0 or 1 and hazard one of "
                    f"{sorted(codes)}, got {row['negative']!r}, {row['defect']!r}, {hz!r}"
                )
            texts.append(row["text"] or "")
            negative.append(neg)
            defect.append(dfc)
            hazard.append(hz)
    return EvaluationSet(
        "handwritten",
        f"{file.name}: {len(texts)} reviews written and labelled by hand for this project",
        texts,
        np.asarray(negative, dtype=bool),
        np.asarray(defect, dtype=bool),
        np.asarray(hazard, dtype=object),
    )


def simulator_set(products: int = EVAL_PRODUCTS, seed: int = EVAL_SEED) -> EvaluationSet:
    """Every review of a held-out simulated market with its planted truth."""
    from simulator.world import World

    world = World(products=products, seed=seed)
    texts: list[str] = []
    negative: list[bool] = []
    defect: list[bool] = []
    hazard: list[str] = []
    for pid in range(world.products):
        for key in world.listings_of(pid):
            for r in world.reviews(world.listing(*key)):
                texts.append(review_text(r.text, r.followup[1] if r.followup else None))
                negative.append(r.sentiment == "negative")
                defect.append(bool(r.defect))
                hazard.append(r.hazard or NO_HAZARD)
    return EvaluationSet(
        "simulator",
        f"simulated market, products={products}, seed={seed} (training never saw this seed): "
        f"{len(texts)} reviews, follow-ups joined to their review",
        texts,
        np.asarray(negative),
        np.asarray(defect),
        np.asarray(hazard, dtype=object),
    )


# ---------------------------------------------------------------------------- metrics
def precision_at_k(y: np.ndarray, score: np.ndarray, k: int) -> float:
    """Precision of the ``k`` highest scores; a tie across the cut counts at the
    share of positives in the tied group (the expectation under a random order)."""
    y = np.asarray(y, dtype=float)
    score = np.asarray(score, dtype=float)
    k = min(k, y.size)
    if k == 0:
        return float("nan")
    order = np.argsort(-score, kind="stable")
    cut = score[order[k - 1]]
    above = score > cut
    tied = score == cut
    n_above = int(above.sum())
    return float((y[above].sum() + (k - n_above) * y[tied].mean()) / k)


def _calibration(y: np.ndarray, p: np.ndarray, bins: int = 10) -> tuple[float, float]:
    brier = float(np.mean((p - y) ** 2))
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            ece += sel.mean() * abs(p[sel].mean() - y[sel].mean())
    return brier, float(ece)


def ranking(y: np.ndarray, score: np.ndarray, *, probability: bool = False) -> Ranking:
    """:class:`Ranking` of ``score`` for the binary label ``y``."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = np.asarray(y, dtype=bool)
    score = np.asarray(score, dtype=float)
    both = 0 < y.sum() < y.size
    result = Ranking(
        positives=int(y.sum()),
        average_precision=float(average_precision_score(y, score)) if both else float("nan"),
        roc_auc=float(roc_auc_score(y, score)) if both else float("nan"),
        precision_at={k: precision_at_k(y, score, k) for k in TOP_K},
    )
    if probability:
        result.brier, result.calibration_error = _calibration(y.astype(float), score)
    return result


def hazard_report(truth: np.ndarray, predicted: Sequence[str]) -> HazardReport:
    """Per-class precision and recall of predicted hazard classes (``none`` is not a
    class here: predicting it is a miss, and predicting a class for a ``none`` review
    costs that class precision)."""
    truth = np.asarray(truth, dtype=object)
    pred = np.asarray(predicted, dtype=object)
    per_class: dict[str, dict[str, float]] = {}
    for c in HAZARD_CLASSES:
        tp = int(((pred == c) & (truth == c)).sum())
        n_pred = int((pred == c).sum())
        n_true = int((truth == c).sum())
        precision = tp / n_pred if n_pred else float("nan")
        recall = tp / n_true if n_true else float("nan")
        f1 = (
            2 * precision * recall / (precision + recall)
            if n_pred and n_true and precision + recall > 0
            else (0.0 if n_true else float("nan"))
        )
        per_class[c] = {
            "support": n_true,
            "predicted": n_pred,
            "precision": precision,
            "recall": recall,
            "f1": f1,
        }
    present = [c for c in HAZARD_CLASSES if per_class[c]["support"]]

    def macro(key: str) -> float:
        values = [per_class[c][key] for c in present]
        values = [0.0 if np.isnan(v) else v for v in values]
        return float(np.mean(values)) if values else float("nan")

    return HazardReport(
        per_class=per_class,
        macro_precision=macro("precision"),
        macro_recall=macro("recall"),
        macro_f1=macro("f1"),
        accuracy=float((pred == truth).mean()) if truth.size else float("nan"),
    )


def lexicon_scores(lexicon: Lexicon, texts: Sequence[str]) -> dict[str, Any]:
    """The cold-start scores of the lexicon alone."""
    counts = lexicon.features(texts)
    col = {name: i for i, name in enumerate(FEATURE_NAMES)}
    defect = counts[:, col["asserted_any"]]
    return {
        "negative": defect + counts[:, col["not_product"]],
        "defect": defect,
        "safety": counts[:, col["asserted_safety"]],
        "hazard": lexicon.classes_of(counts),
    }


def evaluate(scorer: ReviewScorer, data: EvaluationSet) -> SetReport:
    """Model and lexicon-baseline metrics on one set."""
    scores = scorer.score(data.texts)
    base = lexicon_scores(scorer.lexicon, data.texts)
    safety_truth = np.isin(data.hazard, SAFETY)
    report = SetReport(data.name, data.description, len(data))
    report.model = {
        "negative": ranking(data.negative, _fill(scores.negative_probability), probability=True),
        "defect": ranking(data.defect, _fill(scores.defect_probability), probability=True),
        "safety hazard": ranking(safety_truth, _fill(scores.safety_probability())),
    }
    report.lexicon = {
        "negative": ranking(data.negative, base["negative"]),
        "defect": ranking(data.defect, base["defect"]),
        "safety hazard": ranking(safety_truth, base["safety"]),
    }
    report.model_hazard = hazard_report(data.hazard, scores.hazard)
    report.lexicon_hazard = hazard_report(data.hazard, base["hazard"])
    return report


def _fill(values: np.ndarray) -> np.ndarray:
    return np.nan_to_num(values, nan=0.0)


# ---------------------------------------------------------------------------- report
def _f(value: float | None, digits: int = 3) -> str:
    if value is None or np.isnan(value):
        return "–"
    return f"{value:.{digits}f}"


def render_markdown(scorer: ReviewScorer, reports: Sequence[SetReport]) -> str:
    """The generated section of ``docs/review_models.md``."""
    meta = scorer.metadata
    rows = meta.get("rows", {})
    lines = [
        BEGIN,
        "",
        f"Model `{scorer.version}`, lexicon `{scorer.lexicon.source_version}`, trained on "
        f"{meta.get('source', '?')}, reviews posted {_window(meta.get('training_window'))}: "
        f"{rows.get('unique_with_text', '?')} distinct (text, rating) pairs, "
        f"{rows.get('fitted', '?')} fitted, {rows.get('held_out', '?')} held out.",
        "",
        "Weak labels of the training rows:",
        "",
        "| output | counts |",
        "|---|---|",
    ]
    for name, counts in meta.get("weak_labels", {}).items():
        text = ", ".join(f"{k} {v:,}" for k, v in counts.items())
        lines.append(f"| {name} | {text} |")
    for r in reports:
        lines += ["", f"### {r.name}", "", r.description + ".", ""]
        lines += [
            "| output | scorer | positives | PR-AUC | ROC-AUC | P@10 | P@50 | P@100 | Brier | ECE |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for output in r.model:
            for who, table in (("model", r.model), ("lexicon only", r.lexicon)):
                m = table[output]
                p = m.precision_at
                lines.append(
                    f"| {output} | {who} | {m.positives} | {_f(m.average_precision)} | "
                    f"{_f(m.roc_auc)} | {_f(p[10], 2)} | {_f(p[50], 2)} | {_f(p[100], 2)} | "
                    f"{_f(m.brier)} | {_f(m.calibration_error)} |"
                )
        lines += [
            "",
            "Hazard class (macro over the classes present; `none` predictions are misses):",
            "",
            "| scorer | macro precision | macro recall | macro F1 | exact class (incl. none) |",
            "|---|---:|---:|---:|---:|",
        ]
        for who, h in (("model", r.model_hazard), ("lexicon only", r.lexicon_hazard)):
            assert h is not None
            lines.append(
                f"| {who} | {_f(h.macro_precision)} | {_f(h.macro_recall)} | "
                f"{_f(h.macro_f1)} | {_f(h.accuracy)} |"
            )
        lines += [
            "",
            "| class | support | model P | model R | lexicon P | lexicon R |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        assert r.model_hazard is not None and r.lexicon_hazard is not None
        for c in HAZARD_CLASSES:
            m = r.model_hazard.per_class[c]
            b = r.lexicon_hazard.per_class[c]
            lines.append(
                f"| {c} | {m['support']} | {_f(m['precision'], 2)} | {_f(m['recall'], 2)} | "
                f"{_f(b['precision'], 2)} | {_f(b['recall'], 2)} |"
            )
    lines += ["", END, ""]
    return "\n".join(lines)


def _window(window: Any) -> str:
    if not window:
        return "(window not recorded)"
    return f"{window[0]} to {window[1]}"


def write_report(text: str, out: Path) -> None:
    """Write the generated section into ``out``, keeping what surrounds the marks."""
    if out.exists():
        old = out.read_text(encoding="utf-8")
        if BEGIN in old and END in old:
            head = old[: old.index(BEGIN)]
            tail = old[old.index(END) + len(END) :].lstrip("\n")
            text = head + text + (("\n" + tail) if tail else "")
        else:
            text = old.rstrip("\n") + "\n\n" + text
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """``python -m risk_models.text.evaluate``."""
    parser = argparse.ArgumentParser(
        prog="python -m risk_models.text.evaluate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, help="markdown file to write (default: stdout)")
    parser.add_argument("--model", type=Path, help="a saved scorer (default: the default model)")
    parser.add_argument("--products", type=int, default=EVAL_PRODUCTS)
    parser.add_argument("--seed", type=int, default=EVAL_SEED)
    parser.add_argument("--handwritten", type=Path, default=HANDWRITTEN_FILE)
    args = parser.parse_args(argv)
    from risk_models.text.train import SIMULATOR_SEED, default_scorer

    if args.seed == SIMULATOR_SEED:
        parser.error(f"--seed {args.seed} is the training seed; pick another")
    scorer = ReviewScorer.load(args.model) if args.model else default_scorer()
    sets = [simulator_set(args.products, args.seed)]
    if args.handwritten.exists():
        sets.append(load_handwritten(args.handwritten))
    else:
        print(f"note: {args.handwritten} not found; simulator only", file=sys.stderr)
    text = render_markdown(scorer, [evaluate(scorer, s) for s in sets])
    if args.out:
        write_report(text, args.out)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
