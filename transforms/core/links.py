"""Which listing a URL points at, by the site profiles' own detail-page patterns.

Complaints name the listing complained about by its URL. Each marketplace profile
already knows how its detail pages look (``links.detail`` with an ``id`` group), so a
URL is recognised the same way the crawler recognised it, and a complaint links to a
listing however the site spells its host or query string.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from crawlers.profiles import Links, load_profiles


@dataclass(frozen=True)
class ListingUrls:
    patterns: tuple[tuple[str, Links], ...]

    @classmethod
    def from_profiles(cls, profiles: Iterable | None = None) -> ListingUrls:
        chosen = profiles if profiles is not None else load_profiles().values()
        return cls(
            tuple(
                (p.platform, p.links)
                for p in sorted(chosen, key=lambda p: p.name)
                if p.kind == "marketplace" and p.platform and p.links.detail
            )
        )

    def platforms(self) -> set[str]:
        """Every platform a marketplace profile crawls (enabled or not)."""
        return {platform for platform, _ in self.patterns}

    def match(self, url: str) -> tuple[str, str] | None:
        """``(platform, listing external id)``, or ``None`` when no profile (or more than
        one platform) claims the URL."""
        return _match(self, url)


@lru_cache(maxsize=100_000)
def _match(urls: ListingUrls, url: str) -> tuple[str, str] | None:
    hits = set()
    for platform, links in urls.patterns:
        found = links.detail_id(url)
        if found:
            hits.add((platform, found))
    return hits.pop() if len(hits) == 1 else None
