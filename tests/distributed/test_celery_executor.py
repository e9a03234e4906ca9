"""The distributed path: Airflow's CeleryExecutor on real Redis and PostgreSQL.

One Airflow, as ``docker/compose.yaml`` deploys it but as plain processes on this
machine: PostgreSQL for Airflow's metadata and for the warehouse, Redis as the Celery
broker, the api-server (the workers' Task Execution API), the scheduler, the
dag-processor and two Celery workers, one consuming the ``crawl`` queue and one the
``compute`` queue. A person unpauses three DAGs (``airflow dags unpause``); the
scheduler does the rest: crawl_youpin's latest daily run from its timetable, then
process_staging and assess_risk when the Assets they wait for are updated.

The test asserts that the crawl shards ran on the crawl worker and everything else on
the compute worker, that the downstream DAGs were triggered by their Assets, and that
the warehouse the cluster leaves is the one the same DAGs leave on SQLite, run one
after another in this process with ``dag.test()``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from ecqm.demo import LOCAL_CRAWL_SETTINGS
from ecqm.warehouse.engine import make_engine
from ecqm.warehouse.schema import CORE_TABLES, REFERENCE_TABLES, RISK_TABLES
from simulator.server import SimulatorServer
from simulator.world import World

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PRODUCTS = 60
SEED = 20191001
CRAWL_DAG = "crawl_youpin"
DAGS = (CRAWL_DAG, "process_staging", "assess_risk")
SHARDS = 2  # the marketplace profiles' default
# A database of its own among Redis's 16, so that two runs on one machine don't share queues.
REDIS_URL = os.environ.get("ECQM_TEST_REDIS_URL") or f"redis://127.0.0.1:6379/{8 + os.getpid() % 8}"
TIMEOUT_S = 420

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_or_fail():
    """The broker; unreachable Redis fails the test under CI and skips it elsewhere."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        message = f"Redis not reachable at {REDIS_URL}: {exc}"
        if os.environ.get("CI") or os.environ.get("ECQM_TEST_POSTGRES_REQUIRED"):
            pytest.fail(message + " (the distributed test is required here)")
        pytest.skip(message)
    return client


@pytest.fixture
def databases(postgres_database_url: str) -> Iterator[dict[str, str]]:
    """Two fresh PostgreSQL databases: Airflow's metadata and the warehouse."""
    admin = sqlalchemy.create_engine(postgres_database_url, isolation_level="AUTOCOMMIT")
    tag = uuid.uuid4().hex[:8]
    names = {"airflow": f"ecqm_dist_airflow_{tag}", "warehouse": f"ecqm_dist_wh_{tag}"}
    with admin.connect() as conn:
        for name in names.values():
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    base = make_url(postgres_database_url)
    yield {
        role: base.set(database=name).render_as_string(hide_password=False)
        for role, name in names.items()
    }
    with admin.connect() as conn:
        for name in names.values():
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


