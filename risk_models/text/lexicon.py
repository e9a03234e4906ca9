"""The smoke-word lexicon (``data/lexicon.yaml``): defect and hazard terms in reviews.

:meth:`Lexicon.hits` lists the hazard terms of one review with their class and whether
they are negated (不漏电, 没有异味, 担心会起火); :meth:`Lexicon.features` counts them for
a whole batch at once, which is what the review models and the weak labels read.
See the comments in the YAML file for the sections and the negation scope rule.

Matching is one compiled regular expression over the batch: every literal entry of the
file (hazard terms, not-product cues and neutral phrases) goes into a character trie
written as a regex, so that at each position the longest entry wins and the engine
never tries entries one by one. Negation is decided per hit, from the clause before it
and the few characters after it, so its cost grows with the number of hits rather than
with the length of the text.

Offsets (``start``, ``end``) index the *normalised* text
(:func:`risk_models.text.normalise.normalise_text`, also :meth:`Lexicon.normalise`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from risk_models.text.normalise import normalise_text, normalise_texts

__all__ = [
    "DATA_DIR",
    "FEATURE_NAMES",
    "HAZARD_CLASSES",
    "LEXICON_FILE",
    "NOT_PRODUCT",
    "NO_HAZARD",
    "Lexicon",
    "LexiconError",
    "LexiconHit",
    "load_lexicon",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
LEXICON_FILE = DATA_DIR / "lexicon.yaml"

HAZARD_CLASSES: tuple[str, ...] = (
    "fire",
    "electric_shock",
    "burn",
    "chemical_odour",
    "choking_small_parts",
    "cut_breakage",
    "allergy_skin",
    "performance",
)
"""The hazard codes. ``performance`` is a defect that is not a safety hazard."""
NO_HAZARD = "none"
"""The hazard output of a review that reports no defect."""
NOT_PRODUCT = "not_product"
"""The ``hazard`` of a :class:`LexiconHit` for a delivery or service cue."""

FEATURE_NAMES: tuple[str, ...] = (
    *(f"asserted:{c}" for c in HAZARD_CLASSES),
    *(f"negated:{c}" for c in HAZARD_CLASSES),
    "not_product",
    "asserted_any",
    "asserted_safety",
)
"""Columns of :meth:`Lexicon.features`: hit counts per class, asserted and negated,
the not-product cue count, and the asserted counts over all classes and over the
safety classes (all but ``performance``)."""

_N = len(HAZARD_CLASSES)
_COL_CUE = 2 * _N
_COL_ANY = 2 * _N + 1
_COL_SAFETY = 2 * _N + 2
_PARTICLES = "了的啊呢哦哈呀啦"


class LexiconError(ValueError):
    """The lexicon file is invalid; ``errors`` lists every problem found."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("invalid review lexicon:\n" + "\n".join(f"  {e}" for e in errors))


@dataclass(frozen=True, slots=True)
class LexiconHit:
    """One lexicon term found in a review.

    ``hazard`` is a code of :data:`HAZARD_CLASSES` (or :data:`NOT_PRODUCT` for the cues
    of :meth:`Lexicon.cues`); ``start`` and ``end`` index the normalised text; ``negated``
    is true when the review denies, prevents, fears or asks about it rather than
    reporting it.
    """

    term: str
    hazard: str
    start: int
    end: int
    negated: bool

    def as_dict(self) -> dict[str, Any]:
        """The hit as a JSON-ready mapping."""
        return {
            "term": self.term,
            "hazard": self.hazard,
            "start": self.start,
            "end": self.end,
            "negated": self.negated,
        }


def trie_pattern(words: Iterable[str]) -> str:
    """A regular expression matching any of ``words``, the longest one at a position.

    The words go into a character trie and each node becomes a group of its children,
    with the node's own end made optional, so a longer word is always tried first and
    the engine reads each character once per position.

    >>> trie_pattern(["漏电", "漏电保护", "漏水"])
    '漏(?:水|电(?:保护)?)'
    """
    trie: dict[str, Any] = {}
    for word in words:
        if not word:
            continue
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        ends_here = "" in node
        branches = [re.escape(ch) + build(node[ch]) for ch in sorted(k for k in node if k)]
        if not branches:
            return ""
        body = "|".join(branches)
        if ends_here:
            return f"(?:{body})?"
        return f"(?:{body})" if len(branches) > 1 else body

    return build(trie)


