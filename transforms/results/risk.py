"""What a result does to the product's risk assessment (质量风险确认 from the lab).

A failed sample confirms the product's newest ``risk_assessments`` row: ``is_confirmed``
becomes true and ``confirmation`` gains the segment
``检验不合格确认：检验报告 <number> 判定不合格`` (the lab segments come first, by report
number, then any text a rule put there: :mod:`risk_models.confirmation`).
This is what the next ``assess_risk`` run does by itself — a failed inspection of the
product is its ``history_product`` signal, which confirms — so the two agree. A staff
decision is kept: a row staff confirmed or dismissed (``review_status`` ``confirmed`` /
``dismissed``) is not touched, as the next run would keep it too.

When that failure stops counting — a retest supersedes it, or the report is corrected to
a pass — the segment naming it is taken out again wherever it is, and a row it alone
confirmed is unconfirmed.

The level itself belongs to the risk model and is not changed here. The evaluation
records ``risk_level_before`` (the newest assessment's level) and ``risk_level_after``:
for a failure, the level the risk matrix gives a product known to fail (likelihood 5,
极高) at the assessment's severity, at least 3 (严重) for a safety defect, never below
the level before; for a pass, the level before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from ecqm.warehouse.schema import risk_assessments
from risk_models.confirmation import compose, lab_segment, split
from risk_models.matrix import LEVEL_RANK, RiskMatrix

SEPARATOR = "；"
STAFF_DECIDED = ("confirmed", "dismissed")
FAILED_LIKELIHOOD = 5
SAFETY_SEVERITY = 3


@dataclass
class RiskChange:
    level_before: str | None = None
    level_after: str | None = None
    outcome: str = "none"  # confirmed, already, staff_decision, no_assessment, none


def segment(report_number: str) -> str:
    return lab_segment(report_number)


def newest(conn: Connection, product_id: int | None) -> dict[str, Any] | None:
    if product_id is None:
        return None
    row = (
        conn.execute(
            select(risk_assessments)
            .where(risk_assessments.c.product_id == product_id)
            .order_by(risk_assessments.c.as_of.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def level_after(
    matrix: RiskMatrix, assessment: Mapping[str, Any] | None, *, failed: bool, safety: bool
) -> str | None:
    if assessment is None:
        return None
    before = assessment["level"]
    if not failed:
        return before
    severity = int(assessment["severity"])
    if safety:
        severity = max(severity, SAFETY_SEVERITY)
    implied = matrix.level(FAILED_LIKELIHOOD, max(1, min(4, severity)))
    return implied if LEVEL_RANK[implied] >= LEVEL_RANK.get(before, 0) else before


def confirm(
    conn: Connection,
    product_id: int | None,
    report_number: str,
    *,
    safety: bool,
    matrix: RiskMatrix,
) -> RiskChange:
    """Confirm the newest assessment of ``product_id`` by a failed report."""
    row = newest(conn, product_id)
    if row is None:
        return RiskChange(outcome="no_assessment")
    change = RiskChange(row["level"], level_after(matrix, row, failed=True, safety=safety))
    if row["review_status"] in STAFF_DECIDED:
        change.outcome = "staff_decision"
        return change
    reports, others = split(row["confirmation"])
    if row["is_confirmed"] and report_number in reports:
        change.outcome = "already"
        return change
    conn.execute(
        update(risk_assessments)
        .where(risk_assessments.c.id == row["id"])
        .values(is_confirmed=True, confirmation=compose([*reports, report_number], others))
    )
    change.outcome = "confirmed"
    return change


def withdraw(conn: Connection, product_id: int | None, report_number: str) -> int:
    """Take the confirmation by ``report_number`` out of the product's assessments
    (pending ones: a staff decision is never changed); how many rows changed."""
    if product_id is None:
        return 0
    rows = conn.execute(
        select(risk_assessments.c.id, risk_assessments.c.confirmation).where(
            risk_assessments.c.product_id == product_id,
            risk_assessments.c.review_status.not_in(STAFF_DECIDED),
            risk_assessments.c.confirmation.is_not(None),
        )
    ).all()
    n = 0
    for row_id, text in rows:
        reports, others = split(text)
        if report_number not in reports:
            continue
        rest = compose([r for r in reports if r != report_number], others)
        values: dict[str, Any] = {"confirmation": rest}
        if rest is None:
            values["is_confirmed"] = False
        conn.execute(
            update(risk_assessments).where(risk_assessments.c.id == row_id).values(**values)
        )
        n += 1
    return n
