"""Finding banned advertising terms in listing titles and detail text.

The rules live in ``data/banned_terms.yaml`` (table ``ref_banned_terms``); this module
applies them the same way everywhere:

* the text is NFKC-normalised (full-width ＮＯ．１ → NO.1, １００％ → 100%) and every
  regex is case-insensitive; hit offsets refer to the normalised text;
* a term's ``pattern`` is a regex, or the term itself taken literally when null;
* where hits overlap, the longest stands (``全网最低价`` is one hit on 最低价, not also
  one on 最); equal spans keep the more severe term;
* a hit is *exempt* when one of its term's exemption patterns matches a stretch of
  text that contains the hit's first character (``最佳食用期`` exempts 最佳).

>>> from transforms.reference.load import read_reference
>>> matcher = BannedTermMatcher(read_reference().banned_terms)
>>> [h.term for h in matcher.violations("全网最低价 国家级品质 开封后最佳食用期3天")]
['最低价', '国家级产品']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from transforms.reference.model import TERM_SEVERITIES, BannedTerm

_SEVERITY_RANK = {s: i for i, s in enumerate(TERM_SEVERITIES)}  # high first


def normalise_text(text: str) -> str:
    """The form terms are matched against: NFKC (full-width letters, digits, % and
    punctuation become their ASCII forms)."""
    return unicodedata.normalize("NFKC", text)


@dataclass(frozen=True)
class TermHit:
    """One occurrence of a banned term; ``exempt_by`` names the exemption that applies."""

    term: str
    term_class: str
    severity: str
    legal_basis: str
    start: int
    end: int
    matched: str
    exempt_by: str | None = None

    @property
    def is_exempt(self) -> bool:
        return self.exempt_by is not None


@dataclass(frozen=True)
class _Rule:
    term: BannedTerm
    order: int
    pattern: re.Pattern[str]
    exemptions: tuple[tuple[str, re.Pattern[str]], ...]


class BannedTermMatcher:
    """Compiled banned-term rules; build once, scan many texts."""

    def __init__(self, terms: Iterable[BannedTerm | Mapping[str, Any]]) -> None:
        rules = []
        for order, t in enumerate(terms):
            term = t if isinstance(t, BannedTerm) else _from_row(t)
            source = term.pattern if term.pattern else re.escape(normalise_text(term.term))
            rules.append(
                _Rule(
                    term=term,
                    order=order,
                    pattern=re.compile(source, re.IGNORECASE),
                    exemptions=tuple(
                        (p, re.compile(p, re.IGNORECASE)) for p in term.exemption_patterns
                    ),
                )
            )
        self._rules = tuple(rules)
        self._any = _any_of([r.pattern.pattern for r in rules])

    def scan(self, text: str) -> list[TermHit]:
        """Every hit in ``text`` after overlaps are resolved, exempt ones included,
        in order of position."""
        text = normalise_text(text)
        if self._any is not None and self._any.search(text) is None:
            # No rule matches anywhere (most texts): one pass instead of one per rule.
            return []
        found: list[tuple[_Rule, int, int]] = []
        for rule in self._rules:
            for m in rule.pattern.finditer(text):
                if m.end() > m.start():
                    found.append((rule, m.start(), m.end()))
        kept = [h for h in found if not any(_covers(other, h) for other in found if other is not h)]
        kept.sort(key=lambda h: (h[1], h[2]))
        return [self._hit(text, rule, start, end) for rule, start, end in kept]

    def violations(self, text: str) -> list[TermHit]:
        """The hits that no exemption covers."""
        return [h for h in self.scan(text) if not h.is_exempt]

    def _hit(self, text: str, rule: _Rule, start: int, end: int) -> TermHit:
        exempt_by = None
        for source, exemption in rule.exemptions:
            if any(m.start() <= start < m.end() for m in exemption.finditer(text)):
                exempt_by = source
                break
        t = rule.term
        return TermHit(
            t.term, t.term_class, t.severity, t.legal_basis, start, end, text[start:end], exempt_by
        )


def _any_of(sources: list[str]) -> re.Pattern[str] | None:
    """One pattern that matches where any of ``sources`` matches (their alternation), to
    rule out texts without a hit in one pass; None when the rules cannot be combined
    (a back-reference or a flag group would change meaning inside an alternation)."""
    if not sources or any(re.search(r"\\[1-9]|\(\?P=|\(\?[aiLmsux]+\)", s) for s in sources):
        return None
    try:
        return re.compile("|".join(f"(?:{s})" for s in sources), re.IGNORECASE)
    except re.error:
        return None


def _covers(a: tuple[_Rule, int, int], b: tuple[_Rule, int, int]) -> bool:
    """Whether hit ``a`` overrides hit ``b``: it spans it and is longer, or spans the
    same text with a more severe (then earlier-listed) term."""
    rule_a, start_a, end_a = a
    rule_b, start_b, end_b = b
    if not (start_a <= start_b and end_b <= end_a):
        return False
    if end_a - start_a != end_b - start_b:
        return True
    rank_a = (_SEVERITY_RANK.get(rule_a.term.severity, 9), rule_a.order)
    rank_b = (_SEVERITY_RANK.get(rule_b.term.severity, 9), rule_b.order)
    return rank_a < rank_b


def _from_row(row: Mapping[str, Any]) -> BannedTerm:
    """A term from a ``ref_banned_terms`` row (or any mapping with its columns)."""
    return BannedTerm(
        term=row["term"],
        term_class=row["term_class"],
        legal_basis=row["legal_basis"],
        severity=row["severity"],
        pattern=row.get("pattern"),
        exemption_patterns=tuple(row.get("exemption_patterns") or ()),
        note=row.get("note"),
    )
