"""Arithmetic layout of products and listings.

Product ``p`` occupies slot ``p % PERIOD`` of a seeded pattern that fixes its
category and how many listings it has on each platform.  Any set of slots (a
category, a category group, everything) gives an :class:`Enumeration` that
counts, indexes and ranks the listings of that set on one platform without
scanning products, so search pages, category lists, shop pages and sitemaps
are computed arithmetically for any world size.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .catalog import CATEGORIES
from .rng import rng_for, weighted

PERIOD = 1000
PLATFORMS: tuple[str, ...] = ("youpin", "lehuo", "pinjia")
MAX_LISTINGS = 3  # per product and platform
_PRESENCE = {"youpin": 0.75, "lehuo": 0.6, "pinjia": 0.5}


@dataclass(frozen=True)
class Slot:
    category: int  # index into CATEGORIES
    counts: tuple[int, int, int]  # listings on youpin, lehuo, pinjia


def build_pattern(seed: int) -> tuple[Slot, ...]:
    rng = rng_for(seed, "layout")
    total_w = sum(c.weight for c in CATEGORIES)
    extra = PERIOD - len(CATEGORIES)
    cats: list[int] = []
    for i, c in enumerate(CATEGORIES):
        cats.extend([i] * round(extra * c.weight / total_w))
    while len(cats) < extra:
        cats.append(rng.randrange(len(CATEGORIES)))
    cats = cats[:extra]
    rng.shuffle(cats)
    head = list(range(len(CATEGORIES)))
    rng.shuffle(head)
    order = head + cats  # every category appears within the first 41 products
    slots = []
    for cat in order:
        counts = [0, 0, 0]
        while sum(counts) == 0:
            for k, plat in enumerate(PLATFORMS):
                if rng.random() < _PRESENCE[plat]:
                    counts[k] = weighted(rng, ((1, 0.55), (2, 0.3), (3, 0.15)))
        slots.append(Slot(cat, (counts[0], counts[1], counts[2])))
    return tuple(slots)


class Enumeration:
    """The listings of a set of slots on one platform, in product order."""

    def __init__(
        self, pattern: tuple[Slot, ...], platform: int, members: Iterable[int], products: int
    ) -> None:
        wanted = set(members)
        self.platform = platform
        self.products = products
        self.slots: list[int] = []
        self.starts: list[int] = []
        acc = 0
        for s, slot in enumerate(pattern):
            n = slot.counts[platform]
            if slot.category in wanted and n:
                self.slots.append(s)
                self.starts.append(acc)
                acc += n
        self.per_cycle = acc
        self._counts = [pattern[s].counts[platform] for s in self.slots]
        full, rem = divmod(products, PERIOD)
        i = bisect.bisect_left(self.slots, rem)
        self.total = full * acc + (self.starts[i] if i < len(self.slots) else acc)

    def __len__(self) -> int:
        return self.total

    def at(self, k: int) -> tuple[int, int]:
        """The ``k``-th listing as ``(product, j)``."""
        if not 0 <= k < self.total:
            raise IndexError(k)
        cycle, r = divmod(k, self.per_cycle)
        i = bisect.bisect_right(self.starts, r) - 1
        return cycle * PERIOD + self.slots[i], r - self.starts[i]

    def rank(self, product: int, j: int) -> int | None:
        """Position of listing ``(product, j)`` in this enumeration, or None."""
        cycle, s = divmod(product, PERIOD)
        i = bisect.bisect_left(self.slots, s)
        if i >= len(self.slots) or self.slots[i] != s or j >= self._counts[i]:
            return None
        return cycle * self.per_cycle + self.starts[i] + j

    def range(self, start: int, stop: int) -> Iterator[tuple[int, int]]:
        for k in range(max(0, start), min(stop, self.total)):
            yield self.at(k)


class Layout:
    def __init__(self, seed: int, products: int) -> None:
        self.products = products
        self.pattern = build_pattern(seed)
        self._enums: dict[tuple[str, int], Enumeration] = {}

    def slot(self, product: int) -> Slot:
        return self.pattern[product % PERIOD]

    def category_index(self, product: int) -> int:
        return self.pattern[product % PERIOD].category

    def count(self, product: int, platform: int) -> int:
        return self.pattern[product % PERIOD].counts[platform]

    def _enum(self, key: str, platform: int, members: Iterable[int]) -> Enumeration:
        k = (key, platform)
        e = self._enums.get(k)
        if e is None:
            e = Enumeration(self.pattern, platform, members, self.products)
            self._enums[k] = e
        return e

    def by_category(self, cat: int, platform: int) -> Enumeration:
        return self._enum(f"c{cat}", platform, [cat])

    def by_group(self, group: str, platform: int) -> Enumeration:
        members = [i for i, c in enumerate(CATEGORIES) if c.group == group]
        return self._enum(f"g{group}", platform, members)

    def everything(self, platform: int) -> Enumeration:
        return self._enum("all", platform, range(len(CATEGORIES)))

    def product_count(self, cat: int) -> int:
        full, rem = divmod(self.products, PERIOD)
        per = sum(1 for s in self.pattern if s.category == cat)
        part = sum(1 for s in self.pattern[:rem] if s.category == cat)
        return full * per + part
