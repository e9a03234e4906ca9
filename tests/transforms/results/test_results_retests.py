"""Which report of a task is current: the chain in Python, and the same rule in SQL for
the readers that count failures from the item rows (on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ecqm.warehouse.schema import inspection_results
from transforms.results.retests import Links, chain_links, is_current_report

D = dt.date


def test_a_chain_of_three_reports():
    links = chain_links([("R3", D(2026, 12, 5)), ("R1", D(2026, 11, 21)), ("R2", D(2026, 11, 30))])
    assert links == {
        "R1": Links("superseded", False, None, "R2"),
        "R2": Links("superseded", True, "R1", "R3"),
        "R3": Links("current", True, "R2", None),
    }
    assert chain_links([("only", D(2026, 1, 5))]) == {"only": Links("current", False, None, None)}


def test_on_the_same_day_the_greater_report_number_is_later_in_code_point_order():
    links = chain_links([("a-1", D(2026, 11, 21)), ("A-2", D(2026, 11, 21))])
    assert links["a-1"].status == "current"  # "a" (0x61) sorts after "A" (0x41)
    with pytest.raises(ValueError, match="two test dates"):
        chain_links([("R1", D(2026, 11, 21)), ("R1", D(2026, 11, 22))])


# task, report, item, tested_on, verdict
ROWS = [
    ("T1", "R1", "发热", D(2026, 11, 21), "fail"),
    ("T1", "R1", "标志", D(2026, 11, 21), "pass"),
    ("T1", "R2", "发热", D(2026, 11, 30), "pass"),
    # A report whose items were tested over two days counts from its last day.
    ("T2", "S1", "发热", D(2026, 11, 20), "pass"),
    ("T2", "S1", "标志", D(2026, 11, 26), "fail"),
    ("T2", "S2", "发热", D(2026, 11, 24), "pass"),
    # Same day: report numbers in code-point order, whatever the database's collation.
    ("T3", "a-1", "发热", D(2026, 11, 21), "fail"),
    ("T3", "A-2", "发热", D(2026, 11, 21), "pass"),
    ("T4", "U1", "发热", D(2026, 11, 22), "pass"),
]


def _current(conn, as_of=None) -> set[str]:
    ir = inspection_results
    query = select(ir.c.report_number).where(
        is_current_report(ir, dialect=conn.dialect.name, as_of=as_of)
    )
    if as_of is not None:
        query = query.where(ir.c.tested_on <= as_of)
    return set(conn.execute(query.distinct()).scalars())


def test_the_sql_rule_agrees_with_the_chain(warehouse_conn):
    warehouse_conn.execute(
        inspection_results.insert(),
        [
            {
                "task_id": t,
                "report_number": r,
                "test_item": i,
                "tested_on": d,
                "verdict": v,
                "lab_code": "lab_hz_qiancheng",
            }
            for t, r, i, d, v in ROWS
        ],
    )
    expected = set()
    for task in {t for t, *_ in ROWS}:
        dates: dict[str, dt.date] = {}
        for t, r, _, d, _ in ROWS:
            if t == task:
                dates[r] = max(d, dates.get(r, d))
        links = chain_links(dates.items())
        expected |= {r for r, link in links.items() if link.status == "current"}
    assert expected == {"R2", "S1", "a-1", "U1"}
    assert _current(warehouse_conn) == expected
    # As of a day before the retests, the first reports are the current ones.
    assert _current(warehouse_conn, D(2026, 11, 25)) == {"R1", "S2", "a-1", "U1"}
    assert _current(warehouse_conn, D(2026, 11, 21)) == {"R1", "S1", "a-1"}


def test_postgresql_compares_report_numbers_bytewise_whatever_its_default_collation():
    # The test database may well use C.UTF-8 already; a server in en_US would put
    # "a-1" before "A-2". The rule names the collation rather than trusting the default.
    from sqlalchemy.dialects import postgresql, sqlite

    clause = is_current_report(inspection_results, dialect="postgresql")
    assert 'COLLATE "C"' in str(clause.compile(dialect=postgresql.dialect()))
    clause = is_current_report(inspection_results, dialect="sqlite")
    assert "COLLATE" not in str(clause.compile(dialect=sqlite.dialect()))
