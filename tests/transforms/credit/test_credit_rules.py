"""The credit rules file: the shipped one loads; every kind of mistake is refused with
a message naming the field."""

from __future__ import annotations

import copy
import datetime as dt
import doctest
import re
from pathlib import Path

import pytest
import yaml

import transforms.credit.lists
import transforms.credit.rules
import transforms.credit.samples
from transforms.credit.rules import (
    DEFAULT_PATH,
    RULES,
    CreditRulesError,
    load_rules,
    rules_from_dict,
)


@pytest.fixture
def doc() -> dict:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def refused(doc: dict) -> str:
    with pytest.raises(CreditRulesError) as info:
        rules_from_dict(doc, "credit_rules.yaml")
    return str(info.value)


def test_the_shipped_rules_load():
    rules = load_rules()
    assert re.fullmatch(r"\d{4}\.\d+", rules.version)
    assert set(rules.rules) == set(RULES) == {"repeat_failure", "unremedied_safety", "clean_record"}
    assert {c: r.list_kind for c, r in rules.rules.items()} == {
        "repeat_failure": "black",
        "unremedied_safety": "black",
        "clean_record": "red",
    }
    assert rules.rule("repeat_failure").params == {
        "min_failures": 2,
        "window_months": 12,
        "listing_months": 24,
    }
    assert rules.rule("clean_record").params["min_samples"] == 5
    assert all(r.enabled and r.title_zh for r in rules.rules.values())


def test_reasons_fill_dates_in_chinese(doc):
    rules = rules_from_dict(doc)
    text = rules.reason(
        "repeat_failure",
        {
            "listed_on": dt.date(2026, 3, 5),
            "expires_on": dt.date(2028, 3, 5),
            "window_count": 2,
            "count": 3,
            "reports": "……",
            "first_failed_on": dt.date(2025, 4, 1),
            "last_failed_on": dt.date(2026, 3, 5),
        },
    )
    assert (
        "12个月内2次抽检不合格，共3次" in text
        and "自2026年3月5日起" in text
        and "2028年3月5日" in text
    )
    assert "\n" not in text and "{" not in text


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda d: d["rules"].update(fast_seller={}), "rules.fast_seller", "unknown rule"),
        (lambda d: d["rules"].pop("clean_record"), "rules.clean_record", "missing"),
        (
            lambda d: d["rules"]["repeat_failure"]["params"].update(window_months="twelve"),
            "rules.repeat_failure.params.window_months",
            "whole number",
        ),
        (
            lambda d: d["rules"]["repeat_failure"]["params"].update(window_months=0),
            "rules.repeat_failure.params.window_months",
            "outside 1..120",
        ),
        (
            lambda d: d["rules"]["repeat_failure"]["params"].update(min_failures=1),
            "rules.repeat_failure.params.min_failures",
            "outside 2..20",
        ),
        (
            lambda d: d["rules"]["clean_record"]["params"].update(min_samples=True),
            "rules.clean_record.params.min_samples",
            "whole number",
        ),
        (
            lambda d: d["rules"]["clean_record"]["params"].update(min_samples=4.5),
            "rules.clean_record.params.min_samples",
            "whole number",
        ),
        (
            lambda d: d["rules"]["clean_record"]["params"].pop("listing_months"),
            "rules.clean_record.params.listing_months",
            "missing",
        ),
        (
            lambda d: d["rules"]["clean_record"]["params"].update(window_month=24),
            "rules.clean_record.params.window_month",
            "unknown field",
        ),
        (
            lambda d: d["rules"]["unremedied_safety"]["params"].update(remedy_acks=["received"]),
            "rules.unremedied_safety.params.remedy_acks",
            "unknown value 'received'",
        ),
        (
            lambda d: d["rules"]["unremedied_safety"]["params"].update(notice_kinds=[]),
            "rules.unremedied_safety.params.notice_kinds",
            "non-empty list",
        ),
        (
            lambda d: d["rules"]["clean_record"].update(list="black"),
            "rules.clean_record.list",
            "must be red",
        ),
        (
            lambda d: d["rules"]["repeat_failure"].update(enabled="yes"),
            "rules.repeat_failure.enabled",
            "true or false",
        ),
        (
            lambda d: d["rules"]["repeat_failure"].update(reason_zh="{shop_owner}多次不合格"),
            "rules.repeat_failure.reason_zh",
            "unknown placeholder {shop_owner}",
        ),
        (
            lambda d: d["rules"]["repeat_failure"].update(reason_zh="{count:>5}次"),
            "rules.repeat_failure.reason_zh",
            "without format",
        ),
        (
            lambda d: d["rules"]["repeat_failure"].update(reason_zh="不合格{count"),
            "rules.repeat_failure.reason_zh",
            "not a valid template",
        ),
        (
            lambda d: d["rules"]["clean_record"].update(reason_zh="第一行\n第二行"),
            "rules.clean_record.reason_zh",
            "one line",
        ),
        (
            lambda d: d["rules"]["clean_record"].update(title_zh=""),
            "rules.clean_record.title_zh",
            "required",
        ),
        (lambda d: d["ended_zh"].pop("remedied"), "ended_zh.remedied", "required"),
        (
            lambda d: d["ended_zh"].update(remedied="{reporter}"),
            "ended_zh.remedied",
            "unknown placeholder",
        ),
        (lambda d: d.pop("version"), "version", "required"),
        (lambda d: d.update(version="x" * 40), "version", "longer than 32"),
        (lambda d: d.update(rule={}), "rule", "unknown field"),
        (lambda d: d.update(rules=["repeat_failure"]), "rules", "expected a mapping"),
    ],
)
def test_mistakes_are_refused_naming_the_field(doc, change, field, words):
    broken = copy.deepcopy(doc)
    change(broken)
    message = refused(broken)
    assert message.startswith(f"credit_rules.yaml: {field}: "), message
    assert words in message, message


def test_a_disabled_rule_is_loaded_as_disabled(doc):
    doc["rules"]["clean_record"]["enabled"] = False
    assert not rules_from_dict(doc).rule("clean_record").enabled


def test_an_unreadable_file_names_the_file(tmp_path: Path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules: [unclosed", encoding="utf-8")
    with pytest.raises(CreditRulesError, match=re.escape(str(bad))):
        load_rules(bad)
    with pytest.raises(CreditRulesError, match="cannot read"):
        load_rules(tmp_path / "missing.yaml")


def test_a_numeric_version_is_kept_as_text(doc):
    doc["version"] = 2026.2
    assert rules_from_dict(doc).version == "2026.2"


@pytest.mark.parametrize(
    "module", [transforms.credit.rules, transforms.credit.samples, transforms.credit.lists]
)
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.failed == 0
