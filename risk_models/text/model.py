"""The review scorer: three text models over one set of features.

For every review text :meth:`ReviewScorer.score` gives

* ``negative_probability`` — the review is negative about the purchase;
* ``defect_probability`` — it reports a problem with the *product* (not with delivery,
  packaging, customer service or a refund);
* ``hazard`` and ``hazard_probability`` — the most probable class among
  :data:`~risk_models.text.lexicon.HAZARD_CLASSES` and ``none``, and its probability.

Features (:mod:`risk_models.text.features`) are hashed character 1–3-grams of the
normalised text (no word segmentation: reviews are short, full of typos, slang and
emoji, and n-grams shrug those off) next to the smoke-word counts of the lexicon,
asserted and negated per class. The models are logistic regressions — binary for
negative and defect, multinomial for hazard — fitted on weak labels by
:mod:`risk_models.text.train`. Their probabilities are calibrated to the weak labels
they were fitted on, not to verified truth: use them to rank reviews and to compare
products, and read ``docs/review_models.md`` for how well that ranking does.

A scorer is saved as one file: a small header (format, model version, library versions)
that is read and checked before anything else is unpickled, then the fitted objects
(joblib, compressed). The lexicon travels inside the file, so a saved model keeps
scoring the same way when ``data/lexicon.yaml`` is edited later.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from risk_models.text.features import CharNgramHasher, LexiconFeatures
from risk_models.text.lexicon import HAZARD_CLASSES, NO_HAZARD, Lexicon, LexiconHit
from risk_models.text.normalise import normalise_texts

__all__ = [
    "FORMAT_VERSION",
    "HAZARD_OUTPUTS",
    "ModelFormatError",
    "ReviewScorer",
    "ReviewScores",
    "review_text",
]

FORMAT_VERSION = 1
"""Layout of a saved scorer. Bump it when the saved objects change shape."""
MODEL_KIND = "ecqm.review_text"
HAZARD_OUTPUTS: tuple[str, ...] = (*HAZARD_CLASSES, NO_HAZARD)
"""Columns of :attr:`ReviewScores.hazard_proba`."""
SCORE_BATCH = 16_384
"""Reviews per internal batch of :meth:`ReviewScorer.score`: bounds the memory of the
n-gram matrix while keeping numpy's per-call overhead small."""


class ModelFormatError(ValueError):
    """A saved scorer cannot be used by this code (wrong file, format or library)."""


def review_text(text: str | None, followup: str | None = None) -> str:
    """The text to score for a review with an optional follow-up (追评).

    The follow-up is appended after a full stop, so it forms clauses of its own: a
    follow-up that reports a fire a month after a five-star review makes the review a
    hazard report, which is how the simulator's truth and the risk signals count it.

    >>> review_text("很好用", "追加：用了一个月冒烟了")
    '很好用。追加：用了一个月冒烟了'
    """
    text = text or ""
    followup = (followup or "").strip()
    if not followup:
        return text
    return f"{text}。{followup}" if text.strip() else followup


@dataclass
class ReviewScores:
    """Scores of a batch of reviews, in input order.

    Reviews with no text (``None``, empty or only spaces and invisible characters) get
    NaN probabilities and hazard ``none``; ``has_text`` marks the others.
    """

    negative_probability: np.ndarray
    defect_probability: np.ndarray
    hazard_probability: np.ndarray
    hazard: list[str]
    hazard_proba: np.ndarray = field(repr=False)
    has_text: np.ndarray = field(repr=False)
    model_version: str = ""

    hazard_classes: tuple[str, ...] = HAZARD_OUTPUTS

    def __len__(self) -> int:
        return len(self.hazard)

    def to_frame(self) -> Any:
        """A pandas DataFrame with the columns ``negative_probability``,
        ``defect_probability``, ``hazard`` and ``hazard_probability``."""
        import pandas as pd

        return pd.DataFrame(
            {
                "negative_probability": self.negative_probability,
                "defect_probability": self.defect_probability,
                "hazard": pd.Series(self.hazard, dtype="str"),
                "hazard_probability": self.hazard_probability,
            }
        )

    def safety_probability(self) -> np.ndarray:
        """Probability that the review reports a safety hazard (any class but
        ``performance`` and ``none``): the ranking score for hazard reviews."""
        return self.hazard_proba[:, : len(HAZARD_CLASSES) - 1].sum(axis=1)


