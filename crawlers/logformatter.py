"""A log formatter that never writes an item's contents into the log.

Scrapy's default logs every scraped and dropped item with its fields; complaint
records carry names, phone numbers and addresses, which must not reach log files.
"""

from __future__ import annotations

from typing import Any

from scrapy.logformatter import LogFormatter


def _describe(item: Any) -> str:
    kind = getattr(type(item), "kind", "") or type(item).__name__
    ext = getattr(item, "external_id", None)
    return f"{kind} {ext}" if ext else str(kind)


class QuietLogFormatter(LogFormatter):
    def scraped(self, item, response, spider):  # type: ignore[override]
        entry = super().scraped(item, response, spider)
        entry["msg"] = "Scraped %(item)s from %(src)s"
        entry["args"] = {"item": _describe(item), "src": getattr(response, "url", response)}
        return entry

    def dropped(self, item, exception, response, spider):  # type: ignore[override]
        entry = super().dropped(item, exception, response, spider)
        entry["args"] = {**entry["args"], "item": _describe(item)}
        return entry

    def item_error(self, item, exception, response, spider):  # type: ignore[override]
        entry = super().item_error(item, exception, response, spider)
        entry["args"] = {**entry["args"], "item": _describe(item)}
        return entry
