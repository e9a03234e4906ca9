"""Training the review models from weak labels: star ratings and the lexicon.

No review is ever labelled by hand for training, and the simulator's planted truth
(``Review.kind``, ``.defect``, ``.hazard``, ``.sentiment``) is never read here: only
what a crawler sees, the text and the star rating. The labels come from two weak
sources, combined per output (:func:`weak_labels`):

negative
    from the rating: 1–2 stars negative, 4–5 positive, 3 stars and unrated reviews left
    out.
defect
    a non-negated lexicon hit of any class (performance included) is a defect report,
    whatever the rating (sarcastic five-star reviews: "质量好到冒烟了，给个五星");
    without a hit, 4–5 stars are not, and neither is a bad review whose only complaints
    are delivery, packaging or service cues (快递太慢，包装都压坏了); a 1–2 star review
    with neither a hit nor such cues is taken as a product complaint in words the
    lexicon lacks, at a lower weight — this is where the models learn vocabulary beyond
    the lexicon; 3 stars without a hit count as no defect at a lower weight.
hazard
    the most severe asserted lexicon class; ``performance`` for the other defect
    labels; ``none`` for the non-defects.

Each model is a logistic regression on the features of :class:`ReviewScorer` with
these labels and weights, plus two kinds of derived rows: the rows with a lexicon hit
again without the lexicon columns (term dropout, :func:`_term_dropout`), and longer
reviews joined from several (:func:`_mixtures`), for defect and hazard only. Identical
(text, rating) pairs are kept once, so a review farm posting one text a thousand times
does not outvote everyone else. A fixed 10 % of the rows (chosen by a hash of the text)
is held out to measure how well the models reproduce the weak labels; that agreement is
recorded in the metadata, and it is not accuracy — see :mod:`risk_models.text.evaluate`
for that.

:func:`default_scorer` trains on a simulated market when no trained model is cached.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import sys
import threading
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from risk_models.text.features import CharNgramHasher, LexiconFeatures
from risk_models.text.lexicon import HAZARD_CLASSES, NO_HAZARD, Lexicon, load_lexicon
from risk_models.text.model import FORMAT_VERSION, ReviewScorer, review_text
from risk_models.text.normalise import normalise_texts

__all__ = [
    "RECIPE",
    "SIMULATOR_PRODUCTS",
    "SIMULATOR_SEED",
    "WeakLabels",
    "default_scorer",
    "model_dir",
    "simulator_corpus",
    "train_from_rows",
    "train_weak",
    "weak_labels",
]

RECIPE = "2"
"""The training recipe (labels, features, model settings). Bump it when the code below
changes what is learnt, so cached default models are rebuilt."""
SIMULATOR_PRODUCTS = 1200
"""Size of the simulated market :func:`default_scorer` trains on (about 72,000 reviews,
68,000 distinct)."""
SIMULATOR_SEED = 37538
"""Seed of that market; the evaluation uses other seeds."""

N_FEATURES = 2**18
NGRAM_RANGE = (1, 3)
LEXICON_SCALE = 1.0
C_BINARY = 4.0
C_HAZARD = 8.0
LOW_RATING_WEIGHT = 0.5  # 1-2 stars, no hit, no delivery cue: "defect" in unknown words
NEUTRAL_WEIGHT = 0.5  # 3 stars, no hit: "no defect"
UNRATED_WEIGHT = 0.3  # no rating, no hit: "no defect" (most reviews report none)
HOLDOUT_SHARE = 0.1
DROPOUT_WEIGHT = 0.5  # rows with a lexicon hit, again without the lexicon columns
MIX_WEIGHT = 0.5  # reviews joined from several, see _mixtures
MIX_MAX_PARTS = 12


@dataclass(frozen=True)
class WeakLabels:
    """Weak labels of normalised texts; NaN label or zero weight means "not used".

    ``hazard`` holds class codes, ``none``, or the empty string for unused rows.
    """

    negative: np.ndarray
    negative_weight: np.ndarray
    defect: np.ndarray
    defect_weight: np.ndarray
    hazard: np.ndarray
    hazard_weight: np.ndarray

    def counts(self) -> dict[str, Any]:
        """Label counts, for the model's metadata."""
        used = self.negative_weight > 0
        dused = self.defect_weight > 0
        hused = self.hazard_weight > 0
        classes, n = np.unique(self.hazard[hused], return_counts=True)
        return {
            "negative": {
                "positive_rows": int((self.negative[used] == 1).sum()),
                "negative_rows": int((self.negative[used] == 0).sum()),
                "unused_rows": int((~used).sum()),
            },
            "defect": {
                "defect_rows": int((self.defect[dused] == 1).sum()),
                "no_defect_rows": int((self.defect[dused] == 0).sum()),
                "defect_rows_from_rating_only": int(
                    ((self.defect == 1) & (self.defect_weight < 1) & dused).sum()
                ),
            },
            "hazard": {str(c): int(k) for c, k in zip(classes, n)},
        }


