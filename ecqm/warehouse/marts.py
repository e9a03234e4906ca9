"""BI marts: the views in ``sql/marts/``, one file per view named after it, and the
read-only role that BI tools use to read them (``sql/roles.sql``).

Views are derived objects, so they are not Alembic's business: after every upgrade
:func:`create_marts` drops and recreates each mart whose tables exist, and before a
downgrade :func:`drop_marts` removes them (PostgreSQL refuses to drop a table a view
reads). The SQL is written once for both databases.

Each mart is a chain of CTEs ending in ``select * from final``; every column of
``final`` carries a trailing ``-- 中文标签：meaning`` comment and the file opens with a
comment saying what one row is. On PostgreSQL these become ``COMMENT ON VIEW`` and
``COMMENT ON COLUMN`` so that BI tools show them, and the views are re-granted to the
BI reader role, whose grants a drop would otherwise lose.

On PostgreSQL the marts named in ``ECQM_MATERIALISED_MARTS`` are created as
``MATERIALIZED VIEW``s instead: stored rows, read as fast as a table, as fresh as their
last :func:`refresh_marts` (``ecqm warehouse refresh-marts``). A mart with a key
(:data:`MART_KEYS`) gets a unique index on it, so the refresh runs ``CONCURRENTLY`` and
readers keep reading the old rows meanwhile. The choice is a setting, not a mark in the
SQL, because it belongs to a deployment (its size and how fresh its BI users need the
rows), while the SQL is the same for every deployment and for SQLite, which has no
materialised views and keeps plain views whatever the setting says. A mart that reads
the clock (``current_timestamp`` …) is refused: a stored copy would be wrong between
refreshes.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import Connection, inspect, text

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
MARTS_DIR = SQL_DIR / "marts"
ROLES_SQL = SQL_DIR / "roles.sql"
# The role that roles.sql names (replaced by another name on request) ...
ROLES_SQL_ROLE = "ecqm_bi_reader"
# ... and the one every (re)created mart is granted to, when it exists.
BI_ROLE = ROLES_SQL_ROLE
# The columns that name one row of a mart, each following from its source: a primary key,
# or the natural key of the table it has one row per. A materialised mart gets a unique
# index on its key, which is what REFRESH MATERIALIZED VIEW CONCURRENTLY needs; a mart
# without one is refreshed with readers waiting. tests/ecqm/warehouse checks that every
# key names columns of its mart.
MART_KEYS: dict[str, tuple[str, ...]] = {
    "mart_kpi_monthly": ("period_start", "kpi", "dimension"),
    "mart_merchant_credit": ("platform", "shop_external_id", "list_kind", "rule_code", "listed_on"),
    "mart_notification_status": ("notification_id",),
    "mart_risk_current": ("product_id",),
    "mart_sampling_plan": ("task_id",),
}
VIEW = "view"
MATERIALIZED_VIEW = "materialized view"
# Functions whose value depends on when a query runs: a mart that calls one is right only
# when it is read, so it is never materialised.
_CLOCK_WORDS = {
    "current_date",
    "current_time",
    "current_timestamp",
    "localtime",
    "localtimestamp",
    "now",
    "clock_timestamp",
    "statement_timestamp",
    "transaction_timestamp",
    "timeofday",
}

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_TOKEN = re.compile(
    r"""
    (?P<comment>--[^\n]*)
  | (?P<block>/\*.*?\*/)
  | (?P<string>'(?:[^']|'')*')
  | (?P<ident>"(?:[^"]|"")*")
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+)
  | (?P<space>\s+)
  | (?P<op>.)
    """,
    re.S | re.X,
)
# Functions whose argument lists use FROM as a separator, not a table source.
_FROM_IN_ARGS = {"extract", "substring", "trim", "overlay", "position"}
_CLAUSE_END = {"where", "group", "having", "order", "limit", "offset", "window", "union"}
_CLAUSE_END |= {"except", "intersect", "fetch", "for"}
_NOT_ALIAS = _CLAUSE_END | {"on", "using", "join", "inner", "left", "right", "full", "cross"}
_NOT_ALIAS |= {"natural", "lateral"}


class MartSqlError(ValueError):
    """A mart file that does not follow the conventions (see sql/README.md)."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int
    line: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words


