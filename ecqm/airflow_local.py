"""Running ecqm's DAGs with a local Airflow: the demo, ``make up`` and the tests use this.

Airflow reads its configuration when first imported, so :func:`configure` must run
before anything imports ``airflow``; the functions here call it themselves.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ecqm import settings as ecqm_settings


def configure(s: ecqm_settings.Settings | None = None, *, quiet: bool = False) -> dict[str, str]:
    """Put the Airflow environment for ``s`` into ``os.environ`` and return it."""
    s = s or ecqm_settings.load()
    env = s.airflow_environ()
    os.environ.update(env)
    if quiet:
        # A person's own logging level wins; otherwise keep task logs out of the summary.
        env["AIRFLOW__LOGGING__LOGGING_LEVEL"] = os.environ.setdefault(
            "AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"
        )
    s.airflow_home.mkdir(parents=True, exist_ok=True)
    return env


def migrate_metadata_db(s: ecqm_settings.Settings | None = None) -> None:
    """``airflow db migrate`` for ecqm's Airflow home; idempotent."""
    env = {**os.environ, **configure(s, quiet=True)}
    proc = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"airflow db migrate failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )


def run_dag(dag_id: str, conf: dict[str, Any] | None = None) -> Any:
    """Run one DAG of ``dags/`` in this process with ``dag.test()``; returns the DagRun.

    Every task runs for real against the configured warehouse; the run and its Asset
    events are recorded in Airflow's metadata database like any other run.
    """
    configure()
    from airflow.dag_processing.dagbag import DagBag

    path = ecqm_settings.DAGS_FOLDER / f"{dag_id}.py"
    bag = DagBag(dag_folder=str(path if path.exists() else ecqm_settings.DAGS_FOLDER))
    if bag.import_errors:
        raise RuntimeError(f"DAG files failed to import: {bag.import_errors}")
    dag = bag.get_dag(dag_id)
    if dag is None:
        raise KeyError(f"no DAG {dag_id!r} in {ecqm_settings.DAGS_FOLDER}")
    return dag.test(run_conf=conf)


def asset_events_of(dag_run: Any) -> dict[str, dict[str, Any]]:
    """The Asset events a DAG run emitted: asset name → the event's ``extra``."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(AssetModel.name, AssetEvent.extra)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(
                AssetEvent.source_run_id == dag_run.run_id,
                AssetEvent.source_dag_id == dag_run.dag_id,
            )
        ).all()
    return {name: dict(extra or {}) for name, extra in rows}


def standalone() -> int:
    """``airflow standalone`` with ecqm's DAGs and home (UI on http://localhost:8080)."""
    env = {**os.environ, **configure()}
    # standalone starts its components as `airflow …` found on PATH: use this environment's.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    s = ecqm_settings.load()
    print(f"Airflow home {s.airflow_home}; DAGs from {ecqm_settings.DAGS_FOLDER}")
    print(
        f"The admin password is written to {s.airflow_home / 'simple_auth_manager_passwords.json.generated'}"
    )
    try:
        return subprocess.call([sys.executable, "-m", "airflow", "standalone"], env=env)
    except KeyboardInterrupt:
        return 0
