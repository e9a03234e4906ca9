"""Per-column value checks for bulk loads.

SQLite stores nearly anything anywhere (a word in an integer column, 300 characters in
a ``VARCHAR(64)``, NaN as NULL); PostgreSQL refuses the same values mid-COPY and
aborts the batch. Checking every value against its column in Python first makes both
databases accept exactly the same rows, and lets a bad row be named and set aside
instead of failing a whole load.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Table
from sqlalchemy.types import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    Integer,
    Numeric,
    SmallInteger,
    String,
    TypeDecorator,
)

from ecqm.warehouse.engine import json_dumps
from ecqm.warehouse.types import UTCDateTime

Checker = Callable[[Any], Any]

# Subclasses before Integer: SmallInteger and BigInteger are both Integers.
_INT_RANGES = {
    SmallInteger: (-(2**15), 2**15 - 1),
    BigInteger: (-(2**63), 2**63 - 1),
    Integer: (-(2**31), 2**31 - 1),
}


class ValueRejected(ValueError):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"column {column}: {reason}")
        self.column = column
        self.reason = reason


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _base_type(col_type: Any) -> Any:
    # with_variant() wraps the generic type; checks follow the generic one.
    return col_type.impl if isinstance(col_type, TypeDecorator) and not isinstance(col_type, UTCDateTime) else col_type


def _check_text(name: str, length: int | None) -> Checker:
    def check(v: Any) -> Any:
        if v is None:
            return None
        if not isinstance(v, str):
            raise ValueRejected(name, f"expected text, got {type(v).__name__} {_shown(v)}")
        if "\x00" in v:
            raise ValueRejected(name, "contains a NUL character (\\x00)")
        if length is not None and len(v) > length:
            raise ValueRejected(name, f"is {len(v)} characters long, the column holds {length}")
        if not v.isascii():
            try:
                v.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueRejected(name, f"is not valid Unicode text ({exc.reason} at {exc.start})") from None
        return v

    return check


def _check_int(name: str, low: int, high: int) -> Checker:
    def check(v: Any) -> Any:
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueRejected(name, f"expected an integer, got {type(v).__name__} {_shown(v)}")
        if not low <= v <= high:
            raise ValueRejected(name, f"{v} is outside the column's range {low}..{high}")
        return v

    return check


def _check_float(name: str) -> Checker:
    def check(v: Any) -> Any:
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int | float | Decimal):
            raise ValueRejected(name, f"expected a number, got {type(v).__name__} {_shown(v)}")
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueRejected(name, f"{v} is not a finite number (use None for missing)")
        return v

    return check


def _check_bool(name: str) -> Checker:
    def check(v: Any) -> Any:
        if v is None or isinstance(v, bool):
            return v
        raise ValueRejected(name, f"expected true or false, got {type(v).__name__} {_shown(v)}")

    return check


def _check_date(name: str) -> Checker:
    def check(v: Any) -> Any:
        if v is None:
            return None
        if isinstance(v, dt.datetime) or not isinstance(v, dt.date):
            raise ValueRejected(name, f"expected a date, got {type(v).__name__} {_shown(v)}")
        return v

    return check


def _check_timestamp(name: str, col_type: UTCDateTime, dialect: Any, convert: bool) -> Checker:
    def check(v: Any) -> Any:
        try:
            converted = col_type.process_bind_param(v, dialect)
        except (TypeError, ValueError) as exc:
            raise ValueRejected(name, str(exc)) from None
        return converted if convert else v

    return check


def _check_json(name: str, serialise: bool) -> Checker:
    def check(v: Any) -> Any:
        if v is None:
            return None
        try:
            text = json_dumps(v)
        except (TypeError, ValueError) as exc:
            raise ValueRejected(name, f"is not JSON-serialisable: {exc}") from None
        if "\\u0000" in text:
            raise ValueRejected(name, "contains a NUL character (\\u0000) in a JSON string")
        return text if serialise else v

    return check


class _PostgresTimestamps:
    name = "postgresql"


def column_checkers(table: Table, columns: Sequence[str], *, for_copy: bool) -> list[Checker]:
    """One checker per column. With ``for_copy`` the checkers also convert values to
    what a text-format COPY takes (JSON as text, timestamps in UTC)."""
    checkers: list[Checker] = []
    for name in columns:
        col_type = table.c[name].type
        base = _base_type(col_type)
        if isinstance(col_type, UTCDateTime):
            checkers.append(_check_timestamp(name, col_type, _PostgresTimestamps(), for_copy))
        elif isinstance(base, JSON):
            checkers.append(_check_json(name, serialise=for_copy))
        elif isinstance(base, Boolean):
            checkers.append(_check_bool(name))
        elif isinstance(base, Float | Numeric):
            checkers.append(_check_float(name))
        elif isinstance(base, Integer):
            low, high = next(r for t, r in _INT_RANGES.items() if isinstance(base, t))
            checkers.append(_check_int(name, low, high))
        elif isinstance(base, Date):
            checkers.append(_check_date(name))
        elif isinstance(base, String):
            checkers.append(_check_text(name, base.length))
        else:
            checkers.append(lambda v: v)
    return checkers
