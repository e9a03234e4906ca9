"""Materialised marts: on PostgreSQL the marts named in ``ECQM_MATERIALISED_MARTS`` are
MATERIALIZED VIEWs with a unique index on their key, refreshed by
``ecqm warehouse refresh-marts``; on SQLite they stay views. Comments and the BI
reader's grants hold for them as for views, and a mart taken out of the setting is a
view again after the next upgrade."""

from __future__ import annotations

import datetime as dt
import secrets
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from ecqm import settings
from ecqm.cli import main
from ecqm.warehouse import marts, migrate
from ecqm.warehouse.engine import make_engine
from ecqm.warehouse.marts import (
    MART_KEYS,
    MATERIALIZED_VIEW,
    VIEW,
    MartSqlError,
    bi_role_problems,
    clock_words,
    create_marts,
    drop_marts,
    grant_bi,
    mart_columns,
    mart_files,
    mart_kinds,
    materialisation_drift,
    materialised_marts,
    parse_mart,
    refresh_marts,
)

MARTS = mart_files()
STORED = ["mart_kpi_monthly", "mart_risk_current"]
on_postgres = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def engine(database_url: str, monkeypatch) -> Iterator[Engine]:
    """A warehouse at head with :data:`STORED` in ``ECQM_MATERIALISED_MARTS``."""
    monkeypatch.setenv("ECQM_MATERIALISED_MARTS", ",".join(STORED))
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def _kpi(conn, kpi: str, value: float) -> None:
    conn.execute(
        text(
            "insert into kpi_snapshots (period_start, kpi, dimension, label_zh, unit, value,"
            " computed_at) values (:p, :k, '', :l, 'count', :v, :at)"
        ),
        {
            "p": dt.date(2026, 10, 1),
            "k": kpi,
            "l": f"{kpi} 指标",
            "v": value,
            "at": dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        },
    )


def _kpis(engine: Engine) -> dict[str, float]:
    with engine.connect() as conn:
        return dict(conn.execute(text("select kpi, value from mart_kpi_monthly")).all())


def _mart(tmp_path: Path, body: str, name: str = "mart_probe") -> Path:
    path = tmp_path / f"{name}.sql"
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return path


# ------------------------------------------------------------------ the setting itself


def test_the_setting_is_a_list_of_names_empty_by_default():
    assert settings.load({}).materialised_marts == ()
    given = {"ECQM_MATERIALISED_MARTS": " mart_risk_current, ,mart_kpi_monthly,mart_risk_current "}
    assert settings.load(given).materialised_marts == ("mart_risk_current", "mart_kpi_monthly")
    for bad in ("Mart_Risk", "mart-risk", "mart_risk; drop table shops"):
        with pytest.raises(ValueError, match="ECQM_MATERIALISED_MARTS"):
            settings.load({"ECQM_MATERIALISED_MARTS": bad})


def test_a_name_that_is_not_a_mart_is_refused():
    with pytest.raises(MartSqlError, match="mart_risk_curent, which is not a mart"):
        materialised_marts(["mart_risk_curent"])
    assert materialised_marts(STORED) == STORED
    assert materialised_marts([]) == []


def test_a_mart_that_reads_the_clock_is_never_materialised(tmp_path):
    # Overdue notices are judged against current_timestamp when the mart is read.
    assert clock_words(MARTS["mart_notification_status"]) == ["current_timestamp"]
    with pytest.raises(MartSqlError, match="reads the clock"):
        materialised_marts(["mart_notification_status"])
    _mart(
        tmp_path,
        """
        -- mart_probe: mentions now() and current_date only in comments
        with final as (
            select
                s.id,                                  -- 编号：now() 不算
                date('now') as today                   -- 今天（SQLite 的 'now'）
            from shops as s
        )

        select * from final
        """,
    )
    assert clock_words(tmp_path / "mart_probe.sql") == ["'now'"]
    with pytest.raises(MartSqlError, match="reads the clock"):
        materialised_marts(["mart_probe"], tmp_path)


def test_every_mart_has_a_key_of_its_own_columns():
    assert set(MART_KEYS) == set(MARTS), "give every mart its key in MART_KEYS"
    for name, key in MART_KEYS.items():
        columns = [c.name for c in mart_columns(MARTS[name])]
        assert key and set(key) <= set(columns), (name, key, columns)


def test_without_the_sql_folder_there_are_no_marts_to_make(tmp_path):
    with pytest.raises(MartSqlError, match="no such folder"):
        mart_files(tmp_path / "sql" / "marts")


# ---------------------------------------------------------------------- the databases


