"""Loading the reference files into a migrated warehouse (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Connection, select

from ecqm.warehouse import schema
from transforms.reference.load import DATA_DIR, load_reference, read_reference
from transforms.reference.terms import BannedTermMatcher

TABLES = ("ref_regions", "ref_categories", "ref_banned_terms", "ref_labs")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    for f in DATA_DIR.glob("*.yaml"):
        shutil.copy(f, folder / f.name)
    return folder


def _rows(conn: Connection, table_name: str) -> dict[str, dict]:
    table = getattr(schema, table_name)
    key = table.primary_key.columns.values()[0].name
    return {r[key]: dict(r) for r in conn.execute(select(table)).mappings()}


def test_load_writes_every_table(warehouse_conn: Connection) -> None:
    ref = read_reference()
    counts = load_reference(warehouse_conn)
    assert list(counts) == list(TABLES)
    sizes = {
        "ref_regions": len(ref.regions),
        "ref_categories": len(ref.categories),
        "ref_banned_terms": len(ref.banned_terms),
        "ref_labs": len(ref.labs),
    }
    for table, size in sizes.items():
        assert counts[table] == {"inserted": size, "updated": 0, "unchanged": 0, "deactivated": 0}
        rows = _rows(warehouse_conn, table)
        assert len(rows) == size
        assert all(r["is_active"] is True for r in rows.values())
        assert {r["source_version"] for r in rows.values()} == {ref.sources[table].source_version}
        assert all(r["loaded_at"] is not None for r in rows.values())

    kettle = _rows(warehouse_conn, "ref_categories")["electric_kettle"]
    assert kettle["standards"][0] == {
        "code": "GB 4706.1",
        "title": "家用和类似用途电器的安全 第1部分：通用要求",
    }
    assert kettle["test_items"][1] == {"name": "对触及带电部件的防护", "standard": "GB 4706.1"}
    assert "电热水壶" in kettle["keywords"] and "burn" in kettle["hazards"]
    assert kettle["is_ccc_required"] is True and kettle["max_severity"] == 3
    power_bank = _rows(warehouse_conn, "ref_categories")["power_bank"]
    assert power_bank["ccc_required_from"] == dt.date(2024, 8, 1)
    assert re.fullmatch(r"2025\.1\+[0-9a-f]{12}", power_bank["source_version"])

    yiwu = _rows(warehouse_conn, "ref_regions")["330782"]
    assert (yiwu["level"], yiwu["parent_code"], yiwu["regulator_name"]) == (
        "county",
        "330700",
        "义乌市市场监督管理局",
    )
    lab = _rows(warehouse_conn, "ref_labs")["lab_nj_zhongcen"]
    assert "ebike_battery" in lab["category_codes"]

    # The rules as stored behave exactly like the rules in the file.
    stored = BannedTermMatcher(_rows(warehouse_conn, "ref_banned_terms").values())
    text = "全网最低价 100%纯棉 本品牌最新款 最佳赏味期 驰名商标"
    assert [h.term for h in stored.violations(text)] == ["最低价", "驰名商标"]


def test_loading_twice_changes_nothing(warehouse_conn: Connection) -> None:
    load_reference(warehouse_conn)
    before = {t: _rows(warehouse_conn, t) for t in TABLES}
    counts = load_reference(warehouse_conn)
    for table in TABLES:
        assert (
            counts[table]["inserted"]
            == counts[table]["updated"]
            == counts[table]["deactivated"]
            == 0
        )
        assert counts[table]["unchanged"] == len(before[table])
        assert _rows(warehouse_conn, table) == before[table]


def test_an_entry_removed_from_the_file_is_kept_but_inactive(
    warehouse_conn: Connection, data: Path
) -> None:
    load_reference(warehouse_conn, data)
    old_version = _rows(warehouse_conn, "ref_categories")["towel"]["source_version"]

    path = data / "categories.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - code: towel\n")
    end = text.index("  # ----", start)
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    path = data / "labs.yaml"  # no lab may name a category that is gone
    path.write_text(re.sub(r",\s*towel\b", "", path.read_text(encoding="utf-8")), encoding="utf-8")

    counts = load_reference(warehouse_conn, data)
    categories = _rows(warehouse_conn, "ref_categories")
    assert len(categories) == 41
    assert categories["towel"]["is_active"] is False
    assert categories["towel"]["source_version"] == old_version
    assert all(r["is_active"] for code, r in categories.items() if code != "towel")
    # The file changed, so its other rows carry the new version.
    assert counts["ref_categories"] == {
        "inserted": 0,
        "updated": 40,
        "unchanged": 0,
        "deactivated": 1,
    }
    assert counts["ref_labs"]["updated"] == len(read_reference(data).labs)
    assert counts["ref_regions"]["updated"] == counts["ref_regions"]["deactivated"] == 0
    assert counts["ref_banned_terms"]["updated"] == counts["ref_banned_terms"]["deactivated"] == 0

    # Loading the changed files again changes nothing more.
    again = load_reference(warehouse_conn, data)
    assert all(c["updated"] == c["inserted"] == c["deactivated"] == 0 for c in again.values())

    # Putting the entry back makes it active again.
    counts = load_reference(warehouse_conn)
    assert _rows(warehouse_conn, "ref_categories")["towel"]["is_active"] is True
    assert counts["ref_categories"]["updated"] == 41 and counts["ref_categories"]["inserted"] == 0


def test_a_changed_value_updates_its_row(warehouse_conn: Connection, data: Path) -> None:
    load_reference(warehouse_conn, data)
    path = data / "regions.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("hangzhou.regulator@notify.example", "hz.duty@notify.example"),
        encoding="utf-8",
    )
    counts = load_reference(warehouse_conn, data)
    assert counts["ref_regions"]["inserted"] == 0 and counts["ref_regions"]["deactivated"] == 0
    assert (
        _rows(warehouse_conn, "ref_regions")["330100"]["notify_email"] == "hz.duty@notify.example"
    )
    assert counts["ref_categories"]["unchanged"] == 41


def test_invalid_files_load_nothing(warehouse_conn: Connection, data: Path) -> None:
    from transforms.reference.load import ReferenceDataError

    path = data / "labs.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("monthly_capacity: 60", "monthly_capacity: -5"),
        encoding="utf-8",
    )
    with pytest.raises(
        ReferenceDataError, match="monthly_capacity must be a positive integer, got -5"
    ):
        load_reference(warehouse_conn, data)
    assert _rows(warehouse_conn, "ref_regions") == {}


def test_load_accepts_an_engine(warehouse_engine) -> None:
    counts = load_reference(warehouse_engine)
    assert counts["ref_categories"]["inserted"] == 41
    with warehouse_engine.connect() as conn:
        assert len(_rows(conn, "ref_categories")) == 41
