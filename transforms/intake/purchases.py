"""Purchase records (网上采样): what the buyer paid, when, the evidence, and the receipt.

One row per order. A task may have more than one order (a cancelled order bought
again); the natural key is (task, order number). See ``docs/inbox.md`` for the columns
and every rule checked here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, or_, select

from ecqm.warehouse.schema import purchases
from transforms.intake import values as v
from transforms.intake.checks import (
    CHUNK,
    Findings,
    check_columns,
    check_tasks,
    local_text,
    yuan,
)
from transforms.intake.read import Column, Sheet

KIND = "purchases"
COLUMNS = (
    Column("task_id", "任务编号", "task_id", True, ("任务号", "抽样任务编号", "task")),
    Column("order_number", "订单号", "order_number", True, ("订单编号", "order_no", "order")),
    Column(
        "paid",
        "实付金额(元)",
        "paid",
        True,
        ("实付金额", "实付款", "实付款(元)", "实付", "paid_yuan", "paid(yuan)", "amount_paid"),
    ),
    Column("ordered_at", "下单时间", "ordered_at", True, ("订单时间", "order_time")),
    Column("shop_name", "店铺", "shop_name", False, ("店铺名称", "店铺名", "shop")),
    Column("page_screenshot", "商品页截图", "page_screenshot", True, ("商品页面截图",)),
    Column("order_screenshot", "订单截图", "order_screenshot", True, ("订单页截图",)),
    Column("purchase_video", "购买录像", "purchase_video", False, ("购买视频", "录像")),
    Column("logistics_company", "物流公司", "logistics_company", False, ("快递公司",)),
    Column("tracking_number", "运单号", "tracking_number", False, ("快递单号", "物流单号")),
    Column("received_at", "收货时间", "received_at", False, ("到货时间", "签收时间")),
    Column("sample_seal", "样品封条号", "sample_seal", False, ("样品封条编号",)),
    Column("backup_seal", "备样封条号", "backup_seal", False, ("备样封条编号",)),
    Column("condition", "到货状态", "condition", False, ("到货情况", "样品状态")),
)
# The warehouse columns compared to tell a changed row from an unchanged one.
CONTENT = (
    "paid_fen",
    "ordered_at",
    "shop_name",
    "evidence",
    "logistics_company",
    "tracking_number",
    "received_at",
    "sample_seal",
    "backup_seal",
    "condition",
)
KEY = ("task_id", "order_number")
_FIELD_OF = {"paid_fen": "paid", "evidence": "page_screenshot"}


def _parse(f: Findings, n: int, row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    out: dict[str, Any] = {
        "task_id": f.parse(n, row, "task_id", v.identifier, required=True),
        "order_number": f.parse(
            n, row, "order_number", lambda x: v.identifier(x, squeeze=True), required=True
        ),
        "paid_fen": f.parse(n, row, "paid", v.yuan_to_fen, required=True),
        "ordered_at": f.parse(n, row, "ordered_at", v.local_datetime, required=True),
        "shop_name": f.parse(n, row, "shop_name", v.text),
        "logistics_company": f.parse(n, row, "logistics_company", v.text),
        "tracking_number": f.parse(
            n, row, "tracking_number", lambda x: v.identifier(x, squeeze=True)
        ),
        "received_at": f.parse(n, row, "received_at", v.local_datetime),
        "sample_seal": f.parse(n, row, "sample_seal", v.identifier),
        "backup_seal": f.parse(n, row, "backup_seal", v.identifier),
        "condition": f.parse(n, row, "condition", v.text),
    }
    evidence = {
        name: f.parse(n, row, name, v.references, required=name != "purchase_video")
        for name in ("page_screenshot", "order_screenshot", "purchase_video")
    }
    out["evidence"] = {k: refs for k, refs in evidence.items() if refs}
    paid, ordered, received = out["paid_fen"], out["ordered_at"], out["received_at"]
    if paid is not None and paid <= 0:
        f.add(n, "paid", "bad_amount", "实付金额应大于 0 / the amount paid must be more than 0")
    for name, moment in (("ordered_at", ordered), ("received_at", received)):
        if moment is not None and moment > now:
            f.add(
                n,
                name,
                "future_time",
                f"时间在将来：{local_text(moment)}（现在是 {local_text(now)}）/ the time is in the "
                f"future: {local_text(moment)} (it is now {local_text(now)}, Asia/Shanghai)",
            )
    if ordered is not None and received is not None and received < ordered:
        f.add(
            n,
            "received_at",
            "received_before_ordered",
            f"收货时间早于下单时间（{local_text(ordered)}）/ received before it was ordered "
            f"({local_text(ordered)})",
        )
    sample, backup = out["sample_seal"], out["backup_seal"]
    if sample is not None and sample == backup:
        f.add(
            n,
            "backup_seal",
            "same_seals",
            f"备样与样品的封条号相同（{sample}），应分别封存 / the backup sample has the same seal "
            f"as the sample ({sample}); they are sealed separately",
        )
    if (sample or backup) and received is None and not f.raw(n, "received_at"):
        f.add(
            n,
            "received_at",
            "received_missing",
            "已填封条号但没有收货时间（拆封封样在收货时进行）/ seals are recorded but the time "
            "of receipt is not (samples are sealed when the parcel is opened)",
        )
    return out


def _check_against_tasks(
    f: Findings, rows: list[tuple[int, dict[str, Any]]], tasks: dict[str, Any]
) -> None:
    for n, r in rows:
        task = tasks.get(r["task_id"])
        if task is None:
            continue
        cap = task.price_cap_fen
        if r["paid_fen"] is not None and cap is not None and r["paid_fen"] > cap:
            f.add(
                n,
                "paid",
                "over_price_cap",
                f"实付 {yuan(r['paid_fen'])} 超过任务限价 {yuan(cap)} / paid {yuan(r['paid_fen'])}, "
                f"over the task's price cap of {yuan(cap)}",
            )
        if r["received_at"] is not None:
            if r["sample_seal"] is None:
                f.add(
                    n,
                    "sample_seal",
                    "seal_missing",
                    "已收货但没有样品封条号 / received, but the sample's seal number is missing",
                )
            if task.backup_units and r["backup_seal"] is None:
                f.add(
                    n,
                    "backup_seal",
                    "seal_missing",
                    f"已收货但没有备样封条号（任务要求备样 {task.backup_units} 件）/ received, but "
                    f"the backup sample's seal number is missing ({task.backup_units} backup "
                    "units required)",
                )
        created = task.created_at
        if r["ordered_at"] is not None and created is not None and r["ordered_at"] < created:
            f.add(
                n,
                "ordered_at",
                "ordered_before_task",
                f"下单早于任务下达（{local_text(created)}）/ ordered before the task was planned "
                f"({local_text(created)})",
                severity="warning",
            )


def _check_within_file(f: Findings, rows: list[tuple[int, dict[str, Any]]]) -> None:
    seen: dict[tuple[str, str], int] = {}
    orders: dict[str, tuple[str, int]] = {}
    seals: dict[str, tuple[int, str]] = {}
    for n, r in rows:
        task_id, order = r["task_id"], r["order_number"]
        if task_id and order:
            if (task_id, order) in seen:
                f.add(
                    n,
                    "order_number",
                    "duplicate_row",
                    f"与第 {seen[(task_id, order)]} 行重复（同一任务、同一订单号）/ repeats row "
                    f"{seen[(task_id, order)]} (same task and order number)",
                )
            else:
                seen[(task_id, order)] = n
            first = orders.setdefault(order, (task_id, n))
            if first[0] != task_id:
                f.add(
                    n,
                    "order_number",
                    "order_on_two_tasks",
                    f"订单号 {order} 在第 {first[1]} 行属于任务 {first[0]} / order {order} is "
                    f"given for task {first[0]} in row {first[1]}",
                )
        for name in ("sample_seal", "backup_seal"):
            seal = r[name]
            if seal is None:
                continue
            if seal in seals and seals[seal][0] != n:
                f.add(
                    n,
                    name,
                    "seal_reused",
                    f"封条号 {seal} 已在第 {seals[seal][0]} 行使用 / seal {seal} is already used "
                    f"in row {seals[seal][0]}",
                )
            else:
                seals.setdefault(seal, (n, name))


def _check_against_warehouse(
    f: Findings, conn: Connection, rows: list[tuple[int, dict[str, Any]]]
) -> None:
    orders = sorted({r["order_number"] for _, r in rows if r["order_number"]})
    seal_list = sorted({r[s] for _, r in rows for s in ("sample_seal", "backup_seal") if r[s]})
    order_tasks: dict[str, str] = {}
    for i in range(0, len(orders), CHUNK):
        for task_id, order in conn.execute(
            select(purchases.c.task_id, purchases.c.order_number).where(
                purchases.c.order_number.in_(orders[i : i + CHUNK])
            )
        ):
            order_tasks[order] = task_id
    used: dict[str, tuple[str, str]] = {}
    for i in range(0, len(seal_list), CHUNK):
        part = seal_list[i : i + CHUNK]
        for task_id, order, sample, backup in conn.execute(
            select(
                purchases.c.task_id,
                purchases.c.order_number,
                purchases.c.sample_seal,
                purchases.c.backup_seal,
            ).where(or_(purchases.c.sample_seal.in_(part), purchases.c.backup_seal.in_(part)))
        ):
            for seal in (sample, backup):
                if seal:
                    used[seal] = (task_id, order)
    for n, r in rows:
        other = order_tasks.get(r["order_number"])
        if other is not None and other != r["task_id"]:
            f.add(
                n,
                "order_number",
                "order_on_two_tasks",
                f"订单号 {r['order_number']} 已记录在任务 {other} 下 / order {r['order_number']} "
                f"is already recorded for task {other}",
            )
        for name in ("sample_seal", "backup_seal"):
            holder = used.get(r[name]) if r[name] else None
            if holder is not None and holder != (r["task_id"], r["order_number"]):
                f.add(
                    n,
                    name,
                    "seal_reused",
                    f"封条号 {r[name]} 已用于任务 {holder[0]} 的订单 {holder[1]} / seal {r[name]} "
                    f"is already recorded for task {holder[0]}, order {holder[1]}",
                )


def validate(
    conn: Connection, sheet: Sheet, *, now: dt.datetime
) -> tuple[list[tuple[int, dict[str, Any]]], Findings]:
    """Every row of a purchases file as a ``purchases`` row (without ``source_file`` and
    ``file_sha256``), and every problem found. Rows come back even when there are
    problems; the caller writes nothing unless ``findings.errors`` is empty."""
    f = Findings(sheet, COLUMNS)
    rows = [(n, _parse(f, n, row, now)) for n, row in sheet.rows]
    tasks = check_tasks(f, conn, rows)
    _check_against_tasks(f, rows, tasks)
    _check_within_file(f, rows)
    _check_against_warehouse(f, conn, rows)
    clean = [(n, r) for n, r in rows if n not in f.bad_rows]
    check_columns(f, purchases, clean, _FIELD_OF)
    return rows, f