class MartColumn(NamedTuple):
    """One output column of a mart: its name, its comment and the expression behind it."""

    name: str
    comment: str
    expression: str = ""

    @property
    def label(self) -> str:
        """The Chinese label: the comment up to its first colon outside brackets."""
        return _split_comment(self.comment)[0]

    @property
    def meaning(self) -> str:
        """What the column means: the comment after the label's colon, if any."""
        return _split_comment(self.comment)[1]


def _split_comment(comment: str) -> tuple[str, str]:
    depth = 0
    for i, ch in enumerate(comment):
        depth += 1 if ch in "(（" else -1 if ch in ")）" else 0
        if depth == 0 and ch in ":：":
            return comment[:i].strip(), comment[i + 1 :].strip()
    return comment.strip(), ""


@dataclass(frozen=True)
class Select:
    """One SELECT of a mart: its output columns, and the relations (tables or CTEs) in
    its FROM clause by alias (every relation is also reachable by its own name)."""

    columns: list[MartColumn]
    tokens: list[list[Token]]  # the code of each select item, in the same order
    sources: dict[str, str]


@dataclass(frozen=True)
class Mart:
    name: str
    description: str
    ctes: dict[str, Select]
    tables: frozenset[str]
    problems: tuple[str, ...] = ()

    @property
    def columns(self) -> list[MartColumn]:
        """The columns of ``final``, which are the view's columns, each with a name."""
        if "final" not in self.ctes:
            raise MartSqlError(
                "; ".join(self.problems)
                or f"{self.name}: no CTE named final (end with select * from final)"
            )
        columns = self.ctes["final"].columns
        for column in columns:
            if not column.name:
                raise MartSqlError(
                    f"{self.name}: give {column.expression!r} a name with `as` in final"
                )
        return columns


# --------------------------------------------------------------------------- parsing


def tokenize(sql: str) -> list[Token]:
    """The tokens of ``sql``, comments included, whitespace left out."""
    tokens, line = [], 1
    for m in _TOKEN.finditer(sql):
        kind = "comment" if m.lastgroup == "block" else m.lastgroup
        if kind != "space":
            tokens.append(Token(kind, m.group(), m.start(), m.end(), line))
        line += m.group().count("\n")
    return tokens


def _depths(tokens: list[Token]) -> list[int]:
    """The parenthesis depth of each token (an opening one counts as outside)."""
    depths, depth = [], 0
    for t in tokens:
        if t.text == ")":
            depth -= 1
        depths.append(depth)
        if t.text == "(":
            depth += 1
    return depths


def _matching(tokens: list[Token], i: int) -> int:
    depth = 0
    for j in range(i, len(tokens)):
        depth += {"(": 1, ")": -1}.get(tokens[j].text, 0)
        if depth == 0:
            return j
    raise MartSqlError("unbalanced parentheses")


def _source_text(tokens: list[Token]) -> str:
    """The code of ``tokens`` on one line, comments left out."""
    parts, prev = [], None
    for t in tokens:
        if t.kind == "comment":
            continue
        if prev is not None and t.start > prev.end:
            parts.append(" ")
        parts.append(t.text)
        prev = t
    return "".join(parts)


def _column_name(code: list[Token]) -> str:
    """The name a select item gets: its alias, or the column it names; "" for anything
    else (an expression without ``as``, or a ``*``)."""
    if len(code) >= 2 and code[-2].is_word("as"):
        return code[-1].text.strip('"')
    if len(code) == 1 and code[0].kind in ("word", "ident"):
        return code[0].text.strip('"')
    if len(code) == 3 and code[1].text == "." and code[2].kind in ("word", "ident"):
        return code[2].text.strip('"')
    return ""


