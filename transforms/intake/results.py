"""Inspection results (检验结果): one row per test item of a lab report.

The natural key is (report number, test item). A result is taken only for a task whose
purchase is recorded: the purchase carries the order, the seals and the receipt that
tie the sample to the listing. See ``docs/inbox.md`` for the columns and every rule.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from sqlalchemy import Connection, func, select

from ecqm.warehouse.schema import inspection_results, purchases, ref_labs
from transforms.intake import values as v
from transforms.intake.checks import (
    CHUNK,
    Findings,
    check_columns,
    check_tasks,
    local_day,
)
from transforms.intake.read import Column, Sheet

KIND = "results"
COLUMNS = (
    Column("task_id", "任务编号", "task_id", True, ("任务号", "抽样任务编号", "task")),
    Column("test_item", "检验项目", "test_item", True, ("检验项目名称", "检测项目", "item")),
    Column("standard_clause", "标准条款", "standard_clause", False, ("检验依据", "clause")),
    Column(
        "measured_value", "实测值", "measured_value", False, ("检验结果", "实测结果", "measured")
    ),
    Column("limit_value", "标准要求", "limit_value", False, ("技术要求", "标准值", "limit")),
    Column("verdict", "单项判定", "verdict", True, ("判定", "单项结论", "结论", "result")),
    Column("defect_class", "缺陷类别", "defect_class", False, ("不合格类别", "缺陷分类")),
    Column("lab_code", "检验机构", "lab_code", True, ("检验机构代码", "实验室", "lab")),
    Column("report_number", "报告编号", "report_number", True, ("检验报告编号", "report_no")),
    Column("tested_on", "检验日期", "tested_on", True, ("检测日期", "报告日期", "test_date")),
)
CONTENT = (
    "task_id",
    "platform",
    "listing_external_id",
    "listing_id",
    "product_id",
    "shop_id",
    "standard_clause",
    "measured_value",
    "limit_value",
    "verdict",
    "defect_class",
    "lab_code",
    "tested_on",
    "attributes",
)
KEY = ("report_number", "test_item")
# Copied from the task so that a result finds its listing even after core is rebuilt.
FROM_TASK = ("platform", "listing_external_id", "listing_id", "product_id", "shop_id")


def _parse(f: Findings, n: int, row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    out: dict[str, Any] = {
        "task_id": f.parse(n, row, "task_id", v.identifier, required=True),
        "test_item": f.parse(n, row, "test_item", v.text, required=True),
        "standard_clause": f.parse(n, row, "standard_clause", v.text),
        "measured_value": f.parse(n, row, "measured_value", v.text),
        "limit_value": f.parse(n, row, "limit_value", v.text),
        "verdict": f.parse(n, row, "verdict", v.verdict, required=True),
        "defect_class": f.parse(n, row, "defect_class", v.defect_class),
        "lab_code": f.parse(n, row, "lab_code", v.text, required=True),
        "report_number": f.parse(n, row, "report_number", v.identifier, required=True),
        "tested_on": f.parse(n, row, "tested_on", v.local_date, required=True),
        "attributes": None,
    }
    verdict, defect = out["verdict"], out["defect_class"]
    if verdict == "fail" and defect is None and not f.raw(n, "defect_class"):
        f.add(
            n,
            "defect_class",
            "defect_class_missing",
            "判定不合格的项目必须填写缺陷类别（严重/一般/轻微）/ a failed item needs a defect "
            "class (严重 critical, 一般 major, 轻微 minor)",
        )
    if verdict == "pass" and defect is not None:
        f.add(
            n,
            "defect_class",
            "defect_class_on_pass",
            "判定合格的项目不应有缺陷类别 / a passed item has no defect class",
        )
    today = now.astimezone(v.SHANGHAI).date()
    if out["tested_on"] is not None and out["tested_on"] > today:
        f.add(
            n,
            "tested_on",
            "future_date",
            f"检验日期在将来（今天是 {today}）/ the test date is in the future (today is {today}, "
            "Asia/Shanghai)",
        )
    return out


def _labs(conn: Connection) -> tuple[dict[str, Any], dict[str, Any]]:
    by_code: dict[str, Any] = {}
    by_name: dict[str, Any] = {}
    for lab in conn.execute(select(ref_labs)):
        by_code[lab.code.casefold()] = lab
        by_name[unicodedata.normalize("NFKC", lab.name).strip()] = lab
    return by_code, by_name


def _check_labs(
    f: Findings, conn: Connection, rows: list[tuple[int, dict[str, Any]]], tasks: dict[str, Any]
) -> None:
    by_code, by_name = _labs(conn)
    for n, r in rows:
        given = r["lab_code"]
        if given is None:
            continue
        lab = by_code.get(unicodedata.normalize("NFKC", given).strip().casefold()) or by_name.get(
            unicodedata.normalize("NFKC", given).strip()
        )
        if lab is None:
            f.add(
                n,
                "lab_code",
                "unknown_lab",
                f"检验机构不在实验室名录（ref_labs）中：{given} / no lab {given!r} in the lab "
                "reference list (ref_labs); use its code, such as lab_hz_qiancheng",
            )
            continue
        r["lab_code"] = lab.code
        if not lab.is_active:
            f.add(
                n,
                "lab_code",
                "inactive_lab",
                f"检验机构 {lab.code} 已不在现行名录中 / lab {lab.code} is no longer active",
                severity="warning",
            )
        task = tasks.get(r["task_id"])
        if task is None:
            continue
        if task.lab_code and task.lab_code != lab.code:
            f.add(
                n,
                "lab_code",
                "other_lab",
                f"任务指定的检验机构是 {task.lab_code} / the task assigned lab {task.lab_code}",
                severity="warning",
            )
        if task.category_code and task.category_code not in (lab.category_codes or []):
            f.add(
                n,
                "lab_code",
                "lab_not_for_category",
                f"检验机构 {lab.code} 未承检类别 {task.category_code} / lab {lab.code} is not "
                f"accredited for category {task.category_code}",
                severity="warning",
            )


def _purchase_days(
    conn: Connection, task_ids: list[str]
) -> dict[str, tuple[dt.date, dt.date | None]]:
    """Per task: the day of its first order and of its first receipt (Asia/Shanghai)."""
    out: dict[str, tuple[dt.date, dt.date | None]] = {}
    for i in range(0, len(task_ids), CHUNK):
        for task_id, ordered, received in conn.execute(
            select(
                purchases.c.task_id,
                func.min(purchases.c.ordered_at),
                func.min(purchases.c.received_at),
            )
            .where(purchases.c.task_id.in_(task_ids[i : i + CHUNK]))
            .group_by(purchases.c.task_id)
        ):
            ordered = _aware(ordered)
            received = _aware(received)
            out[task_id] = (
                local_day(ordered),
                local_day(received) if received is not None else None,
            )
    return out


def _aware(moment: Any) -> dt.datetime | None:
    """``min()`` bypasses the column type on SQLite, which hands back text or naive UTC."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _check_tasks(
    f: Findings, conn: Connection, rows: list[tuple[int, dict[str, Any]]], tasks: dict[str, Any]
) -> None:
    bought = _purchase_days(conn, sorted(tasks))
    for n, r in rows:
        task = tasks.get(r["task_id"])
        if task is None:
            continue
        for name in FROM_TASK:
            r[name] = getattr(task, name)
        days = bought.get(task.task_id)
        if days is None:
            f.add(
                n,
                "task_id",
                "no_purchase",
                f"任务 {task.task_id} 还没有采购记录，请先提交采购记录 / task {task.task_id} has no "
                "purchase record yet; send the purchases file first",
            )
            continue
        tested = r["tested_on"]
        if tested is not None and tested < days[0]:
            f.add(
                n,
                "tested_on",
                "tested_before_purchase",
                f"检验日期早于下单日期 {days[0]} / tested before the sample was ordered ({days[0]})",
            )
        elif tested is not None and days[1] is not None and tested < days[1]:
            f.add(
                n,
                "tested_on",
                "tested_before_received",
                f"检验日期早于收货日期 {days[1]} / tested before the sample arrived ({days[1]})",
            )
        item = r["test_item"]
        if item is None:
            continue
        planned = {v.name_key(t.get("name", "")): t.get("name") for t in task.test_items or []}
        match = planned.get(v.name_key(item))
        if match is not None:
            r["test_item"] = match
        else:
            f.add(
                n,
                "test_item",
                "unplanned_test_item",
                f"“{item}”不在任务 {task.task_id} 的检验项目中，仍会记录 / {item!r} is not among "
                f"the test items of task {task.task_id}; recorded anyway",
                severity="warning",
            )