def test_listed_marts_are_materialised_on_postgresql_and_views_on_sqlite(engine):
    with engine.connect() as conn:
        kinds = mart_kinds(conn)
    assert set(kinds) == set(MARTS)
    if engine.dialect.name == "postgresql":
        assert {n for n, k in kinds.items() if k == MATERIALIZED_VIEW} == set(STORED)
        assert set(inspect(engine).get_materialized_view_names()) == set(STORED)
        assert set(inspect(engine).get_view_names()) == set(MARTS) - set(STORED)
        for name in STORED:
            (index,) = inspect(engine).get_indexes(name)
            assert index["unique"] and tuple(index["column_names"]) == MART_KEYS[name]
    else:
        assert set(kinds.values()) == {VIEW}
    # The same columns either way, in the order of final.
    for name in STORED:
        assert [c["name"] for c in inspect(engine).get_columns(name)] == [
            c.name for c in mart_columns(MARTS[name])
        ]


def test_a_refresh_picks_up_new_rows(engine):
    with engine.begin() as conn:
        _kpi(conn, "plans", 1)
    postgres = engine.dialect.name == "postgresql"
    # A materialised mart shows its rows as of its last refresh; a view is always current.
    assert _kpis(engine) == ({} if postgres else {"plans": 1})
    with engine.begin() as conn:
        done = refresh_marts(conn)
    if postgres:
        assert [(r.name, r.concurrently) for r in done] == [(n, True) for n in STORED]
    else:
        assert done == []
    assert _kpis(engine) == {"plans": 1}
    with engine.begin() as conn:
        conn.execute(text("update kpi_snapshots set value = 2 where kpi = 'plans'"))
        _kpi(conn, "samples", 5)
        refresh_marts(conn, ["mart_kpi_monthly"] if postgres else None)
        refresh_marts(conn, ["mart_kpi_monthly"] if postgres else None)  # idempotent
    assert _kpis(engine) == {"plans": 2, "samples": 5}


@pytest.mark.postgres
@on_postgres
def test_postgresql_shows_the_comments_of_a_materialised_mart(engine):
    with engine.connect() as conn:
        for name in STORED:
            mart = parse_mart(MARTS[name])
            described = conn.execute(
                text("select obj_description(cast(:v as regclass), 'pg_class')"), {"v": name}
            ).scalar()
            assert described.startswith(mart.description)
            assert "Materialised: the rows as of" in described
            shown = dict(
                conn.execute(
                    text(
                        "select a.attname, col_description(a.attrelid, a.attnum)"
                        " from pg_catalog.pg_attribute as a"
                        " where a.attrelid = cast(:v as regclass) and a.attnum > 0"
                        " and not a.attisdropped"
                    ),
                    {"v": name},
                ).all()
            )
            assert shown == {c.name: c.comment for c in mart.columns}, name


@pytest.mark.postgres
@on_postgres
def test_a_mart_without_a_key_is_refreshed_with_readers_waiting(engine, tmp_path):
    _mart(
        tmp_path,
        """
        -- mart_probe: the shops by platform
        with final as (
            select
                s.platform,                            -- 电商平台
                count(*) as shops_count                -- 店铺数
            from shops as s
            group by s.platform
        )

        select * from final
        """,
    )
    with engine.begin() as conn:
        assert create_marts(conn, tmp_path, materialised=["mart_probe"]) == ["mart_probe"]
        assert mart_kinds(conn, tmp_path) == {"mart_probe": MATERIALIZED_VIEW}
        assert inspect(conn).get_indexes("mart_probe") == []
        (done,) = refresh_marts(conn, folder=tmp_path)
        assert (done.name, done.concurrently) == ("mart_probe", False)
        with pytest.raises(MartSqlError, match="not a materialised mart here: mart_other"):
            refresh_marts(conn, ["mart_other"], folder=tmp_path)
        drop_marts(conn, tmp_path)
        assert mart_kinds(conn, tmp_path) == {}


@pytest.mark.postgres
@on_postgres
def test_a_mart_taken_out_of_the_setting_is_a_view_again(engine, monkeypatch):
    monkeypatch.setenv("ECQM_MATERIALISED_MARTS", "mart_risk_current")
    with engine.connect() as conn:
        assert materialisation_drift(conn) == [
            "mart_kpi_monthly is materialised but not listed in ECQM_MATERIALISED_MARTS"
        ]
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert materialisation_drift(conn) == []
        kinds = mart_kinds(conn)
        options = conn.execute(
            text("select reloptions from pg_catalog.pg_class where relname = 'mart_kpi_monthly'")
        ).scalar()
    assert kinds["mart_kpi_monthly"] == VIEW and kinds["mart_risk_current"] == MATERIALIZED_VIEW
    assert "security_barrier=true" in options
    monkeypatch.delenv("ECQM_MATERIALISED_MARTS")
    migrate.upgrade(engine)
    assert inspect(engine).get_materialized_view_names() == []
    assert set(inspect(engine).get_view_names()) == set(MARTS)
    # A downgrade takes materialised marts away too (they would pin their tables).
    monkeypatch.setenv("ECQM_MATERIALISED_MARTS", ",".join(STORED))
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert inspect(engine).get_materialized_view_names() == []
    assert inspect(engine).get_view_names() == []


