"""A text classifier for the listings the keyword rules cannot place.

Why a model at all: titles that never say the category word (``负离子 冷热风 速干
1800W``), breadcrumbs with words the keyword list lacks (``取暖``), and titles where the
rules found two categories and need an arbiter.

Why this model: it must be a deterministic, pure function of versioned files in the
repository, cheap enough to build on first use. It learns from

* the reference categories (every keyword, the Chinese and English names),
* the aliases of ``data/lexicon.yaml``, and its exclusion phrases as "none of ours",
* ``data/examples.tsv``, a small hand-written file of labelled titles, including items of
  no monitored category (phone cases, hair-dryer holders), labelled ``-``; each title
  also once more with its keywords cut out, since the model is asked mostly about titles
  in which the rules found none.

Nothing comes from the simulator: it is the test oracle. Features are TF-IDF weights of
Chinese character 1–3-grams and whole ASCII words (:func:`features_of`); the classifier is
a multinomial logistic regression, whose ``predict_proba`` gives the confidence. Single
words that describe many categories (遥控, 儿童, 家用) are in the examples as "none of
ours", so a title that says nothing more does not get a confident code. The saga solver
with a fixed ``random_state`` on sorted, de-duplicated inputs, on one thread, makes the
fit reproducible; it takes about 0.3 s (plus about 2 s to import scikit-learn the first
time in a process).

Caching: :func:`get_classifier` keeps one fitted model per *fingerprint* in the process.
The fingerprint hashes the training texts and labels and :data:`MODEL_VERSION` (the
recipe), so an edited keyword, alias or example gives a new model and nothing stale is
ever served. The model is not written to disk: fitting is faster than loading a pickle
would be worth, and pickles tie files to a scikit-learn version.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transforms.categories.lexicon import DATA_DIR, Lexicon
from transforms.categories.text import normalise
from transforms.reference.model import Category

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "EXAMPLES_FILE",
    "MODEL_VERSION",
    "OTHER",
    "CategoryClassifier",
    "Prediction",
    "TrainingSet",
    "features_of",
    "get_classifier",
    "read_examples",
    "training_set",
]

EXAMPLES_FILE = DATA_DIR / "examples.tsv"
MODEL_VERSION = "1"
"""The feature and model recipe. Bump it when the code below changes what is learnt."""
OTHER = "-"
"""Label of items in no monitored category."""

_RANDOM_STATE = 0
_C = 10.0  # weak regularisation would buy coverage with wrong codes (cross-validated)


@dataclass(frozen=True)
class TrainingSet:
    """Normalised training texts with their labels, and the fingerprint of both."""

    texts: tuple[str, ...]
    labels: tuple[str, ...]
    fingerprint: str


class Prediction:
    """The classifier's view of one text.

    ``code`` is the most probable monitored category and ``probability`` its probability;
    ``other`` is the probability of "none of ours". :meth:`probability_of` reads any
    category's probability, for arbitration between rule candidates.
    """

    __slots__ = ("_columns", "_row", "code", "other", "probability")

    def __init__(
        self,
        code: str,
        probability: float,
        other: float,
        row: Sequence[float],
        columns: dict[str, int],
    ) -> None:
        self.code = code
        self.probability = probability
        self.other = other
        self._row = row
        self._columns = columns

    def probability_of(self, code: str) -> float:
        column = self._columns.get(code)
        return float(self._row[column]) if column is not None else 0.0

    def __repr__(self) -> str:
        return f"Prediction({self.code!r}, {self.probability:.3f}, other={self.other:.3f})"


def read_examples(path: Path | str | None = None) -> list[tuple[str, str]]:
    """``(label, title)`` pairs of the examples file; ``#`` lines are comments."""
    file = Path(path) if path is not None else EXAMPLES_FILE
    out = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        label, sep, text = line.partition("\t")
        if not sep or not text.strip() or not label.strip():
            raise ValueError(f"{file.name}:{number}: expected '<code>\\t<title>'")
        out.append((label.strip(), text.strip()))
    return out


def training_set(
    categories: Iterable[Category],
    lexicon: Lexicon,
    examples: Sequence[tuple[str, str]] | None = None,
) -> TrainingSet:
    """The training data as a pure function of the reference, the lexicon and the
    examples. Labels of examples must be reference codes or :data:`OTHER`."""
    cats = sorted(categories, key=lambda c: c.code)
    codes = {c.code for c in cats}
    pairs: list[tuple[str, str]] = []
    for c in cats:
        for word in (*c.keywords, c.name_zh, c.name_en):
            pairs.append((c.code, word))
        for word in lexicon.aliases.get(c.code, ()):
            pairs.append((c.code, word))
    for word in lexicon.exclusions:
        pairs.append((OTHER, word))
    keywords = [normalise(w) for _, w in pairs]
    strip = re.compile(
        "|".join(re.escape(w) for w in sorted(set(keywords), key=lambda w: (-len(w), w)))
    )
    for label, text in examples if examples is not None else read_examples():
        if label != OTHER and label not in codes:
            raise ValueError(f"examples: {label!r} is not a reference category or {OTHER!r}")
        pairs.append((label, text))
        # The same title without its keywords: the model is asked mostly about titles
        # the keyword rules could not read, so it must learn from the other words.
        bare = " ".join(strip.sub(" ", normalise(text)).split())
        if bare and bare != normalise(text):
            pairs.append((label, bare))
    cleaner = ModelText(lexicon)
    rows = sorted({(label, cleaner(normalise(text))) for label, text in pairs})
    rows = [(label, text) for label, text in rows if text]
    digest = hashlib.sha256(f"model {MODEL_VERSION}\n".encode())
    for label, text in rows:
        digest.update(f"{label}\t{text}\n".encode())
    return TrainingSet(
        texts=tuple(t for _, t in rows),
        labels=tuple(label for label, _ in rows),
        fingerprint=digest.hexdigest(),
    )