def _parse_select(tokens: list[Token], where: str) -> Select:
    """The select list and FROM clause of the SELECT that ``tokens`` (one CTE body) holds."""
    depths = _depths(tokens)
    top = [i for i, t in enumerate(tokens) if depths[i] == 0 and t.kind != "comment"]
    if not top or not tokens[top[0]].is_word("select"):
        raise MartSqlError(f"{where}: expected a SELECT")
    first = top[0] + 1
    if tokens[first].is_word("distinct", "all"):
        first += 1
    end = next((i for i in top if i > first and tokens[i].is_word("from")), len(tokens))
    # Split at top-level commas; each piece ends on the line of its comma.
    pieces, start = [], first
    for i in range(first, end):
        if depths[i] == 0 and tokens[i].text == ",":
            pieces.append((start, i, i))
            start = i + 1
    last_code = max((i for i in range(start, end) if tokens[i].kind != "comment"), default=None)
    if last_code is not None:
        pieces.append((start, end, last_code))
    columns, item_tokens = [], []
    for n, (a, b, ending) in enumerate(pieces):
        code = [t for t in tokens[a:b] if t.kind != "comment"]
        if not code:
            raise MartSqlError(f"{where}: empty select item")
        # The column's comment trails its comma (or the item, for the last one), on that
        # line, before the next item begins.
        next_start = (
            next((t.start for t in tokens[pieces[n + 1][0] :] if t.kind != "comment"), None)
            if n + 1 < len(pieces)
            else None
        )
        comment = next(
            (
                t.text.lstrip("-").strip()
                for t in tokens[ending + 1 : end]
                if t.kind == "comment"
                and t.line == tokens[ending].line
                and t.text.startswith("--")
                and (next_start is None or t.start < next_start)
            ),
            "",
        )
        columns.append(MartColumn(_column_name(code), comment, _source_text(code)))
        item_tokens.append(code)
    return Select(columns, item_tokens, _sources(tokens[end:], depths[end:]))


def _sources(tokens: list[Token], depths: list[int]) -> dict[str, str]:
    """Alias → relation for the FROM clause (``tokens`` starts at its FROM)."""
    sources: dict[str, str] = {}
    code = [(t, d) for t, d in zip(tokens, depths, strict=True) if t.kind != "comment"]
    i = 0
    while i < len(code):
        t, d = code[i]
        if d == 0 and t.is_word(*_CLAUSE_END):
            break
        if d == 0 and (t.is_word("from", "join") or t.text == ","):
            j = i + 1
            if j < len(code) and code[j][0].is_word("lateral"):
                j += 1
            if j < len(code) and code[j][0].kind in ("word", "ident"):
                name = code[j][0].text.strip('"').lower()
                if j + 2 < len(code) and code[j + 1][0].text == ".":  # schema.table
                    j += 2
                    name = code[j][0].text.strip('"').lower()
                alias = name
                k = j + 1
                if k < len(code) and code[k][0].is_word("as"):
                    k += 1
                if k < len(code) and code[k][0].kind in ("word", "ident"):
                    if not code[k][0].is_word(*_NOT_ALIAS):
                        alias = code[k][0].text.strip('"').lower()
                sources[name] = name
                sources[alias] = name
        i += 1
    return sources


def _header(sql: str, name: str) -> str:
    lines = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line.lstrip("-").strip())
    joined = " ".join(x for x in lines if x)
    return re.sub(rf"^{re.escape(name)}\s*[:：]\s*", "", joined)


def _referenced_tables(tokens: list[Token]) -> set[str]:
    """Every relation named after FROM or JOIN, at any depth (subqueries included)."""
    found, calls = set(), []
    code = [t for t in tokens if t.kind != "comment"]
    for i, t in enumerate(code):
        if t.text == "(":
            calls.append(code[i - 1].text.lower() if i and code[i - 1].kind == "word" else "")
        elif t.text == ")" and calls:
            calls.pop()
        elif t.is_word("from", "join") and i + 1 < len(code) and code[i + 1].kind == "word":
            if calls and calls[-1] in _FROM_IN_ARGS or (i and code[i - 1].is_word("distinct")):
                continue
            nxt = code[i + 2] if i + 2 < len(code) else None
            if nxt is not None and nxt.text == ".":
                nxt = code[i + 3] if i + 3 < len(code) else None
                found.add(nxt.text.lower() if nxt is not None else "")
            else:
                found.add(code[i + 1].text.lower())
    return found


