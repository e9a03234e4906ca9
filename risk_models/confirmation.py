"""The text of a risk confirmation (质量风险确认), shared by the assessment and the
evaluation of results, so that both write the same words whichever runs first.

A confirmation is a list of segments joined by ``；``: first one per failed inspection
report of the product (``检验不合格确认：检验报告 <number> 判定不合格``, by report number),
then what the assessment's rules found (a recall, several channels).
"""

from __future__ import annotations

from collections.abc import Iterable

SEPARATOR = "；"
_LAB_PREFIX = "检验不合格确认：检验报告 "
_LAB_SUFFIX = " 判定不合格"


def lab_segment(report_number: str) -> str:
    return f"{_LAB_PREFIX}{report_number}{_LAB_SUFFIX}"


def split(text: str | None) -> tuple[list[str], list[str]]:
    """(report numbers of the lab segments, the other segments) of a confirmation."""
    reports: list[str] = []
    others: list[str] = []
    for part in (text or "").split(SEPARATOR):
        if not part:
            continue
        if part.startswith(_LAB_PREFIX) and part.endswith(_LAB_SUFFIX):
            reports.append(part[len(_LAB_PREFIX) : -len(_LAB_SUFFIX)])
        else:
            others.append(part)
    return reports, others


def compose(reports: Iterable[str], others: Iterable[str]) -> str | None:
    """The confirmation text: the lab segments by report number, then the others."""
    parts = [lab_segment(r) for r in sorted(set(reports))]
    parts += [p for p in others if p]
    return SEPARATOR.join(parts) or None
