"""Which recalls a listing sells: :class:`RecallMatcher`.

A listing (title, brand text, model text, optional barcode) is matched against recall
records (rows of the core ``recalls`` table, or parser records of
:mod:`crawlers.parse.recalls`) by the evidence the two share.

Model evidence, from strongest:

=================  ===================================================================
``model``          the listing's model field has the recall model's exact key (case,
                   width, separators, labels such as 型号： and words such as 型 do
                   not matter: ``md 53p13a型`` = ``MD-53P13A``)
``model_in_title`` the title carries the exact code (the model field is empty or
                   says something else)
``model~fuzzy``    one side is a variant of the other's code: ``AB-12`` against
                   ``AB-12 Pro``, ``AB-12-A``, ``AB-12/1``, ``AB-12升级版``
=================  ===================================================================

Brand evidence:

=================  ===================================================================
``brand``          the listing's brand and the recall's share a name, through the
                   aliases (:class:`~risk_models.recalls.aliases.BrandAliases`:
                   ``美度`` = ``MEIDOO`` = ``MEIDOO/美度`` = ``美度（MEIDOO）``); or the
                   listing has no brand and its title names the recall's brand
``brand~fuzzy``    a misspelling of one of the recall brand's names (``MEID0O``,
                   ``MFIDOO``: look-alike characters or one edit in a name of five
                   letters or more), or a Latin brand the aliases cannot place whose
                   title names the recall's brand
``no_brand``       one side names no brand at all (nothing to agree or disagree with)
=================  ===================================================================

``matched_on`` joins the two (``brand+model``, ``brand~fuzzy+model_in_title``,
``no_brand+model`` …), or is ``gtin`` when a valid barcode the recall names is the
listing's. The score multiplies the two strengths (:data:`MODEL_EVIDENCE`,
:data:`BRAND_EVIDENCE`): ``brand+model`` 0.95, ``brand+model_in_title`` 0.855,
``brand~fuzzy+model`` 0.8, ``brand+model~fuzzy`` 0.76, ``no_brand+model`` 0.6, ``gtin``
0.99. Matches below ``min_score`` (default 0.5) are left out, so a variant code with no
brand evidence (0.48) or a match across product categories (halved; see
``check_category``) is only shown when asked for.

What never matches:

* a listing whose brand is a *different* brand (not an alias, not a misspelling), even
  with the same model code: two brands using ``X-100`` is a model collision, not a
  recall;
* a sibling model: codes are compared whole, so ``MD-1520`` never matches
  ``MD-1521`` and ``MD-53P13A`` never matches ``MD-53P13``;
* without brand evidence (``no_brand``), a code that is not specific (letters and
  digits, five characters or more, not a quantity such as ``1500W``): ``A100`` on a
  brand-less recall or listing names too many products;
* with only a misspelt brand, or from a title, a code shorter than four characters or
  without both letters and digits.

Counterfeit listings that misspell the brand (``MEID0O``) are matched, at a lower
score, on purpose: a fake of a recalled model is sold as that model, copies its
design, and its buyers are the people the recall must reach; the score (0.8 rather
than 0.95) lets a reviewer sort them apart.

Speed. Recall models are indexed by key (and variants by their base key), so a listing
costs a few dictionary lookups whatever the number of recalls; brand texts and model
texts are normalised once per distinct spelling. ``match_many`` over 100,000 listings
against 10,000 recalls takes seconds (:mod:`risk_models.recalls.speed` measures it).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, select

from risk_models.recalls.aliases import BrandAliases, brand_keys
from risk_models.recalls.hazards import hazard_class_of
from risk_models.recalls.keys import (
    ModelKey,
    gtins_in_text,
    is_plausible_code,
    model_key,
    models_in_text,
    near_spelling,
    split_models,
    title_code_candidates,
)
from transforms.normalise import to_simplified
from transforms.resolve.keys import is_cjk_key, is_strong_model, normalise_gtin

__all__ = [
    "BRAND_EVIDENCE",
    "DEFAULT_MIN_SCORE",
    "GTIN_SCORE",
    "MODEL_EVIDENCE",
    "RecallMatch",
    "RecallMatcher",
]

MODEL_EVIDENCE = {"model": 1.0, "model_in_title": 0.9, "model~fuzzy": 0.8}
"""Strength of each kind of model evidence."""
BRAND_EVIDENCE = {"brand": 0.95, "brand~fuzzy": 0.8, "no_brand": 0.6}
"""Strength of each kind of brand evidence."""
GTIN_SCORE = 0.99
"""Score of a barcode match."""
GTIN_CONFLICT_SCORE = 0.7
"""Score of a barcode match whose listing names a different brand (a copied barcode?)."""
DEFAULT_MIN_SCORE = 0.5
"""Matches scoring below this are left out unless asked for."""
OTHER_CATEGORY_FACTOR = 0.5
"""Score factor when recall and listing clearly name different product categories."""

_SAME, _NEAR, _UNKNOWN, _DISTINCT = "brand", "brand~fuzzy", "no_brand", None


@dataclass(frozen=True, slots=True)
class RecallMatch:
    """One recall a listing matched.

    ``recall_id`` is the source's own number (CPSC Recall Number, Safety Gate alert
    number, SAMR notice number); ``score`` a confidence in 0–1; ``matched_on`` the
    evidence (see the module notes); ``brand`` and ``model`` the recall's brand and
    model as the recall writes them (``model`` is ``None`` for a barcode match);
    ``hazard_class`` the recall's hazard class
    (:func:`~risk_models.recalls.hazards.hazard_class`).
    """

    recall_id: str
    source: str
    score: float
    matched_on: str
    brand: str | None
    model: str | None
    hazard_class: str


@dataclass(slots=True)
class _Recall:
    recall_id: str
    source: str
    brands: list[str]
    hazard_class: str
    product: str | None = None  # what the recall says the product is, for its category
    keys: set[str] = field(default_factory=set)  # brand name keys the recall states
    soft_keys: set[str] = field(default_factory=set)  # read from title/producer
    models: list[tuple[str, ModelKey]] = field(default_factory=list)
    gtins: set[str] = field(default_factory=set)
    # filled by RecallMatcher._prepare
    roots: frozenset[str] = frozenset()
    soft_roots: frozenset[str] = frozenset()
    latin: tuple[str, ...] = ()
    cjk_names: tuple[str, ...] = ()
    latin_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Brand:
    keys: tuple[str, ...]
    roots: frozenset[str]
    latin: tuple[str, ...]
    anchored: bool  # gives a Chinese name


class _Title:
    """A listing title prepared once for brand-name search (lazily)."""

    __slots__ = ("_compact", "_plain", "_tokens", "text")

    def __init__(self, text: str | None) -> None:
        self.text = text or ""
        self._plain: str | None = None
        self._tokens: frozenset[str] = frozenset()
        self._compact = ""

    def _prepare(self) -> None:
        plain = unicodedata.normalize("NFKC", self.text).casefold()
        self._plain = to_simplified(plain) or ""
        self._tokens = frozenset(re.findall(r"[0-9a-z]+", self._plain))
        self._compact = re.sub(r"[^0-9a-z]+", "", self._plain)

    def names(self, cjk: Iterable[str], latin: Iterable[str]) -> bool:
        """Whether the title writes one of the names."""
        if not self.text:
            return False
        if self._plain is None:
            self._prepare()
        assert self._plain is not None
        if any(n in self._plain for n in cjk):
            return True
        return any(n in self._tokens or (len(n) >= 5 and n in self._compact) for n in latin)


# --------------------------------------------------------------------------- records

_SAMR_BRAND = re.compile(r"召回(?:部分)?(?P<b>[^，,。；;\s]{1,20}?)(?:牌|品牌)")
_RECALLS_VERB = re.compile(r"^(?P<b>.+?)\s+(?:Recalls?|Expands?\s+Recall)\b", re.I)
_COMPANY_WORDS = re.compile(
    r"\b(?:co|company|corp|corporation|inc|incorporated|ltd|limited|llc|gmbh|s\.?a|"
    r"s\.?r\.?l|plc|group|holdings?|international|trading|industrial|industries|"
    r"technology|technologies|electric|electrical|electronics?|appliances?|"
    r"manufacturing|products?|import|export|usa|us|america|china)\b\.?|[,()（）]",
    re.I,
)
_CJK_COMPANY = re.compile(
    r"(?:股份)?有限(?:责任)?公司|集团|实业|科技|电器|电子|制造|工贸|贸易|"
    r"(?:[\u4e00-\u9fff]{2,3}(?:省|市|区|县))"
)


# Barcodes are read only where a record says they are: a barcode field, or after a label
# (a telephone or batch number in running text can pass a GTIN check digit by chance).
_BARCODE_FIELD = re.compile(r"barcode|upc|gtin|ean|条码|条形码", re.I)
_BARCODE_LABEL = re.compile(r"\b(?:barcodes?|UPCs?|GTINs?|EANs?)\b|条形码|条码", re.I)


def _soft_names(title: str | None, producer: str | None) -> list[str]:
    """Brand names a recall without a brand field still gives: SAMR titles say
    召回部分X牌…, CPSC headings "X Recalls …", and the producer's name holds the brand."""
    out: list[str] = []
    if title:
        m = _SAMR_BRAND.search(title)
        if m:
            out.append(m.group("b"))
        m = _RECALLS_VERB.search(title)
        if m:
            out.append(_COMPANY_WORDS.sub(" ", m.group("b")))
    if producer:
        out.append(_CJK_COMPANY.sub("", _COMPANY_WORDS.sub(" ", producer)))
    return [" ".join(n.split()) for n in out if n and n.strip()]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v is not None and str(v).strip()]
    return []


