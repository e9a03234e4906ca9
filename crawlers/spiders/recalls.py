"""Recalls: SAMR-style notice lists to notice pages, and the CPSC and Safety Gate files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawlers.items import RecallItem
from crawlers.parse.common import ParseError
from crawlers.parse.recalls import (
    parse_cpsc_csv,
    parse_cpsc_json,
    parse_safety_gate_csv,
    parse_samr_notice,
    parse_samr_notice_list,
)
from crawlers.spiders.base import ProfileSpider, response_headers


class RecallsSpider(ProfileSpider):
    name = "recalls"
    item_kinds = ("recall",)

    def parse_samr_notices(self, response: Response) -> Iterator[Any]:
        yield from self.parse_list(response)

    def parse_list(self, response: Response) -> Iterator[Any]:
        try:
            rows = parse_samr_notice_list(
                response.body, response.url, headers=response_headers(response)
            )
        except ParseError as exc:
            yield from self.parse_failed(response, "notice_list", exc, retry=True)
            return
        links = self.profile.links
        for row in rows:
            if not links.detail or links.is_detail(row["url"]):
                yield scrapy.Request(row["url"], callback=self.parse_detail)
        yield from self.detail_and_pager_requests(response, [])

    def parse_detail(self, response: Response) -> Iterator[Any]:
        try:
            rec = parse_samr_notice(response.body, response.url, headers=response_headers(response))
        except ParseError as exc:
            yield from self.parse_failed(response, "samr_notice", exc, retry=True)
            return
        yield self.item(rec, response)

    def parse_cpsc_csv(self, response: Response) -> Iterator[Any]:
        yield from self._file(response, parse_cpsc_csv, "cpsc_csv")

    def parse_cpsc_json(self, response: Response) -> Iterator[Any]:
        yield from self._file(response, parse_cpsc_json, "cpsc_json")

    def parse_safety_gate_csv(self, response: Response) -> Iterator[Any]:
        yield from self._file(response, parse_safety_gate_csv, "safety_gate_csv")

    def _file(self, response: Response, parse: Callable[..., Any], what: str) -> Iterator[Any]:
        errors: list[str] = []
        try:
            records = parse(response.body, response.url, errors=errors)
        except ParseError as exc:
            yield from self.parse_failed(response, what, exc, retry=True)
            return
        if errors:
            self.crawler.stats.inc_value(f"ecqm/errors/parse/{what}_row", len(errors))
            self.logger.warning(
                "%s: %d row(s) could not be read, first: %s", what, len(errors), errors[0]
            )
        for rec in records:
            yield self.item(rec, response)

    def item(self, rec: dict[str, Any], response: Response) -> RecallItem:
        return RecallItem(
            source=rec["source"],
            platform=None,
            external_id=rec["external_id"],
            payload=rec,
            **self.record_fields(response),
        )
