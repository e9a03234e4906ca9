"""The data dictionary: complete (every table and mart has a Chinese name and meaning)
and the committed docs/data_dictionary.md is exactly what the generator writes."""

from __future__ import annotations

import re
from pathlib import Path

from ecqm.warehouse import dictionary
from ecqm.warehouse.marts import mart_files, parse_mart
from ecqm.warehouse.schema import metadata

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "docs" / "data_dictionary.md"
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_committed_dictionary_is_up_to_date():
    expected = dictionary.render()
    current = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""
    if current != expected:
        old, new = current.splitlines(), expected.splitlines()
        first = next(
            (i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b),
            min(len(old), len(new)),
        )
        shown_old = old[first] if first < len(old) else "(end of file)"
        shown_new = new[first] if first < len(new) else "(end of file)"
        raise AssertionError(
            "docs/data_dictionary.md is out of date with the schema, sql/marts/ or "
            "ecqm/warehouse/data/dictionary.yaml. Regenerate it and commit the result:\n"
            f"    .venv/bin/{dictionary.REGENERATE}\n"
            f"First difference, line {first + 1}:\n  committed: {shown_old}\n  expected:  {shown_new}"
        )


def test_every_table_has_a_chinese_name_and_meaning():
    words = dictionary.load_words()
    missing = [t for t in sorted(metadata.tables) if not all(CJK.search(w) for w in words.table(t))]
    assert not missing, (
        "describe these tables in ecqm/warehouse/data/dictionary.yaml (zh, meaning): "
        + ", ".join(missing)
    )


def test_every_mart_has_a_chinese_name():
    words = dictionary.load_words()
    missing = [m for m in mart_files() if not CJK.search(words.marts.get(m, ""))]
    assert not missing, "name these marts in dictionary.yaml under marts: " + ", ".join(missing)


def test_the_words_name_real_tables_and_columns():
    words = dictionary.load_words()
    unknown = [t for t in words.tables if t not in metadata.tables]
    unknown += [
        f"{t}.{c}"
        for t, entry in words.tables.items()
        if t in metadata.tables
        for c in (entry.get("columns") or {})
        if c not in metadata.tables[t].c
    ]
    assert not unknown, "dictionary.yaml describes what the schema lacks: " + ", ".join(unknown)


def test_every_described_column_has_a_chinese_label():
    words = dictionary.load_words()
    bad = [
        f"{t}.{c}"
        for t, entry in words.tables.items()
        for c, text in (entry.get("columns") or {}).items()
        if not CJK.search(str(text).split("：")[0])
    ]
    bad += [c for c, text in words.common.items() if not CJK.search(str(text))]
    assert not bad, bad


def test_mart_columns_show_where_they_come_from():
    rendered = dictionary.render()
    mart = parse_mart(mart_files()["mart_risk_current"])
    assert dictionary.direct_source(mart, "level") == ("risk_assessments", "level")
    assert dictionary.direct_source(mart, "level_zh") is None
    assert dictionary.direct_source(mart, "min_price_fen") is None  # min() in a CTE
    assert "| `level` | 风险级别代码 | high/elevated/moderate/low | risk_assessments.level |" in (
        rendered
    )
    assert "| `shop_id` | bigint | 是 | → shops.id |" in rendered


def test_the_command_writes_and_checks(tmp_path, capsys):
    out = tmp_path / "dictionary.md"
    assert dictionary.main(["--out", str(out)]) == 0
    assert dictionary.main(["--out", str(out), "--check"]) == 0
    out.write_text(out.read_text(encoding="utf-8") + "edited by hand\n", encoding="utf-8")
    assert dictionary.main(["--out", str(out), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err
