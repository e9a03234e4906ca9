"""Incremental product resolution: :class:`ProductResolver`.

Each listing is matched to a product by the strongest evidence it carries, in order:

1. ``gtin`` — a valid barcode already seen names that product;
2. ``brand_model`` — the model code already seen with the same brand (or with a brand
   spelling that cannot be told apart, for specific codes only); without a model field,
   a model code written in the title;
3. ``title`` — a near-identical title among products of the same brand (or, without a
   brand, of the same category) whose model does not contradict;
4. ``new`` — otherwise a new product.

A listing seen before (same platform and external id) keeps its product as long as its
page does not contradict it, so that daily re-crawls do not move listings around.

Why these rules. Barcodes are assigned per article by GS1 and are the only identifier
shops do not respell, so they come first; a barcode is still ignored when the model
contradicts it and the brand does not confirm it (a shop that copied another product's
barcode). Model codes are the manufacturer's identifier and, once separators and case
are folded, two products of one brand share a code only by mistake. Brands are the weak
part: the same brand appears as Chinese name, English alias, pinyin or a counterfeit
misspelling (``MEIDOO``, ``美度``, ``Meidu``, ``MEID0O``). Two brand spellings are the
*same* brand when one brand field has given both (``MEIDOO/美度``: learned aliases),
*different* when each is tied to a different Chinese name, and otherwise undecided; an
undecided pair may share a product only through a specific model code (letters and
digits, five characters or more, not a quantity such as ``1500W``) and a compatible
category, and only when exactly one product fits. A code read from a title identifies
a product but never becomes its model, because titles also carry codes of standards and
parts (ISOFIX, 18650). Titles are compared last and strictly, because listings of
different products of one brand and category are worded alike.

Keys and state. A product key is made from the first listing's identifying facts
(``gtin:6901234567892``, ``bm:美度:MD53P13A``, ``m:MD53P13A``, ``t:<hash>``), never from
a counter, and everything a decision reads is in the per-product state
(:meth:`ProductResolver.product_state`), which is JSON and goes into
``products.attributes``. :meth:`ProductResolver.from_states` rebuilds an equivalent
resolver from those states, so resolving listings A then B in one process gives the
same keys as resolving A, storing, rebuilding, then B. Ties are broken by product key,
never by dict or arrival order, so rebuilding in any order gives the same decisions.

Speed. Every stage is a dict lookup except the title stage, which scores titles only
within a block (same brand, and category) with rapidfuzz; brand and model keys are
cached per spelling.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Literal

from rapidfuzz import fuzz

from transforms.normalise import clean_text
from transforms.resolve.keys import (
    brand_display_parts,
    is_cjk_key,
    is_strong_model,
    model_display,
    normalise_brand,
    normalise_gtin,
    normalise_model,
    title_codes,
    title_key,
)

__all__ = [
    "STATE_VERSION",
    "ListingFacts",
    "Method",
    "ProductRecord",
    "ProductResolver",
    "Resolution",
]

Method = Literal["gtin", "brand_model", "title", "new"]
STATE_VERSION = 1

TITLE_THRESHOLD = 95.0
"""Least rapidfuzz ``ratio`` (0–100) of reduced titles for a title match.

Titles of different products of one brand and category are composed of the same few
words (电热水壶 家用大容量 防干烧), so anything short of near-identical is no evidence."""
MIN_TITLE_KEY = 6
"""Reduced titles shorter than this say too little to match on."""
MAX_TITLE_BLOCK = 5000
"""Title matching is skipped when the block of candidates is larger than this."""

SCORE_SAME_BRAND = 1.0
SCORE_UNDECIDED_BRAND = 0.9
SCORE_TITLE_CODE = 0.85

# Caps on per-product lists, so a product's state stays small whatever the shops write.
_MAX_BRANDS = 24
_MAX_ALIASES = 24
_MAX_MODELS = 16
_MAX_SPELLINGS = 16
_MAX_GTINS = 16
_MAX_TITLES = 3
_MAX_PRODUCERS = 8
_KEY_LIMIT = 128  # products.product_key is VARCHAR(128)

# Column widths of the warehouse products table.
_BRAND_WIDTH, _MODEL_WIDTH, _PRODUCER_WIDTH = 128, 128, 256


@dataclass(frozen=True, slots=True)
class ListingFacts:
    """What a listing says about the product it sells, as scraped (not yet normalised)."""

    platform: str
    external_id: str
    title: str | None
    brand: str | None = None
    model: str | None = None
    gtin: str | None = None
    category_code: str | None = None
    producer: str | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    """The product a listing was matched to, how, and how sure the match is.

    ``score`` is 1.0 for a barcode or same-brand model match, lower for weaker evidence
    (an undecided brand spelling, a model code read from the title, a title similarity
    as ratio/100), and 0.0 for ``new``: nothing matched.
    """

    product_key: str
    method: Method
    score: float
    moved_from: str | None = field(default=None, repr=False)
    """The product this listing was linked to until now, when it has moved: that
    product's state changed too (it lost the listing) and should be stored again."""


