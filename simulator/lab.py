"""A simulated purchasing team and laboratory, for the demo and the end-to-end tests.

Given the sampling tasks of a plan, it "buys" each planned listing and "tests" the sample,
drawing the outcome from the simulator's truth: a sample fails with its listing's true
failure probability (``Listing.p_fail``). It writes what real buyers and labs would drop
in the inbox — a purchase-record file and an inspection-result file with the columns of
``docs/inbox.md`` — and everything in them is marked as simulation: order numbers start
with ``SIM``, report numbers with ``SIM-``, the condition on arrival says 模拟, and the
files are named 模拟采购_… and 模拟检验_….

The draw is a function of the seed and the task id only, so the same plan gives the same
files, and the files are byte-identical on a second run (the inbox then recognises them
by their hash and changes nothing).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from transforms.intake.purchases import COLUMNS as PURCHASE_COLUMNS
from transforms.intake.results import COLUMNS as RESULT_COLUMNS

from .world import World

SHANGHAI = ZoneInfo("Asia/Shanghai")
SAFETY_HAZARDS = frozenset(
    {
        "fire",
        "electric_shock",
        "burn",
        "chemical_odour",
        "choking_small_parts",
        "cut_breakage",
    }
)
LABEL_WORDS = ("标识", "标签", "说明", "铭牌", "警示")
# The inbox's own column headers (docs/inbox.md), as staff write them.
PURCHASE_HEADERS = tuple(c.zh for c in PURCHASE_COLUMNS)
RESULT_HEADERS = tuple(c.zh for c in RESULT_COLUMNS)
CARRIERS = ("顺丰速运", "中通快递", "圆通速递", "京东物流", "韵达快递")


@dataclass
class LabRun:
    """What the simulated buyers and lab did with a plan."""

    purchases: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    failed_tasks: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # task id → why not bought
    expected_failures: float = 0.0  # the sum of the bought listings' true p_fail

    @property
    def samples(self) -> int:
        return len(self.purchases)


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _digits(text: str, n: int) -> str:
    return str(int(hashlib.sha256(text.encode()).hexdigest(), 16))[:n]


def _item_name(item: Any) -> str:
    return str(item.get("name") if isinstance(item, Mapping) else item)


def _item_standard(item: Any) -> str:
    return str(item.get("standard") or "") if isinstance(item, Mapping) else ""


def simulate(
    world: World,
    tasks: Iterable[Mapping[str, Any]],
    *,
    seed: int,
    now: dt.datetime,
) -> LabRun:
    """Buy and test every planned task that has a lab. ``tasks`` are rows of
    ``sampling_tasks``; ``now`` (aware) is when the lab reports, so nothing is dated in
    the future."""
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    run = LabRun()
    for task in sorted(tasks, key=lambda t: str(t["task_id"])):
        task_id = str(task["task_id"])
        if task.get("lab_code") is None:
            run.skipped[task_id] = "no lab can take it"
            continue
        if task.get("status") not in (None, "planned"):
            run.skipped[task_id] = f"status {task.get('status')}"
            continue
        try:
            listing = world.listing_by_ext(str(task["platform"]), int(task["listing_external_id"]))
        except (TypeError, ValueError):
            listing = None
        if listing is None:
            run.skipped[task_id] = "the listing is not in the simulated market"
            continue
        rng = random.Random(f"{seed}:{task_id}")
        created = task["created_at"]
        if created.tzinfo is None:
            created = created.replace(tzinfo=dt.UTC)
        span = max(now - created, dt.timedelta(0))
        ordered = created + span * 0.2
        received = created + span * 0.6
        tested_on = now.astimezone(SHANGHAI).date()
        price = task.get("price_fen") or listing.price_fen
        seal = _digits(f"seal:{seed}:{task_id}", 8)
        run.purchases.append(
            {
                "任务编号": task_id,
                "订单号": "SIM" + _digits(f"order:{seed}:{task_id}", 15),
                "实付金额(元)": f"{price / 100:.2f}",
                "下单时间": _local(ordered),
                "店铺": listing.shop.name,
                "商品页截图": f"{task_id}_商品页.png",
                "订单截图": f"{task_id}_订单.png",
                "购买录像": f"{task_id}_录像.mp4",
                "物流公司": CARRIERS[rng.randrange(len(CARRIERS))],
                "运单号": "SIM" + _digits(f"track:{seed}:{task_id}", 12),
                "收货时间": _local(received),
                "样品封条号": f"S{seal}",
                "备样封条号": f"B{seal}",
                "到货状态": "完好（模拟）",
            }
        )
        run.expected_failures += listing.p_fail
        items = list(task.get("test_items") or []) or [{"name": "外观与标识", "standard": ""}]
        fails = rng.random() < listing.p_fail
        failing: set[int] = set()
        if fails:
            run.failed_tasks.append(task_id)
            product_items = [
                i for i, it in enumerate(items) if not any(w in _item_name(it) for w in LABEL_WORDS)
            ] or list(range(len(items)))
            failing.add(rng.choice(product_items))
            if len(product_items) > 1 and rng.random() < 0.3:
                failing.add(rng.choice(product_items))
            label_items = [i for i in range(len(items)) if i not in product_items]
            if label_items and (listing.counterfeit or not listing.ccc_shown):
                failing.add(rng.choice(label_items))
        defect = listing.product.defect
        safety = defect is not None and defect.hazard in SAFETY_HAZARDS
        report = f"SIM-{task['lab_code']}-{_digits(f'report:{seed}:{task_id}', 10)}"
        for i, item in enumerate(items):
            name = _item_name(item)
            bad = i in failing
            if not bad:
                klass = ""
            elif any(w in name for w in LABEL_WORDS):
                klass = "轻微"
            elif safety or listing.counterfeit:
                klass = "严重"
            else:
                klass = "一般"
            run.results.append(
                {
                    "任务编号": task_id,
                    "检验项目": name,
                    "标准条款": _item_standard(item),
                    "实测值": "不符合（模拟）" if bad else "符合（模拟）",
                    "标准要求": "符合标准要求",
                    "单项判定": "不合格" if bad else "合格",
                    "缺陷类别": klass,
                    "检验机构": task["lab_code"],
                    "报告编号": report,
                    "检验日期": tested_on.isoformat(),
                }
            )
    return run


def write_inbox(run: LabRun, inbox: Path, name: str) -> tuple[Path | None, Path | None]:
    """Write the run's purchase and result files into ``inbox/{purchases,results}/``
    (UTF-8 with a byte-order mark, as Excel writes CSV); a file only when it has rows."""
    out: list[Path | None] = []
    for kind, prefix, headers, rows in (
        ("purchases", "模拟采购", PURCHASE_HEADERS, run.purchases),
        ("results", "模拟检验", RESULT_HEADERS, run.results),
    ):
        if not rows:
            out.append(None)
            continue
        folder = inbox / kind
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{prefix}_{name}.csv"
        tmp = path.with_name(path.name + ".part")
        with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(headers), lineterminator="\r\n")
            writer.writeheader()
            writer.writerows(rows)
        tmp.replace(path)
        out.append(path)
    return out[0], out[1]
