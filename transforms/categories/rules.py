"""Keyword rules: a platform breadcrumb and a listing title → a category code.

The keywords are the reference categories' own (``ref_categories.keywords``, unique per
category), plus the aliases and exclusion phrases of ``data/lexicon.yaml``. A keyword is
only evidence when it names *the product on sale*; titles mention other products all the
time, so each occurrence is given a role first:

========== ============================================================ ===================
role       when                                                         example
========== ============================================================ ===================
gift       inside a giveaway clause (送, 赠送 … up to the next space)     电热水壶 送 电吹风
reference  the item fits that product (适用于 … before, 通用 … after)      炒锅 电磁炉通用
accessory  an accessory noun follows (收纳架, 内胆, 支架 …)                电吹风 收纳架
modifier   another keyword follows with no space: Chinese compounds are 微波炉饭盒
           head-final, the last noun is the product
product    anything else
========== ============================================================ ===================

Where keyword occurrences overlap, the longer one stands (``电热水器`` over ``热水器``,
``防晒衣`` over ``防晒``); garments with a child marker (女童, 宝宝 …) are children's
clothing. Exclusion phrases (``防晒衣``, ``洗碗机``) are products of no category.

A text (one breadcrumb entry, or the title) then says one of: one category, several
(a conflict), an accessory, something out of scope, only a fitting note, only a gift, or
nothing. :meth:`CategoryRules.match` combines the breadcrumb, deepest entry first, and the
title:

* An accessory, an out-of-scope product or a pure fitting note *in the title* means no
  code, whatever the path says: shops file holders and pots under the appliance.
* The deepest breadcrumb entry is the platform's own classification. When it names one
  category and the title agrees or names none, that is the code (confidence 1.0). When
  the title names another, the path wins but only at 0.6: the caller should let a model
  arbitrate or leave it uncoded.
* A category named only by an ancestor entry is weak (``母婴童装`` holds ``童装`` but also
  奶嘴), and so is a leaf that also lists things of no category (``童装/童鞋``): 0.5
  alone, 1.0 when the title agrees; a title naming something else wins at 0.8.
* A breadcrumb entry that is itself an accessory or out of scope (``电吹风配件``) means
  no code, unless the title names a different category (then 0.6, for arbitration).
* The title alone: one category 1.0, several 0.5 (candidates listed).

Deterministic throughout: ties are broken by keyword length, then position, then code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from transforms.categories.lexicon import Lexicon
from transforms.categories.text import normalise
from transforms.reference.model import Category

__all__ = ["CategoryRules", "Hit", "RuleMatch", "Term", "TextVerdict"]

CONFIDENT = 1.0
PATH_RESOLVES_TITLE = 0.9
TITLE_OVER_ANCESTOR = 0.8
PATH_OVER_TITLE = 0.6
AMBIGUOUS = 0.5
NO_CODE_CONFIDENCE = 0.9
"""Confidence of a rule that decides there is *no* code (accessory, out of scope)."""

_COMPAT_PREFIX_GAP = 6  # characters allowed between 适用 and the product it fits
_COMPAT_SUFFIX_GAP = 5  # … and between the product and 通用 (电磁炉 燃气灶通用)
_PATH_CACHE_SIZE = 65536
_MEMO_PER_STATE = 4096  # memoised automaton transitions per state (memory bound)


@dataclass(frozen=True, slots=True)
class Term:
    """A phrase the rules look for. ``code`` is ``None`` for an exclusion phrase."""

    text: str
    code: str | None
    source: str  # keyword | name | alias | exclusion
    digit_start: bool = False
    alpha_start: bool = False
    digit_end: bool = False
    alpha_end: bool = False


class Hit(NamedTuple):
    """One occurrence of a term in a normalised text, ``text[start:end]``."""

    start: int
    end: int
    term: Term

    @property
    def code(self) -> str | None:
        return self.term.code

    @property
    def size(self) -> int:
        return self.end - self.start


class TextVerdict(NamedTuple):
    """What one text (a breadcrumb entry or a title) says about the product.

    ``kind`` is ``single``, ``conflict``, ``accessory``, ``excluded`` (out of scope),
    ``reference`` (only fits something), ``gift_only`` or ``none``. :attr:`masked` is the
    text without giveaway clauses and fitting notes, for the classifier.
    """

    kind: str
    codes: tuple[str, ...] = ()
    products: tuple[Hit, ...] = ()
    excluded: tuple[Hit, ...] = ()
    accessories: tuple[tuple[Hit, str], ...] = ()
    references: tuple[Hit, ...] = ()
    gifts: tuple[Hit, ...] = ()
    promoted: bool = False
    text: str = ""
    spans: tuple[tuple[int, int], ...] = ()  # giveaways and fitting notes, see masked
    partial: bool = False  # a breadcrumb entry listing things in no category (童装/童鞋)

    @property
    def masked(self) -> str:
        return _mask(self.text, self.spans)

    @property
    def code(self) -> str | None:
        return self.codes[0] if self.kind == "single" else None

    @property
    def decides_no_code(self) -> bool:
        return self.kind in ("accessory", "excluded", "reference")

    def describe(self) -> str:
        """A short human account: which keyword, in which role."""
        if self.kind == "single":
            words = ", ".join(dict.fromkeys(repr(h.term.text) for h in self.products))
            extra = " + child marker" if self.promoted else ""
            return f"{words}{extra}"
        if self.kind == "conflict":
            parts = [f"{h.term.text!r}→{h.code}" for h in self.products]
            parts += [f"{h.term.text!r}→accessory" for h, _ in self.accessories]
            return "conflict " + ", ".join(parts)
        if self.kind == "accessory":
            hit, noun = self.accessories[0]
            return f"accessory {hit.term.text!r}+{noun!r} ({hit.code})"
        if self.kind == "excluded":
            beside = f" beside {', '.join(self.codes)}" if self.codes else ""
            return f"out of scope {self.excluded[0].term.text!r}{beside}"
        if self.kind == "reference":
            return f"only fits {self.references[0].term.text!r} ({self.references[0].code})"
        if self.kind == "gift_only":
            return f"only a giveaway {self.gifts[0].term.text!r} ({self.gifts[0].code})"
        return "no keyword"


_NONE = TextVerdict("none")


@dataclass(frozen=True)
class RuleMatch:
    """The rules' answer for one listing.

    ``decisive`` means the rules settled it: a code (confidence 0.8 to 1.0), or, with
    ``code`` ``None``, that the item is *not* in a monitored category (an accessory, an
    out-of-scope product), which a classifier must not overrule. Otherwise ``code`` is
    the deterministic pick among ``candidates`` (confidence 0.5 or 0.6) or ``None`` when
    nothing matched, and a classifier may arbitrate. ``path_text`` and ``title_text``
    are the texts for a classifier, giveaway clauses and fitting notes removed.
    """

    code: str | None
    confidence: float
    evidence: str
    candidates: tuple[str, ...] = ()
    decisive: bool = False
    path_text: str = ""
    title_text: str = ""
    source: str = field(default="", compare=False)  # which text decided: path, title, …

    @property
    def model_text(self) -> str:
        """What a classifier should read: the deepest breadcrumb entry and the title."""
        return f"{self.path_text} {self.title_text}".strip()


class CategoryRules:
    """Compiled keyword rules; build once (about 10 ms), match many listings.

    >>> from transforms.reference import read_reference
    >>> from transforms.categories.lexicon import load_lexicon
    >>> cats = read_reference().categories
    >>> rules = CategoryRules(cats, load_lexicon(cats))
    >>> m = rules.match(["小家电", "电热水壶"], "美度 电水壶 1.7L 送 电吹风")
    >>> m.code, m.confidence
    ('electric_kettle', 1.0)
    >>> rules.match([], "戴森 电吹风 收纳架 免打孔").code is None
    True
    """

    def __init__(self, categories: Iterable[Category], lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        terms: dict[str, Term] = {}
        cats = list(categories)
        self.codes = tuple(c.code for c in cats)

        def add(text: str, code: str | None, source: str) -> None:
            if not text or text in terms:
                return
            terms[text] = Term(
                text,
                code,
                source,
                digit_start=text[0].isascii() and text[0].isdigit(),
                # Mixed terms (t恤, led灯) may follow a brand glued to them: GreenshirtT恤.
                alpha_start=text.isascii() and text[0].isalpha(),
                digit_end=text[-1].isascii() and text[-1].isdigit(),
                alpha_end=text[-1].isascii() and text[-1].isalpha(),
            )

        for c in cats:
            for word in c.keywords:
                add(normalise(word), c.code, "keyword")
        for c in cats:
            add(normalise(c.name_zh), c.code, "name")
        for code, words in lexicon.aliases.items():
            for word in words:
                add(word, code, "alias")
        for word in lexicon.exclusions:
            add(word, None, "exclusion")
        self.terms = tuple(terms.values())
        self._automaton = _Automaton(self.terms)

        self._gift = _alternation(lexicon.gift_markers)
        self._gift_start = (
            re.compile("[" + re.escape("".join(sorted({w[0] for w in lexicon.gift_markers}))) + "]")
            if lexicon.gift_markers
            else None
        )
        self._compat_not_after = tuple(lexicon.compat_not_after)
        self._gift_not_after = frozenset(lexicon.gift_not_after)
        self._gift_not_before = tuple(lexicon.gift_not_before)
        self._compat_prefix = _alternation(lexicon.compat_prefixes)
        self._compat_suffix = _alternation(lexicon.compat_suffixes)
        self._compat_any = _alternation((*lexicon.compat_prefixes, *lexicon.compat_suffixes))
        self._acc_spaced = _prefix_pattern(lexicon.accessory_spaced)
        self._acc_adjacent = _prefix_pattern(
            lexicon.accessory_adjacent, not_before=lexicon.accessory_adjacent_not_before
        )
        self._child = _alternation(lexicon.child_markers)
        self._noise = lexicon.noise_crumbs
        self._path_cache: dict[tuple[str, ...], tuple[TextVerdict, ...]] = {}

    # ------------------------------------------------------------------ matching
    def match(self, path: Sequence[str] | None, title: str | None) -> RuleMatch:
        """The rules' code for a listing with breadcrumb ``path`` and ``title``."""
        crumbs = self._crumbs(path)
        t = self.analyse(normalise(title))
        leaf = crumbs[-1] if crumbs else _NONE
        path_text = leaf.masked
        title_text = t.masked

        def result(
            code: str | None,
            confidence: float,
            evidence: str,
            candidates: tuple[str, ...] = (),
            decisive: bool = False,
            source: str = "",
        ) -> RuleMatch:
            return RuleMatch(
                code, confidence, evidence, candidates, decisive, path_text, title_text, source
            )

        # 1. The title says the item is an accessory, out of scope, or only fits something.
        if t.decides_no_code:
            return result(None, NO_CODE_CONFIDENCE, f"title: {t.describe()}", decisive=True)

        # 2. The deepest breadcrumb entry that names anything.
        depth, crumb = next(
            ((i, v) for i, v in enumerate(reversed(crumbs)) if v.kind != "none"), (-1, _NONE)
        )
        # A leaf that lists things beyond our categories (童装/童鞋) is no stronger
        # than an ancestor: the title has to agree.
        strong = depth == 0 and not crumb.partial
        where = "path" if strong else ("partial path" if depth == 0 else "ancestor")
        if crumb.kind == "single":
            code = crumb.codes[0]
            if strong:
                if t.kind in ("none", "gift_only") or t.codes == (code,):
                    agree = "; title agrees" if t.kind == "single" else ""
                    return result(
                        code,
                        CONFIDENT,
                        f"path: {crumb.describe()}{agree}",
                        decisive=True,
                        source="path+title" if agree else "path",
                    )
                if t.kind == "conflict" and code in t.codes:
                    return result(
                        code,
                        PATH_RESOLVES_TITLE,
                        f"path: {crumb.describe()} settles title {t.describe()}",
                        candidates=t.codes,
                        decisive=True,
                        source="path",
                    )
                return result(
                    code,
                    PATH_OVER_TITLE,
                    f"path: {crumb.describe()} but title: {t.describe()}",
                    candidates=_merge(crumb.codes, t.codes),
                    source="path",
                )
            # An ancestor entry only.
            if t.kind == "single":
                if t.codes == (code,):
                    return result(
                        code,
                        CONFIDENT,
                        f"{where}: {crumb.describe()}; title agrees",
                        decisive=True,
                        source=f"{where}+title",
                    )
                return result(
                    t.codes[0],
                    TITLE_OVER_ANCESTOR,
                    f"title: {t.describe()} over {where}: {crumb.describe()}",
                    candidates=_merge(t.codes, crumb.codes),
                    decisive=True,
                    source="title",
                )
            if t.kind == "conflict" and code in t.codes:
                return result(
                    code,
                    AMBIGUOUS,
                    f"{where}: {crumb.describe()}; title {t.describe()}",
                    candidates=t.codes,
                    source=where,
                )
            return result(
                code,
                AMBIGUOUS,
                f"{where} only: {crumb.describe()}",
                candidates=_merge(crumb.codes, t.codes),
                source=where,
            )
        if crumb.decides_no_code:
            # The path files it as an accessory or an out-of-scope product. A title that
            # names a different category makes it a contest; otherwise no code.
            other = tuple(c for c in t.codes if c not in {h.code for h, _ in crumb.accessories})
            if t.kind == "single" and other:
                return result(
                    other[0],
                    PATH_OVER_TITLE,
                    f"title: {t.describe()} but {where}: {crumb.describe()}",
                    candidates=other,
                    source="title",
                )
            return result(None, NO_CODE_CONFIDENCE, f"{where}: {crumb.describe()}", decisive=True)
        if crumb.kind == "conflict":
            if t.kind == "single" and t.codes[0] in crumb.codes:
                return result(
                    t.codes[0],
                    CONFIDENT,
                    f"title: {t.describe()} settles {where} {crumb.describe()}",
                    decisive=True,
                    source="path+title",
                )
            candidates = _merge(crumb.codes, t.codes)
            return result(
                candidates[0],
                AMBIGUOUS,
                f"{where}: {crumb.describe()}; title: {t.describe()}",
                candidates=candidates,
                source=where,
            )

        # 3. The title alone.
        if t.kind == "single":
            return result(
                t.codes[0], CONFIDENT, f"title: {t.describe()}", decisive=True, source="title"
            )
        if t.kind == "conflict":
            return result(
                t.codes[0] if t.codes else None,
                AMBIGUOUS,
                f"title: {t.describe()}",
                candidates=t.codes,
                source="title",
            )
        note = f"title: {t.describe()}" if t.kind == "gift_only" else "no keyword in path or title"
        return result(None, 0.0, note)

    def match_many(
        self, items: Iterable[tuple[Sequence[str] | None, str | None]]
    ) -> list[RuleMatch]:
        """:meth:`match` over ``(path, title)`` pairs."""
        match = self.match
        return [match(p, t) for p, t in items]

    # ------------------------------------------------------------------ pieces
    def _crumbs(self, path: Sequence[str] | None) -> tuple[TextVerdict, ...]:
        """Verdicts of the meaningful breadcrumb entries, root first (cached: a platform
        has a few hundred distinct paths and they repeat across all its listings)."""
        if not path:
            return ()
        key = (path,) if isinstance(path, str) else tuple(path)
        cached = self._path_cache.get(key)
        if cached is not None:
            return cached
        out = []
        for crumb in key:
            text = normalise(crumb)
            if text and text not in self._noise:
                verdict = self.analyse(text)
                if verdict.kind != "none" and " " in text:
                    verdict = verdict._replace(partial=_partly_covered(verdict))
                out.append(verdict)
        verdicts = tuple(out)
        if len(self._path_cache) >= _PATH_CACHE_SIZE:
            self._path_cache.clear()
        self._path_cache[key] = verdicts
        return verdicts

    def scan(self, text: str) -> list[Hit]:
        """Every occurrence of every term in the normalised ``text``, overlaps included.

        ASCII edges need word boundaries: ``bra`` is not in ``brand``, ``18650`` not in
        ``118650``; an English term may take a plural ``s``/``es``.
        """
        hits: list[Hit] = []
        n = len(text)
        for end, term in self._automaton.iter(text):
            start = end - len(term.text)
            if start and (term.digit_start or term.alpha_start):
                prev = text[start - 1]
                if prev.isascii() and (prev.isdigit() or (term.alpha_start and prev.isalpha())):
                    continue
            if end < n and (term.digit_end or term.alpha_end):
                nxt = text[end]
                if nxt.isascii() and nxt.isalnum():
                    if term.alpha_end:
                        plural = _plural_end(text, end)
                        if plural is None:
                            continue
                        end = plural
                    elif nxt.isdigit():
                        continue
            hits.append(Hit(start, end, term))
        return hits

    def analyse(self, text: str) -> TextVerdict:
        """The verdict of one normalised text (see the module docs for the roles)."""
        if not text:
            return _NONE
        hits = self.scan(text)
        gift_spans = self._gift_spans(text)
        if not hits:
            return TextVerdict("none", text=text, spans=tuple(gift_spans))
        if len(hits) > 1:
            hits = _resolve_overlaps(hits)

        gifts: list[Hit] = []
        references: list[Hit] = []
        candidates: list[Hit] = []
        compat = self._has_compat(text)
        for h in hits:
            if gift_spans and any(s <= h.start < e for s, e in gift_spans):
                gifts.append(h)
            elif compat and self._is_reference(text, h, hits):
                references.append(h)
            else:
                candidates.append(h)

        starts = {h.start for h in hits}
        accessories: list[tuple[Hit, str]] = []
        products: list[Hit] = []
        for h in candidates:
            noun = self._accessory_after(text, h.end, starts) if h.code is not None else None
            if noun is None:
                products.append(h)
            else:
                accessories.append((h, noun))

        promoted = False
        promotes = self.lexicon.child_promotes
        if self._child is not None and not promotes.isdisjoint([h.term.code for h in products]):
            if self._child.search(_mask(text, gift_spans)):
                promoted = True
                products = [
                    Hit(h.start, h.end, _promote(h.term)) if h.code in promotes else h
                    for h in products
                ]

        # Head-final compounds: 微波炉饭盒 is a lunch box, 电磁炉炒锅 a wok.
        if len(products) > 1:
            products.sort(key=lambda h: h.start)
            products = [
                a
                for a, b in zip(products, products[1:] + [None])
                if b is None or a.end != b.start or a.code == b.code
            ]

        category_hits = tuple(h for h in products if h.code is not None)
        excluded = tuple(h for h in products if h.code is None)
        codes = _ordered_codes(category_hits)
        if accessories:
            acc_codes = {h.code for h, _ in accessories}
            kind = "conflict" if [c for c in codes if c not in acc_codes] else "accessory"
        elif excluded:
            # An out-of-scope product named beside a category (屏幕挂灯 显示器) is most
            # likely the item: shops add the product it serves as a search word.
            kind = "excluded"
        elif codes:
            kind = "single" if len(codes) == 1 else "conflict"
        elif references:
            kind = "reference"
        elif gifts:
            kind = "gift_only"
        else:
            kind = "none"
        spans = gift_spans + [(h.start, h.end) for h in references]
        return TextVerdict(
            kind,
            codes,
            category_hits,
            excluded,
            tuple(accessories),
            tuple(references),
            tuple(gifts),
            promoted,
            text,
            tuple(spans),
        )

    def _gift_spans(self, text: str) -> list[tuple[int, int]]:
        """Giveaway clauses: from a marker (送, 赠送 …) to the end of the next word."""
        if self._gift is None or self._gift_start is None or not self._gift_start.search(text):
            return []
        spans = []
        for m in self._gift.finditer(text):
            start, end = m.span()
            if start and text[start - 1] in self._gift_not_after:
                continue
            after = text[end:].lstrip(" ")
            if not after or after.startswith(self._gift_not_before):
                continue
            begin = end + 1 if text[end : end + 1] == " " else end
            stop = text.find(" ", begin)
            spans.append((start, len(text) if stop < 0 else stop))
        return spans

    def _has_compat(self, text: str) -> bool:
        """Whether ``text`` holds any fitting word at all (most titles do not)."""
        return self._compat_any is not None and self._compat_any.search(text) is not None

    def _is_reference(self, text: str, hit: Hit, others: list[Hit]) -> bool:
        """Whether ``hit`` only says what the item fits (适用于 X, X 通用).

        A fitting word may stand a few characters after the product (电磁炉 燃气灶通用),
        but not after a qualifier that makes it mean "for all" (四季通用, 男女通用).
        """
        if self._compat_suffix is not None:
            window = text[hit.end : hit.end + _COMPAT_SUFFIX_GAP + 3]
            m = self._compat_suffix.search(window)
            if m is not None and m.start() <= _COMPAT_SUFFIX_GAP:
                gap = window[: m.start()]
                stop = hit.end + m.start()
                if not (gap.strip() and gap.strip().endswith(self._compat_not_after)) and not any(
                    hit.end <= o.start < stop for o in others if o is not hit
                ):
                    return True
        if self._compat_prefix is not None:
            begin = max(0, hit.start - _COMPAT_PREFIX_GAP - 4)
            for m in self._compat_prefix.finditer(text, begin, hit.start):
                gap = text[m.end() : hit.start]
                if len(gap.strip()) <= _COMPAT_PREFIX_GAP and gap.count(" ") <= 2:
                    if not any(m.end() <= o.start < hit.start for o in others if o is not hit):
                        return True
        return False

    def _accessory_after(self, text: str, pos: int, starts: set[int]) -> str | None:
        """The accessory noun right after a keyword ending at ``pos``, if any. A keyword
        starting there instead is a head noun, not an accessory (handled elsewhere)."""
        if pos >= len(text) or pos in starts:
            return None
        if text[pos] == " ":
            pos += 1
            if pos in starts:
                return None
            if self._acc_spaced is not None:
                m = self._acc_spaced.match(text, pos)
                if m:
                    return m.group(1)
            if self._acc_adjacent is not None:
                m = self._acc_adjacent.match(text, pos)
                if m and text[m.end() : m.end() + 1] in ("", " "):
                    return m.group(1)  # the whole next word: 电暖器 罩
            return None
        for pattern in (self._acc_spaced, self._acc_adjacent):
            if pattern is not None:
                m = pattern.match(text, pos)
                if m:
                    return m.group(1)
        return None