@dataclass(frozen=True, slots=True)
class ProductRecord:
    """One row of the warehouse ``products`` table (without ``product_key``)."""

    brand: str | None
    model: str | None
    name: str | None
    category_code: str | None
    gtin: str | None
    producer_name: str | None
    attributes: dict[str, Any]

    def to_row(self, product_key: str) -> dict[str, Any]:
        """The row as a dict keyed by column name."""
        return {
            "product_key": product_key,
            "brand": self.brand,
            "model": self.model,
            "name": self.name,
            "category_code": self.category_code,
            "gtin": self.gtin,
            "producer_name": self.producer_name,
            "attributes": self.attributes,
        }


@dataclass(slots=True)
class _Evidence:
    """A listing's identifying facts, normalised once."""

    parts: tuple[tuple[str, str], ...]  # brand (key, display) per name
    bkeys: tuple[str, ...]
    model_key: str | None
    gtin: str | None
    category: str | None
    codes: tuple[str, ...]  # model codes in the title, when there is no model field

    @classmethod
    def of(cls, facts: ListingFacts, model_key: Any) -> _Evidence:
        parts = brand_display_parts(facts.brand)
        model = model_key(facts.model, parts)
        return cls(
            parts=parts,
            bkeys=tuple(k for k, _ in parts),
            model_key=model,
            gtin=normalise_gtin(facts.gtin),
            category=facts.category_code or None,
            codes=() if model else title_codes(facts.title),
        )


class _Aliases:
    """Brand keys known to name one brand, as a union-find over keys.

    Every name is its own group until a brand field pairs it with another. A group is
    *anchored* when it holds a Chinese name; two anchored groups are different brands.
    The canonical key of a group depends only on its members (Chinese first, shortest,
    then alphabetical), so it does not depend on the order in which aliases were learned.
    """

    __slots__ = ("_anchored", "_canonical", "_members", "_parent")

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}
        self._members: dict[str, set[str]] = {}
        self._anchored: set[str] = set()
        self._canonical: dict[str, str] = {}

    def find(self, key: str) -> str:
        parent = self._parent.get(key)
        if parent is None or parent == key:
            return key
        root = parent
        while self._parent[root] != root:
            root = self._parent[root]
        while key != root:  # path compression
            key, self._parent[key] = self._parent[key], root
        return root

    def members(self, key: str) -> set[str]:
        root = self.find(key)
        return self._members.get(root) or {key}

    def anchored(self, root: str) -> bool:
        return root in self._anchored if root in self._members else is_cjk_key(root)

    def canonical(self, key: str) -> str:
        root = self.find(key)
        if root not in self._members:
            return key
        canon = self._canonical.get(root)
        if canon is None:
            canon = min(self._members[root], key=lambda k: (not is_cjk_key(k), len(k), k))
            self._canonical[root] = canon
        return canon

    def union(self, keys: Iterable[str]) -> None:
        roots = sorted({self.find(k) for k in keys})
        if len(roots) < 2:
            return
        for root in roots:
            if root not in self._members:
                self._parent[root] = root
                self._members[root] = {root}
                if is_cjk_key(root):
                    self._anchored.add(root)
        big = max(roots, key=lambda r: (len(self._members[r]), r))
        for root in roots:
            if root == big:
                continue
            self._parent[root] = big
            self._members[big] |= self._members.pop(root)
            if root in self._anchored:
                self._anchored.discard(root)
                self._anchored.add(big)
            self._canonical.pop(root, None)
        self._canonical.pop(big, None)


def _bump(counts: dict[str, int], key: str, cap: int, step: int = 1) -> None:
    """Count ``key`` (``step`` 0: only note it if new), up to ``cap`` distinct keys."""
    if key in counts:
        counts[key] += step
    elif len(counts) < cap:
        counts[key] = 1