def _check_reports(f: Findings, conn: Connection, rows: list[tuple[int, dict[str, Any]]]) -> None:
    seen: dict[tuple[str, str], int] = {}
    report_task: dict[str, tuple[str, int]] = {}
    report_lab: dict[str, tuple[str, int]] = {}
    for n, r in rows:
        number = r["report_number"]
        if number is None:
            continue
        if r["test_item"] is not None:
            key = (number, v.name_key(r["test_item"]))
            if key in seen:
                f.add(
                    n,
                    "test_item",
                    "duplicate_row",
                    f"与第 {seen[key]} 行重复（同一报告、同一检验项目）/ repeats row {seen[key]} "
                    "(same report and test item)",
                )
            else:
                seen[key] = n
        if r["task_id"] is not None:
            first = report_task.setdefault(number, (r["task_id"], n))
            if first[0] != r["task_id"]:
                f.add(
                    n,
                    "report_number",
                    "report_on_two_tasks",
                    f"报告 {number} 在第 {first[1]} 行属于任务 {first[0]} / report {number} is "
                    f"given for task {first[0]} in row {first[1]}",
                )
        if r["lab_code"] is not None:
            first = report_lab.setdefault(number, (r["lab_code"], n))
            if first[0] != r["lab_code"]:
                f.add(
                    n,
                    "lab_code",
                    "report_two_labs",
                    f"报告 {number} 在第 {first[1]} 行的检验机构是 {first[0]} / report {number} "
                    f"is from lab {first[0]} in row {first[1]}",
                )
    numbers = sorted(report_task)
    recorded: dict[str, str] = {}
    for i in range(0, len(numbers), CHUNK):
        for number, task_id in conn.execute(
            select(inspection_results.c.report_number, inspection_results.c.task_id)
            .where(inspection_results.c.report_number.in_(numbers[i : i + CHUNK]))
            .distinct()
        ):
            recorded[number] = task_id
    for n, r in rows:
        other = recorded.get(r["report_number"])
        if other is not None and r["task_id"] is not None and other != r["task_id"]:
            f.add(
                n,
                "report_number",
                "report_on_two_tasks",
                f"报告 {r['report_number']} 已记录在任务 {other} 下 / report {r['report_number']} "
                f"is already recorded for task {other}",
            )


