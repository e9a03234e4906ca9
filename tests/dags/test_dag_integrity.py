"""Every DAG file parses cleanly and cheaply, in the manner of Airflow's own example-DAG tests.

Parsing runs in a fresh interpreter so that what a parse imports, connects to and costs
is measured from cold, as the DAG processor would see it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAG_FILES = sorted(p for p in (ROOT / "dags").glob("*.py") if not p.name.startswith("_"))
# Generous: a DAG file is wiring; anything near this is doing work at parse time.
MAX_PARSE_SECONDS = 2.0


@pytest.fixture(scope="module")
def parse_report(airflow_db, tmp_path_factory) -> dict:
    trap = tmp_path_factory.mktemp("parse") / "must-not-exist.db"
    env = {
        **os.environ,
        "ECQM_WAREHOUSE_URL": f"sqlite:///{trap}",
        "AIRFLOW_CONN_ECQM_WAREHOUSE": "postgresql://nobody@10.255.255.1:5432/none",
    }
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("parse_probe.py")), *map(str, DAG_FILES)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not trap.exists(), "parsing the DAG files opened the warehouse"
    return report


def test_there_are_dag_files():
    assert DAG_FILES, "no DAG files found in dags/"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_parses_cleanly(path, parse_report, record_property):
    result = parse_report[path.name]
    record_property("parse_seconds", result["seconds"])
    print(f"{path.name}: parsed in {result['seconds'] * 1000:.0f} ms, DAGs {result['dag_ids']}")
    assert result["import_errors"] == {}
    assert result["dag_ids"], f"{path.name} defines no DAG"
    assert result["network"] == [], "parsing opened network connections"
    assert result["connection_lookups"] == [], "parsing looked up Airflow connections"
    assert result["heavy_modules"] == [], "heavy imports at parse time belong inside tasks"
    assert result["seconds"] < MAX_PARSE_SECONDS


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_follows_house_style(path):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(path))
    for dag in bag.dags.values():
        assert dag.doc_md and len(dag.doc_md.strip()) > 80, f"{dag.dag_id} needs a module docstring"
        assert "ecqm" in dag.tags
        assert dag.catchup is False
        assert dag.start_date.tzinfo is not None


def test_the_probe_catches_a_badly_behaved_dag_file(airflow_db, tmp_path):
    bad = tmp_path / "bad_dag.py"
    bad.write_text(
        '"""A DAG file that does work at parse time."""\n'
        "import socket\n"
        "import pandas\n"
        "import pendulum\n"
        "from airflow.sdk import dag, task, Connection\n"
        "Connection.get('ecqm_warehouse')\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', 5432), timeout=1)\n"
        "except OSError:\n"
        "    pass\n"
        "@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz='UTC'))\n"
        "def bad():\n"
        "    @task\n"
        "    def t():\n"
        "        pass\n"
        "    t()\n"
        "bad()\n"
    )
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("parse_probe.py")), str(bad)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])["bad_dag.py"]
    assert result["dag_ids"] == ["bad"]
    assert "pandas" in result["heavy_modules"]
    assert result["connection_lookups"] == ["ecqm_warehouse"]
    assert result["network"] and "5432" in result["network"][0]