def _insert(keys: list[str], key: str) -> None:
    """Insert into a sorted list of unique keys."""
    i = bisect_left(keys, key)
    if i == len(keys) or keys[i] != key:
        keys.insert(i, key)


def _most_common(counts: dict[str, int], prefer: Any = None) -> str | None:
    if not counts:
        return None
    if prefer is None:
        return min(counts, key=lambda k: (-counts[k], k))
    return min(counts, key=lambda k: (-counts[k], prefer(k), k))


@dataclass(slots=True)
class _Product:
    """Mutable per-product state; :meth:`state_core` is its JSON form."""

    key: str
    brand_counts: dict[str, int] = field(default_factory=dict)
    brand_display: dict[str, str] = field(default_factory=dict)
    aliases: set[tuple[str, ...]] = field(default_factory=set)
    model_key: str | None = None
    model_variants: set[str] = field(default_factory=set)
    model_spellings: dict[str, int] = field(default_factory=dict)
    gtins: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    category_code: str | None = None
    producers: dict[str, int] = field(default_factory=dict)
    # "platform:external_id" → how many times that listing has moved between products.
    listing_refs: dict[str, int] = field(default_factory=dict)
    _indexed: bool = False  # in the title blocks yet
    _title_keys: tuple[str, ...] | None = None
    _title_codes: frozenset[str] | None = None

    def title_keys(self) -> tuple[str, ...]:
        if self._title_keys is None:
            remove = tuple(self.brand_counts)
            self._title_keys = tuple(title_key(t, remove) for t in self.titles)
        return self._title_keys

    def codes(self) -> frozenset[str]:
        """Model codes this product is known by: its model keys and codes in its titles."""
        if self._title_codes is None:
            found = set(self.model_variants)
            for t in self.titles:
                found.update(title_codes(t))
            self._title_codes = frozenset(found)
        return self._title_codes

    def state_core(self) -> dict[str, Any]:
        return {
            "brand_names": {
                k: [self.brand_display.get(k, k), n] for k, n in sorted(self.brand_counts.items())
            },
            "brand_aliases": [list(a) for a in sorted(self.aliases)],
            "model_key": self.model_key,
            "model_variants": sorted(self.model_variants),
            "model_spellings": dict(sorted(self.model_spellings.items())),
            "gtins": list(self.gtins),
            "titles": list(self.titles),
            "category_code": self.category_code,
            "producers": dict(sorted(self.producers.items())),
            "listings": len(self.listing_refs),
            "listing_refs": dict(sorted(self.listing_refs.items())),
        }

    @classmethod
    def from_state(cls, key: str, state: dict[str, Any]) -> _Product:
        version = state.get("version", STATE_VERSION)
        if version != STATE_VERSION:
            raise ValueError(f"product {key!r}: state version {version!r} is not supported")
        p = cls(key)
        for k, (display, n) in (state.get("brand_names") or {}).items():
            p.brand_counts[k] = int(n)
            p.brand_display[k] = display
        p.aliases = {tuple(a) for a in state.get("brand_aliases") or ()}
        p.model_key = state.get("model_key")
        p.model_variants = set(state.get("model_variants") or ())
        p.model_spellings = {k: int(n) for k, n in (state.get("model_spellings") or {}).items()}
        p.gtins = list(state.get("gtins") or ())
        p.titles = list(state.get("titles") or ())
        p.category_code = state.get("category_code")
        p.producers = {k: int(n) for k, n in (state.get("producers") or {}).items()}
        p.listing_refs = {ref: int(n) for ref, n in (state.get("listing_refs") or {}).items()}
        return p


def _short_hash(*parts: str | None) -> str:
    raw = "\x1f".join(p or "" for p in parts)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def _fit_key(key: str) -> str:
    if len(key) <= _KEY_LIMIT - 8:
        return key
    return f"{key[: _KEY_LIMIT - 30]}#{_short_hash(key)}"


@lru_cache(maxsize=1 << 16)
def _clean(text: str | None) -> str | None:
    return clean_text(text)


def _clip(value: str | None, width: int) -> str | None:
    return value[:width] if value is not None else None