def validate(
    conn: Connection, sheet: Sheet, *, now: dt.datetime
) -> tuple[list[tuple[int, dict[str, Any]]], Findings]:
    """Every row of a results file as an ``inspection_results`` row (without
    ``source_file`` and ``file_sha256``) and every problem found; the caller writes
    nothing unless ``findings.errors`` is empty."""
    f = Findings(sheet, COLUMNS)
    rows = [(n, _parse(f, n, row, now)) for n, row in sheet.rows]
    for _, r in rows:
        for name in FROM_TASK:
            r.setdefault(name, None)
    tasks = check_tasks(f, conn, rows)
    _check_labs(f, conn, rows, tasks)
    _check_tasks(f, conn, rows, tasks)
    _check_reports(f, conn, rows)
    clean = [(n, r) for n, r in rows if n not in f.bad_rows]
    check_columns(f, inspection_results, clean, {})
    _verdict_changes(conn, f, clean)
    return rows, f


def _verdict_changes(conn: Connection, f: Findings, rows: list[tuple[int, dict[str, Any]]]) -> None:
    """Warn where a row replaces a recorded result with another verdict (a correction or
    a retest reported under the same report number)."""
    numbers = sorted({r["report_number"] for _, r in rows})
    recorded: dict[tuple[str, str], tuple[str, str | None]] = {}
    for i in range(0, len(numbers), CHUNK):
        for number, item, verdict, source in conn.execute(
            select(
                inspection_results.c.report_number,
                inspection_results.c.test_item,
                inspection_results.c.verdict,
                inspection_results.c.source_file,
            ).where(inspection_results.c.report_number.in_(numbers[i : i + CHUNK]))
        ):
            recorded[(number, item)] = (verdict, source)
    for n, r in rows:
        before = recorded.get((r["report_number"], r["test_item"]))
        if before is not None and before[0] != r["verdict"]:
            f.add(
                n,
                "verdict",
                "verdict_changed",
                f"改变了已记录的判定 {before[0]}（来自 {before[1]}）/ changes the verdict recorded "
                f"as {before[0]} (from {before[1]})",
                severity="warning",
            )