def weak_labels(
    counts: np.ndarray, ratings: Sequence[float | None], lexicon: Lexicon
) -> WeakLabels:
    """Weak labels from lexicon counts (:meth:`Lexicon.features`) and star ratings."""
    n = counts.shape[0]
    rating = np.asarray([np.nan if _missing(r) else float(r) for r in ratings], dtype=float)
    if rating.shape[0] != n:
        raise ValueError(f"{n} texts but {rating.shape[0]} ratings")
    rated = ~np.isnan(rating)
    low = rated & (rating <= 2)
    high = rated & (rating >= 4)
    mid = rated & ~low & ~high

    negative = np.where(low, 1.0, np.where(high, 0.0, np.nan))
    negative_weight = (low | high).astype(float)

    k = len(HAZARD_CLASSES)
    asserted = counts[:, :k] > 0
    hit = asserted.any(axis=1)
    cue = counts[:, 2 * k] > 0
    defect = np.zeros(n)
    defect_weight = np.zeros(n)
    defect[hit] = 1.0
    defect_weight[hit] = 1.0
    quiet = ~hit
    for mask, label, weight in (
        (quiet & high, 0.0, 1.0),
        (quiet & (low | mid) & cue, 0.0, 1.0),
        (quiet & low & ~cue, 1.0, LOW_RATING_WEIGHT),
        (quiet & mid & ~cue, 0.0, NEUTRAL_WEIGHT),
        (quiet & ~rated, 0.0, UNRATED_WEIGHT),
    ):
        defect[mask] = label
        defect_weight[mask] = weight

    hazard = np.asarray(lexicon.classes_of(counts), dtype=object)
    hazard[(defect == 1) & ~hit] = "performance"
    hazard[defect == 0] = NO_HAZARD
    hazard[defect_weight == 0] = ""
    return WeakLabels(
        negative=negative,
        negative_weight=negative_weight,
        defect=defect,
        defect_weight=defect_weight,
        hazard=hazard,
        hazard_weight=defect_weight.copy(),
    )


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def _holdout(texts: Sequence[str]) -> np.ndarray:
    """A fixed ~10 % of rows, by a hash of the text (the same text is always on the
    same side, whatever the order or the rest of the corpus)."""
    cut = int(HOLDOUT_SHARE * 2**32)
    return np.fromiter(
        (zlib.crc32(t.encode("utf-8")) < cut for t in texts), dtype=bool, count=len(texts)
    )


@dataclass(frozen=True)
class _Dropout:
    rows: np.ndarray
    matrix: Any


def _term_dropout(X: Any, counts: np.ndarray, fit_rows: np.ndarray, n_ngrams: int) -> _Dropout:
    """The fitted rows with a lexicon hit (asserted or negated), once more with the
    lexicon columns zeroed: the n-grams of the terms and of their context must then
    learn the labels too, and carry them to phrasings the lexicon lacks (头皮又痒又痛,
    味还在)."""

    rows = np.flatnonzero(fit_rows & (counts[:, : 2 * len(HAZARD_CLASSES)].sum(axis=1) > 0))
    matrix = sp.hstack(
        [X[rows][:, :n_ngrams], sp.csr_matrix((rows.size, X.shape[1] - n_ngrams))],
        format="csr",
        dtype=np.float32,
    )
    return _Dropout(rows, matrix)


