"""What the three shop platforms share: category ids, search, listing lists."""

from __future__ import annotations

from typing import Any

from ..catalog import CATEGORIES, GROUP_KEYWORDS, GROUPS
from ..layout import PLATFORMS, Enumeration
from ..world import World
from .base import NotFound, Request, pages_for

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


SHOP_PAGE = 20


def shop_page(
    world: World, platform: str, req: Request, id_text: str
) -> tuple[Any, int, int, list]:
    """The shop named in a shop-page URL, its listing count, the requested page, the page
    count and the listing keys on that page; ``NotFound`` for an unknown shop or a page past the end."""
    shop = world.shop_by_ext(platform, int_or_404(id_text))
    if shop is None:
        raise NotFound(id_text)
    page = req.int_arg("page")
    total = world.shop_listing_count(shop)
    pages = pages_for(total, SHOP_PAGE)
    if page > pages:
        raise NotFound("page")
    keys = [
        world.shop_listing_at(shop, i)
        for i in range((page - 1) * SHOP_PAGE, min(total, page * SHOP_PAGE))
    ]
    return shop, total, page, pages, keys
