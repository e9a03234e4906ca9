"""Engines for the warehouse: one place that knows how to connect."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from ecqm import settings


def json_dumps(value: Any) -> str:
    """JSON as the warehouse stores it: Chinese kept readable, keys sorted so equal
    documents are equal text (SQLite compares JSON as text)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """A new engine for ``url`` (default: the settings' warehouse URL)."""
    url = settings.normalise_database_url(url or settings.load().warehouse_url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 60})
    engine = create_engine(url, json_serializer=json_dumps, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
    return engine


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """A shared engine per URL, for commands and tasks that run in one process."""
    return make_engine(url)


def database_identity(conn: Connection) -> str:
    """Which database ``conn`` is on, beyond its URL: one dropped and made again under the
    same name is another (PostgreSQL: its oid; SQLite: its file's inode and device).
    State kept outside the warehouse (``$ECQM_HOME/state``) records it, so that it is
    never applied to a database it was not made from."""
    import os

    if conn.dialect.name == "postgresql":
        oid = conn.exec_driver_sql(
            "select oid from pg_database where datname = current_database()"
        ).scalar_one()
        return f"postgresql:{oid}"
    name = conn.engine.url.database
    try:
        st = os.stat(name) if name and name != ":memory:" else None
    except OSError:
        st = None
    return f"{conn.dialect.name}:{st.st_ino}:{st.st_dev}" if st else f"{conn.dialect.name}:-"