@lru_cache(maxsize=1 << 16)
def _models_of(text: str) -> tuple[tuple[str, ModelKey], ...]:
    """The codes one model field gives, as (as written, key)."""
    return tuple(_models_of_uncached(text.strip()))


def _models_of_uncached(text: str) -> list[tuple[str, ModelKey]]:
    parts = split_models(text)
    whole = model_key(text)
    if len(parts) == 1 and parts[0] == text:
        return [(text, whole)] if whole else []
    keyed = [(p, k) for p in parts if (k := model_key(p)) is not None]
    if len(keyed) < 2 and whole is not None and "/" in text:
        return [(text, whole)]  # AB-12/1: one code with a sub-model number
    return keyed


def _without_brand(key: ModelKey, brand: Iterable[str]) -> ModelKey:
    """``MEIDOO MD-53P13A`` in a model field: the brand is not part of the code."""
    for b in brand:
        if is_cjk_key(b):
            continue
        upper = b.upper()
        rest = key.base[len(upper) :]
        if key.base.startswith(upper) and is_plausible_code(rest):
            return ModelKey(rest, key.variant)
    return key


def _recall_of(record: Mapping[str, Any]) -> _Recall:
    attrs = record.get("attributes")
    attrs = attrs if isinstance(attrs, Mapping) else {}
    extra = attrs.get("extra", record.get("extra"))
    extra = extra if isinstance(extra, Mapping) else {}
    description = attrs.get("description", record.get("description"))
    hazard_type = attrs.get("hazard_type", record.get("hazard_type"))
    producer = attrs.get("producer", record.get("producer"))
    title = record.get("title")
    recall_id = record.get("recall_number") or record.get("external_id") or record.get("recall_id")
    if not recall_id or not record.get("source"):
        raise ValueError(f"a recall record needs source and recall_number, got {dict(record)!r}")
    product = record.get("product_name") or title
    rec = _Recall(
        recall_id=str(recall_id),
        source=str(record["source"]),
        product=product if isinstance(product, str) else None,
        brands=_as_list(record.get("brands")),
        hazard_class=hazard_class_of(
            (
                record.get("hazard"),
                hazard_type,
                description if isinstance(description, str) else None,
            )
        ),
    )
    for b in rec.brands:
        rec.keys.update(brand_keys(b))
    if not rec.keys:
        for name in _soft_names(title, producer if isinstance(producer, str) else None):
            rec.soft_keys.update(brand_keys(name))
    brand_latin = [k for k in rec.keys | rec.soft_keys if not is_cjk_key(k)]
    texts = _as_list(record.get("models"))
    for text in (description, title):
        if isinstance(text, str):
            texts.extend(models_in_text(text))
    seen: set[str] = set()
    for text in texts:
        for shown, key in _models_of(text):
            key = _without_brand(key, brand_latin)
            if key.key not in seen:
                seen.add(key.key)
                rec.models.append((shown, key))
    for key, value in extra.items():
        if _BARCODE_FIELD.search(str(key)):
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str):
                    rec.gtins.update(gtins_in_text(text))
    for text in (description, title):
        if isinstance(text, str):
            for m in _BARCODE_LABEL.finditer(text):
                rec.gtins.update(gtins_in_text(text[m.end() : m.end() + 80]))
    return rec