# ------------------------------------------------------------------ the BI reader role


@pytest.fixture
def reader(engine: Engine, monkeypatch) -> Iterator[tuple[str, Engine]]:
    """A BI reader role (made by grant-bi) and a login in it; dropped at the end."""
    role = f"ecqm_bi_test_{secrets.token_hex(4)}"
    login, password = f"{role}_login", secrets.token_hex(16)
    monkeypatch.setattr(marts, "BI_ROLE", role)  # create_marts re-grants to it
    url = make_url(engine.url.render_as_string(hide_password=False))
    reader_engine = create_engine(
        url.set(username=login, password=password), isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.begin() as conn:
            assert grant_bi(conn, role) == sorted(MARTS)
            conn.exec_driver_sql(f"CREATE ROLE {login} LOGIN PASSWORD '{password}' IN ROLE {role}")
        yield role, reader_engine
    finally:
        reader_engine.dispose()
        with engine.begin() as conn:
            for name in (login, role):
                exists = conn.execute(
                    text("select 1 from pg_roles where rolname = :r"), {"r": name}
                ).first()
                if exists:
                    conn.exec_driver_sql(f"DROP OWNED BY {name}")
                    conn.exec_driver_sql(f"DROP ROLE {name}")


@pytest.mark.postgres
@on_postgres
def test_the_bi_reader_reads_materialised_marts_and_nothing_else(engine, reader):
    role, login = reader
    with engine.begin() as conn:
        _kpi(conn, "plans", 3)
        refresh_marts(conn)
    with login.connect() as conn:
        assert dict(conn.execute(text("select kpi, value from mart_kpi_monthly")).all()) == {
            "plans": 3
        }
        for name in MARTS:
            conn.exec_driver_sql(f"select * from {name} limit 1")
    with engine.connect() as conn:
        assert bi_role_problems(conn, role) == []
    # An upgrade drops and recreates the marts; the reader keeps them.
    migrate.upgrade(engine)
    with login.connect() as conn:
        assert conn.execute(text("select count(*) from mart_kpi_monthly")).scalar() == 1
        assert conn.execute(text("select count(*) from mart_risk_current")).scalar() == 0
    with engine.connect() as conn:
        assert bi_role_problems(conn, role) == []
    # The reader can neither refresh nor write a materialised mart.
    for sql in (
        "REFRESH MATERIALIZED VIEW mart_kpi_monthly",
        "DELETE FROM mart_kpi_monthly",
        "DROP MATERIALIZED VIEW mart_kpi_monthly",
    ):
        with pytest.raises(Exception, match="must be owner|permission denied|cannot"):
            with login.connect() as conn:
                conn.exec_driver_sql(sql)


# ------------------------------------------------------------------------ the command


def test_refresh_marts_command(engine, capsys):
    url = engine.url.render_as_string(hide_password=False)
    with engine.begin() as conn:
        _kpi(conn, "plans", 4)
    assert main(["warehouse", "refresh-marts", "--url", url]) == 0
    out = capsys.readouterr().out
    if engine.dialect.name == "postgresql":
        assert "mart_kpi_monthly: refreshed concurrently" in out
        assert "mart_risk_current: refreshed concurrently" in out
        assert main(["warehouse", "refresh-marts", "--url", url, "mart_kpi_monthly"]) == 0
        assert main(["warehouse", "refresh-marts", "--url", url, "mart_sampling_plan"]) == 2
        assert "not a materialised mart here: mart_sampling_plan" in capsys.readouterr().err
    else:
        assert "every mart is a view" in out
    assert _kpis(engine) == {"plans": 4}


@pytest.mark.postgres
@on_postgres
def test_refresh_marts_says_when_the_database_and_the_setting_differ(engine, monkeypatch, capsys):
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("ECQM_MATERIALISED_MARTS", "mart_kpi_monthly,mart_sampling_plan")
    assert main(["warehouse", "refresh-marts", "--url", url]) == 0
    captured = capsys.readouterr()
    assert "mart_sampling_plan is listed in ECQM_MATERIALISED_MARTS but is a view" in captured.err
    assert "run: ecqm warehouse upgrade" in captured.err
    # What the database holds is refreshed, the setting notwithstanding.
    assert "mart_risk_current: refreshed concurrently" in captured.out


def test_the_refresh_marts_dag_refreshes_them(engine, airflow_db, monkeypatch):
    """The hourly DAG, run for real: new rows reach the materialised marts."""
    monkeypatch.setenv("ECQM_WAREHOUSE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("AIRFLOW_CONN_ECQM_WAREHOUSE", raising=False)
    with engine.begin() as conn:
        _kpi(conn, "plans", 3)
    from ecqm.airflow_local import run_dag

    run = run_dag("refresh_marts")
    assert run.state == "success"
    assert _kpis(engine) == {"plans": 3}
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            assert mart_kinds(conn)["mart_kpi_monthly"] == MATERIALIZED_VIEW