class Cluster:
    """Airflow's components as processes, each in its own process group and log file."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: dict[str, subprocess.Popen] = {}

    def airflow(self, *args: str, timeout: int = 300) -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
        )
        if proc.returncode != 0:
            raise AssertionError(
                f"airflow {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        return proc.stdout

    def start(self, name: str, *args: str, extra_env: dict[str, str] | None = None) -> None:
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 — closed with the process
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**self.env, **(extra_env or {})},
            start_new_session=True,
        )

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, chars: int = 4000) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _wait_for(what: str, check, cluster: Cluster, timeout: float) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cluster.check_alive()
        result = check()
        if result:
            return result
        time.sleep(2)
    logs = "\n".join(f"--- {n}\n{cluster.tail(n, 2500)}" for n in cluster.procs)
    raise AssertionError(f"timed out waiting for {what}\n{logs}")


def _ecqm(env: dict[str, str], *args: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ecqm", *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def _cluster_env(tmp: Path, dbs: dict[str, str], common: dict[str, str]) -> dict[str, str]:
    api_port = _free_port()
    metadata = dbs["airflow"]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW__", "ECQM_", "PYTEST_")) and k != "AIRFLOW_HOME"
    }
    env.update(common)
    env.update(
        {
            "AIRFLOW_HOME": str(tmp / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
            # psycopg 3 for the async engine too (Airflow's default there is asyncpg).
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": metadata.replace(
                "postgresql+psycopg://", "postgresql+psycopg_async://"
            ),
            "AIRFLOW__CELERY__BROKER_URL": REDIS_URL,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata,
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": "compute",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "ECQM_HOME": str(tmp / "cluster-home"),
            "ECQM_WAREHOUSE_URL": dbs["warehouse"],
            "ECQM_CRAWL_QUEUE": "crawl",
            "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        }
    )
    env["_API_PORT"] = str(api_port)
    return env


def _api_up(port: int) -> bool:
    import httpx

    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=2).is_success
    except httpx.HTTPError:
        return False


def _runs(metadata: sqlalchemy.Engine) -> dict[str, list[dict]]:
    with metadata.connect() as conn:
        rows = conn.execute(
            text(
                "select dag_id, run_id, run_type, state, logical_date, run_after from dag_run "
                "where dag_id in :dags order by id"
            ).bindparams(sqlalchemy.bindparam("dags", expanding=True)),
            {"dags": list(DAGS)},
        ).mappings()
        out: dict[str, list[dict]] = {d: [] for d in DAGS}
        for row in rows:
            out[row["dag_id"]].append(dict(row))
    return out


def _cycle_done(metadata: sqlalchemy.Engine) -> dict[str, list[dict]] | None:
    runs = _runs(metadata)
    for dag_id, dag_runs in runs.items():
        for run in dag_runs:
            if run["state"] == "failed":
                raise AssertionError(f"{dag_id} run {run['run_id']} failed")
    if all(runs[d] and all(r["state"] == "success" for r in runs[d]) for d in DAGS):
        return runs
    return None


# ---------------------------------------------------------------------------------------
# Comparing warehouses across databases


# Columns that say when or in which run something happened, not what it is: the two
# runs crawl the same pages at different moments under different DAG run ids.
WHEN_OR_WHICH_RUN = {
    "fetched_at",
    "page_fetched_at",
    "fit_seconds",
    "first_seen_at",
    "last_seen_at",
    "captured_at",
    "loaded_at",
    "computed_at",
    "assessed_at",
    "scored_at",
    "matched_at",
    "decided_at",
    "trained_at",
    "checked_at",
    "updated_at",
    "started_at",
    "finished_at",
    "run_id",
    "crawl_run_id",
}


def _without_moments(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_moments(v) for k, v in value.items() if k not in WHEN_OR_WHICH_RUN}
    if isinstance(value, list):
        return [_without_moments(v) for v in value]
    return value


def _normal(value: object) -> object:
    """One representation of a value whichever database it came from."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal | float):
        return round(float(value), 9)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(_without_moments(value), sort_keys=True, ensure_ascii=False)
    return value


def _natural_key(table: sqlalchemy.Table) -> tuple[str, ...]:
    keys = [
        tuple(c.name for c in u.columns)
        for u in table.constraints
        if isinstance(u, sqlalchemy.UniqueConstraint)
    ]
    return keys[0] if keys else ()


