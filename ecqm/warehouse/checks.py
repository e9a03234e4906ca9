"""Per-column value checks for bulk loads.

SQLite stores nearly anything anywhere (a word in an integer column, 300 characters in
a ``VARCHAR(64)``, NaN as NULL); PostgreSQL refuses the same values mid-COPY and
aborts the batch. Checking every value against its column in Python first makes both
databases accept exactly the same rows, and lets a bad row be named and set aside
instead of failing a whole load.
"""

from __future__ import annotations

import datetime as dt
import json
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
    return (
        col_type.impl
        if isinstance(col_type, TypeDecorator) and not isinstance(col_type, UTCDateTime)
        else col_type
    )


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
                raise ValueRejected(
                    name, f"is not valid Unicode text ({exc.reason} at {exc.start})"
                ) from None
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


# ------------------------------------------------------------------ column-wise checks
# The per-value checkers above name exactly what is wrong, but calling a Python function
# per value dominates a large load. A batch is therefore checked column by column with
# C-speed scans first; only a column that fails its scan is walked value by value.

_UTC = dt.UTC


def _scan_text(values: list[Any], length: int | None) -> bool:
    present = [v for v in values if v is not None]
    if any(type(v) is not str for v in present):
        return False
    if not present:
        return True
    joined = "\x01".join(present)
    if "\x00" in joined or (length is not None and max(map(len, present)) > length):
        return False
    if not joined.isascii():
        try:
            joined.encode("utf-8")
        except UnicodeEncodeError:
            return False
    return True


def _scan_int(values: list[Any], low: int, high: int) -> bool:
    present = [v for v in values if v is not None]
    if any(type(v) is not int for v in present):
        return False
    return not present or (low <= min(present) and max(present) <= high)


def _scan_float(values: list[Any]) -> bool:
    present = [v for v in values if v is not None]
    if any(type(v) not in (int, float, Decimal) for v in present):
        return False
    return all(map(math.isfinite, (v for v in present if type(v) is float)))


def _scan_types(values: list[Any], allowed: tuple[type, ...]) -> bool:
    return all(v is None or type(v) in allowed for v in values)


def _convert_timestamps(values: list[Any], for_copy: bool) -> list[Any] | None:
    out = []
    for v in values:
        if v is None:
            out.append(None)
        elif type(v) is dt.datetime and v.utcoffset() is not None:
            out.append(v.astimezone(_UTC) if for_copy else v)
        else:
            return None
    return out


_encode_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def _convert_json(values: list[Any], for_copy: bool) -> list[Any] | None:
    try:
        texts = [None if v is None else _encode_json(v) for v in values]
    except (TypeError, ValueError):
        return None
    if any(t is not None and "\\u0000" in t for t in texts):
        return None
    return texts if for_copy else values


class BatchChecker:
    """Checks and converts whole batches of rows for one table and column list."""

    def __init__(
        self, table: Table, columns: Sequence[str], *, for_copy: bool, not_null: Sequence[str] = ()
    ) -> None:
        self.columns = tuple(columns)
        self.not_null = frozenset(not_null)
        self.for_copy = for_copy
        self.slow = column_checkers(table, columns, for_copy=for_copy)
        self.fast: list[Callable[[list[Any]], list[Any] | None]] = []
        for name in self.columns:
            col_type = table.c[name].type
            base = _base_type(col_type)
            self.fast.append(self._fast_for(col_type, base))

    def _fast_for(self, col_type: Any, base: Any) -> Callable[[list[Any]], list[Any] | None]:
        def when(ok: Callable[[list[Any]], bool]) -> Callable[[list[Any]], list[Any] | None]:
            return lambda values: values if ok(values) else None

        if isinstance(col_type, UTCDateTime):
            return lambda values: _convert_timestamps(values, self.for_copy)
        if isinstance(base, JSON):
            return lambda values: _convert_json(values, self.for_copy)
        if isinstance(base, Boolean):
            return when(lambda values: _scan_types(values, (bool,)))
        if isinstance(base, Float | Numeric):
            return when(_scan_float)
        if isinstance(base, Integer):
            low, high = next(r for t, r in _INT_RANGES.items() if isinstance(base, t))
            return when(lambda values: _scan_int(values, low, high))
        if isinstance(base, Date):
            return when(lambda values: _scan_types(values, (dt.date,)))
        if isinstance(base, String):
            return when(lambda values: _scan_text(values, base.length))
        return lambda values: values

    def check(
        self, rows: Sequence[Sequence[Any]]
    ) -> tuple[list[tuple[Any, ...]], dict[int, tuple[str | None, str]]]:
        """Rows as value sequences in column order → (accepted converted rows, refusals by
        row position as (column, reason)). A row is refused for its first wrong column;
        a null in a ``not_null`` column is reported with column ``None``."""
        refused: dict[int, tuple[str | None, str]] = {}
        converted_columns: list[list[Any]] = []
        columns = zip(*rows) if rows else (() for _ in self.columns)
        for j, values in enumerate(columns):
            values = list(values)
            out = self.fast[j](values)
            if out is None:
                out = []
                check = self.slow[j]
                for i, v in enumerate(values):
                    try:
                        out.append(check(v))
                    except ValueRejected as exc:
                        refused.setdefault(i, (exc.column, exc.reason))
                        out.append(None)
            if self.columns[j] in self.not_null and None in out:
                for i, v in enumerate(out):
                    if v is None:
                        refused.setdefault(i, (None, f"null in key column {self.columns[j]}"))
            converted_columns.append(out)
        accepted = list(zip(*converted_columns))
        if refused:
            accepted = [r for i, r in enumerate(accepted) if i not in refused]
        return accepted, refused