class Lexicon:
    """The review lexicon, compiled. Build with :func:`load_lexicon` or :meth:`from_yaml`.

    Attributes
    ----------
    version : str
        The file's ``version``.
    sha256 : str
        SHA-256 of the file's text: models record it, so a changed lexicon is noticed.
    priority : tuple of str
        Hazard classes from the most to the least severe (the file's order): a review
        naming several gets the first.
    terms : Mapping[str, str]
        Normalised term → hazard class.
    """

    def __init__(self, doc: Mapping[str, Any], source: str) -> None:
        self.source = source
        self.sha256 = hashlib.sha256(source.encode("utf-8")).hexdigest()
        errors: list[str] = []
        self.version = str(doc.get("version") or "")
        if not self.version:
            errors.append("'version' is required")

        kinds: dict[str, tuple[str, str]] = {}  # literal -> (kind, hazard)

        def words(value: Any, where: str) -> list[str]:
            if value is None:
                return []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors.append(f"{where}: expected a list of strings")
                return []
            out = []
            for v in value:
                n = normalise_text(v)
                if not n:
                    errors.append(f"{where}: blank entry {v!r}")
                else:
                    out.append(n)
            return out

        def add(word: str, kind: str, hazard: str, where: str) -> None:
            if word in kinds:
                other = kinds[word]
                errors.append(f"{where}: {word!r} is already listed under {other[1] or other[0]}")
            else:
                kinds[word] = (kind, hazard)

        hazards = doc.get("hazards")
        if not isinstance(hazards, dict):
            errors.append("'hazards' must map hazard classes to their terms")
            hazards = {}
        unknown = [c for c in hazards if c not in HAZARD_CLASSES]
        missing = [c for c in HAZARD_CLASSES if c not in hazards]
        if unknown:
            errors.append(f"hazards: unknown classes {unknown}; the codes are {HAZARD_CLASSES}")
        if missing:
            errors.append(f"hazards: missing classes {missing}")
        self.priority: tuple[str, ...] = tuple(c for c in hazards if c in HAZARD_CLASSES)
        self.patterns: list[tuple[str, str]] = []
        for code in self.priority:
            section = hazards[code] or {}
            if not isinstance(section, dict):
                errors.append(f"hazards.{code}: expected a mapping with 'terms'")
                continue
            for word in words(section.get("terms"), f"hazards.{code}.terms"):
                add(word, "hazard", code, f"hazards.{code}")
            for i, pattern in enumerate(section.get("patterns") or []):
                try:
                    re.compile(pattern)
                except (re.error, TypeError) as exc:
                    errors.append(f"hazards.{code}.patterns[{i}]: {exc}")
                    continue
                self.patterns.append((code, pattern))
        for word in words(doc.get("not_product"), "not_product"):
            add(word, "cue", NOT_PRODUCT, "not_product")
        for word in words(doc.get("neutral"), "neutral"):
            add(word, "neutral", "", "neutral")

        negation = doc.get("negation")
        if not isinstance(negation, dict):
            errors.append("'negation' must be a mapping")
            negation = {}
        window = negation.get("window")
        if not isinstance(window, int) or window < 0:
            errors.append("negation.window must be a non-negative integer")
            window = 0
        self.window: int = window
        boundaries = negation.get("boundaries")
        if not isinstance(boundaries, str) or not boundaries:
            errors.append("negation.boundaries must be a string of characters")
            boundaries = " "
        self.boundaries = "".join(sorted(set(normalise_text(boundaries) + " \n" + boundaries)))
        neg_kinds: dict[str, str] = {}
        for key, kind in (
            ("pseudo_negators", "pseudo"),
            ("adjacent_negators", "adjacent"),
            ("negators", "negator"),
        ):
            for word in words(negation.get(key), f"negation.{key}"):
                if word in neg_kinds:
                    errors.append(f"negation.{key}: {word!r} is listed twice")
                neg_kinds[word] = kind
        breakers = words(negation.get("breakers"), "negation.breakers")
        post = words(negation.get("post_negators"), "negation.post_negators")
        fillers = words(negation.get("post_fillers"), "negation.post_fillers")
        if not post:
            errors.append("negation.post_negators: at least one word is required")
        if errors:
            raise LexiconError(errors)

        self.terms: dict[str, str] = {w: h for w, (k, h) in kinds.items() if k == "hazard"}
        self.not_product: tuple[str, ...] = tuple(w for w, (k, _) in kinds.items() if k == "cue")
        self.neutral: tuple[str, ...] = tuple(w for w, (k, _) in kinds.items() if k == "neutral")
        self._kinds = kinds
        self._class_index = {c: i for i, c in enumerate(HAZARD_CLASSES)}
        self._rank = {c: i for i, c in enumerate(self.priority)}
        # The literal trie is one expression; a look-ahead for the possible first
        # characters lets the engine skip most positions with one set lookup. Patterns
        # run separately (an alternation with them would be tried at every position).
        first = "".join(sorted({w[0] for w in kinds}))
        self._scan = re.compile(f"(?=[{re.escape(first)}])(?:{trie_pattern(kinds)})")
        self._pattern_res = [re.compile(p) for _, p in self.patterns]
        self._neg_kinds = neg_kinds
        self._negators = re.compile(trie_pattern(neg_kinds))
        cls = "[" + re.escape(self.boundaries) + "]"
        self._clause_split = re.compile(cls)
        self._breakers = re.compile(trie_pattern(breakers)) if breakers else None
        filler = f"(?:{trie_pattern(fillers)})*" if fillers else ""
        self._post = re.compile(
            f"{filler}(?:{trie_pattern(post)})[{_PARTICLES}]*(?={cls}|$)", re.MULTILINE
        )
        longest = max((len(w) for w in neg_kinds), default=1)
        self._lookback = self.window + 2 * longest

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_yaml(cls, text: str) -> Lexicon:
        """A lexicon from the text of a YAML file; raises :class:`LexiconError`."""
        import yaml

        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise LexiconError([f"not valid YAML: {exc}"]) from None
        if not isinstance(doc, dict):
            raise LexiconError(["expected a mapping at the top level"])
        return cls(doc, text)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # Pickled as its source text: compiled patterns are rebuilt on load.
        return (Lexicon.from_yaml, (self.source,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lexicon) and other.sha256 == self.sha256

    def __hash__(self) -> int:
        return hash(self.sha256)

    def __repr__(self) -> str:
        return f"Lexicon(version={self.version!r}, sha256={self.sha256[:12]!r}, terms={len(self.terms)})"

    @property
    def source_version(self) -> str:
        """``<version>+<12 hex of sha256>``."""
        return f"{self.version}+{self.sha256[:12]}"

    # ------------------------------------------------------------------ matching
    @staticmethod
    def normalise(text: object) -> str:
        """The normalised form of ``text`` that hit offsets refer to."""
        return normalise_text(text)

    def _matches(self, s: str) -> list[tuple[str, str, str, int, int]]:
        """(kind, hazard, term, start, end) of every entry found in normalised ``s``,
        left to right; where entries overlap, the one that starts first wins, and of
        those the longest."""
        kinds = self._kinds
        found = [(*kinds[m.group()], m.group(), m.start(), m.end()) for m in self._scan.finditer(s)]
        extra = [
            ("hazard", self.patterns[i][0], m.group(), m.start(), m.end())
            for i, pattern in enumerate(self._pattern_res)
            for m in pattern.finditer(s)
        ]
        if not extra:
            return found
        merged = sorted(found + extra, key=lambda f: (f[3], f[3] - f[4]))
        out: list[tuple[str, str, str, int, int]] = []
        end = -1
        for f in merged:
            if f[3] >= end:
                out.append(f)
                end = f[4]
        return out

    def is_negated(self, s: str, start: int, end: int) -> bool:
        """Whether the term at ``s[start:end]`` (normalised text) is negated.

        See the negation section of the lexicon file for the rule.
        """
        lo = max(0, start - self._lookback)
        clause = self._clause_split.split(s[lo:start])[-1]
        size = len(clause)
        found = list(self._negators.finditer(clause))
        for m in reversed(found):
            kind = self._neg_kinds[m.group()]
            gap = size - m.end()
            if kind == "pseudo":
                continue
            if kind == "adjacent":
                if gap == 0:
                    return True
                continue
            if gap > self.window:
                break
            if self._breakers is None or not self._breakers.search(clause, m.end()):
                return True
        return self._post.match(s, end) is not None

    def hits(self, text: object) -> list[LexiconHit]:
        """The hazard terms of one review, in order, each with its class and whether it
        is negated. Offsets index :meth:`normalise` ``(text)``.

        >>> lex = load_lexicon()
        >>> [(h.term, h.hazard, h.negated) for h in lex.hits("用了三天就冒煙了，還好沒有漏電")]
        [('冒烟', 'fire', False), ('漏电', 'electric_shock', True)]
        """
        s = normalise_text(text)
        return [
            LexiconHit(term, hazard, start, end, self.is_negated(s, start, end))
            for kind, hazard, term, start, end in self._matches(s)
            if kind == "hazard"
        ]

    def cues(self, text: object) -> list[LexiconHit]:
        """The delivery, packaging and service cues of one review (hazard
        :data:`NOT_PRODUCT`, never negated)."""
        s = normalise_text(text)
        return [
            LexiconHit(term, NOT_PRODUCT, start, end, False)
            for kind, _, term, start, end in self._matches(s)
            if kind == "cue"
        ]

    def hazard_of(self, hits: Iterable[LexiconHit]) -> str:
        """The class the hits point at: the most severe asserted one, or ``none``."""
        asserted = [h.hazard for h in hits if not h.negated and h.hazard in self._rank]
        return min(asserted, key=self._rank.__getitem__) if asserted else NO_HAZARD

    def features(self, texts: Sequence[object], *, normalised: bool = False) -> np.ndarray:
        """Hit counts of many reviews, one row per text, columns :data:`FEATURE_NAMES`.

        The texts are scanned as one string (joined by line breaks, which end every
        clause), so the cost is one pass of the compiled expression plus a few
        microseconds per hit. Pass ``normalised=True`` for texts that already went
        through :func:`~risk_models.text.normalise.normalise_texts`.
        """
        norm = list(texts) if normalised else normalise_texts(texts)
        out = np.zeros((len(norm), len(FEATURE_NAMES)), dtype=np.float32)
        if not norm:
            return out
        joined = "\n".join(norm)
        found = list(self._matches(joined))
        if not found:
            return out
        sizes = np.fromiter((len(t) + 1 for t in norm), dtype=np.int64, count=len(norm))
        starts = np.cumsum(sizes) - sizes
        rows = np.searchsorted(starts, [f[3] for f in found], side="right") - 1
        index = self._class_index
        for (kind, hazard, _, start, end), row in zip(found, rows.tolist()):
            if kind == "cue":
                out[row, _COL_CUE] += 1
            elif kind == "hazard":
                if self.is_negated(joined, start, end):
                    out[row, _N + index[hazard]] += 1
                else:
                    out[row, index[hazard]] += 1
                    out[row, _COL_ANY] += 1
                    if hazard != "performance":
                        out[row, _COL_SAFETY] += 1
        return out

    def classes_of(self, features: np.ndarray) -> list[str]:
        """The hazard class each row of :meth:`features` points at (most severe asserted
        class, or ``none``)."""
        order = [self._class_index[c] for c in self.priority]
        asserted = features[:, order] > 0
        first = asserted.argmax(axis=1)
        any_hit = asserted.any(axis=1)
        return [self.priority[i] if hit else NO_HAZARD for i, hit in zip(first.tolist(), any_hit)]


@lru_cache(maxsize=8)
def _load(path: str) -> Lexicon:
    return Lexicon.from_yaml(Path(path).read_text(encoding="utf-8"))


def load_lexicon(path: Path | str | None = None) -> Lexicon:
    """The lexicon at ``path`` (default: the shipped ``data/lexicon.yaml``), compiled
    once per process and path."""
    return _load(str(Path(path).resolve() if path is not None else LEXICON_FILE))