def _snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of the reference, core and risk tables, keyed by what it is.

    Surrogate ids depend on the order rows arrived in (a concurrent crawl's), so each id
    is replaced by its row's natural key (``shops.id`` 7 → ``('youpin', '23234525')``),
    and columns saying when or in which run are left out.
    """
    engine = make_engine(url)
    tables = (*REFERENCE_TABLES, *CORE_TABLES, *RISK_TABLES)
    raw: dict[str, list[dict]] = {}
    with engine.connect() as conn:
        for t in tables:
            raw[t.name] = [dict(r) for r in conn.execute(select(t)).mappings()]
    engine.dispose()

    natural: dict[str, dict[object, tuple]] = {}

    def resolve(table: sqlalchemy.Table) -> dict[object, tuple]:
        if table.name not in natural:
            natural[table.name] = {}
            key = _natural_key(table)
            for row in raw.get(table.name, []):
                natural[table.name][row.get("id")] = tuple(
                    value_of(table, col, row[col]) for col in key
                )
        return natural[table.name]

    by_name = {t.name: t for t in tables}

    def value_of(table: sqlalchemy.Table, col: str, value: object) -> object:
        if value is None:
            return None
        for fk in table.c[col].foreign_keys:
            return resolve(fk.column.table).get(value, ("missing", value))
        return _normal(value)

    snap: dict[str, list[tuple]] = {}
    for t in tables:
        cols = [c.name for c in t.c if c.name not in WHEN_OR_WHICH_RUN]
        out = []
        for row in raw[t.name]:
            values = []
            for col in cols:
                if col == "id" and _natural_key(t):
                    continue  # the row's natural key is among its columns
                if col == "subject_id" and row.get("subject_kind") + "s" in by_name:
                    values.append(resolve(by_name[row["subject_kind"] + "s"]).get(row[col]))
                    continue
                values.append(value_of(t, col, row[col]))
            out.append(tuple(values))
        snap[t.name] = sorted(out, key=repr)
    return snap


# ---------------------------------------------------------------------------------------


def _sqlite_reference(
    tmp: Path,
    common: dict[str, str],
    crawl_date: dt.datetime,
    assess_after: dt.datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """The same three DAGs on a SQLite warehouse, with ``dag.test()`` in this process."""
    from airflow.dag_processing.dagbag import DagBag

    url = f"sqlite:///{tmp / 'reference.db'}"
    env = {**os.environ, **common, "ECQM_HOME": str(tmp / "reference-home")}
    env["ECQM_WAREHOUSE_URL"] = url
    _ecqm(env, "warehouse", "upgrade")
    _ecqm(env, "warehouse", "load-reference")
    for key in (*common, "ECQM_HOME", "ECQM_WAREHOUSE_URL"):
        monkeypatch.setenv(key, env[key])
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    runs = [
        bag.get_dag(CRAWL_DAG).test(logical_date=crawl_date),
        bag.get_dag("process_staging").test(),
        bag.get_dag("assess_risk").test(logical_date=assess_after),
    ]
    for run in runs:
        assert str(run.state) in ("success", "DagRunState.SUCCESS"), (run.dag_id, run.state)
    return url


def test_celery_workers_on_two_queues_leave_the_sqlite_warehouse(
    databases, tmp_path, airflow_db, monkeypatch
):
    broker = _redis_or_fail()
    broker.flushdb()
    logs = tmp_path / "logs"
    logs.mkdir()
    metadata = sqlalchemy.create_engine(
        make_url(databases["airflow"]).set(drivername="postgresql+psycopg")
    )
    with SimulatorServer(World(products=PRODUCTS, seed=SEED)) as sim:
        common = {
            "ECQM_SIMULATOR_URL": sim.base_url,
            "ECQM_CRAWL_SETTINGS": json.dumps(LOCAL_CRAWL_SETTINGS),
            "ECQM_PII_SALT": "distributed-test-salt",
        }
        env = _cluster_env(tmp_path, databases, common)
        port = int(env.pop("_API_PORT"))
        cluster = Cluster(env, logs)
        try:
            # What docker/compose.yaml's init job does.
            cluster.airflow("db", "migrate")
            _ecqm(env, "warehouse", "upgrade")
            _ecqm(env, "warehouse", "load-reference")

            cluster.start("api-server", "api-server")
            cluster.start("scheduler", "scheduler", "--skip-serve-logs")
            cluster.start("dag-processor", "dag-processor")
            for queue in ("crawl", "compute"):
                cluster.start(
                    f"worker-{queue}",
                    *("celery", "worker", "--queues", queue, "--concurrency", "2"),
                    *("--celery-hostname", f"{queue}@%h", "--skip-serve-logs"),
                    extra_env={
                        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "worker_identity.hostname",
                        "ECQM_TEST_WORKER_NAME": f"worker-{queue}",
                    },
                )
            _wait_for("the api-server", lambda: _api_up(port), cluster, 180)

            def parsed() -> bool:
                with metadata.connect() as conn:
                    found = conn.execute(
                        text(
                            "select count(*) from serialized_dag where dag_id in :dags"
                        ).bindparams(sqlalchemy.bindparam("dags", expanding=True)),
                        {"dags": list(DAGS)},
                    ).scalar_one()
                return found == len(DAGS)

            _wait_for("the dag-processor to parse the DAGs", parsed, cluster, 180)

            # A person's part: unpause the three DAGs. The crawl's timetable then runs
            # its latest daily crawl; its Assets bring on the other two.
            pattern = "^(" + "|".join(DAGS) + ")$"
            cluster.airflow("dags", "unpause", pattern, "--treat-dag-id-as-regex", "--yes")
            runs = _wait_for(
                "crawl → process → assess", lambda: _cycle_done(metadata), cluster, TIMEOUT_S
            )
        finally:
            cluster.stop()
            broker.flushdb()

        # Asset-triggered, once each: the scheduler chose them, nobody else.
        assert [r["run_type"] for r in runs[CRAWL_DAG]] == ["scheduled"]
        assert [r["run_type"] for r in runs["process_staging"]] == ["asset_triggered"]
        assert [r["run_type"] for r in runs["assess_risk"]] == ["asset_triggered"]

        with metadata.connect() as conn:
            tis = (
                conn.execute(
                    text(
                        "select dag_id, task_id, map_index, queue, hostname, state "
                        "from task_instance where dag_id in :dags"
                    ).bindparams(sqlalchemy.bindparam("dags", expanding=True)),
                    {"dags": list(DAGS)},
                )
                .mappings()
                .all()
            )
        metadata.dispose()
        assert tis and all(ti["state"] == "success" for ti in tis), tis
        crawl_tis = [ti for ti in tis if (ti["dag_id"], ti["task_id"]) == (CRAWL_DAG, "crawl")]
        others = [ti for ti in tis if ti not in crawl_tis]
        assert sorted(ti["map_index"] for ti in crawl_tis) == list(range(SHARDS))
        for ti in crawl_tis:
            assert ti["queue"] == "crawl" and ti["hostname"].startswith("worker-crawl@"), ti
        assert {(ti["dag_id"], ti["task_id"]) for ti in others} >= {
            (CRAWL_DAG, "plan"),
            (CRAWL_DAG, "load"),
            ("process_staging", "process"),
            ("assess_risk", "assess"),
        }
        for ti in others:
            assert ti["queue"] == "compute" and ti["hostname"].startswith("worker-compute@"), ti

        cluster_snapshot = _snapshot(databases["warehouse"])
        reference = _sqlite_reference(
            tmp_path,
            common,
            runs[CRAWL_DAG][0]["logical_date"],
            runs["assess_risk"][0]["run_after"],
            monkeypatch,
        )
    reference_snapshot = _snapshot(reference)

    assert cluster_snapshot["listings"] and cluster_snapshot["reviews"]
    assert cluster_snapshot["risk_assessments"]
    assert cluster_snapshot.keys() == reference_snapshot.keys()
    for table, rows in reference_snapshot.items():
        only_cluster = [r for r in cluster_snapshot[table] if r not in rows]
        only_reference = [r for r in rows if r not in cluster_snapshot[table]]
        assert cluster_snapshot[table] == rows, (table, only_cluster[:3], only_reference[:3])
