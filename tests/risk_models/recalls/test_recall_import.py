"""import_recalls on SQLite and PostgreSQL: every format, twice (nothing changes the second
time), malformed rows to quarantine with their reason, and files of the wrong format."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest
from recall_samples import (  # type: ignore[import-not-found]
    SALT,
    csv_bytes,
    csv_rows,
    samr_pages,
    snapshot,
    world_recall_count,
    write_cpsc,
    write_safety_gate,
    write_samr_folder,
    write_samr_zip,
)
from sqlalchemy import func, select

from ecqm.warehouse.schema import quarantine, recalls, stg_recalls
from risk_models.recalls.importer import RecallFormatError, import_recalls


def _import(engine, path, fmt, tmp_path: Path, **kwargs):
    return import_recalls(engine, path, fmt, home=tmp_path / "home", salt=SALT, **kwargs)


def _count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


@pytest.mark.parametrize(
    ("fmt", "write", "source", "sim_source"),
    [
        ("cpsc-csv", write_cpsc, "cpsc", "cpsc"),
        ("safety-gate", write_safety_gate, "safety_gate", "eu_safety_gate"),
        ("samr", write_samr_zip, "samr", "samr"),
        ("samr", write_samr_folder, "samr", "samr"),
    ],
    ids=["cpsc-csv", "safety-gate", "samr-zip", "samr-folder"],
)
def test_import_twice_is_idempotent(warehouse_engine, tmp_path, fmt, write, source, sim_source):
    path = write(tmp_path)
    expected = world_recall_count(sim_source)
    first = _import(warehouse_engine, path, fmt, tmp_path)
    assert first.ok, first.problems
    assert first.records_read == first.parsed == first.staged_new == expected
    assert first.processed and first.process is not None
    assert first.process["to_core"] == expected and first.process["balanced"]
    assert first.recalls_in_core == expected
    assert _count(warehouse_engine, recalls, recalls.c.source == source) == expected
    before = snapshot(warehouse_engine)

    second = _import(warehouse_engine, path, fmt, tmp_path)
    assert second.ok and second.run_id == first.run_id
    assert second.staged_new == 0 and second.staged_unchanged == expected
    assert not second.processed
    assert second.recalls_in_core == expected
    assert snapshot(warehouse_engine) == before
    # the file is kept as evidence, by its hash
    assert list((tmp_path / "home" / "evidence").rglob("*.gz"))


def test_rows_of_an_import_go_through_core_cleaning(warehouse_engine, tmp_path):
    path = write_samr_zip(tmp_path)
    _import(warehouse_engine, path, "samr", tmp_path)
    with warehouse_engine.connect() as conn:
        rows = conn.execute(select(recalls)).mappings().all()
    assert rows
    for r in rows:
        assert r["url"].startswith("https://")
        assert r["attributes"]["formats"] == ["page"]
        assert r["brands"] and r["models"] and r["published_on"] is not None
    # the notices' telephone numbers went through the personal-data scrubbing
    contacts = [(r["attributes"].get("extra") or {}).get("contact") or "" for r in rows]
    assert any("[电话]" in c for c in contacts)


def test_cpsc_rows_get_their_address_in_the_cpsc_service(warehouse_engine, tmp_path):
    _import(warehouse_engine, write_cpsc(tmp_path), "cpsc-csv", tmp_path)
    with warehouse_engine.connect() as conn:
        number, url = conn.execute(select(recalls.c.recall_number, recalls.c.url)).first()
    assert url == (
        f"https://www.saferproducts.gov/RestWebServices/Recall?RecallNumber={number}&format=json"
    )


def _broken_cpsc(tmp_path: Path) -> tuple[Path, int]:
    rows = csv_rows(write_cpsc(tmp_path).read_bytes())
    header, good = rows[0], rows[1:]
    bad_number = list(good[0])
    bad_number[0] = "R-12?"
    bad_number[6] = "Call 13812345678 for a refund."  # a phone number in the raw row
    too_long = list(good[1]) + ["stray", "cells"]
    future = list(good[2])
    future[0] = "99100"
    future[2] = "December 1, 2030"  # published after it was fetched: refused by processing
    odd_date = list(good[3])
    odd_date[0] = "99101"
    odd_date[2] = "sometime in 2024"
    broken = [header, good[0], bad_number, good[1], too_long, *good[2:], future, odd_date]
    path = tmp_path / "broken.csv"
    path.write_bytes(csv_bytes(broken))
    return path, len(good)


def test_malformed_rows_are_quarantined_with_their_reason(warehouse_engine, tmp_path):
    path, n_good = _broken_cpsc(tmp_path)
    report = _import(warehouse_engine, path, "cpsc-csv", tmp_path)
    assert not report.ok
    assert report.records_read == n_good + 4
    by_row = {p.row: p for p in report.problems}
    assert set(by_row) == {3, 5, n_good + 4}
    assert by_row[3].rule == "import:cpsc-csv"
    assert "Recall Number 'R-12?' is not a number" in by_row[3].reason
    assert by_row[3].where == "broken.csv:row 3"
    assert by_row[5].rule == "import:columns"
    assert "24 cells" in by_row[5].reason
    assert "published_on" in by_row[n_good + 4].rule or "published" in by_row[n_good + 4].reason
    assert any("sometime in 2024" in w for w in report.warnings)
    assert report.recalls_in_core == n_good + 1  # the good rows and the one without a date

    with warehouse_engine.connect() as conn:
        q = (
            conn.execute(select(quarantine).where(quarantine.c.run_id == report.run_id))
            .mappings()
            .all()
        )
    keys = {r["record_key"]: r for r in q}
    # two rows the import could not read, one row processing refused (by staging id)
    assert {k for k in keys if k.startswith("broken.csv:")} == {
        "broken.csv:row 3",
        "broken.csv:row 5",
    }
    assert len([k for k in keys if k.startswith("stg_recalls:")]) == 1
    assert all(r["table_name"] == "recalls" for r in q)
    assert "R-12?" in keys["broken.csv:row 3"]["value"]
    assert "13812345678" not in keys["broken.csv:row 3"]["value"]  # scrubbed
    assert keys["broken.csv:row 3"]["payload"]["row"] == 3
    assert _count(warehouse_engine, quarantine, quarantine.c.table_name == "recalls") == 3

    before = snapshot(warehouse_engine)
    again = _import(warehouse_engine, path, "cpsc-csv", tmp_path)
    assert [(p.row, p.rule) for p in again.problems] == [(p.row, p.rule) for p in report.problems]
    assert snapshot(warehouse_engine) == before


def test_bad_safety_gate_row_and_bad_notice_page(warehouse_engine, tmp_path):
    rows = csv_rows(write_safety_gate(tmp_path).read_bytes())
    rows[1][0] = "not an alert"
    path = tmp_path / "alerts.csv"
    path.write_bytes(csv_bytes(rows, bom=False))
    report = _import(warehouse_engine, path, "safety-gate", tmp_path)
    assert [(p.row, p.rule) for p in report.problems] == [(2, "import:safety-gate")]
    assert "malformed" in report.problems[0].reason

    folder = write_samr_folder(tmp_path / "pages")
    (folder / "index.html").write_text("<html><body>列表</body></html>", encoding="utf-8")
    report = _import(warehouse_engine, folder, "samr", tmp_path)
    assert [p.where for p in report.problems] == ["notices/index.html"]
    assert "not a SAMR recall notice" in report.problems[0].reason
    assert report.parsed == len(samr_pages())


def _staged(engine) -> int:
    return _count(engine, stg_recalls)


WRONG_FORMATS = [
    ("cpsc-csv", "safety-gate", "lacks the column(s) Recall Number"),
    ("cpsc-csv", "gbk", "GBK"),
    ("cpsc-csv", "utf16", "UTF-16"),
    ("cpsc-csv", "json", "JSON"),
    ("cpsc-csv", "html", "HTML"),
    ("cpsc-csv", "zip", "ZIP"),
    ("cpsc-csv", "empty", "empty"),
    ("cpsc-csv", "folder", "folder"),
    ("safety-gate", "cpsc", "this looks like the cpsc-csv format"),
    ("samr", "cpsc", "neither a .html page"),
    ("samr", "html", "no recall notice"),
    ("samr", "emptydir", "no .html pages"),
]


def test_wrong_format_is_refused_and_imports_nothing(warehouse_engine, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    files = {
        "safety-gate": lambda: write_safety_gate(src),
        "cpsc": lambda: write_cpsc(src),
        "gbk": lambda: _write(src / "g.csv", "Recall Number,Date,名称\n1,2,美的\n".encode("gbk")),
        "utf16": lambda: _write(src / "u.csv", "Recall Number,Date\n".encode("utf-16")),
        "json": lambda: _write(src / "r.csv", b'[{"RecallNumber": "1"}]'),
        "html": lambda: _write(src / "p.html", "<html><body>首页</body></html>".encode()),
        "zip": lambda: _zip(src / "x.csv"),
        "empty": lambda: _write(src / "e.csv", b""),
        "emptydir": lambda: _mkdir(src / "none"),
        "folder": lambda: src,
    }
    for fmt, content, message in WRONG_FORMATS:
        path = files[content]()
        with pytest.raises(RecallFormatError) as info:
            _import(warehouse_engine, path, fmt, tmp_path)
        text = str(info.value)
        assert message in text, (fmt, content, text)
        assert path.name in text and "expected" in text, (fmt, content, text)
    assert _staged(warehouse_engine) == 0
    assert _count(warehouse_engine, quarantine) == 0


def _write(path: Path, body: bytes) -> Path:
    path.write_bytes(body)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.csv", "Recall Number\n1\n")
    return path


def test_semicolon_csv_and_gzipped_pages(warehouse_engine, tmp_path):
    rows = csv_rows(write_safety_gate(tmp_path).read_bytes())
    path = tmp_path / "semicolons.csv"
    path.write_text("\n".join(";".join(f'"{c}"' for c in r) for r in rows) + "\n", encoding="utf-8")
    report = _import(warehouse_engine, path, "safety-gate", tmp_path)
    assert report.ok and report.parsed == len(rows) - 1

    folder = tmp_path / "gz"
    folder.mkdir()
    number, body = next(iter(samr_pages().items()))
    (folder / f"{number}.html.gz").write_bytes(gzip.compress(body))
    report = _import(warehouse_engine, folder, "samr", tmp_path)
    assert report.ok and report.parsed == 1


def test_missing_file_and_unknown_format(warehouse_engine, tmp_path):
    with pytest.raises(FileNotFoundError):
        _import(warehouse_engine, tmp_path / "nope.csv", "cpsc-csv", tmp_path)
    with pytest.raises(ValueError, match="unknown recall format"):
        _import(warehouse_engine, tmp_path, "cpsc-json", tmp_path)


def test_a_page_names_its_own_address(warehouse_engine, tmp_path):
    number, body = next(iter(samr_pages().items()))
    saved = b"<!-- saved from url=(0042)https://www.dpac.org.cn/xfpzh/t1_1.html -->\n" + body
    page = tmp_path / f"{number}.html"
    page.write_bytes(saved)
    report = _import(warehouse_engine, page, "samr", tmp_path)
    assert report.ok
    with warehouse_engine.connect() as conn:
        url = conn.execute(select(recalls.c.url)).scalar_one()
    assert url == "https://www.dpac.org.cn/xfpzh/t1_1.html"
