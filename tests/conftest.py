"""Shared fixtures: a throwaway Airflow home, and warehouses on SQLite and PostgreSQL.

PostgreSQL comes from ``ECQM_TEST_POSTGRES_URL`` (default: the local server with trust
auth). Each pytest worker gets a database of its own. When ``CI`` or
``ECQM_TEST_POSTGRES_REQUIRED`` is set, an unreachable server fails the run instead of
skipping the PostgreSQL tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# pytest puts this folder on sys.path to import this file. Its subfolders are named like
# the packages they test (tests/ecqm, tests/crawlers, …), and on sys.path they would
# shadow the real packages as namespace packages (``ecqm.warehouse`` resolving to
# tests/ecqm/warehouse), so the folder comes off again.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "tests"]
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# Airflow reads its configuration when first imported, so the throwaway home must be in
# the environment before any test module imports airflow.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
_SESSION_TMP = Path(tempfile.mkdtemp(prefix=f"ecqm-tests-{_WORKER}-"))
os.environ["AIRFLOW_HOME"] = str(_SESSION_TMP / "airflow")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["ECQM_HOME"] = str(_SESSION_TMP / "home")
os.environ.pop("ECQM_WAREHOUSE_URL", None)
os.environ.pop("AIRFLOW_CONN_ECQM_WAREHOUSE", None)


def _postgres_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("ECQM_TEST_POSTGRES_REQUIRED"))


def _postgres_admin_url() -> str:
    from ecqm.settings import normalise_database_url

    return normalise_database_url(os.environ.get("ECQM_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL)


_postgres_error: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _postgres_error
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(
            _postgres_admin_url(), connect_args={"connect_timeout": 5}
        )
        with engine.connect() as conn:
            conn.exec_driver_sql("select 1")
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 — any failure means "not reachable"
        _postgres_error = (
            f"PostgreSQL not reachable at {_postgres_admin_url()}: {exc}".splitlines()[0]
        )
        if _postgres_required():
            raise pytest.UsageError(
                f"{_postgres_error}\nThe PostgreSQL suite is required here (CI or "
                "ECQM_TEST_POSTGRES_REQUIRED is set). Start the server or set ECQM_TEST_POSTGRES_URL."
            ) from exc


def pytest_report_header(config: pytest.Config) -> list[str]:
    pg = _postgres_error or f"PostgreSQL tests on {_postgres_admin_url()} (a database per worker)"
    return [f"ecqm: {pg}", f"ecqm: AIRFLOW_HOME={os.environ['AIRFLOW_HOME']}"]


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this worker, dropped at the end of the session."""
    if _postgres_error:
        pytest.skip(_postgres_error)
    import sqlalchemy
    from sqlalchemy.engine import make_url

    admin_url = make_url(_postgres_admin_url())
    name = f"ecqm_test_{_WORKER}_{os.getpid()}"
    admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _reset_postgres(url: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty warehouse database: SQLite in a temporary folder, or PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    url = request.getfixturevalue("postgres_database_url")
    _reset_postgres(url)
    return url


@pytest.fixture
def warehouse_engine(database_url: str):
    """An engine on a warehouse migrated to head."""
    from ecqm.warehouse import migrate
    from ecqm.warehouse.engine import make_engine

    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def warehouse_conn(warehouse_engine):
    """A connection to a migrated warehouse; its transaction is committed at the end."""
    with warehouse_engine.begin() as conn:
        yield conn


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Airflow's metadata database, migrated once per worker in the throwaway home."""
    home = Path(os.environ["AIRFLOW_HOME"])
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
    )
    if result.returncode != 0:
        pytest.fail(f"airflow db migrate failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return home
