"""Numbers, labels and table records of the monthly report, for people.

Shares as percentages with one decimal, counts with thousands separators, — where there
is nothing to compute (never a zero); indicator codes and breakdowns in Chinese; the
month's snapshot rows in reading order. :class:`Figure`, :class:`Section` and
:class:`Tile` are what the template lays out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from risk_models.signals import CHANNEL_ZH
from transforms.review import kpis
from transforms.review.kpis import LEVEL_ZH, LEVELS, SHANGHAI

NO_DATA = "无数据"
STRATUM_ZH = {"targeted": "定向监测", "audit": "随机监测（审计）"}
STRATUM_SHORT = {"targeted": "定向", "audit": "随机"}
LIST_ZH = {"black": "黑名单", "red": "红名单"}
UNKNOWN_REGION = "未知地区"


@dataclass
class Figure:
    """A chart, what it shows in words, and its numbers as a table."""

    id: str
    title: str
    svg: Markup
    caption: str
    headers: Sequence[str] = ()
    rows: Sequence[Sequence[str]] = ()
    has_data: bool = True

    @property
    def numeric(self) -> list[bool]:
        return numeric_columns(self.headers, self.rows)


_NUMERIC = re.compile(r"[\d,.%/\-—–（）\s天倍]*")


def numeric_columns(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[bool]:
    """Per column: does it hold numbers only (set right-aligned)?

    >>> numeric_columns(("a", "b", "c"), [("充电宝", "31.0%（5.0%–70.0%）", "2/3")])
    [False, True, True]
    """
    return [
        bool(rows) and all(_NUMERIC.fullmatch(str(row[i])) for row in rows)
        for i in range(len(headers))
    ]


@dataclass
class Section:
    id: str
    title: str
    intro: str = ""
    figures: list[Figure] = field(default_factory=list)
    headers: Sequence[str] = ()
    rows: Sequence[Sequence[str]] = ()

    @property
    def numeric(self) -> list[bool]:
        return numeric_columns(self.headers, self.rows)


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    detail: str


# ------------------------------------------------------------------------ formatting


def pct(v: float | None) -> str:
    """A share for people: one decimal, — when there is none.

    >>> pct(0.31), pct(None), pct(1)
    ('31.0%', '—', '100.0%')
    """
    return "—" if v is None else f"{v * 100:.1f}%"


def count(v: float | None) -> str:
    """A count for people.

    >>> count(1234.0), count(None)
    ('1,234', '—')
    """
    return "—" if v is None else f"{round(v):,}"


def frac(k: float | None, n: float | None) -> str:
    return f"（{count(k)}/{count(n)}）" if n else ""


def value_text(unit: str, v: float | None) -> str:
    """An indicator's value by its unit.

    >>> value_text("ratio", 1.0), value_text("days", 23), value_text("score", 0.3)
    ('1.00 倍', '23.0 天', '0.3000')
    """
    if v is None:
        return "—"
    shown: dict[str, Callable[[float], str]] = {
        "count": count,
        "share": pct,
        "ratio": lambda x: f"{x:.2f} 倍",
        "days": lambda x: f"{x:.1f} 天",
    }
    return shown.get(unit, lambda x: f"{x:.4f}")(v)


def shanghai(moment: dt.datetime | None) -> str:
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


class Kpis:
    """The month's snapshot rows, by (kpi, dimension)."""

    def __init__(self, rows: Mapping[tuple[str, str], dict]) -> None:
        self.rows = rows

    def get(self, kpi: str, dim: str = "") -> dict:
        return self.rows.get((kpi, dim)) or {
            "value": None,
            "numerator": None,
            "denominator": None,
            "ci_low": None,
            "ci_high": None,
            "detail": None,
        }

    def value(self, kpi: str, dim: str = "") -> float | None:
        return self.get(kpi, dim)["value"]

    def share(self, kpi: str, dim: str = "") -> str:
        r = self.get(kpi, dim)
        return pct(r["value"]) + frac(r["numerator"], r["denominator"])

    def dims(self, kpi: str) -> list[str]:
        return sorted(d for k, d in self.rows if k == kpi and d)


def dimension_zh(kpi: str, dim: str, categories: Mapping[str, str]) -> str:
    """A breakdown as people read it: level, stratum and channel codes in Chinese."""
    if kpi == "signals_by_channel":
        return CHANNEL_ZH.get(dim, dim)
    if kpi in ("risks_by_level", "fail_rate_by_level"):
        return LEVEL_ZH.get(dim, dim)
    if kpi == "fail_rate_by_stratum":
        return STRATUM_ZH.get(dim, dim)
    if kpi == "risks_by_category_level":
        cat, _, level = dim.rpartition("|")
        return f"{categories.get(cat, cat)}·{LEVEL_ZH.get(level, level)}"
    if kpi == "market_nonconformity":
        return " ".join(categories.get(p, p) for p in dim.split("|"))
    return dim


