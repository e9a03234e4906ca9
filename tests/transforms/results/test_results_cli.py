"""``ecqm evaluate`` on a warehouse with results (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from results_world import result, send  # type: ignore[import-not-found]

from ecqm.cli import main


@pytest.fixture
def routes_home(home, monkeypatch):
    """No SMTP from whoever runs the tests, and this test's ECQM_HOME."""
    monkeypatch.delenv("ECQM_SMTP_HOST", raising=False)
    monkeypatch.setenv("ECQM_HOME", str(home))
    return home


def test_evaluate_prints_what_it_did_and_a_second_run_nothing(
    world, routes_home, database_url, capsys
):
    send(
        world, routes_home, "results", [result(item="发热", verdict="不合格", defect_class="严重")]
    )
    argv = ["evaluate", "--url", database_url, "--now", "2026-11-22T12:00+08:00"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "1 reports: 1 evaluated" in out and "verdicts fail 1; 1 safety defects" in out
    assert "notices: 5 queued" in out and "file 5" in out
    assert main(argv) == 0
    assert "0 evaluated, 0 re-evaluated, 0 relinked, 1 unchanged" in capsys.readouterr().out


def test_evaluate_exits_1_naming_each_report_it_could_not_evaluate(
    world, routes_home, database_url, capsys
):
    import datetime as dt

    from ecqm.warehouse.schema import inspection_results

    with world.begin() as conn:
        conn.execute(
            inspection_results.insert().values(
                task_id="T-GHOST",
                test_item="发热",
                verdict="pass",
                lab_code="lab_hz_qiancheng",
                report_number="GH-1",
                tested_on=dt.date(2026, 11, 21),
            )
        )
    assert main(["evaluate", "--url", database_url, "--now", "2026-11-22T12:00+08:00"]) == 1
    err = capsys.readouterr().err
    assert "report GH-1 (task T-GHOST) not evaluated: unknown_task" in err


def test_now_must_carry_a_zone(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--now", "2026-11-22T12:00"])
    assert "needs a time zone" in capsys.readouterr().err
