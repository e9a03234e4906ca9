"""The inbox as staff use it: scans, second drops, rejected files dropped again, the
command line; on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import os
import time

from intake_world import (  # type: ignore[import-not-found]
    NOW,
    PURCHASE_HEADER_EN,
    PURCHASE_HEADER_ZH,
    RESULT_HEADER_ZH,
    purchase,
    result,
    snapshot,
    statuses,
    write_csv,
    write_xlsx,
)
from sqlalchemy import func, select

from ecqm.warehouse.schema import inbox_files
from transforms.intake import import_file, scan_inbox
from transforms.intake import purchases as purchase_rules
from transforms.intake.cli import register_import
from transforms.intake.tasks import summarise


def _age(path, seconds: float) -> None:
    """Make ``path`` look as if it was last written ``seconds`` ago."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_the_same_file_dropped_twice_changes_nothing(world, home):
    inbox = home / "inbox" / "purchases"
    path = write_xlsx(
        inbox / "采购记录.xlsx", PURCHASE_HEADER_ZH, [purchase(), purchase("T-DRYER", "O-2")]
    )
    data = path.read_bytes()
    first = import_file(world, "purchases", path, home=home, now=NOW)
    assert first.status == "accepted" and first.inserted == 2
    before = snapshot(world)
    archived = home / "inbox" / "archive" / "purchases" / f"{first.sha256}.xlsx"
    archived.unlink()  # the archive lost its copy meanwhile

    # Dropped again a day later under another name: recognised by its content.
    (inbox / "采购记录(1).xlsx").write_bytes(data)
    [again] = scan_inbox(world, home=home, now=NOW.replace(day=23))
    assert again.status == "duplicate" and again.sha256 == first.sha256
    assert (again.inserted, again.updated, again.tasks_advanced, again.problems) == (0, 0, 0, [])
    assert snapshot(world) == before
    assert archived.read_bytes() == data  # archived again
    assert list(inbox.iterdir()) == []
    assert summarise([again])["tables"]["purchases"]["written"] == 0


def test_a_scan_takes_good_and_bad_files_and_leaves_temporary_ones(world, home):
    purchases_in = home / "inbox" / "purchases"
    results_in = home / "inbox" / "results"
    # The results file is the oldest, but needs its purchase: purchases go first.
    results_file = write_csv(results_in / "结果.csv", RESULT_HEADER_ZH, [result()], encoding="gbk")
    good = write_csv(purchases_in / "good.csv", PURCHASE_HEADER_ZH, [purchase()], encoding="gbk")
    bad = write_xlsx(
        purchases_in / "bad.xlsx",
        PURCHASE_HEADER_EN,
        [purchase("T-DRYER", "O-9", paid="¥2,500.00")],
    )
    for age, path in ((300, results_file), (200, good), (100, bad)):
        _age(path, age)
    ignored = [
        purchases_in / "~$bad.xlsx",
        purchases_in / ".good.csv.swp",
        purchases_in / "big.csv.part",
        purchases_in / "old.csv.errors.csv",
        results_in / ".DS_Store",
    ]
    for path in ignored:
        path.write_bytes(b"\x00 not a record file")
    (purchases_in / "subfolder").mkdir()

    reports = scan_inbox(world, home=home, now=NOW)

    assert [(r.file_name, r.status) for r in reports] == [
        ("good.csv", "accepted"),
        ("bad.xlsx", "rejected"),
        ("结果.csv", "accepted"),
    ]
    assert [(p.row, p.field, p.code) for p in reports[1].errors] == [(2, "paid", "over_price_cap")]
    assert statuses(world)["T-KETTLE"] == "tested" and statuses(world)["T-DRYER"] == "planned"
    assert all(p.exists() for p in ignored)
    assert sorted(p.name for p in purchases_in.iterdir()) == sorted(
        [p.name for p in ignored if p.parent == purchases_in] + ["subfolder"]
    )
    rejected = home / "inbox" / "rejected" / "purchases"
    assert sorted(p.name for p in rejected.iterdir()) == ["bad.xlsx", "bad.xlsx.errors.csv"]
    assert not results_file.exists()

    summary = summarise(reports)
    assert (summary["accepted"], summary["rejected"], summary["failed"]) == (2, 1, 0)
    assert summary["tables"]["purchases"]["written"] == 1
    assert summary["tables"]["purchases"]["task_ids"] == ["T-KETTLE"]
    assert summary["tables"]["inspection_results"]["inserted"] == 1
    assert summary["tables"]["inspection_results"]["files"] == ["结果.csv"]

    # A rejected file of the same name keeps its place; the next one gets a suffix.
    again = write_xlsx(
        purchases_in / "bad.xlsx",
        PURCHASE_HEADER_EN,
        [purchase("T-DRYER", "O-9", paid="¥2,600.00")],
    )
    [report] = scan_inbox(world, home=home, now=NOW)
    assert report.status == "rejected" and report.rejected_as == str(rejected / "bad-2.xlsx")
    assert (rejected / "bad-2.xlsx.errors.csv").exists() and not again.exists()


