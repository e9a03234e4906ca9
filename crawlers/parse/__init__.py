"""Plain functions that read reviews, shop pages, complaints and recalls from fetched pages.

Each takes the response body (bytes or text) and its URL and returns records (dicts,
JSON-safe), so it can be tested on saved pages without a crawl. A page that is not
what the function reads raises :class:`ParseError`; the spiders count it and retry.
"""

from __future__ import annotations

from crawlers.parse.common import ParseError
from crawlers.parse.complaints import parse_complaint_detail, parse_complaint_list
from crawlers.parse.recalls import (
    parse_cpsc_csv,
    parse_cpsc_json,
    parse_safety_gate_csv,
    parse_samr_notice,
    parse_samr_notice_list,
)
from crawlers.parse.reviews import ReviewPage, parse_reviews_html, parse_reviews_json
from crawlers.parse.shops import parse_shop_page

__all__ = [
    "ParseError",
    "ReviewPage",
    "parse_complaint_detail",
    "parse_complaint_list",
    "parse_cpsc_csv",
    "parse_cpsc_json",
    "parse_reviews_html",
    "parse_reviews_json",
    "parse_safety_gate_csv",
    "parse_samr_notice",
    "parse_samr_notice_list",
    "parse_shop_page",
]