def _merge(into: _Recall, other: _Recall) -> None:
    """Two records of one recall (CPSC's CSV and JSON copies): one entry."""
    for b in other.brands:
        if b not in into.brands:
            into.brands.append(b)
    into.keys |= other.keys
    into.soft_keys |= other.soft_keys
    have = {k.key for _, k in into.models}
    into.models.extend((s, k) for s, k in other.models if k.key not in have)
    into.gtins |= other.gtins
    if into.hazard_class == "none":
        into.hazard_class = other.hazard_class


# --------------------------------------------------------------------------- matcher


class RecallMatcher:
    """Matches listings to recalls; see the module notes for the rules and scores.

    Parameters
    ----------
    records
        Recall records: rows of the core ``recalls`` table (``source``,
        ``recall_number``, ``title``, ``brands``, ``models``, ``hazard``,
        ``attributes`` with ``description``, ``hazard_type``, ``producer`` and
        ``extra``), or records of :mod:`crawlers.parse.recalls` (``external_id``,
        ``description`` … at the top level). Two records of one recall (same source
        and number) are merged.
    aliases
        Brand aliases; default the shipped ones
        (:meth:`~risk_models.recalls.aliases.BrandAliases.shipped`).
    min_score
        Matches scoring below this are left out.
    check_category
        Compare the product category of the recall (from its product name) with that
        of the listing (from its title), by the keyword rules of
        :class:`transforms.categories.CategoryMapper`: when both are clear and differ,
        the score is halved and ``matched_on`` ends in ``+other_category``. One brand
        can use one code for a kettle and a rice cooker; a recall of the kettle is not
        a recall of the rice cooker.

    Examples
    --------
    >>> m = RecallMatcher([{"source": "cpsc", "recall_number": "24100",
    ...     "brands": ["Midea"], "models": ["MK-15S05A"], "hazard": "fire hazard"}])
    >>> m.match("美的电水壶 1.5L", "美的", "mk15s05a型")
    [RecallMatch(recall_id='24100', source='cpsc', score=0.95, matched_on='brand+model', brand='Midea', model='MK-15S05A', hazard_class='fire')]
    >>> m.match("美的电水壶", "美的", "MK-15S05B")
    []
    """

    def __init__(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        aliases: BrandAliases | None = None,
        min_score: float = DEFAULT_MIN_SCORE,
        check_category: bool = True,
    ) -> None:
        if not 0 <= min_score <= 1:
            raise ValueError(f"min_score must be within [0, 1], got {min_score}")
        self.aliases = aliases if aliases is not None else BrandAliases.shipped()
        self.min_score = min_score
        self.check_category = check_category
        self._categories: Any = None  # the category rules, loaded on first need
        self._recall_category: dict[int, str | None] = {}
        self._recalls: list[_Recall] = []
        by_id: dict[tuple[str, str], int] = {}
        for record in records:
            rec = _recall_of(record)
            ident = (rec.source, rec.recall_id)
            if ident in by_id:
                _merge(self._recalls[by_id[ident]], rec)
            else:
                by_id[ident] = len(self._recalls)
                self._recalls.append(rec)
        # model key → (recall index, the model as the recall writes it, its base key)
        self._by_key: dict[str, list[tuple[int, str, str]]] = {}
        self._by_base: dict[str, list[tuple[int, str, str]]] = {}
        self._by_gtin: dict[str, list[int]] = {}
        for i, rec in enumerate(self._recalls):
            self._prepare(rec)
            for shown, key in rec.models:
                entry = (i, shown, key.base)
                self._by_key.setdefault(key.key, []).append(entry)
                if key.variant is not None:
                    self._by_base.setdefault(key.base, []).append(entry)
            for g in rec.gtins:
                self._by_gtin.setdefault(g, []).append(i)
        self._brand_cache: dict[str | None, _Brand] = {}

    @classmethod
    def from_warehouse(
        cls,
        conn: Connection,
        *,
        aliases: BrandAliases | None = None,
        min_score: float = DEFAULT_MIN_SCORE,
        check_category: bool = True,
    ) -> RecallMatcher:
        """A matcher over the core ``recalls`` table, with the shipped aliases and those
        learned from the warehouse's listings (unless ``aliases`` is given)."""
        from ecqm.warehouse.schema import recalls

        if aliases is None:
            aliases = BrandAliases.from_warehouse(conn)
        cols = [
            recalls.c[c]
            for c in (
                "source",
                "recall_number",
                "title",
                "product_name",
                "brands",
                "models",
                "hazard",
                "attributes",
                "published_on",
            )
        ]
        rows = conn.execute(select(*cols).order_by(recalls.c.id)).mappings()
        return cls(rows, aliases=aliases, min_score=min_score, check_category=check_category)

    def __len__(self) -> int:
        return len(self._recalls)

    def __repr__(self) -> str:
        return (
            f"RecallMatcher({len(self)} recalls, {len(self._by_key)} model keys, {self.aliases!r})"
        )

    def _prepare(self, rec: _Recall) -> None:
        root = self.aliases.root
        rec.roots = frozenset(root(k) for k in rec.keys)
        rec.soft_roots = frozenset(root(k) for k in rec.soft_keys)
        names: set[str] = set(rec.keys | rec.soft_keys)
        for r in rec.roots | rec.soft_roots:
            names |= self.aliases.members(r)
        rec.latin = tuple(sorted(n for n in names if not is_cjk_key(n)))
        rec.cjk_names = tuple(sorted(n for n in names if is_cjk_key(n) and len(n) >= 2))
        rec.latin_names = tuple(n for n in rec.latin if len(n) >= 3)

    # ------------------------------------------------------------------ categories
    def _category(self, text: str | None) -> str | None:
        """The category a product name or title names by keyword rule, else None."""
        if not text:
            return None
        if self._categories is None:
            from transforms.categories import CategoryMapper

            self._categories = CategoryMapper(use_model=False)
        found = self._categories.map(None, text)
        return found.code if found.method == "rule" else None

    def _other_category(self, i: int, title: str | None, listing: list[str | None]) -> bool:
        """Whether recall ``i`` and the listing clearly name different categories."""
        if i not in self._recall_category:
            self._recall_category[i] = self._category(self._recalls[i].product)
        theirs = self._recall_category[i]
        if theirs is None:
            return False
        if not listing:
            listing.append(self._category(title))
        return listing[0] is not None and listing[0] != theirs

    # ------------------------------------------------------------------ matching
    def _brand(self, text: str | None) -> _Brand:
        found = self._brand_cache.get(text)
        if found is None:
            keys = brand_keys(text)
            found = _Brand(
                keys,
                frozenset(self.aliases.root(k) for k in keys),
                tuple(k for k in keys if not is_cjk_key(k)),
                any(is_cjk_key(k) for k in keys),
            )
            if len(self._brand_cache) > 200_000:
                self._brand_cache.clear()
            self._brand_cache[text] = found
        return found

    def _relation(self, brand: _Brand, rec: _Recall, title: _Title) -> str | None:
        """``brand``, ``brand~fuzzy``, ``no_brand``, or None when the brands differ."""
        if rec.roots:
            if not brand.keys:
                return _SAME if title.names(rec.cjk_names, rec.latin_names) else _UNKNOWN
            if brand.roots & rec.roots:
                return _SAME
            if any(near_spelling(a, b) for a in brand.latin for b in rec.latin):
                return _NEAR
            if not brand.anchored and title.names(rec.cjk_names, rec.latin_names):
                return _NEAR
            return _DISTINCT
        if rec.soft_roots and (
            (brand.roots & rec.soft_roots)
            or (not brand.keys and title.names(rec.cjk_names, rec.latin_names))
        ):
            return _SAME
        return _UNKNOWN

    def _gtin_hits(self, gtin: str | None) -> list[int]:
        """Recalls naming the listing's barcode; digits are looked up as written first,
        then normalised (a valid check digit, UPC-A and GTIN-14 folded)."""
        if not gtin or not self._by_gtin:
            return []
        raw = gtin.strip()
        found = self._by_gtin.get(raw)
        if found is not None:
            return found
        if len(raw) == 13 and raw.isascii() and raw.isdigit():
            return []  # already in key form, and not a recalled barcode
        g = normalise_gtin(raw)
        return self._by_gtin.get(g, []) if g else []

    def _listing_models(self, model: str | None, brand: _Brand) -> list[ModelKey]:
        if not model:
            return []
        return [_without_brand(k, brand.latin) for _, k in _models_of(model)]

    def match(
        self,
        title: str | None,
        brand: str | None,
        model: str | None,
        gtin: str | None = None,
        *,
        min_score: float | None = None,
    ) -> list[RecallMatch]:
        """The recalls one listing matches, best first (see the module notes)."""
        floor = self.min_score if min_score is None else min_score
        b = self._brand(brand)
        t = _Title(title)
        # recall index → (model evidence, the recall's model as written, its base key)
        found: dict[int, list[tuple[str, str, str]]] = {}

        def note(hits: list[tuple[int, str, str]] | None, evidence: str) -> None:
            for i, shown, base in hits or ():
                found.setdefault(i, []).append((evidence, shown, base))

        field_keys: set[str] = set()
        for key in self._listing_models(model, b):
            field_keys.update((key.key, key.base))
            note(self._by_key.get(key.key), "model")
            if key.variant is not None:
                note(self._by_key.get(key.base), "model~fuzzy")
            else:
                note(self._by_base.get(key.base), "model~fuzzy")
        for code in title_code_candidates(title):
            if code not in field_keys and code in self._by_key and is_plausible_code(code):
                note(self._by_key[code], "model_in_title")
        out: dict[int, RecallMatch] = {}
        listing_category: list[str | None] = []  # computed once, when first needed
        for i, evidence in found.items():
            rec = self._recalls[i]
            relation = self._relation(b, rec, t)
            if relation is _DISTINCT:
                continue
            for kind, shown, base in evidence:
                if relation == _UNKNOWN and not is_strong_model(base):
                    continue
                if (relation == _NEAR or kind == "model_in_title") and not is_plausible_code(base):
                    continue
                score = round(MODEL_EVIDENCE[kind] * BRAND_EVIDENCE[relation], 3)
                if i in out and score <= out[i].score:
                    continue
                matched_on = f"{relation}+{kind}"
                if self.check_category and self._other_category(i, title, listing_category):
                    score = round(score * OTHER_CATEGORY_FACTOR, 3)
                    matched_on += "+other_category"
                out[i] = RecallMatch(
                    rec.recall_id,
                    rec.source,
                    score,
                    matched_on,
                    _shown_brand(rec),
                    shown,
                    rec.hazard_class,
                )
        for i in self._gtin_hits(gtin):
            rec = self._recalls[i]
            relation = self._relation(b, rec, t)
            score = GTIN_SCORE if relation is not _DISTINCT else GTIN_CONFLICT_SCORE
            if i not in out or score > out[i].score:
                out[i] = RecallMatch(
                    rec.recall_id,
                    rec.source,
                    score,
                    "gtin",
                    _shown_brand(rec),
                    None,
                    rec.hazard_class,
                )
        return sorted(
            (m for m in out.values() if m.score >= floor),
            key=lambda m: (-m.score, m.source, m.recall_id),
        )

    def match_many(
        self, rows: Iterable[Mapping[str, Any] | Sequence[Any]], *, min_score: float | None = None
    ) -> list[list[RecallMatch]]:
        """:meth:`match` for each row, in order.

        A row is a mapping with ``title``, ``brand``, ``model`` and optionally ``gtin``
        (``brand_text`` and ``model_text`` are read too), or a sequence
        ``(title, brand, model[, gtin])``.
        """
        return [m for _, m in self.iter_matches(rows, min_score=min_score)]

    def iter_matches(
        self, rows: Iterable[Any], *, min_score: float | None = None
    ) -> Iterator[tuple[Any, list[RecallMatch]]]:
        """``(row, matches)`` for each row as it comes (for streaming large inputs)."""
        for row in rows:
            title, brand, model, gtin = _fields(row)
            yield row, self.match(title, brand, model, gtin, min_score=min_score)


def _shown_brand(rec: _Recall) -> str | None:
    return rec.brands[0] if rec.brands else None


def _fields(row: Any) -> tuple[Any, Any, Any, Any]:
    if isinstance(row, Mapping):
        return (
            row.get("title"),
            row.get("brand", row.get("brand_text")),
            row.get("model", row.get("model_text")),
            row.get("gtin"),
        )
    values = list(row) + [None] * 4
    return values[0], values[1], values[2], values[3]
