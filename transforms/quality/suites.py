"""The expectation suites of the core tables: every data-quality rule, in one place.

Each suite starts with a not-null rule for every NOT NULL column of the table in
:mod:`ecqm.warehouse.schema` (added by :func:`~transforms.quality.rules.table_suite`),
followed by the rules below. ``length(col, ...)`` without a maximum takes the column's
``String(n)`` width from the schema. Rules ignore missing values unless they are about
missing values (GX semantics), so an optional column is only checked when present.

A row that breaks a rule is quarantined by the caller; the run goes on. Only
table-level breakage (:func:`transforms.quality.table.check_table`) fails a run.

Reference sets (``reference=``) come from the caller at validation time:

``category_code``     active codes of ``ref_categories`` (no default: rules using it are
                      skipped, and reported as skipped, when it is not supplied)
``platform``          platforms with a site profile (default :data:`PLATFORMS`)
``complaint_status``  the status codes the complaint transform emits
                      (default :data:`COMPLAINT_STATUSES`)
``availability``      schema.org ItemAvailability terms (default :data:`AVAILABILITY`)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

from crawlers.extract.values import AVAILABILITY_TERMS
from ecqm.warehouse.schema import (
    complaints,
    listing_snapshots,
    listings,
    products,
    recalls,
    reviews,
    shops,
)
from transforms.quality.rules import (
    TableSuite,
    between,
    length,
    matches,
    not_before,
    not_later_than,
    one_of,
    table_suite,
    unique_together,
)

# ---------------------------------------------------------------- shared limits
MAX_FEN = 10**10  # ¥100,000,000.00: no consumer product costs this; a parse error does.
EARLIEST = "2000-01-01T00:00:00+00:00"  # before online marketplaces as we crawl them
EARLIEST_RECALL = "1970-01-01T00:00:00+00:00"  # CPSC's archive starts in the 1970s
CLOCK_SLACK = dt.timedelta(days=1)  # site clocks and time zones: a day of tolerance
MAX_REVIEW_CHARS = 5000

PLATFORMS = ("lehuo", "pinjia", "youpin")
COMPLAINT_STATUSES = (
    "submitted",
    "accepted",
    "assigned",
    "processing",
    "replied",
    "resolved",
    "closed",
    "withdrawn",
    "other",
)
# The schema.org ItemAvailability terms the extractor emits: one list for both.
AVAILABILITY = AVAILABILITY_TERMS
DEFAULT_REFERENCE: Mapping[str, Collection[str]] = {
    "platform": PLATFORMS,
    "complaint_status": COMPLAINT_STATUSES,
    "availability": AVAILABILITY,
}

# ``[0-9]``, not ``\d`` (which accepts full-width and other Unicode digits); ``\Z``, not
# ``$`` (which accepts a trailing newline).
GTIN = r"^(?:[0-9]{8}|[0-9]{12,14})\Z"  # GTIN-8, -12 (UPC), -13 (EAN), -14
CURRENCY = r"^[A-Z]{3}\Z"  # ISO 4217
CCC = r"^(?:[0-9]{16}|CCC)\Z"  # a certificate number, or the mark named without one
PSEUDONYM = r"^[a-z_]+:[0-9a-f]{32}\Z"  # transforms.pii.pseudonymise
SHA256 = r"^[0-9a-f]{64}\Z"
REGION = r"^[0-9]{6}\Z"  # GB/T 2260 administrative division code
SOURCE = r"^[a-z][a-z0-9_]{0,63}\Z"  # a site profile or recall source name, String(64)
HTTP_URL = r"^https?://\S+\Z"
SOME_TEXT = r"\S"  # not empty, not only white space

_PRICE = "price in fen (1/100 yuan); negative or ≥ ¥100,000,000 is a parse error"
_FEN_BOUNDS = {"min_value": 0, "max_value": MAX_FEN, "strict_max": True}


SUITES: dict[str, TableSuite] = {
    s.table: s
    for s in (
        table_suite(
            shops,
            one_of("platform", reference="platform", why="a platform we crawl"),
            length("external_id", 1, why="the platform's shop id; empty is no id"),
            length("name", 1, why="shop name, fits String(256)"),
            matches("name", SOME_TEXT, why="a name of only white space is no name"),
            length("company_name", why="fits String(256)"),
            matches("region_code", REGION, why="six-digit administrative division code"),
            matches("contact_hash", PSEUDONYM, why="personal data only as a pseudonym"),
            matches("phone_hash", PSEUDONYM, why="personal data only as a pseudonym"),
            matches("address_hash", PSEUDONYM, why="personal data only as a pseudonym"),
            matches("url", HTTP_URL, why="an absolute http(s) URL"),
            between("first_seen_at", EARLIEST, why="before 2000 is a date parse error"),
            not_before("last_seen_at", "first_seen_at", why="seen last no earlier than first"),
            unique_together("platform", "external_id", why="natural key, once per batch"),
        ),
        table_suite(
            products,
            length("product_key", 1, why="the product's natural key; empty is no key"),
            length("brand", why="fits String(128)"),
            length("model", why="fits String(128)"),
            length("producer_name", why="fits String(256)"),
            one_of("category_code", reference="category_code", why="a code of ref_categories"),
            matches("gtin", GTIN, why="GTIN-8/12/13/14 digits"),
            between("first_seen_at", EARLIEST, why="before 2000 is a date parse error"),
            not_before("last_seen_at", "first_seen_at", why="seen last no earlier than first"),
            unique_together("product_key", why="natural key, once per batch"),
        ),
        table_suite(
            listings,
            one_of("platform", reference="platform", why="a platform we crawl"),
            length("external_id", 1, why="the platform's item id; empty is no id"),
            length("title", 1, 1000, why="titles are cut at 1000 characters upstream"),
            matches("title", SOME_TEXT, why="a title of only white space is no title"),
            one_of("category_code", reference="category_code", why="a code of ref_categories"),
            length("category_method", why="fits String(8)"),
            between("category_confidence", 0, 1, why="a probability"),
            length("brand", why="fits String(128)"),
            length("model", why="fits String(128)"),
            between("price_fen", **_FEN_BOUNDS, why=_PRICE),
            matches("currency", CURRENCY, why="ISO 4217 code, upper case"),
            matches("ccc_number", CCC, why="16-digit CCC certificate number, or just 'CCC'"),
            matches("gtin", GTIN, why="GTIN-8/12/13/14 digits"),
            length("producer_name", why="fits String(256)"),
            length("origin", why="fits String(128)"),
            matches("url", HTTP_URL, why="an absolute http(s) URL"),
            between("first_seen_at", EARLIEST, why="before 2000 is a date parse error"),
            not_before("last_seen_at", "first_seen_at", why="seen last no earlier than first"),
            unique_together("platform", "external_id", why="natural key, once per batch"),
        ),
        table_suite(
            listing_snapshots,
            between("listing_id", 1, why="a listings.id"),
            between("captured_at", EARLIEST, why="before 2000 is a date parse error"),
            between("price_fen", **_FEN_BOUNDS, why=_PRICE),
            between("list_price_fen", **_FEN_BOUNDS, why=_PRICE),
            between("sales_volume", 0, why="a count of units sold"),
            between("rating", 1, 5, why="ratings are normalised to 1–5 stars"),
            between("review_count", 0, why="a count of reviews"),
            one_of("availability", reference="availability", why="a schema.org term"),
            matches("evidence_sha256", SHA256, why="SHA-256 of the archived page, hex"),
            unique_together("listing_id", "captured_at", why="natural key, once per batch"),
        ),
        table_suite(
            reviews,
            one_of("platform", reference="platform", why="a platform we crawl"),
            length("external_id", 1, why="the platform's review id; empty is no id"),
            between("listing_id", 1, why="a listings.id"),
            length("listing_external_id", 1, why="the platform's item id, fits String(128)"),
            between("rating", 1, 5, why="ratings are normalised to 1–5 stars"),
            length(
                "text",
                1,
                MAX_REVIEW_CHARS,
                why="empty text should be NULL; longer text means a page was swallowed",
            ),
            matches("author_hash", PSEUDONYM, why="personal data only as a pseudonym"),
            length("spam_cluster_id", why="fits String(64)"),
            between("posted_at", EARLIEST, why="before 2000 is a date parse error"),
            not_later_than(
                "posted_at",
                "fetched_at",
                CLOCK_SLACK,
                why="a review cannot be posted after it was fetched (1 day clock slack)",
            ),
            between("fetched_at", EARLIEST, why="before 2000 is a clock error"),
            unique_together("platform", "external_id", why="natural key, once per batch"),
        ),
        table_suite(
            complaints,
            matches("source", SOURCE, why="a source profile name"),
            length("complaint_number", 1, why="the portal's number; empty is no number"),
            length("respondent", why="fits String(256)"),
            one_of("platform", reference="platform", why="a platform we crawl"),
            between("amount_fen", **_FEN_BOUNDS, why="amount in dispute, fen; never negative"),
            one_of("status", reference="complaint_status", why="a status the transform emits"),
            matches("complainant_hash", PSEUDONYM, why="personal data only as a pseudonym"),
            between("filed_at", EARLIEST, why="before 2000 is a date parse error"),
            not_later_than(
                "filed_at",
                "fetched_at",
                CLOCK_SLACK,
                why="a complaint cannot be filed after it was fetched (1 day clock slack)",
            ),
            between("fetched_at", EARLIEST, why="before 2000 is a clock error"),
            unique_together("source", "complaint_number", why="natural key, once per batch"),
        ),
        table_suite(
            recalls,
            matches("source", SOURCE, why="a source profile name"),
            length("recall_number", 1, why="the regulator's number; empty is no number"),
            length("country", why="fits String(64)"),
            between("published_on", EARLIEST_RECALL, why="no recall archive is older"),
            not_later_than(
                "published_on",
                "fetched_at",
                CLOCK_SLACK,
                why="a notice cannot be published after it was fetched",
            ),
            matches("url", HTTP_URL, why="an absolute http(s) URL"),
            between("fetched_at", EARLIEST, why="before 2000 is a clock error"),
            unique_together("source", "recall_number", why="natural key, once per batch"),
        ),
    )
}


def suite_for(table: str) -> TableSuite:
    """The suite of a core table; a table without one is a caller bug."""
    try:
        return SUITES[table]
    except KeyError:
        raise KeyError(
            f"no data-quality suite for table {table!r}; have {sorted(SUITES)}"
        ) from None
