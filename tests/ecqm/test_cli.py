"""The ``ecqm`` command as a person runs it: a real subprocess, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def ecqm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ecqm", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_help_lists_the_stable_commands():
    out = ecqm("--help")
    assert out.returncode == 0
    for name in ("demo", "simulator", "warehouse", "settings"):
        assert name in out.stdout


def test_warehouse_upgrade_current_downgrade(database_url):
    from ecqm.warehouse.migrate import head_revision

    head = head_revision()
    first = ecqm("warehouse", "upgrade", "--url", database_url)
    assert first.returncode == 0, first.stderr
    assert f"warehouse upgraded {head}" in first.stdout
    second = ecqm("warehouse", "upgrade", "--url", database_url)
    assert f"warehouse already at {head}" in second.stdout
    current = ecqm("warehouse", "current", "--url", database_url)
    assert current.returncode == 0 and f"current {head}" in current.stdout
    down = ecqm("warehouse", "downgrade", "base", "--url", database_url)
    assert down.returncode == 0 and "to base" in down.stdout
    behind = ecqm("warehouse", "current", "--url", database_url)
    assert behind.returncode == 1 and "run: ecqm warehouse upgrade" in behind.stdout


def test_load_reference_twice(database_url):
    assert ecqm("warehouse", "upgrade", "--url", database_url).returncode == 0
    first = ecqm("warehouse", "load-reference", "--url", database_url)
    assert first.returncode == 0, first.stderr
    assert "ref_categories: inserted 41" in first.stdout
    second = ecqm("warehouse", "load-reference", "--url", database_url)
    assert "ref_categories: inserted 0, updated 0, unchanged 41" in second.stdout


def test_settings_hide_the_password(tmp_path):
    out = ecqm(
        "settings",
        env={"ECQM_WAREHOUSE_URL": "postgresql://etl:s3cret@db/wh", "ECQM_HOME": str(tmp_path)},
    )
    shown = json.loads(out.stdout)
    assert "s3cret" not in out.stdout and shown["ECQM_WAREHOUSE_URL"].startswith(
        "postgresql+psycopg://etl:***@"
    )


def test_upgrade_against_an_unreachable_database_fails_clearly():
    out = ecqm("warehouse", "upgrade", "--url", "postgresql://nobody:s3cret@127.0.0.1:1/none")
    assert out.returncode == 1
    assert "cannot use the database postgresql+psycopg://nobody:***@127.0.0.1:1/none" in out.stderr
    assert "Traceback" not in out.stderr and "s3cret" not in out.stderr


@pytest.mark.parametrize("args", [["warehouse"], ["simulator"], ["nonsense"]])
def test_usage_errors_exit_2(args):
    assert ecqm(*args).returncode == 2