# ---------------------------------------------------------------------- helpers


class _Automaton:
    """Aho–Corasick over the terms: one dictionary step per character of a title, however
    many terms there are (a regex alternation would try each term at each position)."""

    def __init__(self, terms: Iterable[Term]) -> None:
        goto: list[dict[str, int]] = [{}]
        found: list[list[Term]] = [[]]
        for term in terms:
            state = 0
            for ch in term.text:
                nxt = goto[state].get(ch)
                if nxt is None:
                    nxt = len(goto)
                    goto[state][ch] = nxt
                    goto.append({})
                    found.append([])
                state = nxt
            found[state].append(term)
        fail = [0] * len(goto)
        queue = list(goto[0].values())
        for state in queue:  # breadth first: a state's fail link is set before its children
            for ch, nxt in goto[state].items():
                queue.append(nxt)
                f = fail[state]
                while f and ch not in goto[f]:
                    f = fail[f]
                fail[nxt] = goto[f].get(ch, 0) if goto[f].get(ch, 0) != nxt else 0
                found[nxt].extend(found[fail[nxt]])
        self._goto = goto
        self._fail = fail
        self._found = [tuple(f) for f in found]
        self._delta: list[dict[str, int]] = [dict(g) for g in goto]

    def iter(self, text: str) -> list[tuple[int, Term]]:
        """``(end, term)`` for every occurrence of every term in ``text``."""
        delta, found = self._delta, self._found
        state = 0
        out: list[tuple[int, Term]] = []
        for i, ch in enumerate(text):
            nxt = delta[state].get(ch)
            if nxt is None:
                nxt = self._step(state, ch)
            state = nxt
            if found[state]:
                end = i + 1
                out.extend((end, t) for t in found[state])
        return out

    def _step(self, state: int, ch: str) -> int:
        """The transition from ``state`` on ``ch`` through the failure links, memoised in
        ``_delta`` so that the next title pays one dictionary look-up for it."""
        goto, fail = self._goto, self._fail
        s = state
        nxt = goto[s].get(ch)
        while nxt is None and s:
            s = fail[s]
            nxt = goto[s].get(ch)
        nxt = nxt or 0
        memo = self._delta[state]
        if len(memo) < _MEMO_PER_STATE:
            memo[ch] = nxt
        return nxt


