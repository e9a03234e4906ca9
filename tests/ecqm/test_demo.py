"""``ecqm demo`` end to end, as ``make demo`` runs it: twice, and the warehouse is the same."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest
from sqlalchemy import select

from ecqm.warehouse.engine import make_engine
from ecqm.warehouse.schema import REFERENCE_TABLES, STAGING_TABLES

SNAPSHOT_TABLES = (*REFERENCE_TABLES, *STAGING_TABLES)

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _snapshot(url: str) -> dict[str, list]:
    engine = make_engine(url)
    with engine.connect() as conn:
        snap = {
            t.name: sorted(map(tuple, conn.execute(select(t)).all()), key=repr)
            for t in REFERENCE_TABLES
        }
    engine.dispose()
    return snap


def test_demo_runs_twice_and_changes_nothing_the_second_time(database_url, tmp_path):
    env = {
        **os.environ,
        "ECQM_HOME": str(tmp_path / "home"),
        "ECQM_WAREHOUSE_URL": database_url,
        "AIRFLOW_HOME": str(tmp_path / "home" / "airflow"),
    }
    outputs, snapshots = [], []
    port = _free_port()
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-m", "ecqm", "demo", "--products", "150", "--port", str(port)],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        outputs.append(proc.stdout)
        snapshots.append(_snapshot(database_url))
    first, second = outputs
    assert "DAG prepare_warehouse: success" in first
    assert "ref_categories     inserted   41" in first
    assert "ref_categories     inserted    0, updated    0, unchanged   41" in second
    assert "all match the planted truth" in second
    for site in ("youpin", "lehuo", "pinjia", "tousu", "recall"):
        assert f"{site} " in first.split("pages fetched over HTTP")[1].splitlines()[0]
    assert "products with a defective batch" in first
    assert snapshots[0] == snapshots[1]
    crawled = [line for line in first.splitlines() if line.strip().startswith("crawl_")]
    assert len(crawled) >= 5 and all(" success " in line for line in crawled)
    again = [line for line in second.splitlines() if line.strip().startswith("crawl_")]
    assert again and all("nothing new" in line for line in again), again
    shares = [float(m) for m in re.findall(r"\(([\d.]+)%\)", first)]
    assert len(shares) >= 10 and min(shares) >= 99.0, first
    assert (tmp_path / "home" / "airflow" / "airflow.db").exists()
