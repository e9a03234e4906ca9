"""The verdict on a sample from the item results of its lab report (结果评价).

A lab report lists every test item with its own verdict (单项判定, pass or fail) and, for
a failed item, the defect class (缺陷类别: critical 严重 / A 类, major 一般 / B 类, minor
轻微 / C 类). :func:`JudgementRules.judge` turns those rows into one verdict on the
sample, with the rules of ``data/judgement.yaml`` (versioned data, not code):

- the sample **fails** (不合格) when any failed item is not tolerated; by default none is
  (``minor_failures_tolerated: 0``). A deployment may tolerate up to *N* minor failures,
  never one that concerns safety;
- it is a **safety defect** when a failed item has a safety defect class (critical) or
  its name concerns safety (a keyword such as 泄漏电流, 发热, 小零件, 甲醛), whatever its
  class — a "minor" failure of a leakage-current test is still a shock hazard;
- the **worst defect** is the worst class among the failed items; a failed item that
  carries no class counts as ``unclassified_failure_as`` (major by default) there and
  keeps ``defect_class: null`` in ``failed_items``.

>>> rules = JudgementRules.from_dict({"version": "t", "safety": {"item_keywords": ["泄漏电流"]}})
>>> j = rules.judge([Item("标志和说明", verdict="fail", defect_class="minor"),
...                  Item("泄漏电流和电气强度", verdict="pass")])
>>> j.verdict, j.worst_defect, j.is_safety
('fail', 'minor', False)
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

RULES_FILE = Path(__file__).resolve().parent / "data" / "judgement.yaml"
VERDICTS = ("pass", "fail")
# Worst first.
DEFECT_CLASSES = ("critical", "major", "minor")
DEFECT_RANK = {c: i for i, c in enumerate(DEFECT_CLASSES)}
PUBLIC_ALERT_WHEN = ("safety", "fail")
# Notice periods: name → (default, least allowed).
_PERIODS = {"seller_workdays": (5, 1), "objection_days": (15, 1), "takedown_workdays": (3, 1)}
_SPACES = re.compile(r"\s+")


class JudgementError(ValueError):
    """The rules file is invalid, or a report's items cannot be judged."""


@dataclass(frozen=True)
class Item:
    """One test item of a report, as ``inspection_results`` holds it."""

    test_item: str
    standard_clause: str | None = None
    measured_value: str | None = None
    limit_value: str | None = None
    verdict: str = "pass"
    defect_class: str | None = None


@dataclass(frozen=True)
class Judgement:
    """The verdict on one sample and how it was reached.

    ``failed_items`` lists every failed item (tolerated ones included), worst class
    first, each as ``{test_item, standard_clause, measured_value, limit_value,
    defect_class, is_safety}``, the shape the notices take.
    """

    verdict: str
    items_total: int
    items_failed: int
    worst_defect: str | None
    failed_items: list[dict[str, Any]]
    is_safety: bool
    rules_version: str
    tolerated: tuple[str, ...] = ()

    @property
    def safety_items(self) -> list[dict[str, Any]]:
        return [i for i in self.failed_items if i["is_safety"]]

    @property
    def notice_items(self) -> list[dict[str, Any]]:
        """The failed items a notice lists: none for a sample that passed (a tolerated
        minor failure is in the record, not in a 合格 notice)."""
        return list(self.failed_items) if self.verdict == "fail" else []