def _alternation(words: Sequence[str]) -> re.Pattern[str] | None:
    """A regex for any of ``words``, longest first; ASCII words get word boundaries."""
    if not words:
        return None
    parts = []
    for w in sorted(set(words), key=lambda w: (-len(w), w)):
        body = re.escape(w)
        if w[0].isascii() and w[0].isalnum():
            body = r"(?<![a-z0-9])" + body
        if w[-1].isascii() and w[-1].isalnum():
            body += r"(?![a-z0-9])"
        parts.append(body)
    return re.compile("|".join(parts))


def _prefix_pattern(words: Sequence[str], not_before: Sequence[str] = ()) -> re.Pattern[str] | None:
    """A regex matching one of ``words`` at a position (group 1), not followed by any of
    ``not_before``; ASCII words must end at a word boundary."""
    if not words:
        return None
    parts = []
    for w in sorted(set(words), key=lambda w: (-len(w), w)):
        body = re.escape(w)
        if w[-1].isascii() and w[-1].isalnum():
            body += r"(?:e?s)?(?![a-z0-9])"
        parts.append(body)
    guard = ""
    if not_before:
        guard = "(?!" + "|".join(re.escape(w) for w in sorted(set(not_before))) + ")"
    return re.compile("(" + "|".join(parts) + ")" + guard)


