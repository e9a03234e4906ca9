"""Stable hashing and per-entity random generators.

Everything in the simulated world is derived from ``(seed, kind, id...)``
through :func:`stable_hash`, never from Python's salted ``hash()``, so the
same seed gives the same world in every process.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def stable_hash(*parts: object) -> int:
    """A 64-bit hash of ``parts`` that is identical across processes."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def rng_for(seed: int, kind: str, *ids: object) -> random.Random:
    """A fresh generator for one entity (or one aspect of an entity)."""
    return random.Random(stable_hash(seed, kind, *ids))


def weighted(rng: random.Random, pairs: Sequence[tuple[T, float]]) -> T:
    """Pick one item from ``(item, weight)`` pairs."""
    total = sum(w for _, w in pairs)
    x = rng.random() * total
    for item, w in pairs:
        x -= w
        if x < 0:
            return item
    return pairs[-1][0]


class AffineCode:
    """An invertible map from small indexes to random-looking public ids.

    ``encode(x) = offset + (x * a + b) mod m`` with ``gcd(a, m) == 1``; used for
    item, shop and review ids so that ids look like real platform ids while
    staying computable in both directions.
    """

    def __init__(self, seed: int, name: str, modulus: int, offset: int = 0) -> None:
        self.m = modulus
        self.offset = offset
        h = stable_hash(seed, "affine", name)
        a = (h % (modulus - 3)) + 2
        while _gcd(a, modulus) != 1:
            a += 1
        self.a = a
        self.b = (h >> 20) % modulus
        self.a_inv = pow(a, -1, modulus)

    def encode(self, x: int) -> int:
        return self.offset + (x * self.a + self.b) % self.m

    def decode(self, v: int) -> int | None:
        y = v - self.offset
        if y < 0 or y >= self.m:
            return None
        return ((y - self.b) * self.a_inv) % self.m


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a