def parse_mart(path: Path) -> Mart:
    """Parse a mart file: its header comment, its CTEs and the columns of ``final``."""
    name = path.stem
    sql = path.read_text(encoding="utf-8")
    tokens = tokenize(sql)
    depths = _depths(tokens)
    ctes: dict[str, Select] = {}
    names, problems = set(), []
    code = [i for i, t in enumerate(tokens) if t.kind != "comment"]
    position = {i: n for n, i in enumerate(code)}
    for n, i in enumerate(code[:-2]):
        t = tokens[i]
        if depths[i] != 0 or t.kind != "word":
            continue
        k = n + 1
        if tokens[code[k]].text == "(":  # name (column, …) as (…)
            k = position[_matching(tokens, code[k])] + 1
        if k + 1 >= len(code) or not tokens[code[k]].is_word("as"):
            continue
        if tokens[code[k + 1]].text != "(":
            continue
        close = _matching(tokens, code[k + 1])
        names.add(t.text.lower())
        try:
            body = tokens[code[k + 1] + 1 : close]
            ctes[t.text.lower()] = _parse_select(body, f"{path.name}, CTE {t.text}")
        except MartSqlError as exc:  # the view still works; only its documentation fails
            problems.append(str(exc))
    tables = frozenset(_referenced_tables(tokens) - names)
    return Mart(name, _header(sql, name), ctes, tables, tuple(problems))


def mart_columns(path: Path) -> list[MartColumn]:
    """The columns of the ``final`` CTE of a mart file, each with its trailing comment
    (empty when it has none). ``expr as name, -- 标签：含义`` and ``t.col, -- 标签`` are
    both understood, as is a ``case … end as name -- 标签`` spread over several lines.

    >>> [c.name for c in mart_columns(MARTS_DIR / "mart_risk_current.sql")][:3]
    ['product_id', 'brand', 'model']
    """
    return parse_mart(path).columns


def mart_files(folder: Path | None = None) -> dict[str, Path]:
    folder = folder or MARTS_DIR
    if not folder.is_dir():
        # An installed copy of ecqm without its repository tree: say so rather than
        # leave the warehouse without marts.
        raise MartSqlError(f"{folder}: no such folder (the marts are read from sql/marts)")
    marts = {p.stem: p for p in sorted(folder.glob("mart_*.sql"))}
    for name in marts:
        if not _NAME.fullmatch(name):
            raise MartSqlError(f"{name}.sql: a mart's name is lower case letters, digits and _")
    return marts


def clock_words(path: Path) -> list[str]:
    """What in a mart's code reads the clock: the functions of :data:`_CLOCK_WORDS`
    and SQLite's ``'now'`` (comments left out)."""
    found = set()
    for t in tokenize(path.read_text(encoding="utf-8")):
        if t.kind == "word" and t.text.lower() in _CLOCK_WORDS:
            found.add(t.text.lower())
        elif t.kind == "string" and t.text.lower() == "'now'":
            found.add("'now'")
    return sorted(found)


def materialised_marts(names: Iterable[str] | None = None, folder: Path | None = None) -> list[str]:
    """The marts to materialise on PostgreSQL: ``names`` (default: the setting
    ``ECQM_MATERIALISED_MARTS``), checked. A name that is not a mart, or a mart that
    reads the clock, raises :class:`MartSqlError`."""
    if names is None:
        from ecqm import settings

        names = settings.load().materialised_marts
    files = mart_files(folder)
    chosen = []
    for name in names:
        if name not in files:
            raise MartSqlError(
                f"ECQM_MATERIALISED_MARTS names {name}, which is not a mart"
                f" (the marts: {', '.join(files) or 'none'})"
            )
        clock = clock_words(files[name])
        if clock:
            raise MartSqlError(
                f"{name} cannot be materialised: it reads the clock ({', '.join(clock)}),"
                " so stored rows would be wrong between refreshes; leave it a view"
            )
        if name not in chosen:
            chosen.append(name)
    return chosen