def _plural_end(text: str, end: int) -> int | None:
    """End of an English plural (``kettles``, ``boxes``) at ``end``, or ``None``."""
    for suffix in ("s", "es"):
        stop = end + len(suffix)
        if text.startswith(suffix, end) and (
            stop == len(text) or not (text[stop].isascii() and text[stop].isalnum())
        ):
            return stop
    return None


def _resolve_overlaps(hits: list[Hit]) -> list[Hit]:
    """Drop hits inside a longer hit; merge overlapping hits of one code into one."""
    hits.sort(key=lambda h: (h.start, -h.size))
    kept = [
        h
        for h in hits
        if not any(
            o is not h and o.start <= h.start and h.end <= o.end and o.size > h.size for o in hits
        )
    ]
    merged: list[Hit] = []
    for h in kept:
        if merged and h.start < merged[-1].end and h.code == merged[-1].code:
            last = merged[-1]
            term = last.term if last.size >= h.size else h.term
            merged[-1] = Hit(last.start, max(last.end, h.end), term)
        else:
            merged.append(h)
    return merged


def _ordered_codes(hits: Sequence[Hit]) -> tuple[str, ...]:
    """Distinct codes, the one with the longest keyword first, then by position."""
    if len(hits) == 1:
        return (hits[0].term.code,)  # type: ignore[return-value]
    best: dict[str, tuple[int, int]] = {}
    for h in hits:
        assert h.code is not None
        key = (-h.size, h.start)
        if h.code not in best or key < best[h.code]:
            best[h.code] = key
    return tuple(sorted(best, key=lambda c: (best[c], c)))


def _partly_covered(verdict: TextVerdict) -> bool:
    """Whether some word of a breadcrumb entry lies outside every keyword occurrence."""
    hits = [*verdict.products, *verdict.excluded, *(h for h, _ in verdict.accessories)]
    start = 0
    for word in verdict.text.split(" "):
        end = start + len(word)
        if not any(h.start < end and start < h.end for h in hits):
            return True
        start = end + 1
    return False


def _merge(first: Sequence[str], second: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*first, *second]))


def _mask(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with ``spans`` blanked out, spaces collapsed."""
    if not spans:
        return text
    chars = list(text)
    for s, e in spans:
        for i in range(s, min(e, len(chars))):
            chars[i] = " "
    return " ".join("".join(chars).split())


_PROMOTED: dict[str, Term] = {}


def _promote(term: Term) -> Term:
    """The same term, counted as children's clothing (女童 连衣裙)."""
    key = term.text
    t = _PROMOTED.get(key)
    if t is None:
        t = Term(
            term.text,
            "children_clothing",
            term.source + "+child",
            term.digit_start,
            term.alpha_start,
            term.digit_end,
            term.alpha_end,
        )
        _PROMOTED[key] = t
    return t