def test_a_rejected_file_dropped_again_is_judged_again(world, home):
    results_in = home / "inbox" / "results"
    path = write_csv(results_in / "r.csv", RESULT_HEADER_ZH, [result()])
    data = path.read_bytes()
    first = import_file(world, "results", path, home=home, now=NOW)
    assert [p.code for p in first.errors] == ["no_purchase"]

    purchases_file = write_csv(home / "p.csv", PURCHASE_HEADER_ZH, [purchase()])
    assert import_file(world, "purchases", purchases_file, home=home, now=NOW).status == "accepted"
    (results_in / "r.csv").write_bytes(data)
    [second] = scan_inbox(world, home=home, now=NOW)
    assert second.status == "accepted" and second.sha256 == first.sha256
    with world.connect() as conn:
        rows = conn.execute(
            select(inbox_files.c.status, inbox_files.c.problems).where(
                inbox_files.c.kind == "results"
            )
        ).all()
    assert [tuple(r) for r in rows] == [("accepted", [])]


def test_files_still_being_copied_wait_for_the_next_scan(world, home):
    inbox = home / "inbox" / "purchases"
    settled = write_csv(inbox / "a.csv", PURCHASE_HEADER_ZH, [purchase()])
    _age(settled, 3600)
    copying = write_csv(inbox / "b.csv", PURCHASE_HEADER_ZH, [purchase("T-DRYER", "O-2")])
    reports = scan_inbox(world, home=home, now=NOW, settle_seconds=600)
    assert [r.file_name for r in reports] == ["a.csv"]
    assert copying.exists()


def test_an_unexpected_failure_leaves_the_file_and_the_scan_goes_on(world, home, monkeypatch):
    inbox = home / "inbox" / "purchases"
    doomed = write_csv(
        inbox / "a.csv",
        PURCHASE_HEADER_ZH,
        [purchase("T-SPARE", "O-1", received_at="", sample_seal="", backup_seal="")],
    )
    fine = write_csv(inbox / "b.csv", PURCHASE_HEADER_ZH, [purchase()])
    _age(doomed, 200)
    _age(fine, 100)
    real = purchase_rules.validate

    def flaky(conn, sheet, *, now):
        if sheet.rows[0][1]["task_id"] == "T-SPARE":
            raise ConnectionResetError("server closed the connection unexpectedly")
        return real(conn, sheet, now=now)

    monkeypatch.setattr(purchase_rules, "validate", flaky)
    reports = scan_inbox(world, home=home, now=NOW)
    assert [(r.file_name, r.status) for r in reports] == [
        ("a.csv", "failed"),
        ("b.csv", "accepted"),
    ]
    assert "server closed" in reports[0].problems[0].reason
    assert doomed.exists() and not fine.exists()
    with world.connect() as conn:
        assert conn.execute(select(func.count()).select_from(inbox_files)).scalar_one() == 1
    assert summarise(reports)["failed"] == 1


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ecqm")
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import")
    register_import(imp.add_subparsers(dest="import_command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_the_command_line(world, home, database_url, monkeypatch, capsys):
    monkeypatch.setenv("ECQM_HOME", str(home))
    outside = home.parent / "from-email"
    bad = write_csv(
        outside / "采购.csv", PURCHASE_HEADER_ZH, [purchase(paid="￥301.00")], encoding="gbk"
    )
    assert _cli(["import", "purchases", str(bad), "--url", database_url]) == 2
    err = capsys.readouterr().err
    assert "rejected" in err and "row 2, column 实付金额(元)" in err
    report = outside / "采购.csv.errors.csv"
    assert str(report) in err and report.exists() and bad.exists()

    write_csv(bad, PURCHASE_HEADER_ZH, [purchase(paid="￥300.00")], encoding="gbk")
    assert _cli(["import", "purchases", str(bad), "--url", database_url]) == 0
    out = capsys.readouterr().out
    assert "accepted, 1 rows (1 new" in out and "archived as" in out
    assert bad.exists() and not report.exists()
    assert _cli(["import", "purchases", str(bad), "--url", database_url]) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert _cli(["import", "results", str(outside / "missing.csv"), "--url", database_url]) == 2
    assert "cannot read" in capsys.readouterr().err
