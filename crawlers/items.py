"""The records the spiders yield: one dataclass per kind, one JSON line each in landing.

Every record carries where it came from (``source``: the profile name, or for recalls
``samr`` | ``cpsc`` | ``safety_gate``), the page it was read from (``url``, the
response time ``fetched_at`` and the ``evidence_sha256`` of the body) and the crawl
run. ``payload`` holds every extracted field, JSON-safe, and nothing volatile such as
the fetch time, so the same page always gives the same payload.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

LINE_FIELDS = (
    "kind",
    "source",
    "platform",
    "external_id",
    "listing_external_id",
    "url",
    "fetched_at",
    "evidence_sha256",
    "crawl_run_id",
    "payload",
)


@dataclass(kw_only=True)
class CrawledRecord:
    kind: ClassVar[str] = ""

    source: str
    external_id: str
    url: str
    fetched_at: str
    crawl_run_id: str
    platform: str | None = None
    listing_external_id: str | None = None
    evidence_sha256: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class ListingItem(CrawledRecord):
    kind: ClassVar[str] = "listing"


@dataclass(kw_only=True)
class ReviewItem(CrawledRecord):
    kind: ClassVar[str] = "review"


@dataclass(kw_only=True)
class ShopItem(CrawledRecord):
    """A shop page: the licence data the platform shows for a seller (company, credit
    code, contact, phone, address, region). ``external_id`` is the platform's shop id."""

    kind: ClassVar[str] = "shop"


@dataclass(kw_only=True)
class ComplaintItem(CrawledRecord):
    kind: ClassVar[str] = "complaint"


@dataclass(kw_only=True)
class RecallItem(CrawledRecord):
    kind: ClassVar[str] = "recall"


ITEM_CLASSES: dict[str, type[CrawledRecord]] = {
    c.kind: c for c in (ListingItem, ReviewItem, ShopItem, ComplaintItem, RecallItem)
}
