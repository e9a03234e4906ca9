"""A small monitoring world for the intake tests: a plan with sampling tasks for listings
of a simulated shop, and writers for the files staff send (CSV in any encoding, XLSX)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from ecqm.warehouse.schema import (
    inbox_files,
    inspection_results,
    listings,
    monitoring_plans,
    products,
    purchases,
    sampling_tasks,
    shops,
)

# 12:00 on 22 November 2026 in Shanghai.
NOW = dt.datetime(2026, 11, 22, 4, 0, tzinfo=dt.UTC)
PLANNED_AT = dt.datetime(2026, 11, 1, 1, 0, tzinfo=dt.UTC)
KETTLE_ITEMS = [
    {"name": "标志和说明", "standard": "GB 4706.1"},
    {"name": "输入功率和电流", "standard": "GB 4706.1"},
    {"name": "发热", "standard": "GB 4706.19"},
    {"name": "泄漏电流和电气强度", "standard": "GB 4706.1"},
]
DRYER_ITEMS = [
    {"name": "标志和说明", "standard": "GB 4706.1"},
    {"name": "发热", "standard": "GB 4706.15"},
    {"name": "非正常工作（堵风口）", "standard": "GB 4706.15"},
]

PURCHASE_HEADER_ZH = [
    "任务编号",
    "订单号",
    "实付金额(元)",
    "下单时间",
    "店铺",
    "商品页截图",
    "订单截图",
    "购买录像",
    "物流公司",
    "运单号",
    "收货时间",
    "样品封条号",
    "备样封条号",
    "到货状态",
]
PURCHASE_HEADER_EN = [
    "task_id",
    "order_number",
    "paid",
    "ordered_at",
    "shop_name",
    "page_screenshot",
    "order_screenshot",
    "purchase_video",
    "logistics_company",
    "tracking_number",
    "received_at",
    "sample_seal",
    "backup_seal",
    "condition",
]
RESULT_HEADER_ZH = [
    "任务编号",
    "检验项目",
    "标准条款",
    "实测值",
    "标准要求",
    "单项判定",
    "缺陷类别",
    "检验机构",
    "报告编号",
    "检验日期",
]
RESULT_HEADER_EN = [
    "task_id",
    "test_item",
    "standard_clause",
    "measured_value",
    "limit_value",
    "verdict",
    "defect_class",
    "lab_code",
    "report_number",
    "tested_on",
]


def purchase(task: str = "T-KETTLE", order: str = "3391827465501928374", **over: Any) -> list:
    """One purchases row in the column order of PURCHASE_HEADER_*."""
    row = {
        "task_id": task,
        "order_number": order,
        "paid": "￥89.50",
        "ordered_at": "2026-11-20 15:30",
        "shop_name": "暖心电器旗舰店",
        "page_screenshot": f"{task}-page.png",
        "order_screenshot": f"{task}-order.png",
        "purchase_video": "",
        "logistics_company": "顺丰速运",
        "tracking_number": "SF1402938475610",
        "received_at": "2026-11-21 10:05",
        "sample_seal": f"FT{task[-3:]}01",
        "backup_seal": f"FT{task[-3:]}02",
        "condition": "外包装完好",
    }
    row.update(over)
    return [row[k] for k in PURCHASE_HEADER_EN]


def result(task: str = "T-KETTLE", item: str = "发热", **over: Any) -> list:
    """One results row in the column order of RESULT_HEADER_*."""
    row = {
        "task_id": task,
        "test_item": item,
        "standard_clause": "GB 4706.19-2008 第11章",
        "measured_value": "温升 48K",
        "limit_value": "≤ 65K",
        "verdict": "合格",
        "defect_class": "",
        "lab_code": "lab_hz_qiancheng",
        "report_number": f"QC2026-{task[-3:]}",
        "tested_on": "2026-11-21",
    }
    row.update(over)
    return [row[k] for k in RESULT_HEADER_EN]


def write_csv(
    path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8-sig"
) -> Path:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(
    path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str = "采购记录"
) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def seed(conn: Connection) -> dict[str, int]:
    """Reference data, a shop, two products and listings, a plan and five tasks, all
    capped at ¥300 but T-DRYER (¥2,000): T-KETTLE, T-DRYER, T-SPARE (planned),
    T-CLOSED (cancelled) and T-NOLAB (planned, no lab assigned, no backup sample)."""
    from transforms.reference.load import load_reference

    load_reference(conn)
    shop_id = conn.execute(
        shops.insert().values(
            platform="sim",
            external_id="shop-88",
            name="暖心电器旗舰店",
            first_seen_at=PLANNED_AT,
            last_seen_at=PLANNED_AT,
        )
    ).inserted_primary_key[0]
    ids: dict[str, int] = {"shop": shop_id}
    for n, (key, category) in enumerate((("kettle", "electric_kettle"), ("dryer", "hair_dryer"))):
        pid = conn.execute(
            products.insert().values(
                product_key=f"暖心|{key}",
                category_code=category,
                first_seen_at=PLANNED_AT,
                last_seen_at=PLANNED_AT,
            )
        ).inserted_primary_key[0]
        lid = conn.execute(
            listings.insert().values(
                platform="sim",
                external_id=f"item-{n + 100}",
                shop_id=shop_id,
                product_id=pid,
                title=f"暖心 {key}",
                category_code=category,
                first_seen_at=PLANNED_AT,
                last_seen_at=PLANNED_AT,
            )
        ).inserted_primary_key[0]
        ids[f"{key}_product"], ids[f"{key}_listing"] = pid, lid
    conn.execute(
        monitoring_plans.insert().values(
            plan_id="PLAN-2026-11",
            period_start=dt.date(2026, 11, 1),
            period_end=dt.date(2026, 11, 30),
            budget_purchases=5,
            seed=1,
            scope={},
            params={},
            summary={},
            status="issued",
            created_at=PLANNED_AT,
        )
    )

    def task(task_id: str, key: str, category: str, items: list, **over: Any) -> dict:
        row = {
            "task_id": task_id,
            "plan_id": "PLAN-2026-11",
            "stratum": "targeted",
            "inclusion_probability": 1.0,
            "product_id": ids[f"{key}_product"],
            "listing_id": ids[f"{key}_listing"],
            "shop_id": shop_id,
            "platform": "sim",
            "listing_external_id": f"item-{100 if key == 'kettle' else 101}",
            "category_code": category,
            "price_fen": 8950,
            "price_cap_fen": 30000,
            "sample_units": 2,
            "backup_units": 2,
            "test_items": items,
            "standards": [],
            "lab_code": "lab_hz_qiancheng",
            "due_on": dt.date(2026, 11, 30),
            "status": "planned",
            "created_at": PLANNED_AT,
        }
        row.update(over)
        return row

    conn.execute(
        sampling_tasks.insert(),
        [
            task("T-KETTLE", "kettle", "electric_kettle", KETTLE_ITEMS),
            task("T-DRYER", "dryer", "hair_dryer", DRYER_ITEMS, price_cap_fen=200000),
            task("T-SPARE", "kettle", "electric_kettle", KETTLE_ITEMS),
            task("T-CLOSED", "kettle", "electric_kettle", KETTLE_ITEMS, status="cancelled"),
            task("T-NOLAB", "dryer", "hair_dryer", DRYER_ITEMS, lab_code=None, backup_units=0),
        ],
    )
    return ids


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of the tables an intake writes, to compare before and after."""
    out = {}
    with engine.connect() as conn:
        for table in (purchases, inspection_results, inbox_files, sampling_tasks):
            out[table.name] = sorted(
                (tuple(map(repr, row)) for row in conn.execute(select(table))), key=repr
            )
    return out


def statuses(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(sampling_tasks.c.task_id, sampling_tasks.c.status)).all())


def codes(report: Any) -> set[tuple[int | None, str | None, str]]:
    """(row, field, code) of every problem of a report."""
    return {(p.row, p.field, p.code) for p in report.problems}
