"""Reading the reference YAML files into records, with errors people can act on.

Every problem is reported as ``<file>: entry <n> (<key field> '<key>'): <field> <what is
wrong>, got <value>`` (entries counted from 1, as they appear in the file), and all
problems of all files are collected before anything is raised, so one run of
``python -m transforms.reference.load --check`` lists everything to fix.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from transforms.reference.model import (
    GROUPS,
    HAZARDS,
    REGION_LEVELS,
    TERM_CLASSES,
    TERM_SEVERITIES,
    BannedTerm,
    Category,
    Lab,
    Region,
    SourceFile,
    Standard,
    TestItem,
)

_MISSING = object()
_EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_REGION_CODE = re.compile(r"^\d{6}$")
_CNAS = re.compile(r"^CNAS L\d{4,5}$")
MAX_VERSION_LENGTH = 40  # source_version is String(64): version + "+" + 12 hex


class _SafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that leaves timestamps as text.

    PyYAML turns ``2024-13-01`` into a bare ValueError that names no entry; as text,
    dates are parsed by :meth:`Entry.date`, which reports the entry and field.
    """


_SafeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class Problems:
    """Collects error messages; ``bool(problems)`` is true when there are any."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        self.messages.append(message)

    def __bool__(self) -> bool:
        return bool(self.messages)


class Entry:
    """One mapping in a file's list, with typed accessors that report what is wrong."""

    def __init__(
        self,
        file: str,
        index: int,
        raw: Any,
        key_field: str,
        fields: tuple[str, ...],
        problems: Problems,
    ) -> None:
        self.file = file
        self.index = index
        self.problems = problems
        self.ok = True
        key = raw.get(key_field) if isinstance(raw, dict) else None
        self.label = f"{file}: entry {index}" + (
            f" ({key_field} {key!r})" if key is not None else ""
        )
        if not isinstance(raw, dict):
            self.raw: dict[str, Any] = {}
            self.error(f"must be a mapping of fields, got {raw!r}")
            return
        self.raw = raw
        for name in raw:
            if name not in fields:
                self.error(f"unknown field {name!r} (allowed: {', '.join(fields)})")

    def error(self, message: str) -> None:
        self.ok = False
        self.problems.add(f"{self.label}: {message}")

    def _get(self, name: str, required: bool) -> Any:
        value = self.raw.get(name, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.error(f"{name} is required" + ("" if value is _MISSING else ", got null"))
            return _MISSING
        return value

    def text(
        self,
        name: str,
        *,
        required: bool = True,
        max_length: int | None = None,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
    ) -> str | None:
        value = self._get(name, required)
        if value is _MISSING:
            return None
        if not isinstance(value, str) or not value.strip():
            self.error(f"{name} must be a non-empty string, got {value!r}")
            return None
        value = value.strip()
        if "\n" in value:
            self.error(f"{name} must be one line, got {value!r}")
        if max_length is not None and len(value) > max_length:
            self.error(f"{name} must be at most {max_length} characters, got {value!r}")
        if pattern is not None and not pattern.match(value):
            self.error(f"{name} must be {hint or 'like ' + pattern.pattern}, got {value!r}")
            return None
        return value

    def choice(self, name: str, options: tuple[str, ...] | dict[str, str]) -> str | None:
        value = self._get(name, True)
        if value is _MISSING:
            return None
        if value not in options:
            self.error(f"{name} must be one of {', '.join(options)}, got {value!r}")
            return None
        return value

    def integer(
        self, name: str, *, minimum: int, maximum: int | None = None, what: str = ""
    ) -> int | None:
        value = self._get(name, True)
        if value is _MISSING:
            return None
        bad = isinstance(value, bool) or not isinstance(value, int) or value < minimum
        if not bad and maximum is not None and value > maximum:
            bad = True
        if bad:
            if what:
                self.error(f"{name} must be {what}, got {value!r}")
            else:
                self.error(f"{name} must be an integer from {minimum} to {maximum}, got {value!r}")
            return None
        return value

    def weight(self, name: str) -> float | None:
        value = self._get(name, True)
        if value is _MISSING:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            self.error(f"{name} must be a number in (0, 1], got {value!r}")
            return None
        return float(value)

    def flag(self, name: str) -> bool | None:
        value = self._get(name, True)
        if value is _MISSING:
            return None
        if not isinstance(value, bool):
            self.error(f"{name} must be true or false, got {value!r}")
            return None
        return value

    def date(self, name: str) -> dt.date | None:
        value = self._get(name, False)
        if value is _MISSING:
            return None
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        if not isinstance(value, dt.date):
            self.error(f"{name} must be a date like 2024-08-01 or null, got {value!r}")
            return None
        return value

    def region_code(self, name: str, *, required: bool = True) -> str | None:
        value = self._get(name, required)
        if value is _MISSING:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not _REGION_CODE.match(value.strip()):
            self.error(f'{name} must be a 6-digit administrative code like "330100", got {value!r}')
            return None
        return value.strip()

    def strings(self, name: str, *, min_items: int = 1) -> tuple[str, ...] | None:
        value = self._get(name, True)
        if value is _MISSING:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.error(f"{name} must be a list of non-empty strings, got {value!r}")
            return None
        items = tuple(v.strip() for v in value)
        if len(items) < min_items:
            self.error(f"{name} must have at least {min_items} item(s), got {len(items)}")
        duplicates = sorted({v for v in items if items.count(v) > 1})
        if duplicates:
            self.error(f"{name} lists {', '.join(map(repr, duplicates))} more than once")
        return items

    def mappings(self, name: str, fields: tuple[str, ...]) -> list[dict[str, str]] | None:
        """A non-empty list of mappings whose fields are all non-empty strings."""
        value = self._get(name, True)
        if value is _MISSING:
            return None
        if not isinstance(value, list) or not value:
            self.error(f"{name} must be a non-empty list, got {value!r}")
            return None
        out: list[dict[str, str]] = []
        for i, item in enumerate(value, start=1):
            where = f"{name}[{i}]"
            if not isinstance(item, dict):
                self.error(f"{where} must be a mapping with {', '.join(fields)}, got {item!r}")
                continue
            unknown = [k for k in item if k not in fields]
            if unknown:
                self.error(f"{where} has unknown field(s) {', '.join(map(repr, unknown))}")
            clean: dict[str, str] = {}
            for f in fields:
                v = item.get(f)
                if not isinstance(v, str) or not v.strip():
                    self.error(f"{where}.{f} must be a non-empty string, got {v!r}")
                else:
                    clean[f] = v.strip()
            if len(clean) == len(fields):
                out.append(clean)
        return out


# --------------------------------------------------------------------------- files


def read_file(
    path: Path, list_key: str, problems: Problems, extra_keys: tuple[str, ...] = ()
) -> tuple[SourceFile | None, dict[str, Any], list[Any]]:
    """Parse one file; returns its source description, top-level mapping and entry list."""
    name = path.name
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        problems.add(f"{name}: file not found in {path.parent}")
        return None, {}, []
    try:
        doc = yaml.load(content.decode("utf-8"), Loader=_SafeLoader)  # a SafeLoader subclass
    except UnicodeDecodeError as exc:
        problems.add(f"{name}: not UTF-8 text ({exc})")
        return None, {}, []
    except yaml.YAMLError as exc:
        problems.add(f"{name}: not valid YAML: {' '.join(str(exc).split())}")
        return None, {}, []
    if not isinstance(doc, dict):
        problems.add(
            f"{name}: must be a mapping with 'version' and '{list_key}', got {type(doc).__name__}"
        )
        return None, {}, []
    for key in doc:
        if key not in ("version", list_key, *extra_keys):
            problems.add(
                f"{name}: unknown top-level key {key!r} (allowed: version, {', '.join((list_key, *extra_keys))})"
            )
    version = doc.get("version")
    source = None
    if version is None:
        problems.add(f"{name}: 'version' is required at the top of the file")
    elif not isinstance(version, str) or not version.strip():
        problems.add(f'{name}: version must be a quoted string such as "2025.1", got {version!r}')
    elif len(version.strip()) > MAX_VERSION_LENGTH or any(ch.isspace() for ch in version.strip()):
        problems.add(
            f"{name}: version must be one word of at most {MAX_VERSION_LENGTH} characters, got {version!r}"
        )
    else:
        source = SourceFile(
            path=path, version=version.strip(), sha256=hashlib.sha256(content).hexdigest()
        )
    entries = doc.get(list_key)
    if entries is None:
        problems.add(f"{name}: '{list_key}' is required: a list of entries")
        entries = []
    elif not isinstance(entries, list):
        problems.add(
            f"{name}: '{list_key}' must be a list of entries, got {type(entries).__name__}"
        )
        entries = []
    return source, doc, entries


def _unique(
    records: list[tuple[int, Any]],
    key: Callable[[Any], str],
    file: str,
    what: str,
    problems: Problems,
    shown: Callable[[Any], str] | None = None,
) -> None:
    """Report repeated keys; ``records`` pairs each record with its entry number."""
    seen: dict[str, int] = {}
    for i, record in records:
        k = key(record)
        if k in seen:
            label = shown(record) if shown else k
            problems.add(
                f"{file}: entry {i} ({what} {label!r}): duplicate {what}, first used by entry {seen[k]}"
            )
        else:
            seen[k] = i


def _entries(
    file: str, raw_entries: list[Any], key_field: str, fields: tuple[str, ...], problems: Problems
) -> Iterator[Entry]:
    for i, raw in enumerate(raw_entries, start=1):
        yield Entry(file, i, raw, key_field, fields, problems)


def normalise_keyword(word: str) -> str:
    """How keywords are compared: NFKC, case-folded, inner spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", word).casefold().split())


# ---------------------------------------------------------------------- categories

CATEGORY_FIELDS = (
    "code",
    "name_zh",
    "name_en",
    "group_code",
    "group_zh",
    "severity_weight",
    "max_severity",
    "is_ccc_required",
    "ccc_catalogue_item",
    "ccc_required_from",
    "standards",
    "test_items",
    "hazards",
    "keywords",
    "sample_units",
    "backup_units",
    "unit_zh",
)


def parse_categories(file: str, raw_entries: list[Any], problems: Problems) -> list[Category]:
    indexed: list[tuple[int, Category]] = []
    keyword_owner: dict[str, tuple[int, str]] = {}
    for e in _entries(file, raw_entries, "code", CATEGORY_FIELDS, problems):
        code = e.text("code", max_length=48, pattern=_CODE, hint="lower_snake_case")
        group = e.choice("group_code", GROUPS)
        group_zh = e.text("group_zh", max_length=32)
        if group and group_zh and GROUPS[group] != group_zh:
            e.error(
                f"group_zh must be {GROUPS[group]!r} for group_code {group!r}, got {group_zh!r}"
            )
        ccc = e.flag("is_ccc_required")
        item = e.text("ccc_catalogue_item", required=bool(ccc))
        since = e.date("ccc_required_from")
        if ccc is False and (item or since):
            e.error(
                "ccc_catalogue_item and ccc_required_from must be null when is_ccc_required is false"
            )
        standards = e.mappings("standards", ("code", "title")) or []
        codes = [s["code"] for s in standards]
        for dup in sorted({c for c in codes if codes.count(c) > 1}):
            e.error(f"standards lists {dup!r} more than once")
        items = e.mappings("test_items", ("name", "standard")) or []
        for i, t in enumerate(items, start=1):
            if standards and t["standard"] not in codes:
                e.error(
                    f"test_items[{i}].standard {t['standard']!r} is not one of this entry's standards"
                )
        hazards = e.strings("hazards") or ()
        for h in hazards:
            if h not in HAZARDS:
                e.error(f"hazards: {h!r} is not one of {', '.join(HAZARDS)}")
        keywords = e.strings("keywords", min_items=3) or ()
        for word in keywords:
            norm = normalise_keyword(word)
            owner = keyword_owner.get(norm)
            if owner and owner[1] != code:
                e.error(f"keyword {word!r} already belongs to entry {owner[0]} (code {owner[1]!r})")
            elif code:
                keyword_owner[norm] = (e.index, code)
        values = dict(
            code=code,
            name_zh=e.text("name_zh", max_length=64),
            name_en=e.text("name_en", max_length=128),
            group_code=group,
            group_zh=group_zh,
            severity_weight=e.weight("severity_weight"),
            max_severity=e.integer(
                "max_severity",
                minimum=1,
                maximum=4,
                what="an integer from 1 (微弱) to 4 (非常严重)",
            ),
            is_ccc_required=ccc,
            ccc_catalogue_item=item,
            ccc_required_from=since,
            standards=tuple(Standard(**s) for s in standards),
            test_items=tuple(TestItem(**t) for t in items),
            hazards=hazards,
            keywords=keywords,
            sample_units=e.integer(
                "sample_units", minimum=1, maximum=10_000, what="a positive integer"
            ),
            backup_units=e.integer(
                "backup_units", minimum=0, maximum=10_000, what="a non-negative integer"
            ),
            unit_zh=e.text("unit_zh", max_length=8),
        )
        if e.ok:
            indexed.append((e.index, Category(**values)))
    _unique(indexed, lambda c: c.code, file, "code", problems)
    return [record for _, record in indexed]


# -------------------------------------------------------------------- banned terms

TERM_FIELDS = (
    "term",
    "term_class",
    "legal_basis",
    "severity",
    "pattern",
    "exemption_patterns",
    "note",
)


def _compile(e: Entry, where: str, pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        e.error(f"{where} is not a valid regular expression ({exc}): {pattern!r}")
        return None


def _flatten(value: Any) -> Iterator[Any]:
    """Exemption lists may nest the named sets (YAML aliases); flatten one list."""
    for item in value:
        if isinstance(item, list):
            yield from _flatten(item)
        else:
            yield item


def check_exemption_sets(file: str, sets: Any, problems: Problems) -> None:
    if sets is None:
        return
    if not isinstance(sets, dict):
        problems.add(f"{file}: exemption_sets must be a mapping of name to a list of regexes")
        return
    for name, patterns in sets.items():
        if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
            problems.add(
                f"{file}: exemption_sets.{name} must be a list of regex strings, got {patterns!r}"
            )
            continue
        for i, p in enumerate(patterns, start=1):
            try:
                re.compile(p, re.IGNORECASE)
            except re.error as exc:
                problems.add(
                    f"{file}: exemption_sets.{name}[{i}] is not a valid regular expression ({exc}): {p!r}"
                )


def parse_banned_terms(file: str, raw_entries: list[Any], problems: Problems) -> list[BannedTerm]:
    from transforms.reference.terms import normalise_text

    indexed: list[tuple[int, BannedTerm]] = []
    for e in _entries(file, raw_entries, "term", TERM_FIELDS, problems):
        term = e.text("term", max_length=64)
        pattern = e.text("pattern", required=False)
        if pattern is not None and term is not None:
            compiled = _compile(e, "pattern", pattern)
            if compiled is not None and not compiled.search(normalise_text(term)):
                e.error(f"pattern {pattern!r} does not match the term itself")
        raw_exemptions = e.raw.get("exemption_patterns")
        exemptions: list[str] = []
        if raw_exemptions is None:
            pass
        elif not isinstance(raw_exemptions, list):
            e.error(f"exemption_patterns must be a list of regexes, got {raw_exemptions!r}")
        else:
            for i, p in enumerate(_flatten(raw_exemptions), start=1):
                if not isinstance(p, str) or not p:
                    e.error(f"exemption_patterns[{i}] must be a regex string, got {p!r}")
                elif _compile(e, f"exemption_patterns[{i}]", p) is not None and p not in exemptions:
                    exemptions.append(p)
        values = dict(
            term=term,
            term_class=e.choice("term_class", TERM_CLASSES),
            legal_basis=e.text("legal_basis"),
            severity=e.choice("severity", TERM_SEVERITIES),
            pattern=pattern,
            exemption_patterns=tuple(exemptions),
            note=e.text("note", required=False),
        )
        if e.ok:
            indexed.append((e.index, BannedTerm(**values)))
    _unique(
        indexed,
        lambda t: normalise_text(t.term).casefold(),
        file,
        "term",
        problems,
        shown=lambda t: t.term,
    )
    return [record for _, record in indexed]


# ------------------------------------------------------------------------- regions

REGION_FIELDS = ("code", "name", "level", "parent_code", "regulator_name", "notify_email")


def parse_regions(file: str, raw_entries: list[Any], problems: Problems) -> list[Region]:
    indexed: list[tuple[int, Region]] = []
    for e in _entries(file, raw_entries, "code", REGION_FIELDS, problems):
        level = e.choice("level", REGION_LEVELS)
        values = dict(
            code=e.region_code("code"),
            name=e.text("name", max_length=64),
            level=level,
            parent_code=e.region_code("parent_code", required=level in ("city", "county")),
            regulator_name=e.text("regulator_name", max_length=128),
            notify_email=e.text(
                "notify_email",
                required=False,
                max_length=256,
                pattern=_EMAIL,
                hint="an e-mail address",
            ),
        )
        if level == "province" and values["parent_code"]:
            e.error(f"parent_code must be null for a province, got {values['parent_code']!r}")
        if e.ok:
            indexed.append((e.index, Region(**values)))
    _unique(indexed, lambda r: r.code, file, "code", problems)
    by_code = {r.code: r for _, r in indexed}
    for i, r in indexed:
        label = f"{file}: entry {i} (code {r.code!r})"
        if r.level == "province" and not r.code.endswith("0000"):
            problems.add(f"{label}: a province code ends in 0000")
        if r.parent_code is None:
            continue
        parent = by_code.get(r.parent_code)
        if parent is None:
            problems.add(f"{label}: parent_code {r.parent_code!r} is not a region in this file")
            continue
        allowed = {"city": ("province",), "county": ("city", "province")}[r.level]
        if parent.level not in allowed:
            problems.add(
                f"{label}: a {r.level}'s parent must be a {' or '.join(allowed)}, "
                f"but {r.parent_code!r} is a {parent.level}"
            )
        prefix = 4 if parent.level == "city" else 2
        if r.code[:prefix] != r.parent_code[:prefix]:
            problems.add(
                f"{label}: code does not start with its parent's {r.parent_code[:prefix]!r}"
            )
    return [record for _, record in indexed]


# ---------------------------------------------------------------------------- labs

LAB_FIELDS = (
    "code",
    "name",
    "region_code",
    "accreditation_no",
    "category_codes",
    "monthly_capacity",
    "contact_email",
)


def parse_labs(
    file: str,
    raw_entries: list[Any],
    problems: Problems,
    *,
    region_codes: set[str] | None,
    category_codes: set[str] | None,
) -> list[Lab]:
    """``region_codes`` / ``category_codes`` are None when those files failed to parse,
    so their cross-references are not checked (their own errors are reported)."""
    indexed: list[tuple[int, Lab]] = []
    for e in _entries(file, raw_entries, "code", LAB_FIELDS, problems):
        region = e.region_code("region_code")
        if region and region_codes is not None and region not in region_codes:
            e.error(f"region_code {region!r} is not a region in regions.yaml")
        categories = e.strings("category_codes") or ()
        if category_codes is not None:
            for c in categories:
                if c not in category_codes:
                    e.error(f"category_codes: {c!r} is not a category in categories.yaml")
        values = dict(
            code=e.text("code", max_length=32, pattern=_CODE, hint="lower_snake_case"),
            name=e.text("name", max_length=128),
            region_code=region,
            accreditation_no=e.text(
                "accreditation_no",
                max_length=32,
                pattern=_CNAS,
                hint="a CNAS number like 'CNAS L1234'",
            ),
            category_codes=categories,
            monthly_capacity=e.integer(
                "monthly_capacity", minimum=1, maximum=1_000_000, what="a positive integer"
            ),
            contact_email=e.text(
                "contact_email",
                required=False,
                max_length=256,
                pattern=_EMAIL,
                hint="an e-mail address",
            ),
        )
        if e.ok:
            indexed.append((e.index, Lab(**values)))
    _unique(indexed, lambda lab: lab.code, file, "code", problems)
    _unique(indexed, lambda lab: lab.accreditation_no, file, "accreditation_no", problems)
    return [record for _, record in indexed]