@dataclass(frozen=True)
class JudgementRules:
    version: str
    minor_failures_tolerated: int = 0
    unclassified_failure_as: str = "major"
    safety_defect_classes: frozenset[str] = frozenset({"critical"})
    safety_item_keywords: tuple[str, ...] = ()
    public_alert_when: str = "safety"
    seller_workdays: int = 5
    objection_days: int = 15
    takedown_workdays: int = 3
    source: str = field(default="<memory>", compare=False)

    @classmethod
    def load(cls, path: Path | str | None = None) -> JudgementRules:
        """Read and check a rules file (default: the shipped ``data/judgement.yaml``)."""
        path = Path(path or RULES_FILE)
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise JudgementError(f"cannot read the judgement rules {path}: {exc}") from exc
        return cls.from_dict(doc, str(path))

    @classmethod
    def from_dict(cls, doc: Any, source: str = "<memory>") -> JudgementRules:
        problems: list[str] = []
        if not isinstance(doc, Mapping):
            raise JudgementError(f"{source}: expected a mapping")
        known = {
            "version",
            "minor_failures_tolerated",
            "unclassified_failure_as",
            "safety",
            "notices",
        }
        unknown = sorted(set(map(str, doc)) - known)
        if unknown:
            problems.append(f"unknown keys {unknown}")
        version = doc.get("version")
        if not isinstance(version, str | int | float) or not str(version).strip():
            problems.append("version: expected text such as '2026.1'")
        elif len(str(version)) > 32:
            problems.append("version: at most 32 characters (evaluations.rules_version)")
        tolerated = doc.get("minor_failures_tolerated", 0)
        if isinstance(tolerated, bool) or not isinstance(tolerated, int) or tolerated < 0:
            problems.append(f"minor_failures_tolerated: expected 0 or more, got {tolerated!r}")
        unclassified = doc.get("unclassified_failure_as", "major")
        if unclassified not in DEFECT_CLASSES:
            problems.append(
                f"unclassified_failure_as: one of {list(DEFECT_CLASSES)}, got {unclassified!r}"
            )
        safety = doc.get("safety") or {}
        if not isinstance(safety, Mapping):
            problems.append("safety: expected a mapping")
            safety = {}
        classes = safety.get("defect_classes", ["critical"])
        if not isinstance(classes, list) or any(c not in DEFECT_CLASSES for c in classes):
            problems.append(f"safety.defect_classes: a list from {list(DEFECT_CLASSES)}")
            classes = []
        keywords = safety.get("item_keywords", [])
        if not isinstance(keywords, list) or any(
            not isinstance(k, str) or not _key(k) for k in keywords
        ):
            problems.append("safety.item_keywords: a list of non-empty texts")
            keywords = []
        notices = doc.get("notices") or {}
        if not isinstance(notices, Mapping):
            problems.append("notices: expected a mapping")
            notices = {}
        unknown = sorted(set(map(str, notices)) - {"public_alert_when", *_PERIODS})
        if unknown:
            problems.append(f"notices: unknown keys {unknown}")
        when = notices.get("public_alert_when", "safety")
        if when not in PUBLIC_ALERT_WHEN:
            problems.append(f"notices.public_alert_when: one of {list(PUBLIC_ALERT_WHEN)}")
        periods = {}
        for name, (default, low) in _PERIODS.items():
            value = notices.get(name, default)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 60:
                problems.append(f"notices.{name}: a whole number of days, {low} to 60")
            periods[name] = value
        if problems:
            raise JudgementError(
                f"{len(problems)} problem(s) in the judgement rules {source}:\n"
                + "\n".join(f"  {p}" for p in problems)
            )
        return cls(
            version=str(version).strip(),
            minor_failures_tolerated=tolerated,
            unclassified_failure_as=unclassified,
            safety_defect_classes=frozenset(classes),
            safety_item_keywords=tuple(dict.fromkeys(_key(k) for k in keywords)),
            public_alert_when=when,
            **periods,
            source=source,
        )

    def concerns_safety(self, test_item: str) -> bool:
        """Whether the item's name names a safety test (a configured keyword in it)."""
        name = _key(test_item)
        return any(k in name for k in self.safety_item_keywords)

    def judge(self, items: Iterable[Item]) -> Judgement:
        """The verdict on a sample from all item results of one report.

        Raises :class:`JudgementError` for a report without items or an item whose
        verdict is not ``pass`` or ``fail``.
        """
        items = list(items)
        if not items:
            raise JudgementError("a report without items cannot be judged")
        failed: list[dict[str, Any]] = []
        for item in items:
            if item.verdict not in VERDICTS:
                raise JudgementError(
                    f"item {item.test_item!r}: verdict must be pass or fail, not {item.verdict!r}"
                )
            if item.verdict != "fail":
                continue
            defect = item.defect_class if item.defect_class in DEFECT_RANK else None
            is_safety = (
                defect in self.safety_defect_classes
                or (defect is None and self.unclassified_failure_as in self.safety_defect_classes)
                or self.concerns_safety(item.test_item)
            )
            failed.append(
                {
                    "test_item": item.test_item,
                    "standard_clause": item.standard_clause,
                    "measured_value": item.measured_value,
                    "limit_value": item.limit_value,
                    "defect_class": defect,
                    "is_safety": is_safety,
                }
            )
        failed.sort(key=lambda i: (DEFECT_RANK[self._counted_class(i)], i["test_item"]))
        tolerable = [i for i in failed if self._counted_class(i) == "minor" and not i["is_safety"]]
        intolerable = len(failed) - len(tolerable)
        fails = intolerable > 0 or len(tolerable) > self.minor_failures_tolerated
        tolerated = () if fails else tuple(i["test_item"] for i in tolerable)
        return Judgement(
            verdict="fail" if fails else "pass",
            items_total=len(items),
            items_failed=len(failed),
            worst_defect=self._counted_class(failed[0]) if failed else None,
            failed_items=failed,
            is_safety=fails and any(i["is_safety"] for i in failed),
            rules_version=self.version,
            tolerated=tolerated,
        )

    def _counted_class(self, item: Mapping[str, Any]) -> str:
        return item["defect_class"] or self.unclassified_failure_as


def _key(text: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", str(text))).casefold()