class _Blocks:
    """Product keys grouped for title matching: by brand name, brand and category, category.

    Category ``""`` stands for none. Adding is idempotent, so a product's entries can be
    re-added after every listing without checking what is already there.
    """

    __slots__ = ("by_brand", "by_brand_category", "by_category")

    def __init__(self) -> None:
        self.by_brand: dict[str, set[str]] = {}
        self.by_brand_category: dict[tuple[str, str], set[str]] = {}
        self.by_category: dict[str, set[str]] = {}

    def add(self, key: str, brands: Iterable[str], category: str) -> None:
        self.by_category.setdefault(category, set()).add(key)
        for brand in brands:
            self.by_brand.setdefault(brand, set()).add(key)
            self.by_brand_category.setdefault((brand, category), set()).add(key)

    def remove(self, key: str, brands: Iterable[str], category: str) -> None:
        self.by_category.get(category, set()).discard(key)
        for brand in brands:
            self.by_brand.get(brand, set()).discard(key)
            self.by_brand_category.get((brand, category), set()).discard(key)

    def block(self, names: Iterable[str] | None, category: str | None) -> set[str]:
        """Products of these brand names (and of the category or of none), or of the category."""
        if names is None:
            return self.by_category.get(category, set()) if category is not None else set()
        found: set[str] = set()
        for name in names:
            if category is None:
                found |= self.by_brand.get(name, set())
            else:
                found |= self.by_brand_category.get((name, category), set())
                found |= self.by_brand_category.get((name, ""), set())
        return found


