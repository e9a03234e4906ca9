"""Running ecqm's DAGs with a local Airflow: the demo, ``make up`` and the tests use this.

Airflow reads its configuration when first imported, so :func:`configure` must run
before anything imports ``airflow``; the functions here call it themselves.

Without a scheduler, :func:`run_dag` runs one DAG in this process with ``dag.test()``
(a run triggered by hand), and :func:`run_asset_triggered` does what the scheduler does
with the Asset events such runs emit: Airflow queues every unpaused DAG scheduled on an
Asset in ``asset_dag_run_queue`` when the Asset gets an event; a DAG whose Asset
condition the queued Assets satisfy gets an asset-triggered run that consumes the
events, and its queue rows are deleted. :func:`prepare_dags` syncs and unpauses the DAGs
first, since Airflow queues nothing for a paused DAG.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecqm import settings as ecqm_settings

# More asset-triggered runs than any chain of ecqm's DAGs needs: a cycle of Assets (a
# DAG consuming what it produces) stops here instead of running forever.
MAX_ASSET_TRIGGERED_RUNS = 50


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


def dags_folder() -> Path:
    """The DAGs folder Airflow syncs into its metadata database (``ecqm``'s ``dags/``)."""
    configure()
    from airflow import settings as airflow_settings

    return Path(airflow_settings.DAGS_FOLDER)


def prepare_dags() -> list[str]:
    """Sync every DAG of the DAGs folder into the metadata database, as the DAG processor
    does, and unpause them; returns their ids.

    Airflow queues a run for an Asset's consumers only when they are in the database and
    unpaused. Runs that this module started and that were left queued or running (the
    process was interrupted) are marked failed: nothing else will finish them, and they
    would hold their DAG at ``max_active_runs``.
    """
    configure()
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.models.dag import DagModel
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType
    from sqlalchemy import and_, or_, select, update

    folder = dags_folder().resolve()
    manager = DagBundlesManager()
    manager.sync_bundles_to_db()
    bundles = [b for b in manager.get_all_dag_bundles() if Path(b.path).resolve() == folder]
    if not bundles:
        raise RuntimeError(f"no DAG bundle of Airflow's configuration reads {folder}")
    dag_ids: set[str] = set()
    for bundle in bundles:
        if not bundle.is_initialized:
            bundle.initialize()
        bag = BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
        if bag.import_errors:
            raise RuntimeError(f"DAG files failed to import: {bag.import_errors}")
        sync_bag_to_db(bag, bundle.name, bundle.version)
        dag_ids.update(bag.dag_ids)
    with create_session() as session:
        session.execute(
            update(DagModel).where(DagModel.dag_id.in_(dag_ids)).values(is_paused=False)
        )
        left = session.scalars(
            select(DagRun).where(
                DagRun.dag_id.in_(dag_ids),
                DagRun.state.in_((DagRunState.QUEUED, DagRunState.RUNNING)),
                or_(
                    DagRun.triggered_by == DagRunTriggeredByType.TEST,
                    and_(
                        DagRun.triggered_by == DagRunTriggeredByType.ASSET,
                        DagRun.creating_job_id.is_(None),
                    ),
                ),
            )
        ).all()
        for run in left:
            run.set_state(DagRunState.FAILED)
    return sorted(dag_ids)


def pause_dags() -> int:
    """Pause every DAG in the metadata database again; returns how many were unpaused.

    The demo unpauses its DAGs only while it drives them, so that a scheduler started
    later on the same Airflow home (``make up``) finds them paused, as new DAGs are.
    """
    configure()
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session
    from sqlalchemy import update

    with create_session() as session:
        result = session.execute(
            update(DagModel).where(DagModel.is_paused.is_(False)).values(is_paused=True)
        )
        return result.rowcount or 0


def _load_dag(dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    folder = dags_folder()
    path = folder / f"{dag_id}.py"
    bag = DagBag(dag_folder=str(path if path.exists() else folder))
    if bag.import_errors:
        raise RuntimeError(f"DAG files failed to import: {bag.import_errors}")
    dag = bag.get_dag(dag_id)
    if dag is None:
        raise KeyError(f"no DAG {dag_id!r} in {folder}")
    return dag


def run_dag(dag_id: str, conf: dict[str, Any] | None = None) -> Any:
    """Run one DAG of ``dags/`` in this process with ``dag.test()``; returns the DagRun.

    This is a run triggered by hand (or standing in for the DAG's timetable). Every task
    runs for real against the configured warehouse; the run and its Asset events are
    recorded in Airflow's metadata database like any other run, and the events queue the
    Assets' unpaused consumers for :func:`run_asset_triggered`.
    """
    configure()
    return _load_dag(dag_id).test(run_conf=conf)


@dataclass(frozen=True)
class TriggeredRun:
    """A DAG run this module started: by hand (``run_type`` ``manual``) or from the asset
    queue (``asset_triggered``)."""

    dag_id: str
    run_id: str
    state: str
    run_type: str
    assets: tuple[str, ...]
    """The Assets whose events the run consumed: what triggered it (none by hand)."""
    sources: tuple[str, ...]
    """The DAGs whose runs emitted those events, first to last."""
    dag_run: Any
    """The DagRun ``dag.test()`` returned."""


def trigger(dag_id: str, conf: dict[str, Any] | None = None) -> list[TriggeredRun]:
    """Run ``dag_id`` by hand (:func:`run_dag`), then every run its Asset events trigger
    (:func:`run_asset_triggered`); the first of the runs returned is ``dag_id``'s."""
    first = _triggered_run(run_dag(dag_id, conf))
    return [first, *run_asset_triggered()]


def run_asset_triggered(max_runs: int = MAX_ASSET_TRIGGERED_RUNS) -> list[TriggeredRun]:
    """Give each DAG that the asset queue makes ready its asset-triggered run, as the
    scheduler would, until none is ready; returns the runs in order.

    The queue is read again after each run, which may have emitted events of its own. A
    DAG whose condition is not met yet (``a & b`` with only ``a`` updated) keeps its
    queue rows for a later event and does not run.
    """
    runs: list[TriggeredRun] = []
    while ready := ready_dags():
        if len(runs) >= max_runs:
            raise RuntimeError(
                f"{max_runs} asset-triggered runs and still more ready ({', '.join(ready)}): "
                "do the DAGs' Assets form a cycle?"
            )
        runs.append(_triggered_run(_run_asset_triggered(ready[0])))
    return runs


def ready_dags() -> list[str]:
    """The DAGs the scheduler would give an asset-triggered run now, oldest queue first.

    Airflow's own ``DagModel.dags_needing_dagruns`` decides, as in the scheduler's loop:
    a DAG with queued Assets that satisfy its Asset condition, unpaused, parsed without
    errors and below ``max_active_runs``.
    """
    configure()
    from unittest import mock

    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    with create_session() as session:
        # A scheduler takes a few DAGs per loop (max_dagruns_to_create_per_loop) and
        # comes back for the others; this runner takes them all in one look.
        with mock.patch.object(DagModel, "NUM_DAGS_PER_DAGRUN_QUERY", 1_000_000):
            due, triggered = DagModel.dags_needing_dagruns(session)
            due_ids = {dag_model.dag_id for dag_model in due}
    return sorted((d for d in triggered if d in due_ids), key=lambda d: (triggered[d], d))


def asset_queue() -> dict[str, list[str]]:
    """``asset_dag_run_queue``: each DAG waiting for a run → its queued Asset names."""
    configure()
    from airflow.models.asset import AssetDagRunQueue, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(AssetDagRunQueue.target_dag_id, AssetModel.name)
            .join(AssetModel, AssetDagRunQueue.asset_id == AssetModel.id)
            .order_by(AssetDagRunQueue.target_dag_id, AssetModel.name)
        ).all()
    out: dict[str, list[str]] = {}
    for dag_id, name in rows:
        out.setdefault(dag_id, []).append(name)
    return out


def _run_asset_triggered(dag_id: str) -> Any:
    """``dag.test()`` of an asset-triggered run, created by the scheduler's own code."""
    from unittest import mock

    from airflow.models import dagrun

    dag = _load_dag(dag_id)
    # dag.test() makes its run with this helper (a manual run); here it is the scheduler's.
    with mock.patch.object(dagrun, "get_or_create_dagrun", _create_asset_triggered_run):
        return dag.test()


def _create_asset_triggered_run(*, dag: Any, session: Any, **_manual_run: Any) -> Any:
    """The run as the scheduler creates and starts it: ``_create_dag_runs_asset_triggered``
    makes it from the DAG's queued Assets, consuming their events since the DAG's last
    asset-triggered run and deleting its queue rows; then it goes from queued to running."""
    from airflow.models.dag import DagModel
    from airflow.models.dagrun import DagRun
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunType
    from sqlalchemy import func, select

    newest = select(func.max(DagRun.id)).where(DagRun.dag_id == dag.dag_id)
    before = session.scalar(newest) or 0
    dag_model = session.get(DagModel, dag.dag_id)
    _scheduler()._create_dag_runs_asset_triggered(dag_models=[dag_model], session=session)
    session.flush()
    run = session.scalars(
        select(DagRun).where(
            DagRun.dag_id == dag.dag_id,
            DagRun.id > before,
            DagRun.run_type == DagRunType.ASSET_TRIGGERED,
        )
    ).one_or_none()
    if run is None:
        session.rollback()
        raise RuntimeError(f"DAG {dag.dag_id!r} has no queued Asset events to run on")
    run.dag = dag
    run.set_state(DagRunState.RUNNING)
    session.commit()
    return run


@functools.cache
def _scheduler() -> Any:
    """A scheduler job runner, for its step that turns queued Assets into DAG runs; it is
    never started (no executor, no loop, no other runs)."""
    from airflow.executors.local_executor import LocalExecutor
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner

    return SchedulerJobRunner(job=Job(), executors=[LocalExecutor()])


def _triggered_run(dag_run: Any) -> TriggeredRun:
    from airflow.models.asset import AssetModel
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_run.dag_id, DagRun.run_id == dag_run.run_id)
        ).one()
        consumed = sorted(run.consumed_asset_events, key=lambda e: (e.timestamp, e.id))
        names: dict[int, str] = {
            asset_id: name
            for asset_id, name in session.execute(
                select(AssetModel.id, AssetModel.name).where(
                    AssetModel.id.in_({e.asset_id for e in consumed})
                )
            )
        }
        return TriggeredRun(
            dag_id=run.dag_id,
            run_id=run.run_id,
            state=_value(run.state),
            run_type=_value(run.run_type),
            assets=tuple(sorted({names[e.asset_id] for e in consumed})),
            sources=tuple(dict.fromkeys(e.source_dag_id for e in consumed if e.source_dag_id)),
            dag_run=dag_run,
        )


def _value(x: Any) -> str:
    return str(getattr(x, "value", x))


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


def latest_asset_event(name: str) -> dict[str, Any] | None:
    """The ``extra`` of the newest event of the Asset ``name``; None when it has none."""
    configure()
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        extra = session.scalars(
            select(AssetEvent.extra)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.name == name)
            .order_by(AssetEvent.timestamp.desc(), AssetEvent.id.desc())
            .limit(1)
        ).first()
    return None if extra is None else dict(extra)


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
