"""One bulk upsert that every load in ecqm goes through.

PostgreSQL: rows are COPYed into a temporary table, then merged with
``INSERT … SELECT … ON CONFLICT (natural key) DO UPDATE … WHERE … IS DISTINCT FROM``
in the same transaction, so an unchanged row is not rewritten and the counts tell
inserted, updated and unchanged apart. SQLite: batched ``INSERT … ON CONFLICT`` with
the same semantics. Loading the same rows twice leaves the table as it was.

Every value is checked against its column first (type, length, NUL characters), so
both databases accept and refuse exactly the same rows. A refused row raises
:class:`BulkLoadError`, or, when the caller passes a ``rejects`` list, is skipped and
recorded there for the caller to quarantine: one bad record never fails a load.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, UniqueConstraint, func, or_, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ecqm.warehouse.checks import BatchChecker

POSTGRES_BATCH_ROWS = 50_000
SQLITE_BATCH_ROWS = 2_000


class BulkLoadError(ValueError):
    """A row cannot be loaded; the message names the table, row and column."""


@dataclass(frozen=True)
class RejectedRow:
    """A row the upsert refused: its position in the input, the column and why."""

    table: str
    index: int
    column: str | None
    reason: str
    row: Mapping[str, Any]

    def __str__(self) -> str:
        where = f"row {self.index}" + (f", column {self.column}" if self.column else "")
        return f"{self.table}: {where}: {self.reason}"


@dataclass
class UpsertResult:
    """What an upsert did, row by row."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates_in_input: int = 0
    rejected: int = 0

    @property
    def written(self) -> int:
        return self.inserted + self.updated

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.duplicates_in_input + other.duplicates_in_input,
            self.rejected + other.rejected,
        )


def natural_key(table: Table) -> tuple[str, ...]:
    """The columns of the table's ``uq_<table>_natural`` constraint, else its primary key."""
    for constraint in table.constraints:
        if (
            isinstance(constraint, UniqueConstraint)
            and constraint.name == f"uq_{table.name}_natural"
        ):
            return tuple(c.name for c in constraint.columns)
    return tuple(c.name for c in table.primary_key.columns)