class ReviewScorer:
    """Fitted review text models. Built by :func:`risk_models.text.train.train_weak`.

    Parameters
    ----------
    lexicon : Lexicon
        The smoke-word lexicon the features and weak labels used.
    ngrams : CharNgramHasher
        The n-gram feature transformer.
    lexicon_features : LexiconFeatures
        The lexicon feature transformer (fitted).
    negative, defect, hazard : fitted scikit-learn classifiers
        With ``predict_proba``; ``negative`` and ``defect`` binary with classes
        ``[0, 1]``, ``hazard`` over class codes.
    metadata : dict
        Training window, row counts, weak-label counts and metrics (JSON-ready).

    Examples
    --------
    >>> from risk_models.text import default_scorer
    >>> scorer = default_scorer()  # doctest: +SKIP
    >>> scorer.score(["用了三天就冒烟了，太危险了"]).hazard  # doctest: +SKIP
    ['fire']
    """

    def __init__(
        self,
        *,
        lexicon: Lexicon,
        ngrams: CharNgramHasher,
        lexicon_features: LexiconFeatures,
        negative: Any,
        defect: Any,
        hazard: Any,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.lexicon = lexicon
        self.ngrams = ngrams
        self.lexicon_features = lexicon_features
        self.negative = negative
        self.defect = defect
        self.hazard = hazard
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._version: str | None = None
        self._hazard_columns: np.ndarray | None = None

    # ------------------------------------------------------------------ identity
    @property
    def version(self) -> str:
        """12 hex characters of a hash over the fitted coefficients, the feature
        settings and the lexicon: equal for equal models, different otherwise."""
        if self._version is None:
            digest = hashlib.sha256()
            digest.update(f"{MODEL_KIND} {FORMAT_VERSION}\n".encode())
            digest.update(f"lexicon {self.lexicon.sha256}\n".encode())
            for name, estimator in (
                ("ngrams", self.ngrams),
                ("lexicon_features", self.lexicon_features),
            ):
                params = {k: v for k, v in estimator.get_params().items() if k != "lexicon"}
                digest.update(
                    f"{name} {json.dumps(params, sort_keys=True, default=str)}\n".encode()
                )
            for name, clf in (
                ("negative", self.negative),
                ("defect", self.defect),
                ("hazard", self.hazard),
            ):
                digest.update(f"{name} {[str(c) for c in clf.classes_]}\n".encode())
                digest.update(np.ascontiguousarray(clf.coef_, dtype=np.float64).tobytes())
                digest.update(np.ascontiguousarray(clf.intercept_, dtype=np.float64).tobytes())
            self._version = digest.hexdigest()[:12]
        return self._version

    def __repr__(self) -> str:
        return f"ReviewScorer(version={self.version!r}, lexicon={self.lexicon.source_version!r})"

    # ------------------------------------------------------------------ scoring
    def features(self, normalised: Sequence[str]) -> Any:
        """The feature matrix of normalised texts (n-grams, then lexicon counts)."""
        import scipy.sparse as sp

        ngrams = self.ngrams.transform(normalised)
        lexicon = self.lexicon_features.transform(normalised)
        return sp.hstack([ngrams, lexicon], format="csr", dtype=np.float32)

    def _hazard_index(self) -> np.ndarray:
        if self._hazard_columns is None:
            position = {c: i for i, c in enumerate(HAZARD_OUTPUTS)}
            self._hazard_columns = np.asarray(
                [position[str(c)] for c in self.hazard.classes_], dtype=np.int64
            )
        return self._hazard_columns

    def score(self, texts: Iterable[object], *, batch_size: int = SCORE_BATCH) -> ReviewScores:
        """Scores of ``texts`` (a list, a pandas Series or any iterable of str; ``None``
        and NaN count as empty).

        Work is done in batches of ``batch_size`` texts, so memory stays bounded for
        any input length; the result does not depend on the batch size.
        """
        if not isinstance(texts, list | tuple):
            texts = list(texts)  # a pandas Series slices by label, an iterator not at all
        n = len(texts)
        negative = np.full(n, np.nan)
        defect = np.full(n, np.nan)
        proba = np.zeros((n, len(HAZARD_OUTPUTS)))
        has_text = np.zeros(n, dtype=bool)
        columns = self._hazard_index()
        for lo in range(0, n, max(1, batch_size)):
            chunk = normalise_texts(texts[lo : lo + batch_size])
            keep = np.fromiter((bool(t) for t in chunk), dtype=bool, count=len(chunk))
            has_text[lo : lo + len(chunk)] = keep
            rows = np.flatnonzero(keep)
            if rows.size == 0:
                continue
            X = self.features([chunk[i] for i in rows] if rows.size < len(chunk) else chunk)
            at = lo + rows
            negative[at] = self.negative.predict_proba(X)[:, 1]
            defect[at] = self.defect.predict_proba(X)[:, 1]
            proba[at[:, None], columns[None, :]] = self.hazard.predict_proba(X)
        best = proba.argmax(axis=1)
        hazard_probability = proba[np.arange(n), best]
        hazard_probability[~has_text] = np.nan
        labels = np.asarray(HAZARD_OUTPUTS, dtype=object)[best]
        labels[~has_text] = NO_HAZARD
        proba[~has_text] = np.nan
        return ReviewScores(
            negative_probability=negative,
            defect_probability=defect,
            hazard_probability=hazard_probability,
            hazard=labels.tolist(),
            hazard_proba=proba,
            has_text=has_text,
            model_version=self.version,
        )

    def lexicon_hits(self, text: object) -> list[LexiconHit]:
        """The smoke words of one review (see :meth:`Lexicon.hits`), to cite in
        explanations."""
        return self.lexicon.hits(text)

    # ------------------------------------------------------------------ persistence
    def save(self, path: Path | str) -> Path:
        """Write the scorer to ``path`` (atomically: a reader never sees half a file)."""
        import joblib
        import sklearn

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {
            "kind": MODEL_KIND,
            "format": FORMAT_VERSION,
            "version": self.version,
            "sklearn": sklearn.__version__,
            "numpy": np.__version__,
            "lexicon": self.lexicon.source_version,
        }
        payload = {
            "lexicon": self.lexicon,
            "ngrams": self.ngrams,
            "lexicon_features": self.lexicon_features,
            "negative": self.negative,
            "defect": self.defect,
            "hazard": self.hazard,
            "metadata": self.metadata,
        }
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(header, fh, protocol=pickle.HIGHEST_PROTOCOL)
                joblib.dump(payload, fh, compress=3)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @staticmethod
    def read_header(path: Path | str) -> dict[str, Any]:
        """The header of a saved scorer, without loading the models."""
        with open(path, "rb") as fh:
            return _read_header(fh, Path(path))

    @classmethod
    def load(cls, path: Path | str) -> ReviewScorer:
        """A scorer saved by :meth:`save`.

        Raises :class:`ModelFormatError` when the file is not a saved scorer, was
        written in another format version, or by another scikit-learn minor version
        (pickled estimators are only guaranteed to work with the version that made
        them; retrain instead).
        """
        import joblib
        import sklearn

        path = Path(path)
        with open(path, "rb") as fh:
            header = _read_header(fh, path)
            if header.get("format") != FORMAT_VERSION:
                raise ModelFormatError(
                    f"{path}: review model format {header.get('format')!r}, this code reads "
                    f"format {FORMAT_VERSION}; retrain the model (python -m risk_models.text.train)"
                )
            if _minor(header.get("sklearn")) != _minor(sklearn.__version__):
                raise ModelFormatError(
                    f"{path}: written with scikit-learn {header.get('sklearn')}, this is "
                    f"{sklearn.__version__}; retrain the model (python -m risk_models.text.train)"
                )
            payload = joblib.load(fh)
        scorer = cls(
            lexicon=payload["lexicon"],
            ngrams=payload["ngrams"],
            lexicon_features=payload["lexicon_features"],
            negative=payload["negative"],
            defect=payload["defect"],
            hazard=payload["hazard"],
            metadata=payload["metadata"],
        )
        if scorer.version != header.get("version"):
            raise ModelFormatError(
                f"{path}: the models do not match the version in the header "
                f"({scorer.version} != {header.get('version')}); the file is damaged"
            )
        return scorer


def _read_header(fh: Any, path: Path) -> dict[str, Any]:
    try:
        header = pickle.load(fh)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means "not ours"
        raise ModelFormatError(f"{path}: not a saved review model ({exc})") from None
    if not isinstance(header, dict) or header.get("kind") != MODEL_KIND:
        raise ModelFormatError(f"{path}: not a saved review model")
    return header


def _minor(version: object) -> tuple[str, ...]:
    return tuple(str(version).split(".")[:2])
