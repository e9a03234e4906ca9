"""Platform breadcrumb + listing title → one of the monitored category codes.

:class:`CategoryMapper` runs the keyword rules (:mod:`transforms.categories.rules`) and
asks the classifier (:mod:`transforms.categories.model`) only about what the rules leave
open. CCC checks, severity and the applicable standards all key on the code, so a wrong
code does more harm than none: every path that is not sure returns ``code=None`` and
says why.

=============================================  =========  ==========================
situation                                      method     code
=============================================  =========  ==========================
rules sure (confidence ≥ ``rule_threshold``)   ``rule``   the rules' code
rules: accessory / out of scope / only fits    ``rule``   ``None`` (model not asked)
rules torn between candidates                  ``model``  the candidate the model
                                                          rates ≥ ``threshold``, else
                                                          ``None``
no keyword anywhere                            ``model``  the model's code if its
                                                          probability ≥ ``threshold``
                                                          and beats "none of ours",
                                                          else ``None``
no path and no title                           ``None``   ``None``
=============================================  =========  ==========================

``confidence`` is the rules' confidence or the model's probability, also when the code
is ``None`` (how sure the best guess was).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from transforms.categories.lexicon import Lexicon, load_lexicon
from transforms.categories.rules import CategoryRules, RuleMatch
from transforms.reference.model import Category, ReferenceData

if TYPE_CHECKING:
    from transforms.categories.model import CategoryClassifier, Prediction

__all__ = ["DEFAULT_RULE_THRESHOLD", "DEFAULT_THRESHOLD", "CategoryMapper", "CategoryMatch"]

DEFAULT_THRESHOLD = 0.5
"""Least model probability for a code. Chosen on the hand-written examples alone (five-fold
cross-validation of the whole mapper over held-out titles: precision above 0.99); the
simulator only measures it."""
DEFAULT_RULE_THRESHOLD = 0.75
"""Least rule confidence taken without asking the model: a title that names a category
over a vague ancestor crumb (0.8) passes; the path contradicting the title (0.6) and
ties (0.5) do not."""

Method = Literal["rule", "model"]
PathTitle = tuple[Sequence[str] | None, str | None]


@dataclass(frozen=True)
class CategoryMatch:
    """The category of one listing. ``code`` is a ``ref_categories`` code or ``None``;
    ``method`` says who decided (``None``: there was nothing to go on); ``evidence`` is a
    short human account (which keyword, where; or the model's probability)."""

    code: str | None
    method: Method | None
    confidence: float
    evidence: str


class CategoryMapper:
    """Rules first, then the classifier, over the reference categories.

    >>> mapper = CategoryMapper()
    >>> mapper.map(["小家电", "电热水壶"], "美度 电水壶 1.7L").code
    'electric_kettle'
    >>> mapper.map(["首页", "生活电器", "取暖"], "遥控 速热 家用").method
    'model'

    Build one mapper and reuse it: the rules compile in milliseconds, the classifier is
    fitted on first need (about half a second) and shared within the process. Pass
    ``classifier`` to use another fitted model (tests do, to hold examples out).
    """

    def __init__(
        self,
        reference: ReferenceData | Sequence[Category] | None = None,
        *,
        lexicon: Lexicon | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        rule_threshold: float = DEFAULT_RULE_THRESHOLD,
        use_model: bool = True,
        classifier: CategoryClassifier | None = None,
    ) -> None:
        if reference is None:
            from transforms.reference.load import read_reference

            reference = read_reference()
        categories = (
            reference.categories if isinstance(reference, ReferenceData) else tuple(reference)
        )
        self.categories: tuple[Category, ...] = tuple(categories)
        self.lexicon = lexicon if lexicon is not None else load_lexicon(self.categories)
        self.rules = CategoryRules(self.categories, self.lexicon)
        self.threshold = threshold
        self.rule_threshold = rule_threshold
        self.use_model = use_model
        self._classifier = classifier

    @property
    def classifier(self) -> CategoryClassifier:
        """The fitted classifier (fitted on first access, then cached per process)."""
        if self._classifier is None:
            from transforms.categories.model import get_classifier

            self._classifier = get_classifier(self.categories, self.lexicon)
        return self._classifier

    def map(self, path: Sequence[str] | None, title: str | None) -> CategoryMatch:
        """The category of one listing from its breadcrumb ``path`` (root first, as
        ``ListingExtract.category_path``) and ``title``."""
        return self.map_many([(path, title)])[0]

    def map_many(self, items: Iterable[PathTitle | Mapping[str, Any]]) -> list[CategoryMatch]:
        """:meth:`map` over many listings: ``(path, title)`` pairs, or mappings with
        ``category_path`` and ``name`` (a listing extract payload) or ``path`` and
        ``title``. Repeated listings are mapped once; the model sees one batch."""
        pairs = [_pair(item) for item in items]
        out: list[CategoryMatch | None] = [None] * len(pairs)
        seen: dict[tuple[tuple[str, ...], str], int] = {}
        duplicates: list[tuple[int, int]] = []
        pending: list[tuple[int, RuleMatch]] = []
        match = self.rules.match
        for i, (path, title) in enumerate(pairs):
            key = (tuple(path) if path else (), title or "")
            first = seen.get(key)
            if first is not None:
                duplicates.append((i, first))
                continue
            seen[key] = i
            rule = match(path, title)
            decided = self._from_rules(rule, path, title)
            if decided is not None:
                out[i] = decided
            else:
                pending.append((i, rule))
        if pending:
            texts = [rule.model_text for _, rule in pending]
            predictions = self.classifier.predict(texts)
            for (i, rule), prediction in zip(pending, predictions):
                out[i] = self._from_model(rule, prediction)
        for i, first in duplicates:
            out[i] = out[first]
        return out  # type: ignore[return-value]

    # ------------------------------------------------------------------ decisions
    def _from_rules(
        self, rule: RuleMatch, path: Sequence[str] | None, title: str | None
    ) -> CategoryMatch | None:
        """The answer when the rules settle it, or ``None`` when the model must look."""
        if rule.code is not None and rule.confidence >= self.rule_threshold:
            return CategoryMatch(rule.code, "rule", rule.confidence, rule.evidence)
        if rule.decisive and rule.code is None:
            return CategoryMatch(None, "rule", rule.confidence, rule.evidence)
        if not rule.model_text:
            if not path and not (title and title.strip()):
                return CategoryMatch(None, None, 0.0, "no path and no title")
            return CategoryMatch(None, None, 0.0, f"nothing to classify; {rule.evidence}")
        if not self.use_model:
            note = "model disabled"
            if rule.candidates:
                return CategoryMatch(None, None, rule.confidence, f"{rule.evidence}; {note}")
            return CategoryMatch(None, None, 0.0, f"{rule.evidence}; {note}")
        return None

    def _from_model(self, rule: RuleMatch, p: Prediction) -> CategoryMatch:
        if rule.candidates:
            # Arbitration: only the rules' candidates may win.
            order = rule.candidates
            best = max(order, key=lambda c: (p.probability_of(c), -order.index(c)))
            prob = p.probability_of(best)
            if prob >= self.threshold and prob > p.other:
                return CategoryMatch(
                    best, "model", prob, f"model p={prob:.2f} settles rules: {rule.evidence}"
                )
            return CategoryMatch(
                None,
                "model",
                prob,
                f"unsettled: model p={prob:.2f} for {best} < {self.threshold}; "
                f"rules: {rule.evidence}",
            )
        if p.probability >= self.threshold and p.probability > p.other:
            return CategoryMatch(
                p.code, "model", p.probability, f"model p={p.probability:.2f} ({rule.evidence})"
            )
        why = (
            f"none of ours p={p.other:.2f}"
            if p.other >= p.probability
            else f"below threshold {self.threshold}"
        )
        return CategoryMatch(
            None,
            "model",
            p.probability,
            f"model best {p.code} p={p.probability:.2f}, {why} ({rule.evidence})",
        )


def _pair(item: PathTitle | Mapping[str, Any]) -> PathTitle:
    if isinstance(item, Mapping):
        path = item.get("category_path", item.get("path"))
        title = item.get("name", item.get("title"))
    else:
        path, title = item
    if isinstance(path, str):
        path = [path]  # one crumb, not a sequence of characters
    return path, title