class ProductResolver:
    """Matches listings to products, one at a time, and remembers what it has learned.

    Deterministic: the keys depend only on the sequence of listings resolved (and on the
    states a resolver was rebuilt from), not on batching, process, or dict order.

    >>> r = ProductResolver()
    >>> r.resolve(ListingFacts("youpin", "1", "美度电水壶", "MEIDOO/美度", "MD-53P13A")).product_key
    'bm:美度:MD53P13A'
    >>> r.resolve(ListingFacts("lehuo", "9", "电水壶", "Meidoo", "md53p13a型"))
    Resolution(product_key='bm:美度:MD53P13A', method='brand_model', score=1.0)
    """

    def __init__(self) -> None:
        self._products: dict[str, _Product] = {}
        self._aliases = _Aliases()
        self._by_gtin: dict[str, str] = {}
        self._by_listing: dict[str, str] = {}  # "platform:external_id" → product key
        self._by_model: dict[str, list[str]] = {}
        # Codes in the titles of products that have no model key yet.
        self._by_title_code: dict[str, list[str]] = {}
        self._blocks = _Blocks()  # every product
        self._blocks_modelless = _Blocks()  # products without a model key

    # ------------------------------------------------------------------ public API
    def __len__(self) -> int:
        return len(self._products)

    def __contains__(self, product_key: object) -> bool:
        return product_key in self._products

    def resolve(self, facts: ListingFacts) -> Resolution:
        """Match one listing to a product (creating it if none matches) and learn from it.

        A listing seen before (same platform and external id) stays with its product
        unless its page now contradicts it (another barcode, brand or model code), so
        re-crawling a listing every day does not move it between products.
        """
        ev = _Evidence.of(facts, self._model_key)
        ref = f"{facts.platform}:{facts.external_id}"
        linked = self._by_listing.get(ref)
        if linked is not None:
            product = self._products[linked]
            kept = self._confirm(product, ev, facts.title)
            if kept is not None:
                return self._attach(product, facts, ev, ev.model_key, kept[0], kept[1], ref)
        product, method, score, model_key = self._match(facts, ev)
        moves = 0
        if linked is not None and linked != product.key:
            moves = self._products[linked].listing_refs.pop(ref) + 1
        resolution = self._attach(product, facts, ev, model_key, method, score, ref, moves)
        if moves:
            return replace(resolution, moved_from=linked)
        return resolution

    def _match(
        self, facts: ListingFacts, ev: _Evidence
    ) -> tuple[_Product, Method, float, str | None]:
        """The product for a listing by the rules in order; the last item is the model
        key the product may learn from this listing (none from a title)."""
        bkeys, model_key, category = ev.bkeys, ev.model_key, ev.category
        if ev.gtin is not None and ev.gtin in self._by_gtin:
            product = self._products[self._by_gtin[ev.gtin]]
            if not self._gtin_contradicted(product, bkeys, model_key):
                return product, "gtin", 1.0, model_key
            ev.gtin = None  # the barcode belongs to another product; do not record it here

        if model_key is not None:
            found = self._match_model(model_key, bkeys, category)
            if found is not None:
                return found[0], "brand_model", found[1], model_key
        for code in ev.codes:
            found = self._match_model(code, bkeys, category)
            if found is not None:
                # A code read from a title identifies, but is not taken as the model:
                # titles also hold codes of standards and accessories (ISOFIX, 18650).
                return found[0], "brand_model", min(found[1], SCORE_TITLE_CODE), None

        found_title = self._match_title(facts.title, bkeys, model_key, ev.codes, category)
        if found_title is not None:
            return found_title[0], "title", found_title[1] / 100, model_key

        product = _Product(self._new_key(facts, bkeys, model_key, ev.gtin, category))
        self._products[product.key] = product
        return product, "new", 0.0, model_key

    def _confirm(
        self, product: _Product, ev: _Evidence, title: str | None
    ) -> tuple[Method, float] | None:
        """How a listing seen before still fits its product, or ``None`` if it no longer
        does: a barcode of another product, a brand tied to another Chinese name, or a
        model code the product is not known by."""
        relation = self._relation(ev.bkeys, product)
        if relation == "distinct":
            return None
        brand_score = SCORE_SAME_BRAND if relation == "same" else SCORE_UNDECIDED_BRAND
        if ev.gtin is not None:
            if ev.gtin in product.gtins:
                return "gtin", 1.0
            if ev.gtin in self._by_gtin:
                return None
        if ev.model_key is not None:
            if ev.model_key in product.model_variants:
                return "brand_model", brand_score
            if product.model_key is not None:
                return None
            if ev.model_key in product.codes():
                return "brand_model", min(brand_score, SCORE_TITLE_CODE)
        elif set(ev.codes) & product.codes():
            return "brand_model", min(brand_score, SCORE_TITLE_CODE)
        # Nothing on the page says otherwise: the same listing, perhaps reworded.
        mine = title_key(title, ev.bkeys)
        ratio = max((fuzz.ratio(mine, t) for t in product.title_keys()), default=0.0)
        return "title", ratio / 100

    def resolve_many(self, listings: Iterable[ListingFacts]) -> list[Resolution]:
        """:meth:`resolve` each listing in order."""
        return [self.resolve(f) for f in listings]

    def canonical_brand(self, text: str | None) -> str | None:
        """The brand key of a brand text, mapped through the aliases learned so far.

        ``normalise_brand("MEIDOO")`` is ``meidoo``; once a listing has shown
        ``MEIDOO/美度``, ``canonical_brand("MEIDOO")`` is ``美度``.
        """
        key = normalise_brand(text)
        return self._aliases.canonical(key) if key is not None else None

    def brand_aliases(self, text: str | None) -> list[str]:
        """All brand keys learned to name the same brand as ``text``, sorted."""
        key = normalise_brand(text)
        return sorted(self._aliases.members(key)) if key is not None else []

    def product_state(self, product_key: str) -> dict[str, Any]:
        """The JSON-safe state of one product, for ``products.attributes``.

        Holds everything matching reads: brand names with their counts and the aliases
        learned from them, model key, variants and spellings, barcodes, up to three
        titles, category, producers, and the listings linked to the product
        (``listing_refs``: ``platform:external_id`` → how often the listing has moved
        between products). Counts are of listings, not of crawls. The display values (``brand``, ``brand_key``, ``model``, ``name``,
        ``producer``) are there for readers of the table. :meth:`from_states` reads the
        state back.
        """
        product = self._products[product_key]
        core = product.state_core()
        return {
            "version": STATE_VERSION,
            "brand": self._display_brand(product),
            "brand_key": self._brand_key(product),
            "model": self._display_model(product),
            "name": self._name(product),
            "producer": _most_common(product.producers),
            **core,
        }

    @classmethod
    def from_states(cls, states: Iterable[tuple[str, dict[str, Any]]]) -> ProductResolver:
        """A resolver equivalent to the one whose :meth:`product_state` values these are.

        The states may come in any order, and the state of a product that a listing has
        since left may be the old one (a caller that stores only the products it got
        back from :meth:`resolve`): the listing goes with the state that saw it move
        last. Raises ``ValueError`` for a state of an unknown version, a product key
        given twice, or one listing in two products with no way to tell which is newer.
        """
        resolver = cls()
        for key, state in states:
            if key in resolver._products:
                raise ValueError(f"product {key!r} is given twice")
            resolver._products[key] = _Product.from_state(key, state)
        for key in sorted(resolver._products):
            product = resolver._products[key]
            for group in sorted(product.aliases):
                resolver._aliases.union(group)
            for gtin in product.gtins:
                resolver._by_gtin.setdefault(gtin, key)
            for ref, moves in list(product.listing_refs.items()):
                other = resolver._by_listing.setdefault(ref, key)
                if other == key:
                    continue
                # A listing that moved: the product it left may not have been stored
                # again. The state with more moves is the newer one.
                theirs = resolver._products[other].listing_refs[ref]
                if moves == theirs:
                    raise ValueError(f"listing {ref!r} is in two products: {other!r}, {key!r}")
                if moves > theirs:
                    del resolver._products[other].listing_refs[ref]
                    resolver._by_listing[ref] = key
                else:
                    del product.listing_refs[ref]
            resolver._index(product, sorted(product.model_variants))
            resolver._reblock(product, [], None, False, True)
        return resolver

    def product_keys(self) -> list[str]:
        """All product keys, sorted."""
        return sorted(self._products)

    def products(self) -> Iterator[tuple[str, ProductRecord]]:
        """``(product_key, record)`` for every product, sorted by key, for the warehouse."""
        for key in sorted(self._products):
            yield key, self.record(key)

    def record(self, product_key: str) -> ProductRecord:
        """The warehouse row of one product; values are clipped to the column widths."""
        product = self._products[product_key]
        state = self.product_state(product_key)
        return ProductRecord(
            brand=_clip(state["brand"], _BRAND_WIDTH),
            model=_clip(state["model"], _MODEL_WIDTH),
            name=state["name"],
            category_code=product.category_code,
            gtin=product.gtins[0] if product.gtins else None,
            producer_name=_clip(state["producer"], _PRODUCER_WIDTH),
            attributes=state,
        )

    # ------------------------------------------------------------------ matching
    def _model_key(self, model: str | None, parts: tuple[tuple[str, str], ...]) -> str | None:
        key = normalise_model(model)
        if key is None or not parts:
            return key
        # A model field that starts with the brand (MEIDOO MD-53P13A, 美度MD-53P13A):
        # the brand is not part of the code. CJK ends are already dropped.
        for brand_key, _ in parts:
            upper = brand_key.upper()
            if not is_cjk_key(brand_key) and key.startswith(upper) and len(key) > len(upper):
                rest = key[len(upper) :]
                if is_strong_model(rest):
                    return rest
        return key

    def _relation(self, bkeys: tuple[str, ...], product: _Product) -> str:
        """``same``, ``distinct`` or ``undecided`` brand, listing against product."""
        if not bkeys or not product.brand_counts:
            return "undecided"
        find = self._aliases.find
        mine = {find(k) for k in bkeys}
        theirs = {find(k) for k in product.brand_counts}
        if mine & theirs:
            return "same"
        anchored = self._aliases.anchored
        if any(anchored(r) for r in mine) and any(anchored(r) for r in theirs):
            return "distinct"
        return "undecided"

    def _gtin_contradicted(
        self, product: _Product, bkeys: tuple[str, ...], model_key: str | None
    ) -> bool:
        if model_key is None or not product.model_variants or model_key in product.model_variants:
            return False
        return self._relation(bkeys, product) != "same"

    @staticmethod
    def _category_fits(product: _Product, category: str | None) -> bool:
        return category is None or product.category_code in (None, category)

    def _match_model(
        self, model_key: str, bkeys: tuple[str, ...], category: str | None
    ) -> tuple[_Product, float] | None:
        """The product known by this model code, or else one whose title shows it.

        The second case is a product first seen on pages without a model field: its
        titles named the code (``美度电水壶 MD-53P13A``), and a later page gives it as
        the model.
        """
        found = self._pick(self._by_model.get(model_key), model_key, bkeys, category)
        if found is not None:
            return found
        found = self._pick(self._by_title_code.get(model_key), model_key, bkeys, category)
        if found is not None:
            return found[0], min(found[1], SCORE_TITLE_CODE)
        return None

    def _pick(
        self, keys: list[str] | None, model_key: str, bkeys: tuple[str, ...], category: str | None
    ) -> tuple[_Product, float] | None:
        if not keys:
            return None
        same: list[_Product] = []
        undecided: list[_Product] = []
        for key in keys:  # sorted
            product = self._products[key]
            if not self._category_fits(product, category):
                continue
            relation = self._relation(bkeys, product)
            if relation == "same":
                same.append(product)
            elif relation == "undecided":
                undecided.append(product)
        if same:
            # Prefer a product whose category is known to agree; then the smallest key.
            best = min(same, key=lambda p: (p.category_code != category, p.key))
            return best, SCORE_SAME_BRAND
        if len(undecided) == 1 and is_strong_model(model_key):
            return undecided[0], SCORE_UNDECIDED_BRAND
        return None

    def _match_title(
        self,
        title: str | None,
        bkeys: tuple[str, ...],
        model_key: str | None,
        codes: tuple[str, ...],
        category: str | None,
    ) -> tuple[_Product, float] | None:
        if not title:
            return None
        if not bkeys and category is None:
            return None
        listing_codes = {model_key} if model_key else set(codes)
        # With a model code, only products without one are candidates: a product with
        # another code is another product, and one with the same code was found above.
        blocks = self._blocks_modelless if listing_codes else self._blocks
        names: set[str] | None = None
        if bkeys:
            names = set()
            for k in bkeys:
                names |= self._aliases.members(k)
        block = blocks.block(names, category)
        if not block or len(block) > MAX_TITLE_BLOCK:
            return None
        mine = title_key(title, bkeys)
        if len(mine) < MIN_TITLE_KEY:
            return None
        best: tuple[float, str] | None = None
        for key in sorted(block):
            product = self._products[key]
            if not self._category_fits(product, category):
                continue
            if bkeys and self._relation(bkeys, product) != "same":
                continue
            if not bkeys and (category is None or product.category_code != category):
                continue
            # A model on both sides that differs means different products, whatever
            # the titles say.
            theirs = product.codes()
            if listing_codes and theirs and not listing_codes & theirs:
                continue
            for their in product.title_keys():
                ratio = fuzz.ratio(mine, their, score_cutoff=TITLE_THRESHOLD)
                if ratio and (best is None or (-ratio, key) < (-best[0], best[1])):
                    best = (ratio, key)
        if best is None:
            return None
        return self._products[best[1]], best[0]

    # ------------------------------------------------------------------ learning
    def _attach(
        self,
        product: _Product,
        facts: ListingFacts,
        ev: _Evidence,
        model_key: str | None,
        method: Method,
        score: float,
        ref: str,
        moves: int = 0,
    ) -> Resolution:
        """Link the listing to the product and learn what its page adds.

        Counts (of brand names, model spellings, producers) count listings: a listing
        seen again adds names it did not show before but is not counted twice.
        """
        parts, gtin = ev.parts, ev.gtin
        is_new = not product._indexed
        repeat = ref in product.listing_refs
        step = 0 if repeat else 1
        had_model = product.model_key is not None
        brands_before = list(product.brand_counts)
        category_before = product.category_code
        product.listing_refs.setdefault(ref, moves)
        self._by_listing[ref] = product.key
        new_brands = []
        for key, display in parts:
            if key not in product.brand_counts and len(product.brand_counts) < _MAX_BRANDS:
                new_brands.append(key)
                product.brand_display[key] = display
            _bump(product.brand_counts, key, _MAX_BRANDS, step)
        if len(parts) > 1:
            group = tuple(sorted(k for k, _ in parts))
            # Aliases are learned only when they are kept in the state, so that a
            # rebuilt resolver knows exactly the same ones.
            if group in product.aliases or len(product.aliases) < _MAX_ALIASES:
                product.aliases.add(group)
                self._aliases.union(group)
        new_models = []
        if model_key is not None:
            if product.model_key is None:
                product.model_key = model_key
            if (
                model_key not in product.model_variants
                and len(product.model_variants) < _MAX_MODELS
            ):
                product.model_variants.add(model_key)
                new_models.append(model_key)
            spelling = model_display(facts.model) if facts.model else None
            if spelling is not None:
                _bump(product.model_spellings, spelling, _MAX_SPELLINGS, step)
        if (
            gtin is not None
            and gtin not in self._by_gtin
            and gtin not in product.gtins
            and len(product.gtins) < _MAX_GTINS
        ):
            product.gtins.append(gtin)
            self._by_gtin[gtin] = product.key
        new_title = False
        if len(product.titles) < _MAX_TITLES:
            title = clean_text(facts.title)
            if title and title not in product.titles:
                product.titles.append(title)
                product._title_keys = product._title_codes = None
                new_title = True
        if new_brands or new_models:
            product._title_keys = product._title_codes = None
        if product.category_code is None and facts.category_code:
            product.category_code = facts.category_code
        producer = _clean(facts.producer)
        if producer:
            _bump(product.producers, producer, _MAX_PRODUCERS, step)
        if new_models or (product.model_key is None and new_title):
            self._index(product, new_models, drop_title_codes=not is_new and not had_model)
        if is_new or new_brands or product.category_code != category_before or not had_model:
            self._reblock(product, brands_before, category_before, had_model, is_new)
        return Resolution(product.key, method, score)

    def _index(
        self, product: _Product, models: Iterable[str], drop_title_codes: bool = False
    ) -> None:
        """Add a product's new model keys to the model index, and keep the title codes
        of products without a model key in theirs (all lists kept sorted).

        ``drop_title_codes``: the product has just learned its model, so its title codes
        leave the index.
        """
        key = product.key
        for model in models:
            _insert(self._by_model.setdefault(model, []), key)
        if product.model_key is None or drop_title_codes:
            codes = {c for t in product.titles for c in title_codes(t)}
            for code in codes:
                if product.model_key is None:
                    _insert(self._by_title_code.setdefault(code, []), key)
                elif key in self._by_title_code.get(code, ()):
                    self._by_title_code[code].remove(key)

    def _reblock(
        self,
        product: _Product,
        brands_before: list[str],
        category_before: str | None,
        had_model: bool,
        is_new: bool,
    ) -> None:
        """Put a product in the title blocks it now belongs to, out of those it left."""
        product._indexed = True
        key, category, before = product.key, product.category_code or "", category_before or ""
        for blocks, now, then in (
            (self._blocks, True, not is_new),
            (self._blocks_modelless, product.model_key is None, not is_new and not had_model),
        ):
            if then and (not now or category != before):
                blocks.remove(key, brands_before, before)
            if now:
                blocks.add(key, product.brand_counts, category)

    def _new_key(
        self,
        facts: ListingFacts,
        bkeys: tuple[str, ...],
        model_key: str | None,
        gtin: str | None,
        category: str | None,
    ) -> str:
        if gtin is not None:
            base = f"gtin:{gtin}"
        elif model_key is not None and bkeys:
            base = f"bm:{self._canonical_of(bkeys)}:{model_key}"
        elif model_key is not None:
            base = f"m:{model_key}"
        elif facts.title:
            base = f"t:{_short_hash(self._canonical_of(bkeys), category, title_key(facts.title))}"
        else:
            base = f"l:{_short_hash(facts.platform, facts.external_id)}"
        base = _fit_key(base)
        key, n = base, 1
        while key in self._products:
            n += 1
            key = f"{base}~{n}"
        return key

    # ------------------------------------------------------------------ display
    def _canonical_of(self, bkeys: tuple[str, ...]) -> str | None:
        if not bkeys:
            return None
        for key in bkeys:
            if is_cjk_key(key):
                return self._aliases.canonical(key)
        return self._aliases.canonical(bkeys[0])

    def _main_group(self, product: _Product) -> tuple[str, list[str]] | None:
        """The brand group most of the product's listings gave, and its keys there."""
        if not product.brand_counts:
            return None
        groups: dict[str, list[str]] = {}
        for key in product.brand_counts:
            groups.setdefault(self._aliases.find(key), []).append(key)
        totals = {root: sum(product.brand_counts[k] for k in keys) for root, keys in groups.items()}
        root = min(totals, key=lambda r: (-totals[r], self._aliases.canonical(r)))
        return root, groups[root]

    def _brand_key(self, product: _Product) -> str | None:
        main = self._main_group(product)
        return self._aliases.canonical(main[0]) if main else None

    def _display_brand(self, product: _Product) -> str | None:
        main = self._main_group(product)
        if main is None:
            return None
        root, keys = main
        canon = self._aliases.canonical(root)
        if is_cjk_key(canon):
            return product.brand_display.get(canon, canon)
        best = min(keys, key=lambda k: (-product.brand_counts[k], k))
        return product.brand_display.get(best, best)

    @staticmethod
    def _display_model(product: _Product) -> str | None:
        # Among equally frequent spellings, the one with separators as printed reads best.
        return _most_common(product.model_spellings, prefer=lambda s: ("-" not in s, " " in s))

    def _name(self, product: _Product) -> str | None:
        brand, model = self._display_brand(product), self._display_model(product)
        if model:
            return f"{brand} {model}" if brand else model
        return product.titles[0] if product.titles else brand
