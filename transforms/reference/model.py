"""Record types of the warehouse reference data and the vocabularies they use.

Each record type maps one-to-one onto a ``ref_*`` table: :meth:`to_row` gives the
column values (JSON-valued columns as plain lists and dicts, dates as
:class:`datetime.date`); the loader adds ``source_version`` and ``is_active``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

GROUPS: dict[str, str] = {
    "household_appliances": "家用电器",
    "children_toys": "儿童用品及玩具",
    "electronics": "电子电器",
    "batteries_chargers": "电池及充电器",
    "textiles": "纺织品",
    "cosmetics": "化妆品",
    "food_contact": "食品相关产品",
}

HAZARDS: tuple[str, ...] = (
    "fire",
    "electric_shock",
    "burn",
    "chemical_odour",
    "choking_small_parts",
    "cut_breakage",
    "allergy_skin",
    "performance",
    "labelling",
)

# 1..4 on the severity scale of the risk matrix.
SEVERITY_LABELS: dict[int, str] = {1: "微弱", 2: "一般", 3: "严重", 4: "非常严重"}

TERM_CLASSES: dict[str, str] = {
    "absolute": "绝对化用语",
    "national_authority": "国家级/权威",
    "false_honor": "荣誉/免检/驰名",
    "guarantee": "保证/承诺",
    "medical_claim": "医疗/疾病功效",
    "other": "其他",
}

TERM_SEVERITIES: tuple[str, ...] = ("high", "medium", "low")

REGION_LEVELS: tuple[str, ...] = ("province", "city", "county")


@dataclass(frozen=True)
class Standard:
    code: str
    title: str


@dataclass(frozen=True)
class TestItem:
    __test__ = False  # a record, not a pytest class

    name: str
    standard: str


@dataclass(frozen=True)
class Category:
    code: str
    name_zh: str
    name_en: str
    group_code: str
    group_zh: str
    severity_weight: float
    max_severity: int
    is_ccc_required: bool
    ccc_catalogue_item: str | None
    ccc_required_from: dt.date | None
    standards: tuple[Standard, ...]
    test_items: tuple[TestItem, ...]
    hazards: tuple[str, ...]
    keywords: tuple[str, ...]
    sample_units: int
    backup_units: int
    unit_zh: str

    @property
    def key(self) -> str:
        return self.code

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["standards"] = [asdict(s) for s in self.standards]
        row["test_items"] = [asdict(t) for t in self.test_items]
        row["hazards"] = list(self.hazards)
        row["keywords"] = list(self.keywords)
        return row


@dataclass(frozen=True)
class BannedTerm:
    term: str
    term_class: str
    legal_basis: str
    severity: str
    pattern: str | None
    exemption_patterns: tuple[str, ...]
    note: str | None

    @property
    def key(self) -> str:
        return self.term

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["exemption_patterns"] = list(self.exemption_patterns)
        return row


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str
    parent_code: str | None
    regulator_name: str
    notify_email: str | None

    @property
    def key(self) -> str:
        return self.code

    def to_row(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Lab:
    code: str
    name: str
    region_code: str
    accreditation_no: str
    category_codes: tuple[str, ...]
    monthly_capacity: int
    contact_email: str | None

    @property
    def key(self) -> str:
        return self.code

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["category_codes"] = list(self.category_codes)
        return row


@dataclass(frozen=True)
class SourceFile:
    """One data file as read: its declared version and the SHA-256 of its bytes."""

    path: Path
    version: str
    sha256: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def source_version(self) -> str:
        """What every row loaded from this file records: ``<version>+<12 hex of sha256>``."""
        return f"{self.version}+{self.sha256[:12]}"


@dataclass(frozen=True)
class ReferenceData:
    """The four reference files, parsed and validated together."""

    categories: tuple[Category, ...]
    banned_terms: tuple[BannedTerm, ...]
    regions: tuple[Region, ...]
    labs: tuple[Lab, ...]
    sources: dict[str, SourceFile]
    """Keyed by table name (``ref_categories``…)."""
    warnings: tuple[str, ...] = field(default=())
    """Findings that do not stop a load, e.g. a category no lab can test."""

    def records(self, table_name: str) -> tuple[Category | BannedTerm | Region | Lab, ...]:
        return {
            "ref_categories": self.categories,
            "ref_banned_terms": self.banned_terms,
            "ref_regions": self.regions,
            "ref_labs": self.labs,
        }[table_name]

    def rows(self, table_name: str) -> list[dict[str, Any]]:
        """Rows for ``table_name`` as the warehouse stores them, active and versioned."""
        version = self.sources[table_name].source_version
        return [
            {**record.to_row(), "source_version": version, "is_active": True}
            for record in self.records(table_name)
        ]

    def category(self, code: str) -> Category:
        for c in self.categories:
            if c.code == code:
                return c
        raise KeyError(code)