def kpi_label(row: Mapping[str, Any], categories: Mapping[str, str]) -> str:
    kpi, dim = row["kpi"], row["dimension"]
    if kpi not in kpis.LABELS:
        return str(row["label_zh"])
    base = kpis.LABELS[kpi][0]
    return f"{base}：{dimension_zh(kpi, dim, categories)}" if dim else base


_DIMENSION_ORDER = {
    "signals_by_channel": list(CHANNEL_ZH),
    "risks_by_level": list(LEVELS),
    "fail_rate_by_level": list(LEVELS),
    "fail_rate_by_stratum": list(STRATUM_ZH),
}


def kpi_order(rows: Mapping[tuple[str, str], dict]) -> list[dict]:
    """Snapshot rows in the order of ``kpis.LABELS``, the whole before its breakdowns,
    levels from high to low, channels and strata in their usual order."""
    order = {k: i for i, k in enumerate(kpis.LABELS)}

    def key(kd: tuple[str, str]) -> tuple:
        kpi, dim = kd
        known = _DIMENSION_ORDER.get(kpi, [])
        rank = known.index(dim) if dim in known else len(known)
        return (order.get(kpi, len(order)), kpi, dim != "", rank, dim)

    return [rows[kd] for kd in sorted(rows, key=key)]


# --------------------------------------------------------------------------- overview


def tiles(k: Kpis) -> list[Tile]:
    market = k.get("market_nonconformity")
    interval = (
        f"95% 置信区间 {pct(market['ci_low'])}–{pct(market['ci_high'])}"
        if market["ci_low"] is not None
        else "无置信区间"
    )
    risky = [k.value("risks_by_level", lv) for lv in ("high", "elevated")]
    assessed = sum(k.value("risks_by_level", lv) or 0 for lv in LEVELS)
    return [
        Tile("风险信号", count(k.value("signals_by_channel") or 0), "本月计算，各渠道合计"),
        Tile(
            "高风险 / 较高风险产品",
            f"{count(risky[0] or 0)} / {count(risky[1] or 0)}",
            f"本月评估产品 {count(assessed)} 个",
        ),
        Tile(
            "计划执行率",
            pct(k.value("plan_execution")),
            "已出结果任务" + frac(*_nd(k, "plan_execution")),
        ),
        Tile(
            "定向 / 随机检出率",
            f"{pct(k.value('fail_rate_by_stratum', 'targeted'))} / "
            f"{pct(k.value('fail_rate_by_stratum', 'audit'))}",
            f"定向提升 {value_text('ratio', k.value('targeting_lift'))}",
        ),
        Tile("市场不合格率估计", pct(market["value"]), interval),
        Tile(
            "三无产品占比", pct(k.value("sanwu_share")), "评估产品" + frac(*_nd(k, "sanwu_share"))
        ),
        Tile(
            "不合格商品处置率",
            pct(k.value("disposal_rate")),
            "平台确认下架" + frac(*_nd(k, "disposal_rate")),
        ),
        Tile(
            "通知回执率",
            pct(k.value("notification_ack_rate")),
            "需回执通知" + frac(*_nd(k, "notification_ack_rate")),
        ),
        Tile(
            "数据质量通过率", pct(k.value("dq_pass_rate")), "检查项" + frac(*_nd(k, "dq_pass_rate"))
        ),
    ]


def _nd(k: Kpis, kpi: str, dim: str = "") -> tuple[float | None, float | None]:
    r = k.get(kpi, dim)
    return r["numerator"], r["denominator"]


def _base(r: Mapping[str, Any]) -> str:
    if not r["denominator"]:
        return ""
    if r["numerator"] is None:
        return f"n={count(r['denominator'])}"
    return f"{count(r['numerator'])}/{count(r['denominator'])}"


def indicator_rows(
    rows: Mapping[tuple[str, str], dict], categories: Mapping[str, str]
) -> list[tuple[str, ...]]:
    """Every indicator of the month for the closing table (category breakdowns of the
    risks are in their own table)."""
    return [
        (
            kpi_label(r, categories),
            value_text(r["unit"], r["value"]),
            _base(r),
            f"{pct(r['ci_low'])}–{pct(r['ci_high'])}" if r["ci_low"] is not None else "",
        )
        for r in kpi_order(rows)
        if r["kpi"] != "risks_by_category_level"
    ]
