"""BI marts: the views in ``sql/marts/``, one file per view named after it.

Views are derived objects, so they are not Alembic's business: after every upgrade
:func:`create_marts` drops and recreates each mart whose tables exist, and before a
downgrade :func:`drop_marts` removes them (PostgreSQL refuses to drop a table a view
reads). The SQL is written once for both databases.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Connection, inspect

MARTS_DIR = Path(__file__).resolve().parents[2] / "sql" / "marts"
_TABLE = re.compile(r"\b(?:from|join)\s+([a-z_][a-z0-9_]*)", re.I)


def mart_files(folder: Path | None = None) -> dict[str, Path]:
    folder = folder or MARTS_DIR
    return {p.stem: p for p in sorted(folder.glob("mart_*.sql"))}


def _body(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip().rstrip(";")


def _cte_names(sql: str) -> set[str]:
    return {m.group(1).lower() for m in re.finditer(r"\b([a-z_][a-z0-9_]*)\s+as\s*\(", sql, re.I)}


def create_marts(conn: Connection, folder: Path | None = None) -> list[str]:
    """(Re)create every mart whose source tables exist; returns the names created."""
    tables = set(inspect(conn).get_table_names())
    created = []
    for name, path in mart_files(folder).items():
        sql = _body(path)
        sources = {t.lower() for t in _TABLE.findall(sql)} - _cte_names(sql)
        conn.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")
        if sources <= tables:
            conn.exec_driver_sql(f"CREATE VIEW {name} AS\n{sql}")
            created.append(name)
    return created


def drop_marts(conn: Connection, folder: Path | None = None) -> None:
    for name in mart_files(folder):
        conn.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")
