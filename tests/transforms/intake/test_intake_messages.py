"""The exact words people read for the commonest mistakes, and that a refused file loads
nothing even when most of its rows are fine; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path

from intake_world import (  # type: ignore[import-not-found]
    NOW,
    PURCHASE_HEADER_ZH,
    RESULT_HEADER_ZH,
    purchase,
    result,
    snapshot,
    write_csv,
    write_xlsx,
)
from sqlalchemy import func, select

from ecqm.warehouse.schema import inbox_files, inspection_results, purchases
from transforms.intake import import_file, scan_inbox


def _counts(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (purchases, inspection_results)
        )


def _refused(engine, kind: str, path, home) -> list[str]:
    """Import ``path``; check it was refused whole and nothing else moved; its problems
    as the command line prints them."""
    before = snapshot(engine)
    counts = _counts(engine)
    report = import_file(engine, kind, path, home=home, now=NOW)
    assert report.status == "rejected"
    after = snapshot(engine)
    assert _counts(engine) == counts
    assert {k: v for k, v in after.items() if k != "inbox_files"} == {
        k: v for k, v in before.items() if k != "inbox_files"
    }
    with engine.connect() as conn:
        record = conn.execute(
            select(inbox_files).where(inbox_files.c.sha256 == report.sha256)
        ).one()
    assert record.status == "rejected" and record.archived_as is None
    assert [p["reason"] for p in record.problems] == [p.reason for p in report.problems]
    lines = Path(report.error_report).read_bytes().decode("utf-8-sig").splitlines()
    assert [r[5] for r in list(csv.reader(lines))[1:]] == [
        p.reason for p in sorted(report.problems, key=lambda p: p.severity != "error")
    ]
    return [str(p) for p in report.problems]


def test_wrong_and_missing_columns(world, home):
    header = ["任务编号", "订单号", "付款金额", "下单时间", "商品页截图", "订单截图"]
    path = write_csv(home / "p.csv", header, [purchase()[:2] + ["89.50"] + purchase()[3:6]])
    assert _refused(world, "purchases", path, home) == [
        "row 1, column 实付金额(元): 缺少必填列“实付金额(元)”（paid）；表头为：任务编号、订单号、"
        "付款金额、下单时间、商品页截图、订单截图 / the required column 实付金额(元) (paid) is "
        "missing; the header reads: 任务编号、订单号、付款金额、下单时间、商品页截图、订单截图"
    ]
    header = ["任务编号", "task_id", *PURCHASE_HEADER_ZH[1:]]
    path = write_csv(home / "p2.csv", header, [["T-KETTLE", *purchase()]])
    assert _refused(world, "purchases", path, home) == [
        "row 1, column task_id: “task_id”与“任务编号”是同一列（任务编号 task_id），只能出现一次 / "
        "'task_id' and '任务编号' are the same column (task_id); keep one"
    ]


def test_unknown_task_ids(world, home):
    path = write_csv(
        home / "inbox" / "purchases" / "p.csv",
        PURCHASE_HEADER_ZH,
        [
            purchase(),
            purchase("t-dryer", "O-2", sample_seal="D1", backup_seal="D2"),
            purchase("T-NOPE", "O-3", sample_seal="N1", backup_seal="N2"),
        ],
    )
    assert _refused(world, "purchases", path, home) == [
        "row 3, column 任务编号: 没有这个抽样任务：t-dryer（是否为 T-DRYER？） / no sampling task "
        "t-dryer (did you mean T-DRYER?)",
        "row 4, column 任务编号: 没有这个抽样任务：T-NOPE / no sampling task T-NOPE",
    ]
    assert (home / "inbox" / "rejected" / "purchases" / "p.csv.errors.csv").exists()


def test_times_and_dates_in_the_future(world, home):
    path = write_csv(
        home / "p.csv",
        PURCHASE_HEADER_ZH,
        [
            purchase(),
            purchase(
                "T-SPARE",
                "O-2",
                ordered_at="2026-11-23 09:00",
                received_at="",
                sample_seal="",
                backup_seal="",
            ),
        ],
    )
    assert _refused(world, "purchases", path, home) == [
        "row 3, column 下单时间: 时间在将来：2026-11-23 09:00（现在是 2026-11-22 12:00）/ the time "
        "is in the future: 2026-11-23 09:00 (it is now 2026-11-22 12:00, Asia/Shanghai)"
    ]
    bought = write_csv(home / "bought.csv", PURCHASE_HEADER_ZH, [purchase()])
    assert import_file(world, "purchases", bought, home=home, now=NOW).status == "accepted"
    path = write_xlsx(
        home / "r.xlsx",
        RESULT_HEADER_ZH,
        [result(item="发热"), result(item="标志和说明", tested_on="2026-11-23")],
        title="检验结果",
    )
    assert _refused(world, "results", path, home) == [
        "row 3, column 检验日期: 检验日期在将来（今天是 2026-11-22）/ the test date is in the "
        "future (today is 2026-11-22, Asia/Shanghai)"
    ]


def test_duplicate_order_numbers(world, home):
    path = write_csv(
        home / "p.csv",
        PURCHASE_HEADER_ZH,
        [
            purchase(order="O-1"),
            purchase(order="O-1", sample_seal="K1", backup_seal="K2"),
            purchase("T-DRYER", "O-1", sample_seal="D1", backup_seal="D2"),
        ],
    )
    assert _refused(world, "purchases", path, home) == [
        "row 3, column 订单号: 与第 2 行重复（同一任务、同一订单号）/ repeats row 2 (same task and "
        "order number)",
        "row 4, column 订单号: 订单号 O-1 在第 2 行属于任务 T-KETTLE / order O-1 is given for task "
        "T-KETTLE in row 2",
    ]
    first = write_csv(home / "first.csv", PURCHASE_HEADER_ZH, [purchase(order="O-1")])
    assert import_file(world, "purchases", first, home=home, now=NOW).status == "accepted"
    path = write_csv(
        home / "again.csv",
        PURCHASE_HEADER_ZH,
        [
            purchase("T-SPARE", "O-5", sample_seal="S1", backup_seal="S2"),
            purchase("T-DRYER", "O-1", sample_seal="D1", backup_seal="D2"),
        ],
    )
    assert _refused(world, "purchases", path, home) == [
        "row 3, column 订单号: 订单号 O-1 已记录在任务 T-KETTLE 下 / order O-1 is already recorded "
        "for task T-KETTLE"
    ]


def test_a_gbk_csv_is_reported_with_its_chinese_intact(world, home):
    inbox = home / "inbox" / "purchases"
    path = write_csv(
        inbox / "十一月采购.csv",
        PURCHASE_HEADER_ZH,
        [
            purchase(),
            purchase("T-电水壶", "O-2", sample_seal="D1", backup_seal="D2", condition="纸箱破损"),
        ],
        encoding="gbk",
    )
    assert path.read_bytes().decode("gbk")  # really GBK, not UTF-8
    assert _refused(world, "purchases", path, home) == [
        "row 3, column 任务编号: 没有这个抽样任务：T-电水壶 / no sampling task T-电水壶"
    ]
    errors = home / "inbox" / "rejected" / "purchases" / "十一月采购.csv.errors.csv"
    rows = list(csv.reader(errors.read_bytes().decode("utf-8-sig").splitlines()))
    assert rows[1] == [
        "3",
        "任务编号",
        "A3",
        "T-电水壶",
        "错误 error",
        "没有这个抽样任务：T-电水壶 / no sampling task T-电水壶",
        "unknown_task",
    ]
    # The same file, corrected, is taken whole in GBK.
    fixed = write_csv(
        inbox / "十一月采购.csv",
        PURCHASE_HEADER_ZH,
        [purchase(), purchase("T-DRYER", "O-2", sample_seal="D1", backup_seal="D2")],
        encoding="gbk",
    )
    assert fixed.exists()
    [report] = scan_inbox(world, home=home, now=NOW)
    assert report.status == "accepted" and _counts(world) == (2, 0)
