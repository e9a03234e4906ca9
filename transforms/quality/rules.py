"""The vocabulary the suites are written in: one :class:`Rule` is one GX expectation.

A rule is plain data — a Great Expectations expectation type, its keyword arguments and
a note saying why the rule exists — so the declarations in :mod:`transforms.quality.suites`
read like a specification and can be imported anywhere without importing GX (which takes
seconds and must not happen when Airflow parses a DAG). The same rule object feeds both
consumers: :meth:`Rule.configuration` gives GX its expectation, and
:mod:`transforms.quality.frames` evaluates the rule row by row with pandas, following
GX's documented semantics for that expectation type. Nothing is written twice.

Only the expectation types that :mod:`transforms.quality.frames` can evaluate per row
may be used (:data:`ROW_EXPECTATIONS`); a rule of another type is refused when declared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table
from sqlalchemy.types import Boolean, Date, Float, Integer, String

from ecqm.warehouse.types import UTCDateTime

NOT_NULL = "expect_column_values_to_not_be_null"
BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"
MATCH_REGEX = "expect_column_values_to_match_regex"
LENGTH_BETWEEN = "expect_column_value_lengths_to_be_between"
COMPOUND_UNIQUE = "expect_compound_columns_to_be_unique"
UNIQUE = "expect_column_values_to_be_unique"
PAIR_A_GREATER = "expect_column_pair_values_a_to_be_greater_than_b"

ROW_EXPECTATIONS = frozenset(
    {
        NOT_NULL,
        BETWEEN,
        IN_SET,
        MATCH_REGEX,
        LENGTH_BETWEEN,
        UNIQUE,
        COMPOUND_UNIQUE,
        PAIR_A_GREATER,
    }
)
# quarantine.rule is String(128): a rule name must fit.
MAX_RULE_NAME = 128


@dataclass(frozen=True)
class Derived:
    """A helper column computed before validation: ``source + offset``.

    GX compares two columns but cannot add an offset, so "posted no later than one day
    after it was fetched" becomes a comparison with a derived ``fetched_at_plus_1d``.
    """

    name: str
    source: str
    offset: dt.timedelta


@dataclass(frozen=True)
class Rule:
    """One expectation on one table.

    ``column`` is the column the rule is about (what a failure names); for compound
    uniqueness it is the key columns joined with ``,``. ``reference`` names a value set
    supplied at validation time (``value_set`` is then filled from it), so reference
    data that changes with the warehouse (category codes) is never frozen into code.
    """

    expectation: str
    column: str
    kwargs: Mapping[str, Any]
    notes: str
    reference: str | None = None
    derived: tuple[Derived, ...] = ()

    def __post_init__(self) -> None:
        if self.expectation not in ROW_EXPECTATIONS:
            raise ValueError(f"{self.expectation} cannot be evaluated row by row")
        if len(self.name) > MAX_RULE_NAME:
            raise ValueError(f"rule name longer than {MAX_RULE_NAME}: {self.name}")

    @property
    def name(self) -> str:
        """``<expectation type>:<column>``, the id used in quarantine and dq_results."""
        return f"{self.expectation}:{self.column}"

    @property
    def columns(self) -> tuple[str, ...]:
        """Every input column the rule reads (derived helpers excluded)."""
        k = self.kwargs
        if "column_list" in k:
            return tuple(k["column_list"])
        if "column_A" in k:
            made = {d.name: d.source for d in self.derived}
            return tuple(made.get(c, c) for c in (k["column_A"], k["column_B"]))
        return (k["column"],)

    def resolved(self, reference: Mapping[str, Collection[str]]) -> dict[str, Any]:
        """The GX keyword arguments with the reference set filled in (sorted, JSON-safe)."""
        kwargs = dict(self.kwargs)
        if self.reference is not None:
            kwargs["value_set"] = sorted(str(v) for v in reference[self.reference])
        return kwargs

    def configuration(self, reference: Mapping[str, Collection[str]]) -> Any:
        """The GX ``ExpectationConfiguration`` for this rule (imports GX)."""
        from great_expectations.expectations.expectation_configuration import (
            ExpectationConfiguration,
        )

        return ExpectationConfiguration(
            type=self.expectation,
            kwargs=self.resolved(reference),
            meta={"rule": self.name},
            notes=self.notes,
        )


# ------------------------------------------------------------------- constructors
# Small helpers so a suite reads as a list of statements about columns.


def not_null(column: str, why: str) -> Rule:
    return Rule(NOT_NULL, column, {"column": column}, why)


def between(
    column: str,
    min_value: Any = None,
    max_value: Any = None,
    *,
    strict_min: bool = False,
    strict_max: bool = False,
    why: str,
) -> Rule:
    """Inclusive bounds unless ``strict_*``; datetime bounds are ISO strings (GX parses them)."""
    if min_value is None and max_value is None:
        raise ValueError(f"between({column}) needs a bound")
    kwargs: dict[str, Any] = {"column": column}
    if min_value is not None:
        kwargs["min_value"] = min_value
        if strict_min:
            kwargs["strict_min"] = True
    if max_value is not None:
        kwargs["max_value"] = max_value
        if strict_max:
            kwargs["strict_max"] = True
    return Rule(BETWEEN, column, kwargs, why)


def one_of(
    column: str,
    values: Collection[str] | None = None,
    *,
    reference: str | None = None,
    why: str,
) -> Rule:
    """Membership in a fixed set, or in the caller's reference set named ``reference``."""
    if (values is None) == (reference is None):
        raise ValueError(f"one_of({column}) takes values or reference, not both")
    kwargs: dict[str, Any] = {"column": column}
    if values is not None:
        kwargs["value_set"] = sorted(values)
    return Rule(IN_SET, column, kwargs, why, reference=reference)


