"""What the three shop platforms share: category ids, search, listing lists."""

from __future__ import annotations

from ..catalog import CATEGORIES, GROUP_KEYWORDS, GROUPS
from ..layout import PLATFORMS, Enumeration
from ..world import World

_CAT_ID = {"youpin": (1315, 11), "lehuo": (50010000, 37), "pinjia": (100, 3)}


def cat_id(platform: str, idx: int) -> int:
    base, step = _CAT_ID[platform]
    return base + idx * step


def cat_index(platform: str, cid: int) -> int | None:
    base, step = _CAT_ID[platform]
    off = cid - base
    if off < 0 or off % step or off // step >= len(CATEGORIES):
        return None
    return off // step


def resolve_query(query: str) -> tuple[str, int | str] | None:
    """Map a search keyword to ("cat", index) or ("group", code)."""
    q = query.strip().lower()
    if not q:
        return None
    for i, c in enumerate(CATEGORIES):
        if q == c.code or q == c.zh.lower() or q in (k.lower() for k in c.keywords):
            return ("cat", i)
    for i, c in enumerate(CATEGORIES):
        if any(k.lower() in q for k in (c.zh, *c.keywords) if len(k) >= 2):
            return ("cat", i)
    for word, group in GROUP_KEYWORDS.items():
        if word in q:
            return ("group", group)
    for group, zh in GROUPS.items():
        if zh in q:
            return ("group", group)
    return None


def enumeration(world: World, platform: str, target: tuple[str, int | str]) -> Enumeration:
    pi = PLATFORMS.index(platform)
    kind, value = target
    if kind == "cat":
        assert isinstance(value, int)
        return world.layout.by_category(value, pi)
    assert isinstance(value, str)
    return world.layout.by_group(value, pi)


def int_or_404(text: str) -> int:
    from .base import NotFound

    if not text.isdigit():
        raise NotFound(text)
    return int(text)
