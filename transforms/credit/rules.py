"""The credit rules as data: ``transforms/credit/data/credit_rules.yaml``, checked.

:func:`load_rules` reads the file and refuses anything it would otherwise have to guess
about: an unknown rule, a missing or unknown parameter, a value out of range, a rule on
the wrong list, a reason template naming a placeholder the rule cannot fill. The error
names the file and the field (``rules.repeat_failure.params.window_months``).

>>> rules = load_rules()
>>> rules.rule("repeat_failure").list_kind, rules.rule("repeat_failure").params["window_months"]
('black', 12)
>>> rules.rule("clean_record").list_kind
'red'
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "ACK_ZH",
    "DEFAULT_PATH",
    "ENDINGS",
    "LISTS",
    "RULES",
    "CreditRules",
    "CreditRulesError",
    "Rule",
    "date_zh",
    "load_rules",
    "rules_from_dict",
]

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "credit_rules.yaml"
LISTS = {"black": "黑名单", "red": "红名单"}
# The acknowledgements (notifications.ack_kind) that end a safety listing, for people.
ACK_ZH = {"remedied": "已整改", "takedown_confirmed": "已下架"}
ENDINGS = (
    "remedied",
    "cleared_by_retest",
    "failure",
    "blacklisted",
    "merged",
    "no_longer_met",
)
_VERSION_MAX = 32  # merchant_credit.rules_version


class CreditRulesError(ValueError):
    """The rules file is not usable; the message names the file and the field."""


@dataclass(frozen=True)
class _Count:
    low: int
    high: int
    what: str

    def check(self, value: Any, field: str, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise CreditRulesError(
                f"{where}: {field}: expected a whole number of {self.what} from {self.low} "
                f"to {self.high}, got {value!r}"
            )
        if not self.low <= value <= self.high:
            raise CreditRulesError(
                f"{where}: {field}: {value} is outside {self.low}..{self.high} {self.what}"
            )
        return value


@dataclass(frozen=True)
class _Choices:
    allowed: tuple[str, ...]

    def check(self, value: Any, field: str, where: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise CreditRulesError(
                f"{where}: {field}: expected a non-empty list of {', '.join(self.allowed)}, "
                f"got {value!r}"
            )
        for item in value:
            if item not in self.allowed:
                raise CreditRulesError(
                    f"{where}: {field}: unknown value {item!r}; allowed: {', '.join(self.allowed)}"
                )
        return tuple(dict.fromkeys(value))


@dataclass(frozen=True)
class _Spec:
    list_kind: str
    params: Mapping[str, _Count | _Choices]
    placeholders: tuple[str, ...]


_COMMON = ("listed_on", "expires_on", "count", "reports", "rules_version", "title_zh")
RULES: Mapping[str, _Spec] = {
    "repeat_failure": _Spec(
        "black",
        {
            "min_failures": _Count(2, 20, "failures"),
            "window_months": _Count(1, 120, "months"),
            "listing_months": _Count(1, 120, "months"),
        },
        ("window_count", "first_failed_on", "last_failed_on"),
    ),
    "unremedied_safety": _Spec(
        "black",
        {
            "remedy_days": _Count(1, 365, "days"),
            "notice_kinds": _Choices(("platform_failure", "seller_result", "producer_failure")),
            "remedy_acks": _Choices(tuple(ACK_ZH)),
        },
        ("report_number", "tested_on", "defect", "notified_on", "deadline"),
    ),
    "clean_record": _Spec(
        "red",
        {
            "min_samples": _Count(1, 100, "samples"),
            "window_months": _Count(1, 120, "months"),
            "failure_free_months": _Count(1, 240, "months"),
            "listing_months": _Count(1, 120, "months"),
        },
        ("first_tested_on", "last_tested_on"),
    ),
}
_ENDING_PLACEHOLDERS = ("lifted_on", "lifted_by", "list_zh", "ack", "rules_version")


@dataclass(frozen=True)
class Rule:
    """One rule of the file, checked."""

    code: str
    list_kind: str
    enabled: bool
    title_zh: str
    params: Mapping[str, Any]
    reason_zh: str


@dataclass(frozen=True)
class CreditRules:
    """The whole rules file: its version, the rules by code, the ending sentences."""

    version: str
    rules: Mapping[str, Rule]
    ended_zh: Mapping[str, str]
    source: str = "credit rules"

    def rule(self, code: str) -> Rule:
        return self.rules[code]

    def reason(self, code: str, values: Mapping[str, Any]) -> str:
        """The reason of a listing under rule ``code``; dates in ``values`` become
        2026年3月5日, ``None`` becomes 无."""
        rule = self.rules[code]
        filled = {**rule.params, "title_zh": rule.title_zh, "rules_version": self.version}
        filled.update(values)
        return rule.reason_zh.format_map({k: _shown(v) for k, v in filled.items()})

    def ending(self, kind: str, values: Mapping[str, Any]) -> str:
        """The sentence added to a reason when its listing ends early."""
        filled = {"rules_version": self.version, **values}
        return self.ended_zh[kind].format_map({k: _shown(v) for k, v in filled.items()})


def date_zh(day: dt.date) -> str:
    """A date as people write it.

    >>> date_zh(dt.date(2026, 3, 5))
    '2026年3月5日'
    """
    return f"{day.year}年{day.month}月{day.day}日"


def _shown(value: Any) -> str:
    if value is None:
        return "无"
    if isinstance(value, dt.date):
        return date_zh(value)
    if isinstance(value, list | tuple):
        return "、".join(_shown(v) for v in value)
    return str(value)


def load_rules(path: Path | str | None = None) -> CreditRules:
    """Read and check the rules file (default: the one shipped with ecqm)."""
    path = Path(path or DEFAULT_PATH)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CreditRulesError(f"{path}: cannot read the credit rules: {exc}") from exc
    return rules_from_dict(doc, str(path))


def rules_from_dict(doc: Any, where: str = "credit rules") -> CreditRules:
    """Check a parsed rules document; raises :class:`CreditRulesError` naming the field."""
    _mapping(doc, "the document", where)
    _no_unknown(doc, ("version", "rules", "ended_zh"), "", where)
    version = doc.get("version")
    if isinstance(version, int | float) and not isinstance(version, bool):
        version = str(version)
    if not isinstance(version, str) or not version.strip():
        raise CreditRulesError(f'{where}: version: required, a text such as "2026.1"')
    if len(version) > _VERSION_MAX:
        raise CreditRulesError(f"{where}: version: longer than {_VERSION_MAX} characters")
    rules_doc = _mapping(doc.get("rules"), "rules", where)
    for code in rules_doc:
        if code not in RULES:
            raise CreditRulesError(
                f"{where}: rules.{code}: unknown rule; the rules are {', '.join(sorted(RULES))}"
            )
    rules = {}
    for code, spec in RULES.items():
        if code not in rules_doc:
            raise CreditRulesError(
                f"{where}: rules.{code}: missing (set `enabled: false` to switch a rule off)"
            )
        rules[code] = _rule(code, spec, rules_doc[code], where)
    ended_doc = _mapping(doc.get("ended_zh"), "ended_zh", where)
    _no_unknown(ended_doc, ENDINGS, "ended_zh.", where)
    ended = {}
    for kind in ENDINGS:
        field = f"ended_zh.{kind}"
        ended[kind] = _template(ended_doc.get(kind), _ENDING_PLACEHOLDERS, field, where)
    return CreditRules(version=version.strip(), rules=rules, ended_zh=ended, source=where)


def _rule(code: str, spec: _Spec, doc: Any, where: str) -> Rule:
    prefix = f"rules.{code}"
    _mapping(doc, prefix, where)
    _no_unknown(doc, ("list", "enabled", "title_zh", "params", "reason_zh"), f"{prefix}.", where)
    if doc.get("list") != spec.list_kind:
        raise CreditRulesError(
            f"{where}: {prefix}.list: must be {spec.list_kind} for this rule, got {doc.get('list')!r}"
        )
    enabled = doc.get("enabled", True)
    if not isinstance(enabled, bool):
        raise CreditRulesError(
            f"{where}: {prefix}.enabled: expected true or false, got {enabled!r}"
        )
    title = doc.get("title_zh")
    if not isinstance(title, str) or not title.strip():
        raise CreditRulesError(f"{where}: {prefix}.title_zh: required, the rule's name in Chinese")
    params_doc = _mapping(doc.get("params"), f"{prefix}.params", where)
    _no_unknown(params_doc, tuple(spec.params), f"{prefix}.params.", where)
    params: dict[str, Any] = {}
    for name, check in spec.params.items():
        field = f"{prefix}.params.{name}"
        if name not in params_doc:
            raise CreditRulesError(f"{where}: {field}: missing")
        params[name] = check.check(params_doc[name], field, where)
    allowed = _COMMON + spec.placeholders + tuple(spec.params)
    reason = _template(doc.get("reason_zh"), allowed, f"{prefix}.reason_zh", where)
    return Rule(code, spec.list_kind, enabled, title.strip(), params, reason)


def _template(value: Any, allowed: tuple[str, ...], field: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CreditRulesError(f"{where}: {field}: required, a one-line text")
    if "\n" in value.strip():
        raise CreditRulesError(f"{where}: {field}: must be one line")
    try:
        parsed = list(string.Formatter().parse(value))
    except ValueError as exc:
        raise CreditRulesError(f"{where}: {field}: not a valid template: {exc}") from exc
    for _, name, spec, conv in parsed:
        if name is None:
            continue
        if not name or spec or conv:
            raise CreditRulesError(
                f"{where}: {field}: write placeholders as {{name}}, without format or "
                f"conversion; got {{{name}{'!' + conv if conv else ''}{':' + spec if spec else ''}}}"
            )
        if name not in allowed:
            raise CreditRulesError(
                f"{where}: {field}: unknown placeholder {{{name}}}; "
                f"available: {', '.join('{' + a + '}' for a in allowed)}"
            )
    return value.strip()


def _mapping(value: Any, field: str, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise CreditRulesError(f"{where}: {field}: expected a mapping, got {value!r}")
    return value


def _no_unknown(doc: Mapping[str, Any], known: tuple[str, ...], prefix: str, where: str) -> None:
    for key in doc:
        if key not in known:
            raise CreditRulesError(
                f"{where}: {prefix}{key}: unknown field; expected one of {', '.join(known)}"
            )
