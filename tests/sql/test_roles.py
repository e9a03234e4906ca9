"""sql/roles.sql on PostgreSQL: the BI reader can select from every mart and from no
table, can write nothing, and keeps its marts across a migration cycle.

Roles are cluster-wide, so each test makes a reader and a login role with names of its
own (roles.sql's role name is replaced, as ``ecqm warehouse grant-bi --role`` does)
and drops them at the end. Like every PostgreSQL test this fails, not skips, in CI
when the server is unreachable (tests/conftest.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ecqm.cli import main
from ecqm.warehouse import marts, migrate
from ecqm.warehouse.marts import bi_role_problems, grant_bi, mart_files, roles_sql

# A warehouse at head on PostgreSQL only (the conftest fixture, one of its two params).
on_postgres = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
PERMISSION_DENIED = "42501"
MARTS = sorted(mart_files())


@dataclass
class Reader:
    role: str
    login: Engine


@pytest.fixture
def reader(warehouse_engine: Engine, monkeypatch) -> Iterator[Reader]:
    role = f"ecqm_bi_test_{secrets.token_hex(4)}"
    login, password = f"{role}_login", secrets.token_hex(16)
    # create_marts re-grants the marts to this role after a migration, as it would to
    # the real ecqm_bi_reader.
    monkeypatch.setattr(marts, "BI_ROLE", role)
    url = make_url(warehouse_engine.url.render_as_string(hide_password=False))
    engine = create_engine(url.set(username=login, password=password), isolation_level="AUTOCOMMIT")
    try:
        admin = url.render_as_string(hide_password=False)
        assert main(["warehouse", "grant-bi", "--url", admin, "--role", role]) == 0
        with warehouse_engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE ROLE {login} LOGIN PASSWORD '{password}' IN ROLE {role}")
        yield Reader(role, engine)
    finally:
        engine.dispose()
        with warehouse_engine.begin() as conn:
            for name in (login, role):
                exists = conn.execute(
                    text("select 1 from pg_roles where rolname = :r"), {"r": name}
                ).first()
                if exists:
                    conn.exec_driver_sql(f"DROP OWNED BY {name}")
                    conn.exec_driver_sql(f"DROP ROLE {name}")


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def _denied(engine: Engine, sql: str) -> bool:
    """Whether ``sql`` fails for lack of a privilege (and nothing else)."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(sql)
    except DBAPIError as exc:
        if _sqlstate(exc) == PERMISSION_DENIED:
            return True
        raise
    return False


def _tables(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())


def _read_every_mart(engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        return {m: list(conn.exec_driver_sql(f"SELECT * FROM {m} LIMIT 1").keys()) for m in MARTS}


@pytest.mark.postgres
@on_postgres
def test_the_reader_reads_every_mart_and_nothing_else(warehouse_engine, reader):
    assert set(inspect(warehouse_engine).get_view_names()) == set(MARTS)
    read = _read_every_mart(reader.login)
    assert all(read.values()), read
    tables = _tables(warehouse_engine)
    assert {"shops", "risk_assessments", "sampling_tasks", "alembic_version"} <= set(tables)
    readable = [t for t in tables if not _denied(reader.login, f"SELECT 1 FROM {t} LIMIT 1")]
    assert not readable, f"{reader.role} can read tables: {readable}"
    with warehouse_engine.connect() as conn:
        assert bi_role_problems(conn, reader.role) == []


@pytest.mark.postgres
@on_postgres
@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO shops (platform, external_id, name, first_seen_at, last_seen_at)"
        " VALUES ('p', 'x', 'n', now(), now())",
        "UPDATE shops SET name = 'x'",
        "DELETE FROM risk_assessments",
        "TRUNCATE sampling_tasks",
        "UPDATE alembic_version SET version_num = 'x'",
        "CREATE TABLE bi_scratch (id integer)",
        "CREATE VIEW bi_scratch AS SELECT 1 AS one",
        "CREATE SCHEMA bi_scratch",
        "CREATE FUNCTION public.bi_scratch() RETURNS integer LANGUAGE sql AS 'select 1'",
        "ALTER VIEW mart_risk_current RENAME TO bi_scratch",
        "DROP VIEW mart_risk_current",
        "COMMENT ON VIEW mart_risk_current IS 'x'",
    ],
)
def test_the_reader_writes_nothing(reader, sql):
    assert _denied(reader.login, sql)


