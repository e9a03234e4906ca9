"""The verdict on a sample from its item results, and the rules file."""

from __future__ import annotations

import doctest
import importlib

import pytest

from transforms.results.judge import RULES_FILE, Item, JudgementError, JudgementRules

RULES = JudgementRules.load()


def fail(name: str, defect: str | None = "major", **kw) -> Item:
    return Item(name, verdict="fail", defect_class=defect, **kw)


def test_the_shipped_rules_load_and_fail_on_any_failed_item():
    assert RULES.version == "2026.1" and RULES.minor_failures_tolerated == 0
    assert (RULES.seller_workdays, RULES.objection_days, RULES.takedown_workdays) == (5, 15, 3)
    j = RULES.judge([Item("输入功率和电流"), fail("标志和说明", "minor")])
    assert (j.verdict, j.items_total, j.items_failed, j.worst_defect) == ("fail", 2, 1, "minor")
    assert j.is_safety is False and j.tolerated == ()


@pytest.mark.parametrize(
    "item, safety",
    [
        (fail("对触及带电部件的防护", "minor"), True),  # a shock test is never "minor"
        (fail("非正常工作（干烧）", "major"), True),
        (fail("泄漏电流和电气强度"), True),
        (fail("可迁移元素（铅、镉、铬、汞、砷、钡、锑、硒）"), True),
        (fail("小零件", "minor"), True),
        (fail("标志和说明", "critical"), True),  # critical is a safety defect by class
        (fail("能效等级"), False),
        (fail("纤维含量", "minor"), False),
        (fail("  发 热 "), True),  # as people type it
        (fail("ＳＰＦ值"), False),  # full-width, NFKC
    ],
)
def test_safety_by_class_or_by_what_the_item_tests(item, safety):
    j = RULES.judge([item, Item("标签标识")])
    assert j.verdict == "fail" and j.is_safety is safety
    assert j.failed_items[0]["is_safety"] is safety


def test_failed_items_come_worst_first_with_their_details():
    j = RULES.judge(
        [
            fail("标志和说明", "minor", standard_clause="第7章"),
            fail("输入功率和电流", "major", measured_value="1350 W", limit_value="≤ 1265 W"),
            fail("发热", "critical"),
            Item("能效等级"),
        ]
    )
    assert [i["test_item"] for i in j.failed_items] == ["发热", "输入功率和电流", "标志和说明"]
    assert j.failed_items[1] == {
        "test_item": "输入功率和电流",
        "standard_clause": None,
        "measured_value": "1350 W",
        "limit_value": "≤ 1265 W",
        "defect_class": "major",
        "is_safety": False,
    }
    assert j.worst_defect == "critical" and j.safety_items == [j.failed_items[0]]


def test_a_failure_without_a_class_counts_as_configured_and_keeps_none():
    j = RULES.judge([fail("标志和说明", None), fail("能效等级", "minor")])
    assert j.worst_defect == "major" and j.failed_items[0]["defect_class"] is None
    strict = JudgementRules.from_dict({"version": "x", "unclassified_failure_as": "critical"})
    j = strict.judge([fail("标志和说明", None)])
    assert (j.worst_defect, j.is_safety) == ("critical", True)
    # An unknown class (not through the inbox) is no class at all.
    assert RULES.judge([fail("能效等级", "catastrophic")]).failed_items[0]["defect_class"] is None


def test_a_tolerance_lets_minor_non_safety_failures_pass():
    lenient = JudgementRules.from_dict(
        {"version": "t", "minor_failures_tolerated": 1, "safety": {"item_keywords": ["发热"]}}
    )
    j = lenient.judge([fail("标志和说明", "minor"), Item("发热")])
    assert (j.verdict, j.items_failed, j.tolerated) == ("pass", 1, ("标志和说明",))
    assert j.notice_items == []  # a 合格 notice lists no failed items
    assert lenient.judge([fail("标志和说明", "minor"), fail("使用说明", "minor")]).verdict == "fail"
    # A minor failure of a safety test is never tolerated.
    assert lenient.judge([fail("发热", "minor")]).verdict == "fail"
    assert lenient.judge([fail("标志和说明", "major")]).verdict == "fail"


def test_what_cannot_be_judged_says_so():
    with pytest.raises(JudgementError, match="without items"):
        RULES.judge([])
    with pytest.raises(JudgementError, match="verdict must be pass or fail"):
        RULES.judge([Item("发热", verdict="合格")])


@pytest.mark.parametrize(
    "doc, message",
    [
        ({}, "version"),
        ({"version": "1", "minor_failures_tolerated": -1}, "minor_failures_tolerated"),
        ({"version": "1", "minor_failures_tolerated": True}, "minor_failures_tolerated"),
        ({"version": "1", "unclassified_failure_as": "severe"}, "unclassified_failure_as"),
        ({"version": "1", "safety": {"defect_classes": ["A"]}}, "defect_classes"),
        ({"version": "1", "safety": {"item_keywords": ["", "发热"]}}, "item_keywords"),
        ({"version": "1", "notices": {"public_alert_when": "always"}}, "public_alert_when"),
        ({"version": "1", "notices": {"seller_workdays": 0}}, "seller_workdays"),
        ({"version": "1", "notices": {"objection_days": "15"}}, "objection_days"),
        ({"version": "1", "tolerance": 2}, "unknown keys"),
        ({"version": "x" * 33}, "32 characters"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(doc, message):
    with pytest.raises(JudgementError, match=message):
        JudgementRules.from_dict(doc)


def test_an_unreadable_rules_file_is_refused(tmp_path):
    bad = tmp_path / "judgement.yaml"
    bad.write_text("version: [unclosed", encoding="utf-8")
    with pytest.raises(JudgementError, match="cannot read"):
        JudgementRules.load(bad)
    assert RULES_FILE.exists()


@pytest.mark.parametrize(
    "name",
    ["transforms.results.judge", "transforms.results.retests", "transforms.results.notices"],
)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