def _mixtures(
    texts: Sequence[str], labels: WeakLabels, fit_rows: np.ndarray, seed: int
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Longer reviews made by joining fitted reviews, with defect and hazard labels.

    A review reports a defect when any of its clauses does, however much praise
    surrounds it ("外观很好看，做工扎实……就是漏电"). Training reviews that report one
    are mostly short, so without help the models learn that length and praise outweigh
    a smoke word. Each lexicon-labelled defect review is therefore joined with 1 to
    :data:`MIX_MAX_PARTS` confidently defect-free ones, in a random order, keeping its
    labels; and as many joins of defect-free reviews alone are labelled ``none``, so
    that length by itself means nothing.
    """
    rng = np.random.default_rng(seed)
    clean = np.flatnonzero(fit_rows & (labels.defect == 0) & (labels.defect_weight >= 1))
    faulty = np.flatnonzero(fit_rows & (labels.defect == 1) & (labels.defect_weight >= 1))
    out: list[str] = []
    defect: list[float] = []
    hazard: list[str] = []
    if clean.size == 0 or faulty.size == 0:
        return out, np.zeros(0), np.zeros(0, dtype=object)
    for i in faulty.tolist():
        k = int(rng.integers(1, MIX_MAX_PARTS + 1))
        parts = [texts[j] for j in rng.choice(clean, size=k).tolist()]
        parts.insert(int(rng.integers(0, k + 1)), texts[i])
        out.append(",".join(parts))
        defect.append(1.0)
        hazard.append(str(labels.hazard[i]))
    for _ in range(faulty.size):
        k = int(rng.integers(2, MIX_MAX_PARTS + 2))
        out.append(",".join(texts[j] for j in rng.choice(clean, size=k).tolist()))
        defect.append(0.0)
        hazard.append(NO_HAZARD)
    return out, np.asarray(defect), np.asarray(hazard, dtype=object)


def _fit_compact(clf: Any, X: Any, y: np.ndarray, w: np.ndarray) -> Any:
    """Fit ``clf`` on the columns of ``X`` that are ever non-zero, then widen its
    coefficients back to all columns.

    Most hash buckets are empty in any one corpus. An L2-regularised logistic
    regression started at zero keeps a zero weight for a column that is zero in every
    row (its gradient is zero throughout), so the widened model is the model fitted on
    all columns — only three or four times faster, as the solver's vectors shrink.
    """
    from threadpoolctl import threadpool_limits

    columns = np.unique(X.indices)
    with threadpool_limits(1):
        clf.fit(X[:, columns], y, sample_weight=w)
    coef = np.zeros((clf.coef_.shape[0], X.shape[1]), dtype=clf.coef_.dtype)
    coef[:, columns] = clf.coef_
    clf.coef_ = coef
    clf.n_features_in_ = X.shape[1]
    return clf


def train_weak(
    texts: Sequence[str | None],
    ratings: Sequence[float | None],
    *,
    seed: int = 0,
    lexicon: Lexicon | None = None,
    source: str = "unspecified",
    window: tuple[str, str] | None = None,
    extra_metadata: dict[str, Any] | None = None,
) -> ReviewScorer:
    """A :class:`ReviewScorer` fitted on weak labels of ``texts`` and their ``ratings``.

    Parameters
    ----------
    texts
        Review texts (follow-ups already appended, see :func:`review_text`); empty ones
        are skipped.
    ratings
        Star ratings 1–5 (``None`` where unknown), one per text.
    seed
        Seed of the random choices (which reviews are joined into mixtures, and the
        solvers' random state): the fit is deterministic for given inputs and seed.
    lexicon
        The smoke-word lexicon (default: the shipped one).
    source, window
        Where the texts came from and the (first, last) dates they cover, recorded in
        the metadata.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score, roc_auc_score

    started = time.perf_counter()
    lexicon = lexicon or load_lexicon()
    if len(texts) != len(ratings):
        raise ValueError(f"{len(texts)} texts but {len(ratings)} ratings")
    norm = normalise_texts(texts)
    seen: set[tuple[str, float | None]] = set()
    rows_text: list[str] = []
    rows_rating: list[float | None] = []
    for t, r in zip(norm, ratings):
        r = None if _missing(r) else float(r)  # type: ignore[arg-type]
        if not t or (t, r) in seen:
            continue
        seen.add((t, r))
        rows_text.append(t)
        rows_rating.append(r)
    if not rows_text:
        raise ValueError("no review text to train on")

    ngrams = CharNgramHasher(n_features=N_FEATURES, ngram_range=NGRAM_RANGE).fit(rows_text)
    lex_features = LexiconFeatures(lexicon=lexicon, scale=LEXICON_SCALE).fit(rows_text)
    counts = lex_features.counts(rows_text)
    labels = weak_labels(counts, rows_rating, lexicon)

    def features(batch: list[str], lexicon_counts: np.ndarray | None = None) -> Any:
        if lexicon_counts is None:
            lexicon_counts = lex_features.counts(batch)
        return sp.hstack(
            [ngrams.transform(batch), lex_features.from_counts(lexicon_counts)],
            format="csr",
            dtype=np.float32,
        )

    X = features(rows_text, counts)
    held = _holdout(rows_text)
    fit_rows = ~held
    dropout = _term_dropout(X, counts, fit_rows, ngrams.n_features)
    mix_texts, mix_defect, mix_hazard = _mixtures(rows_text, labels, fit_rows, seed)
    X_mix = features(mix_texts)
    mixed = {
        "defect": (X_mix, mix_defect),
        "hazard": (X_mix, mix_hazard),
    }

    def fit(name: str, y: np.ndarray, w: np.ndarray, c: float) -> Any:
        use = fit_rows & (w > 0)
        if len(set(y[use].tolist())) < 2:
            raise ValueError(
                f"the weak labels give only one {name} class; more varied reviews are needed"
            )
        again = dropout.rows[w[dropout.rows] > 0]
        blocks = [X[use], dropout.matrix[w[dropout.rows] > 0]]
        target = [y[use], y[again]]
        weight = [w[use], DROPOUT_WEIGHT * w[again]]
        if name in mixed:
            X_more, y_more = mixed[name]
            blocks.append(X_more)
            target.append(y_more)
            weight.append(np.full(y_more.shape[0], MIX_WEIGHT))
        clf = LogisticRegression(C=c, solver="lbfgs", max_iter=300, tol=1e-4, random_state=seed)
        return _fit_compact(
            clf,
            sp.vstack(blocks, format="csr"),
            np.concatenate(target),
            np.concatenate(weight),
        )

    negative = fit("negative", labels.negative, labels.negative_weight, C_BINARY)
    defect = fit("defect", labels.defect, labels.defect_weight, C_BINARY)
    hazard = fit("hazard", labels.hazard, labels.hazard_weight, C_HAZARD)

    metrics: dict[str, Any] = {}
    for name, clf, y, w in (
        ("negative", negative, labels.negative, labels.negative_weight),
        ("defect", defect, labels.defect, labels.defect_weight),
    ):
        use = held & (w > 0)
        truth = y[use]
        if use.any() and 0 < truth.sum() < truth.size:
            p = clf.predict_proba(X[use])[:, 1]
            metrics[name] = {
                "rows": int(use.sum()),
                "average_precision": round(float(average_precision_score(truth, p)), 4),
                "roc_auc": round(float(roc_auc_score(truth, p)), 4),
            }
    use = held & (labels.hazard_weight > 0)
    if use.any():
        predicted = hazard.predict(X[use])
        metrics["hazard"] = {
            "rows": int(use.sum()),
            "agreement": round(float((predicted == labels.hazard[use]).mean()), 4),
        }

    metadata = {
        "format": FORMAT_VERSION,
        "recipe": RECIPE,
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "source": source,
        "training_window": list(window) if window else None,
        "rows": {
            "input": len(texts),
            "unique_with_text": len(rows_text),
            "fitted": int(fit_rows.sum()),
            "held_out": int(held.sum()),
        },
        "weak_labels": labels.counts(),
        "metrics": {"weak_label_holdout": metrics},
        "lexicon": lexicon.source_version,
        "settings": {
            "n_features": N_FEATURES,
            "ngram_range": list(NGRAM_RANGE),
            "lexicon_scale": LEXICON_SCALE,
            "C_binary": C_BINARY,
            "C_hazard": C_HAZARD,
            "low_rating_weight": LOW_RATING_WEIGHT,
            "neutral_weight": NEUTRAL_WEIGHT,
            "unrated_weight": UNRATED_WEIGHT,
            "term_dropout_weight": DROPOUT_WEIGHT,
            "mixture_weight": MIX_WEIGHT,
            "mixture_rows": len(mix_texts),
            "seed": seed,
        },
        "fit_seconds": round(time.perf_counter() - started, 1),
        **(extra_metadata or {}),
    }
    return ReviewScorer(
        lexicon=lexicon,
        ngrams=ngrams,
        lexicon_features=lex_features,
        negative=negative,
        defect=defect,
        hazard=hazard,
        metadata=metadata,
    )


def train_from_rows(
    rows: Iterable[tuple[str | None, float | None]],
    *,
    seed: int = 0,
    lexicon: Lexicon | None = None,
    source: str = "warehouse",
    window: tuple[str, str] | None = None,
) -> ReviewScorer:
    """:func:`train_weak` on ``(text, rating)`` rows, such as crawled reviews read from
    the warehouse (text with its follow-up appended, see :func:`review_text`)."""
    texts: list[str | None] = []
    ratings: list[float | None] = []
    for text, rating in rows:
        texts.append(text)
        ratings.append(rating)
    return train_weak(texts, ratings, seed=seed, lexicon=lexicon, source=source, window=window)


def simulator_corpus(
    products: int = SIMULATOR_PRODUCTS, seed: int = SIMULATOR_SEED
) -> tuple[list[str], list[int], tuple[str, str]]:
    """Texts (with follow-ups appended), ratings and the (first, last) posting dates of
    every review of a simulated market — what a crawler would collect, nothing more."""
    from simulator.world import World

    world = World(products=products, seed=seed)
    texts: list[str] = []
    ratings: list[int] = []
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    for pid in range(world.products):
        for key in world.listings_of(pid):
            for review in world.reviews(world.listing(*key)):
                texts.append(
                    review_text(review.text, review.followup[1] if review.followup else None)
                )
                ratings.append(review.rating)
                first = review.posted if first is None or review.posted < first else first
                last = review.posted if last is None or review.posted > last else last
    window = (first.date().isoformat(), last.date().isoformat()) if first and last else ("", "")
    return texts, ratings, window


def model_dir(home: Path | None = None) -> Path:
    """``<home>/models/review_text`` (home: ``ECQM_HOME``, see :mod:`ecqm.settings`)."""
    if home is None:
        from ecqm import settings

        home = settings.load().home
    return Path(home) / "models" / "review_text"


def _recipe_key(lexicon: Lexicon, products: int, seed: int) -> str:
    import sklearn

    minor = ".".join(sklearn.__version__.split(".")[:2])
    text = f"{FORMAT_VERSION}|{RECIPE}|{lexicon.sha256}|{products}|{seed}|sklearn {minor}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


_LOCK = threading.Lock()
_LOADED: dict[tuple[str, str], ReviewScorer] = {}


def default_scorer(
    home: Path | None = None,
    *,
    products: int = SIMULATOR_PRODUCTS,
    seed: int = SIMULATOR_SEED,
) -> ReviewScorer:
    """The scorer to use when none was trained on crawled reviews.

    Looks in ``<home>/models/review_text/`` for a model trained by this recipe on the
    shipped lexicon (``default-<recipe key>.json`` names the ``<version>.joblib`` file);
    when there is none, or it cannot be read, trains one on a simulated market of
    ``products`` products (about 20 s on two cores), saves it there and returns it. The
    result is also kept for the rest of the process.
    """
    from risk_models.text.model import ModelFormatError

    lexicon = load_lexicon()
    folder = model_dir(home)
    key = _recipe_key(lexicon, products, seed)
    with _LOCK:
        cached = _LOADED.get((str(folder), key))
        if cached is not None:
            return cached
        pointer = folder / f"default-{key}.json"
        scorer: ReviewScorer | None = None
        if pointer.exists():
            try:
                version = json.loads(pointer.read_text(encoding="utf-8"))["version"]
                scorer = ReviewScorer.load(folder / f"{version}.joblib")
            except (OSError, ValueError, KeyError, ModelFormatError):
                scorer = None
        if scorer is None:
            texts, ratings, window = simulator_corpus(products, seed)
            scorer = train_weak(
                texts,
                ratings,
                lexicon=lexicon,
                source=f"simulator (products={products}, seed={seed})",
                window=window,
            )
            scorer.save(folder / f"{scorer.version}.joblib")
            tmp = pointer.with_suffix(".tmp")
            tmp.write_text(
                json.dumps({"version": scorer.version, "recipe": key}, indent=2) + "\n",
                encoding="utf-8",
            )
            tmp.replace(pointer)
        _LOADED[(str(folder), key)] = scorer
        return scorer


def main(argv: list[str] | None = None) -> int:
    """``python -m risk_models.text.train``: train on a simulated market and save."""
    parser = argparse.ArgumentParser(prog="python -m risk_models.text.train", description=__doc__)
    parser.add_argument("--products", type=int, default=SIMULATOR_PRODUCTS)
    parser.add_argument("--seed", type=int, default=SIMULATOR_SEED)
    parser.add_argument("--out", type=Path, help="model file (default: the default-model cache)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.out is None:
        scorer = default_scorer(products=args.products, seed=args.seed)
        where = model_dir() / f"{scorer.version}.joblib"
    else:
        texts, ratings, window = simulator_corpus(args.products, args.seed)
        scorer = train_weak(
            texts,
            ratings,
            source=f"simulator (products={args.products}, seed={args.seed})",
            window=window,
        )
        where = scorer.save(args.out)
    print(
        f"review model {scorer.version} ({time.perf_counter() - started:.1f} s): {where}\n"
        + json.dumps(scorer.metadata["metrics"], ensure_ascii=False, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
