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
        # Which rules a text can set off, by the characters it contains (see _triggers).
        self._index: dict[str, list[int]] | None = {}
        self._always: list[int] = []
        for i, rule in enumerate(rules):
            chars = _triggers(rule.pattern.pattern)
            if chars is None:
                self._always.append(i)
            else:
                for c in chars:
                    self._index.setdefault(c, []).append(i)

    def scan(self, text: str) -> list[TermHit]:
        """Every hit in ``text`` after overlaps are resolved, exempt ones included,
        in order of position."""
        text = normalise_text(text)
        found: list[tuple[_Rule, int, int]] = []
        for rule in self._candidates(text):
            for m in rule.pattern.finditer(text):
                if m.end() > m.start():
                    found.append((rule, m.start(), m.end()))
        kept = [h for h in found if not any(_covers(other, h) for other in found if other is not h)]
        kept.sort(key=lambda h: (h[1], h[2]))
        return [self._hit(text, rule, start, end) for rule, start, end in kept]

    def _candidates(self, text: str) -> list[_Rule]:
        """The rules that can match ``text``: those with a trigger character in it (in
        any case: ``ı`` and ``İ`` fold to ``i`` as the case-insensitive match does), and
        those without triggers. Most texts set off few or none of them."""
        if self._index is None:
            return list(self._rules)
        chars = set(text.lower())
        chars.update(text.upper().lower())
        picked = set(self._always)
        for c in chars.intersection(self._index):
            picked.update(self._index[c])
        return [self._rules[i] for i in sorted(picked)]

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


def _triggers(source: str) -> frozenset[str] | None:
    """Characters (lower-cased) of which every match of ``source`` contains at least
    one, or None when the pattern gives no such set (then the rule is tried on every
    text). Read off the parsed pattern: a literal, a small character class, a group or a
    repeat of at least once passes its requirement up; an alternation needs one from
    each branch; of a sequence's requirements the rarest-looking is kept (Chinese
    characters before Latin letters and digits)."""
    try:
        from re import _parser

        return _required(_parser.parse(source, re.IGNORECASE), _parser)
    except Exception:  # noqa: BLE001 - an unreadable pattern is simply tried on every text
        return None


def _required(seq: Any, p: Any) -> frozenset[str] | None:
    best: frozenset[str] | None = None
    for op, av in seq:
        need: frozenset[str] | None = None
        if op is p.LITERAL:
            need = frozenset(chr(av).lower())
        elif op is p.IN:
            chars: set[str] = set()
            for iop, iav in av:
                if iop is p.LITERAL:
                    chars.update(chr(iav).lower())
                elif iop is p.RANGE and iav[1] - iav[0] < 64:
                    for code in range(iav[0], iav[1] + 1):
                        chars.update(chr(code).lower())
                else:  # a negation or a category: no small set
                    chars = set()
                    break
            need = frozenset(chars) or None
        elif op is p.SUBPATTERN:
            need = _required(av[3], p)
        elif op in (p.MAX_REPEAT, p.MIN_REPEAT, p.POSSESSIVE_REPEAT) and av[0] >= 1:
            need = _required(av[2], p)
        elif op is p.BRANCH:
            parts = [_required(branch, p) for branch in av[1]]
            need = None if any(x is None for x in parts) else frozenset().union(*parts)
        if need and (best is None or _weight(need) < _weight(best)):
            best = need
    return best


def _weight(chars: frozenset[str]) -> int:
    return sum(1 if ord(c) >= 0x2E80 else 20 for c in chars)


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
