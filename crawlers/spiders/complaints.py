"""Complaints: list pages by status (paginated) to complaint pages.

Complaint records keep the complainant's personal data as the page shows it; nothing
about a record is logged (see ``crawlers.logformatter``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.http import Response

from crawlers.items import ComplaintItem
from crawlers.parse.common import ParseError
from crawlers.parse.complaints import parse_complaint_detail, parse_complaint_list
from crawlers.spiders.base import ProfileSpider, response_headers


class ComplaintsSpider(ProfileSpider):
    name = "complaints"
    item_kinds = ("complaint",)

    def parse_list(self, response: Response) -> Iterator[Any]:
        try:
            rows = parse_complaint_list(
                response.body, response.url, headers=response_headers(response)
            )
        except ParseError as exc:
            yield from self.parse_failed(response, "complaint_list", exc, retry=True)
            return
        yield from self.detail_and_pager_requests(response, [r["url"] for r in rows])

    def parse_detail(self, response: Response) -> Iterator[Any]:
        try:
            rec = parse_complaint_detail(
                response.body, response.url, headers=response_headers(response)
            )
        except ParseError as exc:
            yield from self.parse_failed(response, "complaint", exc, retry=True)
            return
        yield ComplaintItem(
            source=self.profile.name,
            platform=None,
            external_id=rec["number"],
            payload=rec,
            **self.record_fields(response),
        )
