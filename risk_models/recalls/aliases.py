"""Brand aliases: which brand names are one brand.

A recall from abroad names a brand in Latin script only (CPSC ``MEIDOO``), a SAMR
notice in Chinese (``美度``), and listings write either, both (``MEIDOO/美度``,
``美度（MEIDOO）``), the pinyin (``Meidu``) or a counterfeit misspelling (``MEID0O``).
:class:`BrandAliases` knows which names go together, from two places:

* a small versioned file of real-world pairs shipped with the package
  (``data/brand_aliases.yaml``: 美的/Midea, 小米/Xiaomi/MI, 飞利浦/Philips …);
* the warehouse: listings that product resolution put under one product
  (same ``products.id``) but that spell the brand differently
  (:meth:`BrandAliases.from_warehouse`).

Names are compared as the keys of :func:`transforms.resolve.keys.brand_parts`
(Chinese names cleaned of shop words, Latin names case-folded with punctuation
dropped), so ``Dr. Lebo`` and ``DR.LEBO`` are one name before any alias is needed.

Learning is careful, because one wrong alias joins two brands for good:

* names written together in one brand field (``MEIDOO/美度``) are aliases at once;
* names that only share a product must do so for ``min_support`` products or more
  (a product resolution mistake, or a shop writing another brand, happens once);
* two groups that each hold a different Chinese name are never joined (a Chinese
  name is the registered brand, so ``美的`` and ``美度`` stay apart whatever the
  listings say), and a shipped group is never joined to another shipped group;
* a name that is only a misspelling of a name already in the group (``meid0o`` of
  ``meidoo``) is not learned: the matcher treats misspellings as such, at a lower
  score, and an alias would hide that.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from functools import lru_cache
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Connection, select

from risk_models.recalls.keys import near_spelling
from transforms.resolve.keys import brand_parts, is_cjk_key

__all__ = ["DEFAULT_ALIASES_FILE", "BrandAliases", "brand_keys"]

DEFAULT_ALIASES_FILE = Path(__file__).resolve().parent / "data" / "brand_aliases.yaml"
MIN_SUPPORT = 2
"""Products that must pair two names before they are learned as aliases."""


@lru_cache(maxsize=1 << 16)
def brand_keys(text: str | None) -> tuple[str, ...]:
    """The name keys of one brand text (:func:`transforms.resolve.keys.brand_parts`).

    >>> brand_keys("美度（MEIDOO）"), brand_keys("Dr. Lebo")
    (('美度', 'meidoo'), ('drlebo',))
    """
    return brand_parts(text) if text else ()


class BrandAliases:
    """Groups of brand name keys that name one brand (a union-find over keys).

    ``groups`` are iterables of brand texts (``["美的", "Midea"]``); every name of a
    group is joined with the others. ``version`` says where the groups came from.

    >>> a = BrandAliases([["美度", "MEIDOO"], ["美的", "Midea"]])
    >>> a.same("MEIDOO/美度", "Meidoo"), a.same("美度", "Midea")
    (True, False)
    """

    def __init__(self, groups: Iterable[Iterable[str]] = (), *, version: str = "") -> None:
        self.version = version
        self._parent: dict[str, str] = {}
        self._members: dict[str, set[str]] = {}
        self._fixed: set[str] = set()  # roots of groups from the shipped file
        for group in groups:
            self.add([k for text in group for k in brand_keys(str(text))], force=True)

    # ------------------------------------------------------------------ building
    @classmethod
    def from_yaml(cls, path: str | Path | None = None) -> BrandAliases:
        """The aliases of a YAML file (default: the shipped ``data/brand_aliases.yaml``).

        The file holds ``version`` and ``brands``, a list of lists of names.
        """
        path = Path(path) if path is not None else DEFAULT_ALIASES_FILE
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        brands = data.get("brands") if isinstance(data, dict) else None
        if not isinstance(brands, list) or not all(isinstance(b, list) for b in brands):
            raise ValueError(f"{path}: expected 'brands:' with a list of lists of brand names")
        aliases = cls(brands, version=f"{path.name}@{data.get('version', '?')}")
        aliases._fixed = {aliases.root(k) for k in aliases._members}
        return aliases

    @classmethod
    def shipped(cls) -> BrandAliases:
        """A copy of the shipped aliases (read once per process)."""
        return _shipped().copy()

    @classmethod
    def from_listing_groups(
        cls,
        groups: Iterable[Iterable[str | None]],
        *,
        min_support: int = MIN_SUPPORT,
        base: BrandAliases | None = None,
    ) -> BrandAliases:
        """Aliases learned from the brand texts of listings grouped by product.

        ``groups`` gives, per product, the brand texts of its listings. ``base`` (the
        shipped aliases unless given; pass ``BrandAliases()`` for none) is copied and
        extended. See the module notes for what is and is not learned.
        """
        aliases = (base if base is not None else cls.shipped()).copy()
        pairs: Counter[tuple[str, str]] = Counter()
        together: set[tuple[str, ...]] = set()
        n_groups = 0
        for texts in groups:
            n_groups += 1
            names: set[str] = set()
            for text in texts:
                keys = brand_keys(text)
                if len(keys) > 1:
                    together.add(tuple(sorted(keys)))
                names.update(keys)
            for a, b in combinations(sorted(names), 2):
                pairs[(a, b)] += 1
        for keys in sorted(together):
            aliases._learn(keys)
        for (a, b), n in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0])):
            if n >= min_support:
                aliases._learn((a, b))
        learned = f"learned from {n_groups} products"
        aliases.version = f"{aliases.version}+{learned}" if aliases.version else learned
        return aliases

    @classmethod
    def from_warehouse(
        cls,
        conn: Connection,
        *,
        min_support: int = MIN_SUPPORT,
        base: BrandAliases | None = None,
    ) -> BrandAliases:
        """The shipped aliases (or ``base``) extended with what the warehouse shows:
        the brand texts of the listings of each resolved product (``listings.brand``
        grouped by ``listings.product_id``)."""
        from ecqm.warehouse.schema import listings

        query = (
            select(listings.c.product_id, listings.c.brand)
            .where(listings.c.product_id.is_not(None), listings.c.brand.is_not(None))
            .distinct()
            .order_by(listings.c.product_id)
            # On the statement: Connection.execution_options would change the caller's
            # connection, and its later statements (a DELETE) would be sent as cursors.
            .execution_options(yield_per=20_000)
        )
        rows = conn.execute(query)
        return cls.from_listing_groups(_grouped(rows), min_support=min_support, base=base)

    def copy(self) -> BrandAliases:
        """An independent copy."""
        other = BrandAliases(version=self.version)
        other._parent = dict(self._parent)
        other._members = {k: set(v) for k, v in self._members.items()}
        other._fixed = set(self._fixed)
        return other

    # ------------------------------------------------------------------ union-find
    def root(self, key: str) -> str:
        """The representative key of the group ``key`` belongs to (itself when alone)."""
        parent = self._parent.get(key)
        if parent is None or parent == key:
            return key
        root = parent
        while self._parent[root] != root:
            root = self._parent[root]
        while key != root:
            key, self._parent[key] = self._parent[key], root
        return root

    def members(self, key: str) -> frozenset[str]:
        """Every key of the group of ``key`` (just ``key`` when it has no aliases)."""
        return frozenset(self._members.get(self.root(key)) or {key})

    def add(self, names: Iterable[str], *, force: bool = False) -> bool:
        """Join brand ``names`` (texts or keys) into one group; False (nothing changed)
        when that would join groups with different Chinese names, or two shipped
        groups, unless ``force``."""
        roots = sorted({self.root(k) for name in names for k in brand_keys(name)})
        if len(roots) < 2:
            for k in roots:
                self._ensure(k)
            return False
        if not force:
            anchors = [r for r in roots if any(is_cjk_key(m) for m in self.members(r))]
            if len(anchors) > 1 or sum(r in self._fixed for r in roots) > 1:
                return False
        for r in roots:
            self._ensure(r)
        big = max(roots, key=lambda r: (len(self._members[r]), r))
        for r in roots:
            if r != big:
                self._parent[r] = big
                self._members[big] |= self._members.pop(r)
                if r in self._fixed:
                    self._fixed.discard(r)
                    self._fixed.add(big)
        return True

    def _ensure(self, key: str) -> None:
        if key not in self._parent:
            self._parent[key] = key
            self._members[key] = {key}

    def _learn(self, keys: Iterable[str]) -> bool:
        """:meth:`add`, unless a key is only a misspelling of a key of another group."""
        keys = list(keys)
        groups = [self.members(k) for k in keys]
        for i, k in enumerate(keys):
            if is_cjk_key(k):
                continue
            for j, other in enumerate(groups):
                if (
                    i != j
                    and k not in other
                    and any(not is_cjk_key(m) and near_spelling(k, m) for m in other)
                ):
                    return False
        return self.add(keys)

    # ------------------------------------------------------------------ reading
    def roots(self, text: str | None) -> frozenset[str]:
        """The groups a brand text names (one per name it gives, usually one)."""
        return frozenset(self.root(k) for k in brand_keys(text))

    def same(self, a: str | None, b: str | None) -> bool:
        """Whether two brand texts share a brand."""
        return bool(self.roots(a) & self.roots(b))

    def groups(self) -> list[frozenset[str]]:
        """Every group of two or more keys, sorted."""
        out = [frozenset(m) for m in self._members.values() if len(m) > 1]
        return sorted(out, key=lambda g: sorted(g))

    def __len__(self) -> int:
        return sum(1 for m in self._members.values() if len(m) > 1)

    def __repr__(self) -> str:
        return f"BrandAliases({len(self)} groups, version={self.version!r})"


@lru_cache(maxsize=1)
def _shipped() -> BrandAliases:
    return BrandAliases.from_yaml()


def _grouped(rows: Iterable[Any]) -> Iterator[list[str]]:
    """Brand texts per product from ``(product_id, brand)`` rows ordered by product."""
    current: Any = None
    texts: list[str] = []
    for product_id, brand in rows:
        if product_id != current:
            if texts:
                yield texts
            current, texts = product_id, []
        texts.append(brand)
    if texts:
        yield texts
