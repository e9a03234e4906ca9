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
"""

from __future__ import annotations

import re
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
    marts = {p.stem: p for p in sorted(folder.glob("mart_*.sql"))}
    for name in marts:
        if not _NAME.fullmatch(name):
            raise MartSqlError(f"{name}.sql: a mart's name is lower case letters, digits and _")
    return marts


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


def create_marts(
    conn: Connection, folder: Path | None = None, bi_role: str | None = None
) -> list[str]:
    """(Re)create every mart whose source tables exist; returns the names created.

    On PostgreSQL each view gets its comments, is a ``security_barrier`` view (a
    function in a reader's filter never sees a row the view leaves out), and is granted
    to ``bi_role`` (default :data:`BI_ROLE`) when that role exists.
    """
    tables = set(inspect(conn).get_table_names())
    postgres = conn.dialect.name == "postgresql"
    role = _role_name(bi_role or BI_ROLE)
    grant = postgres and _role_exists(conn, role)
    created = []
    for name, path in mart_files(folder).items():
        mart = parse_mart(path)
        conn.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")
        if not mart.tables <= tables:
            continue
        body = path.read_text(encoding="utf-8").strip().rstrip(";")
        options = " WITH (security_barrier)" if postgres else ""
        _execute(conn, f"CREATE VIEW {name}{options} AS\n{body}")
        if postgres:
            _execute(conn, f"COMMENT ON VIEW {name} IS {_literal(mart.description)}")
            for column in mart.ctes["final"].columns if "final" in mart.ctes else ():
                if column.name and column.comment:
                    target = f'{name}."{column.name}"'
                    _execute(conn, f"COMMENT ON COLUMN {target} IS {_literal(column.comment)}")
        if grant:
            conn.exec_driver_sql(f"GRANT SELECT ON {name} TO {role}")
        created.append(name)
    return created


def drop_marts(conn: Connection, folder: Path | None = None) -> None:
    for name in mart_files(folder):
        conn.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")


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
    query = text(
        "select c.relname from pg_catalog.pg_class as c"
        " where c.relnamespace = current_schema()::regnamespace and c.relkind = 'v'"
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
        if can_read and not (kind == "v" and name in marts):
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