def matches(column: str, regex: str, why: str) -> Rule:
    """GX applies ``re.search``: anchor the pattern, and prefer ``\\Z`` to ``$`` (which
    also matches before a trailing newline)."""
    return Rule(MATCH_REGEX, column, {"column": column, "regex": regex}, why)


def length(
    column: str, min_value: int | None = None, max_value: int | None = None, *, why: str
) -> Rule:
    """Length in characters; without ``max_value`` :func:`table_suite` fills in the
    column's ``String(n)`` width."""
    kwargs: dict[str, Any] = {"column": column}
    if min_value is not None:
        kwargs["min_value"] = min_value
    if max_value is not None:
        kwargs["max_value"] = max_value
    return Rule(LENGTH_BETWEEN, column, kwargs, why)


def unique_together(*columns: str, why: str) -> Rule:
    """No two rows share these columns' values (GX wants a single column on its own)."""
    if len(columns) == 1:
        return Rule(UNIQUE, columns[0], {"column": columns[0]}, why)
    return Rule(COMPOUND_UNIQUE, ",".join(columns), {"column_list": list(columns)}, why)


def not_later_than(column: str, other: str, slack: dt.timedelta, *, why: str) -> Rule:
    """``column <= other + slack`` on rows where both are present."""
    days = slack / dt.timedelta(days=1)
    label = f"{days:g}d" if days == int(days) else f"{int(slack.total_seconds())}s"
    helper = Derived(f"{other}_plus_{label}", other, slack)
    return Rule(
        PAIR_A_GREATER,
        column,
        {
            "column_A": helper.name,
            "column_B": column,
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
        why,
        derived=(helper,),
    )


def not_before(column: str, other: str, *, why: str) -> Rule:
    """``column >= other`` on rows where both are present."""
    return Rule(
        PAIR_A_GREATER,
        column,
        {
            "column_A": column,
            "column_B": other,
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
        why,
    )


# ----------------------------------------------------------------------- suites

# How a warehouse column type is carried in the DataFrame handed to validation.
KINDS = ("str", "int", "float", "bool", "datetime", "date", "json")


def column_kind(table: Table, column: str) -> str:
    """The kind of value a warehouse column holds, from its SQLAlchemy type."""
    col_type = table.c[column].type
    if isinstance(col_type, UTCDateTime):
        return "datetime"
    if isinstance(col_type, Date):
        return "date"
    if isinstance(col_type, String):  # Text is a String
        return "str"
    if isinstance(col_type, Float):
        return "float"
    if isinstance(col_type, Integer):  # BigInteger, SmallInteger and the Id variant
        return "int"
    if isinstance(col_type, Boolean):
        return "bool"
    return "json"


def width(table: Table, column: str) -> int | None:
    """The declared ``String(n)`` length, ``None`` for unbounded text."""
    col_type = table.c[column].type
    return getattr(col_type, "length", None)


@dataclass(frozen=True)
class TableSuite:
    """A core table's expectations, plus what the DataFrame must look like.

    ``columns`` maps every warehouse column the suite knows (the schema's, minus the
    surrogate ``id``) to its kind; ``required`` are the NOT NULL ones, each of which
    gets a not-null rule automatically, so the schema stays the only place that says
    which columns are mandatory.
    """

    table: str
    natural_key: tuple[str, ...]
    columns: Mapping[str, str]
    required: tuple[str, ...]
    rules: tuple[Rule, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return f"core.{self.table}"

    @property
    def derived(self) -> tuple[Derived, ...]:
        seen: dict[str, Derived] = {}
        for rule in self.rules:
            for d in rule.derived:
                seen.setdefault(d.name, d)
        return tuple(seen.values())

    @property
    def references(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.reference for r in self.rules if r.reference))

    def rule(self, name: str) -> Rule:
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(name)


def table_suite(table: Table, *rules: Rule, skip: Collection[str] = ()) -> TableSuite:
    """A suite for ``table``: not-null rules for its NOT NULL columns, then ``rules``.

    A ``length`` rule without ``max_value`` gets the column's ``String(n)`` width, so a
    value PostgreSQL would refuse (failing the whole batch) is caught as one bad row.
    ``skip`` names schema columns the pipeline fills itself (surrogate ids, load stamps).
    """
    skipped = {"id", *skip}
    columns = {c.name: column_kind(table, c.name) for c in table.columns if c.name not in skipped}
    required = tuple(
        c.name
        for c in table.columns
        if c.name in columns and not c.nullable and c.server_default is None
    )
    natural = next(
        (
            tuple(c.name for c in con.columns)
            for con in table.constraints
            if con.name == f"uq_{table.name}_natural"
        ),
        None,
    )
    if natural is None:
        raise ValueError(f"{table.name} has no natural key constraint")
    out: list[Rule] = [not_null(c, f"{c} is NOT NULL in the warehouse schema") for c in required]
    for rule in rules:
        for c in rule.columns:
            if c not in columns:
                raise ValueError(f"{rule.name}: {table.name} has no column {c}")
        if rule.expectation == LENGTH_BETWEEN and "max_value" not in rule.kwargs:
            w = width(table, rule.column)
            if w is not None:
                rule = Rule(
                    rule.expectation,
                    rule.column,
                    {**rule.kwargs, "max_value": w},
                    rule.notes,
                    rule.reference,
                    rule.derived,
                )
        if rule.expectation == LENGTH_BETWEEN and set(rule.kwargs) == {"column"}:
            raise ValueError(f"{rule.name}: {table.name}.{rule.column} has no width; give bounds")
        out.append(rule)
    names = [r.name for r in out]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"{table.name}: rules declared twice: {sorted(dupes)}")
    return TableSuite(table.name, natural, columns, required, tuple(out))