# ------------------------------------------------------------------- the database side


def _execute(conn: Connection, sql: str) -> None:
    """Run SQL text as written: psycopg would read ``%`` in it as a placeholder."""
    if conn.dialect.paramstyle in ("format", "pyformat"):
        sql = sql.replace("%", "%%")
    conn.exec_driver_sql(sql)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _role_exists(conn: Connection, role: str) -> bool:
    query = text("select 1 from pg_catalog.pg_roles where rolname = :role")
    return conn.execute(query, {"role": role}).first() is not None


def mart_kinds(conn: Connection, folder: Path | None = None) -> dict[str, str]:
    """What each mart is in the database: :data:`VIEW` or :data:`MATERIALIZED_VIEW`
    (marts not in the database are left out)."""
    files = mart_files(folder)
    if conn.dialect.name == "postgresql":
        query = text(
            "select c.relname, c.relkind from pg_catalog.pg_class as c"
            " where c.relnamespace = current_schema()::regnamespace"
            " and c.relkind in ('v', 'm')"
        )
        found = {
            name: {"v": VIEW, "m": MATERIALIZED_VIEW}[kind] for name, kind in conn.execute(query)
        }
    else:
        found = {name: VIEW for name in inspect(conn).get_view_names()}
    return {name: found[name] for name in files if name in found}


def _drop(conn: Connection, name: str, kind: str | None) -> None:
    if kind == MATERIALIZED_VIEW:
        conn.exec_driver_sql(f"DROP MATERIALIZED VIEW IF EXISTS {name}")
    else:
        conn.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")


def _key_index(conn: Connection, mart: Mart) -> None:
    """The unique index on a materialised mart's key (:data:`MART_KEYS`), if it has one."""
    key = MART_KEYS.get(mart.name)
    if not key:
        return
    columns = {c.name for c in mart.columns}
    missing = [c for c in key if c not in columns]
    if missing:
        raise MartSqlError(f"{mart.name}: its key names {', '.join(missing)}, not its columns")
    index = f"uq_{mart.name}"[:63]
    listed = ", ".join(f'"{c}"' for c in key)
    conn.exec_driver_sql(f"CREATE UNIQUE INDEX {index} ON {mart.name} ({listed})")


def create_marts(
    conn: Connection,
    folder: Path | None = None,
    bi_role: str | None = None,
    materialised: Iterable[str] | None = None,
) -> list[str]:
    """(Re)create every mart whose source tables exist; returns the names created.

    On PostgreSQL each mart gets its comments and is granted to ``bi_role`` (default
    :data:`BI_ROLE`) when that role exists. The marts in ``materialised`` (default: the
    setting ``ECQM_MATERIALISED_MARTS``; see :func:`materialised_marts`) become
    materialised views, filled now, with a unique index on their key; the others are
    ``security_barrier`` views (a function in a reader's filter never sees a row the
    view leaves out; a materialised view holds only its own rows). A mart that was
    materialised and is no longer listed becomes a view again. SQLite gets views only.
    """
    tables = set(inspect(conn).get_table_names())
    postgres = conn.dialect.name == "postgresql"
    stored = set(materialised_marts(materialised, folder))
    role = _role_name(bi_role or BI_ROLE)
    grant = postgres and _role_exists(conn, role)
    existing = mart_kinds(conn, folder)
    created = []
    for name, path in mart_files(folder).items():
        mart = parse_mart(path)
        _drop(conn, name, existing.get(name))
        if not mart.tables <= tables:
            continue
        body = path.read_text(encoding="utf-8").strip().rstrip(";")
        if postgres and name in stored:
            kind = "MATERIALIZED VIEW"
            _execute(conn, f"CREATE MATERIALIZED VIEW {name} AS\n{body}\n")
            _key_index(conn, mart)
            description = _materialised_description(mart.description)
        else:
            kind = "VIEW"
            options = " WITH (security_barrier)" if postgres else ""
            _execute(conn, f"CREATE VIEW {name}{options} AS\n{body}")
            description = mart.description
        if postgres:
            _execute(conn, f"COMMENT ON {kind} {name} IS {_literal(description)}")
            for column in mart.ctes["final"].columns if "final" in mart.ctes else ():
                if column.name and column.comment:
                    target = f'{name}."{column.name}"'
                    _execute(conn, f"COMMENT ON COLUMN {target} IS {_literal(column.comment)}")
        if grant:
            conn.exec_driver_sql(f"GRANT SELECT ON {name} TO {role}")
        created.append(name)
    return created


