"""``ecqm credit`` and the task function the evaluate_results DAG calls."""

from __future__ import annotations

import datetime as dt
import inspect
import json

import pytest
from credit_world import dump, evaluation, notice

from ecqm.cli import main
from transforms.credit import tasks


def test_the_task_signature_is_what_the_dag_calls():
    sig = inspect.signature(tasks.update_credit)
    assert list(sig.parameters) == ["url", "as_of"]
    assert sig.parameters["url"].annotation in ("str", str)
    assert sig.parameters["as_of"].annotation in ("dt.date", dt.date)


def test_the_task_returns_a_json_report_and_changes_nothing_the_second_time(world, database_url):
    with world.begin() as conn:
        evaluation(conn, "s1", "R1", "2024-01-10")
        evaluation(conn, "s1", "R2", "2024-12-10")
    first = tasks.update_credit(database_url, dt.date(2025, 3, 1))
    json.dumps(first)  # XCom- and asset-extra-ready
    assert first["as_of"] == "2025-03-01" and first["inserted"] == 1
    before = dump(world)
    second = tasks.update_credit(database_url, dt.date(2025, 3, 1))
    assert dump(world) == before
    assert second["unchanged"] == 1 and second["inserted"] == second["updated"] == 0


def test_ecqm_credit_prints_the_counts_per_list_and_rule(world, database_url, capsys):
    with world.begin() as conn:
        evaluation(conn, "s1", "R1", "2024-01-10")
        evaluation(conn, "s1", "R2", "2024-12-10")
        evaluation(conn, "s9", "S1", "2025-02-20", is_safety=True)
        notice(conn, "S1", sent="2025-02-21 10:00")
    assert main(["credit", "--url", database_url, "--as-of", "2025-03-01"]) == 0
    out = capsys.readouterr().out
    assert "as of 2025-03-01" in out
    lines = {line.split()[2]: line for line in out.splitlines() if line.startswith("  ")}
    assert set(lines) == {"repeat_failure", "unremedied_safety", "clean_record"}
    assert "黑名单" in lines["repeat_failure"] and "active    1" in lines["repeat_failure"]
    assert "active    0" in lines["unremedied_safety"]
    assert "红名单" in lines["clean_record"]
    assert "1 safety failures inside their remedy period" in out


def test_a_bad_date_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["credit", "--as-of", "2025-02-30"])
    assert info.value.code == 2
    assert "not a date like" in capsys.readouterr().err


def test_credit_is_in_the_help(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "credit" in capsys.readouterr().out