def upsert(
    conn: Connection | Engine,
    table: Table,
    rows: Iterable[Mapping[str, Any]],
    *,
    key: Sequence[str] | None = None,
    update: Sequence[str] | None = None,
    rejects: list[RejectedRow] | None = None,
    batch_rows: int | None = None,
) -> UpsertResult:
    """Insert new rows and update changed ones of ``table``, keyed on ``key``.

    Parameters
    ----------
    conn
        A connection (the caller's transaction is used) or an engine (one transaction
        for the whole load).
    rows
        Mappings with the same keys; any iterable, consumed in batches so memory stays
        bounded. When one key occurs twice in a batch, the last row wins.
    key
        Conflict target; default :func:`natural_key`.
    update
        Columns to overwrite on conflict; default every given column outside the key.
    rejects
        If given, refused rows are appended here and skipped; otherwise the first
        refused row raises :class:`BulkLoadError`.

    Examples
    --------
    >>> upsert(engine, ref_regions, [{"code": "330000", ...}])  # doctest: +SKIP
    UpsertResult(inserted=1, updated=0, unchanged=0, duplicates_in_input=0, rejected=0)
    """
    if isinstance(conn, Engine):
        with conn.begin() as c:
            return upsert(
                c, table, rows, key=key, update=update, rejects=rejects, batch_rows=batch_rows
            )
    key = tuple(key or natural_key(table))
    is_postgres = conn.dialect.name == "postgresql"
    size = batch_rows or (POSTGRES_BATCH_ROWS if is_postgres else SQLITE_BATCH_ROWS)
    total = UpsertResult()
    prepared: _Prepared | None = None
    offset = 0
    for batch in _batches(rows, size):
        if prepared is None:
            prepared = _Prepared(table, tuple(batch[0].keys()), key, update, is_postgres)
        with _gc_paused():
            values, dupes, refused = prepared.rows(batch, offset)
            offset += len(batch)
            for reject in refused:
                if rejects is None:
                    raise BulkLoadError(str(reject))
                rejects.append(reject)
            if not values:
                result = UpsertResult()
            elif is_postgres:
                result = _upsert_postgres(conn, prepared, values)
            else:
                result = _upsert_sqlite(conn, prepared, values)
        result.duplicates_in_input = dupes
        result.rejected = len(refused)
        total = total + result
    return total


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch is built: hundreds of thousands of
    fresh tuples trigger collections that find nothing (a batch makes no cycles) and
    cost a fifth of the load time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _batches(rows: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    it = iter(rows)
    while batch := list(itertools.islice(it, size)):
        yield batch


class _Prepared:
    """Columns, checks and statement parts of one upsert, worked out once."""

    def __init__(
        self,
        table: Table,
        columns: tuple[str, ...],
        key: tuple[str, ...],
        update: Sequence[str] | None,
        for_copy: bool,
    ) -> None:
        unknown = [c for c in columns if c not in table.c]
        if unknown:
            raise BulkLoadError(f"{table.name}: unknown column(s) {', '.join(unknown)}")
        missing = [c for c in key if c not in columns]
        if missing:
            raise BulkLoadError(f"{table.name}: rows lack key column(s) {', '.join(missing)}")
        self.table = table
        self.columns = columns
        self.column_set = frozenset(columns)
        self.key = key
        self.key_positions = tuple(columns.index(c) for c in key)
        self.targets = (
            tuple(update) if update is not None else tuple(c for c in columns if c not in key)
        )
        # Batches of only new rows may skip the merge (PostgreSQL); off after one miss.
        self.try_direct_copy = True
        self.checker = BatchChecker(table, columns, for_copy=for_copy, not_null=key)
        self.row_values = _getter(columns)
        self.key_of = _getter(
            [columns[i] for i in self.key_positions], positional=self.key_positions
        )

    def rows(
        self, batch: list[Mapping[str, Any]], offset: int
    ) -> tuple[list[tuple[Any, ...]], int, list[RejectedRow]]:
        """Checked value rows (last occurrence of a key wins), duplicates, refused rows."""
        name = self.table.name
        refused: list[RejectedRow] = []
        width = len(self.columns)
        raw: list[tuple[Any, ...]] | None = None
        if all(len(row) == width for row in batch):
            try:
                raw = [self.row_values(row) for row in batch]
            except KeyError:
                raw = None
        if raw is not None:
            positions: Sequence[int] = range(len(batch))
        else:
            positions, raw = [], []
            for i, row in enumerate(batch):
                if row.keys() != self.column_set:
                    extra = sorted(set(row.keys()) - self.column_set)
                    lacking = sorted(self.column_set - set(row.keys()))
                    reason = f"has other columns than row 0 (extra: {extra or 'none'}, missing: {lacking or 'none'})"
                    refused.append(RejectedRow(name, offset + i, None, reason, row))
                    continue
                positions.append(i)
                raw.append(self.row_values(row))
        accepted, bad = self.checker.check(raw)
        if bad:
            for j, (column, reason) in bad.items():
                i = positions[j]
                refused.append(RejectedRow(name, offset + i, column, reason, batch[i]))
            refused.sort(key=lambda r: r.index)
        latest = dict(zip(map(self.key_of, accepted), accepted))
        return list(latest.values()), len(accepted) - len(latest), refused


def _getter(names: Sequence[str], positional: Sequence[int] | None = None) -> Any:
    """A C-speed function from a row mapping (or, with ``positional``, a value tuple) to a
    tuple of the wanted values."""
    if positional is not None:
        if len(positional) == 1:
            index = positional[0]
            return lambda values: (values[index],)
        return operator.itemgetter(*positional)
    if len(names) == 1:
        only = names[0]
        return lambda row: (row[only],)
    return operator.itemgetter(*names)


# ------------------------------------------------------------------------ PostgreSQL


PROBE_KEYS = 256


def _upsert_postgres(conn: Connection, p: _Prepared, values: list[tuple[Any, ...]]) -> UpsertResult:
    q = conn.dialect.identifier_preparer.quote
    table = q(p.table.name)
    cols = ", ".join(q(c) for c in p.columns)
    with conn.connection.driver_connection.cursor() as cur:
        if p.try_direct_copy and not _some_key_exists(cur, p, values, q):
            # Fast path for batches of new rows: COPY straight into the table. Should a key
            # exist after all, the unique index refuses the COPY, the savepoint undoes it and
            # the merge below runs instead.
            import psycopg

            cur.execute("SAVEPOINT ecqm_direct_copy")
            try:
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in values:
                        copy.write_row(row)
            except psycopg.errors.UniqueViolation:
                cur.execute("ROLLBACK TO SAVEPOINT ecqm_direct_copy")
                p.try_direct_copy = False
            else:
                cur.execute("RELEASE SAVEPOINT ecqm_direct_copy")
                return UpsertResult(inserted=len(values))
        return _merge_postgres(cur, p, values, q)


def _some_key_exists(cur: Any, p: _Prepared, values: list[tuple[Any, ...]], q: Any) -> bool:
    step = max(1, len(values) // PROBE_KEYS)
    sample = [p.key_of(v) for v in values[::step]]
    width = len(p.key)
    rows = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(sample))
    names = ", ".join(f"k{i}" for i in range(width))
    match = " AND ".join(f"t.{q(c)} = v.k{i}" for i, c in enumerate(p.key))
    cur.execute(
        f"SELECT EXISTS (SELECT 1 FROM {q(p.table.name)} t JOIN (VALUES {rows}) AS v({names}) ON {match})",
        [x for k in sample for x in k],
    )
    return bool(cur.fetchone()[0])


def _merge_postgres(cur: Any, p: _Prepared, values: list[tuple[Any, ...]], q: Any) -> UpsertResult:
    table = q(p.table.name)
    tmp = q(f"_ecqm_load_{p.table.name}")
    cols = ", ".join(q(c) for c in p.columns)
    cur.execute(f"DROP TABLE IF EXISTS {tmp}")
    cur.execute(
        f"CREATE TEMPORARY TABLE {tmp} ON COMMIT DROP AS SELECT {cols} FROM {table} WITH NO DATA"
    )
    with cur.copy(f"COPY {tmp} ({cols}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)
    conflict = ", ".join(q(c) for c in p.key)
    if p.targets:
        sets = ", ".join(f"{q(c)} = EXCLUDED.{q(c)}" for c in p.targets)
        old = ", ".join(f"t.{q(c)}" for c in p.targets)
        new = ", ".join(f"EXCLUDED.{q(c)}" for c in p.targets)
        action = f"DO UPDATE SET {sets} WHERE ROW({old}) IS DISTINCT FROM ROW({new})"
    else:
        action = "DO NOTHING"
    cur.execute(
        f"WITH merged AS (INSERT INTO {table} AS t ({cols}) SELECT {cols} FROM {tmp} "
        f"ON CONFLICT ({conflict}) {action} RETURNING (xmax = 0) AS is_insert) "
        "SELECT count(*) FILTER (WHERE is_insert), count(*) FILTER (WHERE NOT is_insert) FROM merged"
    )
    inserted, updated = cur.fetchone()
    cur.execute(f"DROP TABLE {tmp}")
    return UpsertResult(inserted, updated, len(values) - inserted - updated)


# ---------------------------------------------------------------------------- SQLite


def _upsert_sqlite(conn: Connection, p: _Prepared, values: list[tuple[Any, ...]]) -> UpsertResult:
    table = p.table
    existing = _count_existing(conn, p, values)
    stmt = sqlite_insert(table)
    if p.targets:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(p.key),
            set_={c: stmt.excluded[c] for c in p.targets},
            where=or_(*(table.c[c].is_distinct_from(stmt.excluded[c]) for c in p.targets)),
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(p.key))
    changed = conn.execute(stmt, [dict(zip(p.columns, v)) for v in values]).rowcount
    inserted = len(values) - existing
    updated = changed - inserted
    return UpsertResult(inserted, updated, existing - updated)


def _count_existing(conn: Connection, p: _Prepared, values: list[tuple[Any, ...]]) -> int:
    """How many of the (distinct, non-null) keys of ``values`` the table holds.

    SQLite answers ``(a, b) IN (VALUES ...)`` by scanning the whole key index, which
    makes every batch cost as much as the table is large, but looks each key up in the
    index for ``(a, b) IN (SELECT column1, column2 FROM (VALUES ...))``.
    """
    key_cols = [p.table.c[c] for c in p.key]
    keys = [p.key_of(v) for v in values]
    if len(key_cols) == 1:
        condition = key_cols[0].in_([k[0] for k in keys])
        return conn.execute(select(func.count()).select_from(p.table).where(condition)).scalar_one()
    q = conn.dialect.identifier_preparer.quote
    procs = [c.type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for c in key_cols]
    width = len(key_cols)
    row = "(" + ", ".join(["?"] * width) + ")"
    statement = (
        f"SELECT count(*) FROM {q(p.table.name)} "
        f"WHERE ({', '.join(q(c.name) for c in key_cols)}) IN "
        f"(SELECT {', '.join(f'column{j + 1}' for j in range(width))} "
        f"FROM (VALUES {', '.join([row] * len(keys))}))"
    )
    params = tuple(proc(x) if proc else x for k in keys for x, proc in zip(k, procs, strict=True))
    return int(conn.exec_driver_sql(statement, params).scalar_one())