class ModelText:
    """Normalised text → what the model reads: shop boilerplate (包邮, 正品, 新款 …)
    removed, since it says nothing about the product and would otherwise be learnt from
    whichever examples happened to carry it."""

    def __init__(self, lexicon: Lexicon) -> None:
        words = sorted(set(lexicon.marketing), key=lambda w: (-len(w), w))
        self._pattern = re.compile("|".join(re.escape(w) for w in words)) if words else None

    def __call__(self, normalised: str) -> str:
        if self._pattern is not None:
            normalised = self._pattern.sub(" ", normalised)
        return " ".join(normalised.split())


_TOKENS = re.compile(r"[a-z0-9][a-z0-9.\-+']*|[^\sa-z0-9]+")


def features_of(text: str) -> list[str]:
    """The features of a model text: character 1–3-grams inside each run of Chinese
    (Chinese has no spaces between words, and n-grams shrug off glued brand names), and
    whole ASCII words (``w:1.7l``, ``w:laptop``). Whole words, because the letters of a
    brand or model number (GREENSHIRT, MD-31K79A) must not read as ``shirt`` or ``md``:
    an unknown word is simply no evidence.

    >>> features_of("led灯 护眼")
    ['w:led', '灯', '护', '眼', '护眼']
    """
    out: list[str] = []
    for token in _TOKENS.findall(text):
        if token[0].isascii():
            out.append("w:" + token.rstrip(".-+'"))
            continue
        n = len(token)
        for k in (1, 2, 3):
            out.extend(token[i : i + k] for i in range(n - k + 1))
    return out


class CategoryClassifier:
    """A fitted model; use :func:`get_classifier` rather than fitting one per caller."""

    def __init__(self, training: TrainingSet, lexicon: Lexicon) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from threadpoolctl import threadpool_limits

        self.fingerprint = training.fingerprint
        self.training_size = len(training.texts)
        self._clean = ModelText(lexicon)
        self._vectorizer = TfidfVectorizer(
            analyzer=features_of, lowercase=False, sublinear_tf=True, dtype=_float32()
        )
        features = self._vectorizer.fit_transform(training.texts)
        # saga converges in a fraction of lbfgs's time on these sparse features; one
        # thread, so that the fit costs the same on a busy machine and never oversubscribes.
        self._model = LogisticRegression(
            C=_C, solver="saga", tol=1e-3, max_iter=2000, random_state=_RANDOM_STATE
        )
        with threadpool_limits(1):
            self._model.fit(features, training.labels)
        self.classes: tuple[str, ...] = tuple(str(c) for c in self._model.classes_)
        self._category_columns = [i for i, c in enumerate(self.classes) if c != OTHER]
        self._other_column = self.classes.index(OTHER) if OTHER in self.classes else None
        self._columns = {c: i for i, c in enumerate(self.classes) if c != OTHER}

    def model_text(self, text: str | None) -> str:
        """``text`` (raw or normalised) as the model reads it."""
        return self._clean(normalise(text))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities (columns in :attr:`classes` order) of model texts,
        vectorised over the batch. Texts are cleaned again here, which is idempotent."""
        cleaned = [self._clean(normalise(t)) for t in texts]
        return self._model.predict_proba(self._vectorizer.transform(cleaned))

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """One :class:`Prediction` per text, vectorised over the batch; an empty text
        gets probability 0 and "none of ours" 1."""
        import numpy

        if not texts:
            return []
        proba = self.predict_proba(texts)
        cols = numpy.asarray(self._category_columns)
        categories = proba[:, cols]
        best = categories.argmax(axis=1)
        best_p = categories[numpy.arange(len(texts)), best]
        if self._other_column is not None:
            other = proba[:, self._other_column]
        else:
            other = numpy.zeros(len(texts))
        out = []
        for i, text in enumerate(texts):
            code = self.classes[cols[best[i]]]
            if text.strip():
                out.append(
                    Prediction(code, float(best_p[i]), float(other[i]), proba[i], self._columns)
                )
            else:
                out.append(
                    Prediction(code, 0.0, 1.0, numpy.zeros(len(self.classes)), self._columns)
                )
        return out


_CACHE: dict[str, CategoryClassifier] = {}
_LOCK = threading.Lock()


def get_classifier(
    categories: Iterable[Category],
    lexicon: Lexicon,
    examples: Sequence[tuple[str, str]] | None = None,
) -> CategoryClassifier:
    """The fitted classifier for these inputs, fitted on first use and then shared by
    every caller in the process (keyed by the training set's fingerprint)."""
    training = training_set(categories, lexicon, examples)
    with _LOCK:
        model = _CACHE.get(training.fingerprint)
        if model is None:
            model = CategoryClassifier(training, lexicon)
            _CACHE[training.fingerprint] = model
        return model


def _float32() -> Any:
    import numpy

    return numpy.float32