@pytest.mark.postgres
@on_postgres
@pytest.mark.parametrize("verb", ["INSERT INTO {m} SELECT * FROM {m}", "DELETE FROM {m}"])
def test_the_marts_take_no_writes(reader, verb):
    for mart in MARTS:
        with pytest.raises(DBAPIError), reader.login.connect() as conn:
            conn.exec_driver_sql(verb.format(m=mart))


@pytest.mark.postgres
@on_postgres
def test_the_marts_stay_readable_after_a_migration_cycle(warehouse_engine, reader):
    migrate.downgrade(warehouse_engine, "base")
    assert inspect(warehouse_engine).get_view_names() == []
    migrate.upgrade(warehouse_engine)
    assert all(_read_every_mart(reader.login).values())
    assert _denied(reader.login, "SELECT 1 FROM shops LIMIT 1")
    with warehouse_engine.connect() as conn:
        assert bi_role_problems(conn, reader.role) == []


@pytest.mark.postgres
@on_postgres
def test_roles_sql_takes_back_what_was_granted_before(warehouse_engine, reader):
    with warehouse_engine.begin() as conn:
        conn.exec_driver_sql(f"GRANT SELECT, INSERT ON shops TO {reader.role}")
        conn.exec_driver_sql(f"GRANT CREATE ON SCHEMA public TO {reader.role}")
        conn.exec_driver_sql(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {reader.role}"
        )
        problems = bi_role_problems(conn, reader.role)
    assert f"{reader.role} can read shops, which is not a mart" in problems
    assert f"{reader.role} can write to shops" in problems
    assert not _denied(reader.login, "SELECT 1 FROM shops LIMIT 1")  # the probe works

    with warehouse_engine.begin() as conn:
        assert grant_bi(conn, reader.role) == MARTS
        assert grant_bi(conn, reader.role) == MARTS  # idempotent
        assert bi_role_problems(conn, reader.role) == []
        conn.exec_driver_sql("CREATE TABLE later_table (id integer)")  # the next migration
    try:
        assert _denied(reader.login, "SELECT 1 FROM shops LIMIT 1")
        assert _denied(reader.login, "SELECT 1 FROM later_table LIMIT 1")
        assert _denied(reader.login, "CREATE TABLE bi_scratch (id integer)")
    finally:
        with warehouse_engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE later_table")


@pytest.mark.postgres
@on_postgres
def test_what_public_may_do_counts_against_the_reader(warehouse_engine, reader):
    with warehouse_engine.begin() as conn:
        conn.exec_driver_sql("GRANT SELECT ON products TO PUBLIC")
        try:
            assert bi_role_problems(conn, reader.role) == [
                f"{reader.role} can read products, which is not a mart"
            ]
        finally:
            conn.exec_driver_sql("REVOKE SELECT ON products FROM PUBLIC")


def test_roles_sql_names_only_the_role_it_is_given():
    sql = roles_sql("ecqm_bi_other")
    assert "ecqm_bi_other" in sql and "ecqm_bi_reader" not in sql
    for bad in ("Bad", "x; drop table shops", "pg_read_all_data", "a" * 64, ""):
        with pytest.raises(ValueError):
            roles_sql(bad)


def test_grant_bi_refuses_sqlite(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    assert main(["warehouse", "grant-bi", "--url", url]) == 2
    assert "read-only" in capsys.readouterr().err