def drop_marts(conn: Connection, folder: Path | None = None) -> None:
    kinds = mart_kinds(conn, folder)
    for name in mart_files(folder):
        _drop(conn, name, kinds.get(name))


def _materialised_description(description: str) -> str:
    """A materialised mart's comment: its header, and how fresh its rows are (now)."""
    when = dt.datetime.now(dt.UTC)
    return (
        f"{description} Materialised: the rows as of {when:%Y-%m-%d %H:%M} UTC"
        " (ecqm warehouse refresh-marts)."
    ).strip()


class Refreshed(NamedTuple):
    """One materialised mart refreshed: whether readers kept reading meanwhile
    (``CONCURRENTLY``), and how long it took."""

    name: str
    concurrently: bool
    seconds: float


def _concurrent_refresh_possible(conn: Connection, name: str) -> bool:
    """Whether ``REFRESH … CONCURRENTLY`` works: the view has rows and a unique index
    on plain columns that covers every row."""
    query = text(
        "select c.relispopulated and exists ("
        "   select 1 from pg_catalog.pg_index as i"
        "   where i.indrelid = c.oid and i.indisunique and i.indisvalid"
        "   and i.indpred is null and i.indexprs is null)"
        " from pg_catalog.pg_class as c where c.oid = cast(:name as regclass)"
    )
    return bool(conn.execute(query, {"name": name}).scalar())


def refresh_marts(
    conn: Connection, names: Iterable[str] | None = None, folder: Path | None = None
) -> list[Refreshed]:
    """Refresh the materialised marts (all of them, or ``names``); idempotent.

    What is refreshed is what the database holds as materialised views, whatever the
    setting says now (``ecqm warehouse upgrade`` brings the database to the setting).
    ``CONCURRENTLY`` when the mart has its unique index, so readers are never blocked;
    otherwise a plain refresh, which readers wait for. Each mart's comment records
    the time of its refresh. On SQLite every mart is a view and nothing is done.
    Run it as the owner of the marts (the role that runs the migrations).
    """
    if conn.dialect.name != "postgresql":
        return []
    kinds = mart_kinds(conn, folder)
    stored = [name for name, kind in kinds.items() if kind == MATERIALIZED_VIEW]
    if names is not None:
        wanted = list(dict.fromkeys(names))
        unknown = [n for n in wanted if n not in stored]
        if unknown:
            raise MartSqlError(
                f"not a materialised mart here: {', '.join(unknown)}"
                f" (materialised: {', '.join(stored) or 'none'})"
            )
        stored = wanted
    files = mart_files(folder)
    done = []
    for name in stored:
        concurrently = _concurrent_refresh_possible(conn, name)
        started = time.perf_counter()
        how = "CONCURRENTLY " if concurrently else ""
        conn.exec_driver_sql(f"REFRESH MATERIALIZED VIEW {how}{name}")
        seconds = time.perf_counter() - started
        description = _materialised_description(parse_mart(files[name]).description)
        _execute(conn, f"COMMENT ON MATERIALIZED VIEW {name} IS {_literal(description)}")
        done.append(Refreshed(name, concurrently, seconds))
    return done


