"""``import-recalls`` and ``match-recalls`` as a person runs them: exit codes, messages,
and match files round-tripped through UTF-8, UTF-8 with BOM, GBK and standard input."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

import pytest
from recall_samples import (  # type: ignore[import-not-found]
    SALT,
    csv_bytes,
    csv_rows,
    listing_rows,
    write_cpsc,
    write_safety_gate,
    write_samr_zip,
)

from risk_models.recalls import cli
from risk_models.recalls.importer import FORMATS, import_recalls
from risk_models.recalls.matcher import DEFAULT_MIN_SCORE, RecallMatcher


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ecqm")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("ECQM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ECQM_PII_SALT", SALT.decode())


def test_constants_match_the_modules_they_stand_for():
    assert cli.FORMATS == FORMATS
    assert cli.DEFAULT_MIN_SCORE == DEFAULT_MIN_SCORE


def test_import_recalls_exit_codes(database_url, warehouse_engine, tmp_path, capsys):
    good = write_cpsc(tmp_path)
    assert run("import-recalls", str(good), "--format", "cpsc-csv", "--url", database_url) == 0
    out = capsys.readouterr().out
    assert "recalls parsed" in out and "staging:" in out and "run import_recalls__cpsc-csv__" in out

    assert run("import-recalls", str(good), "--format", "cpsc-csv", "--url", database_url) == 0
    out = capsys.readouterr().out
    assert "staging: 0 new" in out and "nothing new to take into core" in out

    rows = csv_rows(good.read_bytes())
    rows[2][0] = "abc"
    broken = tmp_path / "broken.csv"
    broken.write_bytes(csv_bytes(rows))
    assert run("import-recalls", str(broken), "--format", "cpsc-csv", "--url", database_url) == 1
    err = capsys.readouterr().err
    assert "broken.csv:row 3" in err and "Recall Number 'abc' is not a number" in err
    assert "1 row(s) quarantined" in err

    alerts = write_safety_gate(tmp_path)
    assert run("import-recalls", str(alerts), "--format", "cpsc-csv", "--url", database_url) == 2
    err = capsys.readouterr().err
    assert "safety_gate_alerts.csv" in err and "Recall Number" in err and "expected" in err

    missing = tmp_path / "nope.csv"
    assert run("import-recalls", str(missing), "--format", "samr", "--url", database_url) == 2
    assert "nope.csv" in capsys.readouterr().err


def test_import_recalls_can_leave_processing_for_later(
    database_url, warehouse_engine, tmp_path, capsys
):
    path = write_samr_zip(tmp_path)
    code = run(
        "import-recalls", str(path), "--format", "samr", "--url", database_url, "--no-process"
    )
    assert code == 0
    assert "core: 0 of this file's recalls" in capsys.readouterr().out


def _write_listings(path: Path, rows: list[dict[str, str]], encoding: str, columns=None) -> Path:
    columns = columns or ["listing_id", "title", "brand", "model", "gtin"]
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for r in rows:
            w.writerow([r.get(c.lower(), "") for c in columns])
    return path


def _gbk_safe(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    out = []
    for r in rows:
        try:
            "".join(r.values()).encode("gbk")
        except UnicodeEncodeError:
            continue
        out.append(r)
    return out


def test_match_recalls_round_trips(database_url, warehouse_engine, tmp_path, capsys, monkeypatch):
    for write, fmt in ((write_cpsc, "cpsc-csv"), (write_safety_gate, "safety-gate"), (write_samr_zip, "samr")):  # fmt: skip
        assert import_recalls(warehouse_engine, write(tmp_path), fmt, salt=SALT).ok
    rows = _gbk_safe(listing_rows())
    with warehouse_engine.connect() as conn:
        matcher = RecallMatcher.from_warehouse(conn)
    # a variant of a recalled model: a match, but not a sure one
    first = next(r for r in rows if matcher.match(r["title"], r["brand"], r["model"]))
    rows.append(
        {**first, "listing_id": "variant-1", "title": "电器", "model": first["model"] + " Pro"}
    )
    expected = [["listing_id", "recall_id", "score", "matched_on"]]
    for r, found in zip(rows, matcher.match_many(rows), strict=True):
        expected += [[r["listing_id"], m.recall_id, f"{m.score:.3f}", m.matched_on] for m in found]
    assert len(expected) > 10

    outputs = {}
    for encoding in ("utf-8", "utf-8-sig", "gbk"):
        src = _write_listings(tmp_path / f"listings-{encoding}.csv", rows, encoding)
        out = tmp_path / f"matches-{encoding}.csv"
        assert run("match-recalls", str(src), "--out", str(out), "--url", database_url) == 0
        assert "listings," in capsys.readouterr().err
        outputs[encoding] = out.read_bytes()
        assert list(csv.reader(io.StringIO(out.read_text(encoding="utf-8")))) == expected
    assert outputs["utf-8"] == outputs["utf-8-sig"] == outputs["gbk"]

    # standard output, and columns in another order with extra ones and other case
    src = _write_listings(
        tmp_path / "shuffled.csv",
        rows,
        "utf-8",
        columns=["Model", "shop", "Title", "LISTING_ID", "brand"],
    )
    capsys.readouterr()
    assert run("match-recalls", str(src), "--url", database_url) == 0
    printed = capsys.readouterr().out
    without_gtin = [expected[0]]
    for r in rows:
        found = matcher.match(r["title"], r["brand"], r["model"])
        without_gtin += [
            [r["listing_id"], m.recall_id, f"{m.score:.3f}", m.matched_on] for m in found
        ]
    assert list(csv.reader(io.StringIO(printed))) == without_gtin

    # standard input
    body = (tmp_path / "listings-gbk.csv").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(body))))
    assert run("match-recalls", "-", "--url", database_url) == 0
    assert capsys.readouterr().out.encode("utf-8") == outputs["utf-8"]

    # a higher floor keeps only the sure matches
    out = tmp_path / "sure.csv"
    src = tmp_path / "listings-utf-8.csv"
    assert (
        run("match-recalls", str(src), "-o", str(out), "--min-score", "0.9", "--url", database_url)
        == 0
    )
    sure = list(csv.DictReader(out.open(encoding="utf-8")))
    assert sure and all(float(r["score"]) >= 0.9 for r in sure)
    assert len(sure) < len(expected) - 1

    # a file with a header and no listings gives a header and no matches
    src = _write_listings(tmp_path / "header-only.csv", [], "utf-8")
    assert run("match-recalls", str(src), "--url", database_url) == 0
    assert capsys.readouterr().out == "listing_id,recall_id,score,matched_on\n"


def test_missing_columns_are_named(tmp_path, capsys):
    src = tmp_path / "listings.csv"
    src.write_text("id,title,Brand\n1,美度电水壶,美度\n", encoding="utf-8")
    db = tmp_path / "never.db"
    assert run("match-recalls", str(src), "--url", f"sqlite:///{db}") == 2
    err = capsys.readouterr().err
    assert "lacks the column(s) listing_id, model" in err
    assert not db.exists()  # refused before touching the warehouse


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        ("listing_id,title\n".encode("utf-16"), "UTF-16"),
        (b"\x81\x30\xff\xfe\x00\x81", "neither UTF-8 nor GBK"),
    ],
)
def test_unusable_listing_files(tmp_path, capsys, content, message):
    src = tmp_path / "listings.csv"
    src.write_bytes(content)
    assert run("match-recalls", str(src), "--url", f"sqlite:///{tmp_path / 'w.db'}") == 2
    assert message in capsys.readouterr().err


def test_missing_listing_file_and_bad_floor(tmp_path, capsys):
    assert run("match-recalls", str(tmp_path / "nope.csv")) == 2
    assert "nope.csv" in capsys.readouterr().err
    src = _write_listings(tmp_path / "l.csv", [], "utf-8")
    assert run("match-recalls", str(src), "--min-score", "2") == 2
    assert "--min-score" in capsys.readouterr().err


def test_no_recalls_in_the_warehouse(database_url, warehouse_engine, tmp_path, capsys):
    src = _write_listings(tmp_path / "l.csv", listing_rows(limit=5), "utf-8")
    out = tmp_path / "m.csv"
    assert run("match-recalls", str(src), "--out", str(out), "--url", database_url) == 1
    assert "holds no recalls" in capsys.readouterr().err
    assert not out.exists()


def test_warehouse_not_migrated(tmp_path, capsys):
    src = _write_listings(tmp_path / "l.csv", listing_rows(limit=5), "utf-8")
    assert run("match-recalls", str(src), "--url", f"sqlite:///{tmp_path / 'empty.db'}") == 1
    assert "ecqm warehouse upgrade" in capsys.readouterr().err
