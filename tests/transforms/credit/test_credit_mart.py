"""mart_merchant_credit on both databases: its columns, its labels, and no personal
data (the name of an individual's shop is withheld)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from credit_world import NOW, d, evaluation, shop
from sqlalchemy import text

from transforms.credit.update import update_credit

MART = Path(__file__).resolve().parents[3] / "sql" / "marts" / "mart_merchant_credit.sql"
COLUMNS = [
    "platform",
    "shop_external_id",
    "shop_id",
    "shop_name",
    "is_individual_shop",
    "list_kind",
    "list_zh",
    "rule_code",
    "rule_zh",
    "reason",
    "listed_on",
    "expires_on",
    "status",
    "status_zh",
    "is_in_force",
    "evidence_count",
    "rules_version",
    "computed_at",
]
MASKED = "个人网店（名称不公开）"
SHOPS = ("company", "firm", "person", "getihu", "unknown")


@pytest.fixture
def mart(world):
    with world.begin() as conn:
        shop(conn, "company", "暖心电器旗舰店", attributes={"credit_code": "91330106MA2B3C4D5E"})
        shop(conn, "firm", "鹏城数码专营店", company_name="深圳鹏城数码科技有限公司")
        shop(conn, "person", "王小美的小店", attributes={"is_individual": True})
        shop(conn, "getihu", "李姐百货", attributes={"credit_code": " 92330106ma2b3c4d5x"})
        shop(conn, "unknown", "张三日用百货")  # no licence seen: maybe a person's
        for name in SHOPS:
            evaluation(conn, name, f"{name}-1", "2024-01-10")
            evaluation(conn, name, f"{name}-2", "2024-03-10")
        for i in range(5):
            evaluation(conn, "clean", f"clean-{i}", f"2024-0{i + 1}-20", "pass")
        evaluation(conn, "gone", "gone-1", "2022-01-10")
        evaluation(conn, "gone", "gone-2", "2022-02-10")
    update_credit(world, d("2024-12-01"), NOW)
    with world.connect() as conn:
        result = conn.execute(text("select * from mart_merchant_credit"))
        return list(result.keys()), [dict(r) for r in result.mappings()]


def by_shop(rows):
    return {r["shop_external_id"]: r for r in rows}


def test_the_mart_has_its_columns(mart):
    columns, rows = mart
    assert columns == COLUMNS
    assert len(rows) == 7


def test_every_column_has_a_chinese_comment():
    body = MART.read_text(encoding="utf-8")
    final = body[body.index("final as (") :]
    for column in COLUMNS:
        line = next(
            (ln for ln in final.splitlines() if re.search(rf"\b{column}\b,?\s+--", ln)), None
        )
        assert line is not None, column
        assert re.search(r"--\s*\S*[\u4e00-\u9fff]", line), column


def test_labels_counts_and_status(mart):
    _, rows = mart
    rows = by_shop(rows)
    company = rows["company"]
    assert company["list_kind"] == "black" and company["list_zh"] == "黑名单"
    assert company["rule_zh"] == "多次抽检不合格"
    assert company["status_zh"] == "在列" and bool(company["is_in_force"]) is True
    assert company["evidence_count"] == 2
    assert str(company["listed_on"]).startswith("2024-03-10")
    clean = rows["clean"]
    assert (clean["list_zh"], clean["rule_zh"], clean["evidence_count"]) == (
        "红名单",
        "抽检记录良好",
        5,
    )
    gone = rows["gone"]
    assert gone["status"] == "expired" and gone["status_zh"] == "期满移出"
    assert bool(gone["is_in_force"]) is False


def test_the_name_of_an_individuals_shop_is_withheld(mart):
    _, rows = mart
    rows = by_shop(rows)
    # The same rule as the notices (transforms.results.facts.is_individual).
    assert rows["company"]["shop_name"] == "暖心电器旗舰店"  # a company's credit code (91…)
    assert rows["firm"]["shop_name"] == "鹏城数码专营店"  # a licence naming a company
    for name in ("company", "firm"):
        assert not rows[name]["is_individual_shop"]
    # Marked, a 个体工商户 credit code (92…), or nothing known about the licence.
    for name in ("person", "getihu", "unknown"):
        assert rows[name]["shop_name"] == MASKED
        assert bool(rows[name]["is_individual_shop"]) is True
    flat = repr(rows)
    assert "王小美" not in flat and "李姐" not in flat and "张三" not in flat


def test_no_personal_data_in_the_mart(mart):
    columns, rows = mart
    assert not [c for c in columns if re.search(r"hash|contact|phone|address|person", c)]
    flat = repr(rows)
    for pseudonym in ("c" * 64, "p" * 64, "a" * 64):
        assert pseudonym not in flat