def materialisation_drift(
    conn: Connection, materialised: Iterable[str] | None = None, folder: Path | None = None
) -> list[str]:
    """Where the database differs from ``materialised`` (default: the setting), in
    words; empty when it matches. ``ecqm warehouse upgrade`` mends it (PostgreSQL)."""
    if conn.dialect.name != "postgresql":
        return []
    wanted = set(materialised_marts(materialised, folder))
    problems = []
    for name, kind in mart_kinds(conn, folder).items():
        if name in wanted and kind != MATERIALIZED_VIEW:
            problems.append(f"{name} is listed in ECQM_MATERIALISED_MARTS but is a view")
        elif name not in wanted and kind == MATERIALIZED_VIEW:
            problems.append(f"{name} is materialised but not listed in ECQM_MATERIALISED_MARTS")
    return problems


def _role_name(role: str) -> str:
    if not _NAME.fullmatch(role) or role.startswith("pg_"):
        raise ValueError(f"{role!r} is not a plain lower-case role name")
    return role


def roles_sql(role: str = ROLES_SQL_ROLE) -> str:
    """The text of ``sql/roles.sql`` for a reader role called ``role``."""
    sql = ROLES_SQL.read_text(encoding="utf-8")
    return re.sub(rf"\b{ROLES_SQL_ROLE}\b", _role_name(role), sql)


def grant_bi(conn: Connection, role: str | None = None) -> list[str]:
    """Create the BI reader role if needed and give it exactly the marts (PostgreSQL);
    returns the marts it can read. Idempotent."""
    if conn.dialect.name != "postgresql":
        raise ValueError(f"{conn.dialect.name} has no roles: open the file read-only instead")
    role = role or BI_ROLE
    _execute(conn, roles_sql(role))
    # roles.sql grants the marts that are views; a materialised mart is granted here.
    for name, kind in mart_kinds(conn).items():
        if kind == MATERIALIZED_VIEW:
            conn.exec_driver_sql(f"GRANT SELECT ON {name} TO {_role_name(role)}")
    query = text(
        "select c.relname from pg_catalog.pg_class as c"
        " where c.relnamespace = current_schema()::regnamespace and c.relkind in ('v', 'm')"
        " and has_table_privilege(:role, c.oid, 'SELECT') order by c.relname"
    )
    return list(conn.execute(query, {"role": role}).scalars())


def bi_role_problems(conn: Connection, role: str | None = None) -> list[str]:
    """What ``role`` may do beyond reading the marts, counting what it inherits (from
    PUBLIC too): every table, sequence and non-mart view it can touch, every write, and
    creating objects. Empty when the role is as narrow as roles.sql means it to be."""
    role = role or BI_ROLE
    rows = conn.execute(
        text(
            "select c.relname, c.relkind,"
            " has_table_privilege(:role, c.oid, 'SELECT') as can_read,"
            " has_table_privilege(:role, c.oid,"
            "   'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER') as can_write"
            " from pg_catalog.pg_class as c"
            " where c.relnamespace = current_schema()::regnamespace"
            " and c.relkind in ('r', 'p', 'v', 'm', 'f')"
            " union all"
            " select c.relname, c.relkind,"
            " has_sequence_privilege(:role, c.oid, 'SELECT'),"
            " has_sequence_privilege(:role, c.oid, 'USAGE, UPDATE')"
            " from pg_catalog.pg_class as c"
            " where c.relnamespace = current_schema()::regnamespace and c.relkind = 'S'"
            " order by 1"
        ),
        {"role": role},
    ).all()
    marts = set(mart_files())
    problems = []
    for name, kind, can_read, can_write in rows:
        if can_write:
            problems.append(f"{role} can write to {name}")
        if can_read and not (kind in ("v", "m") and name in marts):
            problems.append(f"{role} can read {name}, which is not a mart")
    rights = conn.execute(
        text(
            "select has_schema_privilege(:role, current_schema(), 'CREATE'),"
            " has_database_privilege(:role, current_database(), 'CREATE')"
        ),
        {"role": role},
    ).one()
    if rights[0]:
        problems.append(f"{role} can create objects in the warehouse's schema")
    if rights[1]:
        problems.append(f"{role} can create schemas in the database")
    return problems
