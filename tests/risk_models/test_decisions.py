"""Staff decisions files: validated whole, refused whole, loaded once."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from ecqm.warehouse.schema import products, risk_assessments, risk_decisions
from risk_models.decisions import DecisionFileError, import_decisions

NOW = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def pids(warehouse_conn):
    warehouse_conn.execute(
        products.insert(),
        [{"product_key": f"k{i}", "first_seen_at": NOW, "last_seen_at": NOW} for i in range(3)],
    )
    ids = [r for (r,) in warehouse_conn.execute(select(products.c.id).order_by(products.c.id))]
    warehouse_conn.execute(
        risk_assessments.insert().values(
            as_of=dt.date(2026, 11, 10),
            product_id=ids[0],
            probability=0.7,
            likelihood=5,
            severity=4,
            level="high",
            model_version="x",
            matrix_version="x",
            summary="",
            explanation={},
            is_confirmed=False,
            review_status="pending",
            assessed_at=NOW,
        )
    )
    return ids


def _csv(tmp_path, text: str, encoding: str = "utf-8", name: str = "decisions.csv"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_chinese_headers_gbk_and_a_second_load_changes_nothing(warehouse_conn, pids, tmp_path):
    p = _csv(
        tmp_path,
        "产品编号,决定,复核人,复核时间,理由\r\n"
        f"{pids[0]},排除,王工,2026-11-20 15:30,同型号已整改，批次不同\r\n"
        f"{pids[1]},确认,李工,2026/11/21 09:00,\r\n",
        encoding="gbk",
    )
    first = import_decisions(warehouse_conn, p)
    assert (first.rows, first.inserted, first.decisions) == (2, 2, {"confirm": 1, "dismiss": 1})
    rows = {r.product_id: r for r in warehouse_conn.execute(select(risk_decisions)).all()}
    assert rows[pids[0]].decision == "dismiss"
    assert rows[pids[0]].level_at_decision == "high"  # the assessment of 2026-11-10
    assert rows[pids[0]].decided_at == dt.datetime(2026, 11, 20, 7, 30, tzinfo=dt.UTC)
    assert rows[pids[1]].level_at_decision is None and rows[pids[1]].reason is None
    second = import_decisions(warehouse_conn, p)
    assert (second.inserted, second.unchanged) == (0, 2)
    assert len(warehouse_conn.execute(select(risk_decisions)).all()) == 2


def test_xlsx_with_english_headers(warehouse_conn, pids, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["product_id", "decision", "reviewer", "decided_at", "reason"])
    ws.append([pids[2], "confirm", "Zhang", dt.datetime(2026, 11, 19, 10, 0), "lab confirmed"])
    ws.append([None, None, None, None, None])
    p = tmp_path / "d.xlsx"
    wb.save(p)
    report = import_decisions(warehouse_conn, p)
    assert report.rows == 1 and report.decisions == {"confirm": 1}


def test_every_problem_is_named_and_nothing_is_loaded(warehouse_conn, pids, tmp_path):
    p = _csv(
        tmp_path,
        "product_id,decision,reviewer,decided_at\n"
        f"{pids[0]},dismiss,王工,2026-11-20 15:30\n"
        "99999,confirm,王工,2026-11-20 15:30\n"
        f"{pids[1]},maybe,王工,2026-11-20 15:30\n"
        f"{pids[1]},confirm,,yesterday\n"
        f"abc,confirm,王工,2026-11-20 15:30\n"
        f"{pids[0]},confirm,李工,2026-11-20 15:30\n",
    )
    with pytest.raises(DecisionFileError) as err:
        import_decisions(warehouse_conn, p)
    problems = err.value.problems
    assert "row 3, product_id: no product 99999 in the warehouse" in problems
    assert any(x.startswith("row 4, decision: 'maybe'") for x in problems)
    assert "row 5, reviewer: empty" in problems
    assert any(x.startswith("row 5, decided_at: 'yesterday'") for x in problems)
    assert "row 6, product_id: 'abc' is not a product id" in problems
    assert any(x.startswith("row 7, decided_at: product") and "(row 2)" in x for x in problems)
    assert warehouse_conn.execute(select(risk_decisions)).all() == []


def test_missing_columns_are_named(warehouse_conn, pids, tmp_path):
    p = _csv(tmp_path, "product_id,verdict\n1,ok\n")
    with pytest.raises(
        DecisionFileError, match="missing column.*decision.*found: product_id, verdict"
    ):
        import_decisions(warehouse_conn, p)


def test_binary_junk_is_refused(warehouse_conn, pids, tmp_path):
    p = tmp_path / "junk.csv"
    p.write_bytes(b"\xff\xfe\x00\x81\x82" * 40)
    with pytest.raises(DecisionFileError):
        import_decisions(warehouse_conn, p)
