"""The monthly report's sections: each chart with its caption and its numbers as a table.

Built from :class:`transforms.review.report_data.MonthData`; every figure has an id
(``data-chart`` in the HTML, listed in ``docs/report.md``), a Chinese title, an SVG
chart (or a 无数据 placeholder), a caption that says the key numbers in words and a
table with all of them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from risk_models.signals import CHANNEL_ZH
from transforms.review import charts
from transforms.review.charts import LEVEL_COLORS, PALETTE, Bar, Interval, Series
from transforms.review.kpis import LEVEL_ZH, LEVELS
from transforms.review.report_data import KIND_ZH, MonthData
from transforms.review.report_format import (
    LIST_ZH,
    STRATUM_SHORT,
    STRATUM_ZH,
    UNKNOWN_REGION,
    Figure,
    Kpis,
    Section,
    count,
    frac,
    pct,
    value_text,
)

TOP_CATEGORIES = 10
TOP_REGIONS = 12
# id, title, axis title, fixed top (or None), [(series, kpi, dimension)].
TRENDS: tuple[tuple[str, str, str, float | None, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "trend-detection",
        "检出率与市场不合格率",
        "比例",
        None,
        (
            ("定向检出率", "fail_rate_by_stratum", "targeted"),
            ("随机检出率", "fail_rate_by_stratum", "audit"),
            ("市场不合格率估计", "market_nonconformity", ""),
        ),
    ),
    (
        "trend-loop",
        "计划执行、处置、回执与数据质量",
        "比例",
        1.0,
        (
            ("计划执行率", "plan_execution", ""),
            ("不合格商品处置率", "disposal_rate", ""),
            ("通知回执率", "notification_ack_rate", ""),
            ("数据质量通过率", "dq_pass_rate", ""),
        ),
    ),
    (
        "trend-risk",
        "风险信号与高风险产品",
        "个数",
        None,
        (
            ("风险信号数", "signals_by_channel", ""),
            ("高风险产品数", "risks_by_level", "high"),
            ("较高风险产品数", "risks_by_level", "elevated"),
        ),
    ),
)


# ------------------------------------------------------------------------------ risks


def risk_figures(k: Kpis, categories: Mapping[str, str]) -> list[Figure]:
    counts = {lv: k.value("risks_by_level", lv) or 0 for lv in LEVELS}
    total = sum(counts.values())
    levels = Figure(
        "risk-level",
        "产品风险级别分布",
        charts.hbar(
            "本月各风险级别的产品数",
            [
                Bar(LEVEL_ZH[lv], counts[lv], f"{count(counts[lv])} 个", LEVEL_COLORS[lv])
                for lv in LEVELS
            ],
            axis_title="产品数（个）",
            fmt=charts.number,
        ),
        f"本月完成风险评估的产品共 {count(total)} 个（按每个产品本月最新一次评估）："
        + "，".join(f"{LEVEL_ZH[lv]} {count(counts[lv])} 个" for lv in LEVELS)
        + "。"
        if total
        else "本月无风险评估。",
        ("风险级别", "产品数", "占比"),
        [
            (LEVEL_ZH[lv], count(counts[lv]), pct(counts[lv] / total if total else None))
            for lv in LEVELS
        ],
        bool(total),
    )
    by_cat: dict[str, Counter] = defaultdict(Counter)
    for dim in k.dims("risks_by_category_level"):
        cat, _, level = dim.rpartition("|")
        by_cat[cat][level] += int(k.value("risks_by_category_level", dim) or 0)
    ranked = sorted(
        by_cat, key=lambda c: (-sum(by_cat[c].values()), *(-by_cat[c][lv] for lv in LEVELS), c)
    )
    top, rest = ranked[:TOP_CATEGORIES], ranked[TOP_CATEGORIES:]
    rows = [(categories.get(c, c), by_cat[c]) for c in top]
    if rest:
        rows.append((f"其他 {len(rest)} 个品类", sum((by_cat[c] for c in rest), Counter())))
    by_category = Figure(
        "risk-category",
        "各品类产品的风险级别构成",
        charts.stacked(
            "本月产品数最多的品类及其风险级别构成",
            [name for name, _ in rows],
            [Series(LEVEL_ZH[lv], LEVEL_COLORS[lv], [c[lv] for _, c in rows]) for lv in LEVELS],
            axis_title="产品数（个）",
        ),
        f"共 {len(ranked)} 个品类有风险评估，按产品数从多到少列出前 "
        f"{min(len(ranked), TOP_CATEGORIES)} 个{'，其余合并为一行' if rest else ''}；每条按风险级别分段。"
        if ranked
        else "本月无风险评估。",
        ("品类", *(LEVEL_ZH[lv] for lv in LEVELS), "合计"),
        [(name, *(count(c[lv]) for lv in LEVELS), count(sum(c.values()))) for name, c in rows],
        bool(ranked),
    )
    channels = list(CHANNEL_ZH) + [d for d in k.dims("signals_by_channel") if d not in CHANNEL_ZH]
    n = {c: k.value("signals_by_channel", c) or 0 for c in channels}
    total_signals = k.value("signals_by_channel") or 0
    signals = Figure(
        "signals-channel",
        "风险信号的来源渠道",
        charts.hbar(
            "本月各渠道的风险信号数",
            [Bar(CHANNEL_ZH.get(c, c), n[c], f"{count(n[c])} 条") for c in channels],
            axis_title="风险信号数（条）",
            fmt=charts.number,
        ),
        f"本月计算的风险信号共 {count(total_signals)} 条："
        + "，".join(f"{CHANNEL_ZH.get(c, c)} {count(n[c])} 条" for c in channels if n[c])
        + "。渠道按 GB/T 37538-2019 的信息来源分类。"
        if total_signals
        else "本月无风险信号。",
        ("渠道", "信号数"),
        [(CHANNEL_ZH.get(c, c), count(n[c])) for c in channels],
        bool(total_signals),
    )
    return [levels, by_category, signals]


# ----------------------------------------------------------------------------- trends


def trend_figures(data: MonthData) -> list[Figure]:
    months = data.trend_months
    labels = [m.strftime("%Y-%m") for m in months]
    out = []
    for chart_id, title, axis, top, spec in TRENDS:
        share = axis == "比例"
        series = [
            Series(name, PALETTE[i], [data.trend.get((m, kpi, dim)) for m in months])
            for i, (name, kpi, dim) in enumerate(spec)
        ]
        # A share of 0% is a finding; counts that are all zero have nothing to draw.
        has = any(v is not None and (share or v) for s in series for v in s.values)
        shown = pct if share else count
        label = f"{labels[0]} 至 {labels[-1]} 各月的{title}"
        out.append(
            Figure(
                chart_id,
                f"趋势：{title}",
                charts.line(
                    label,
                    labels,
                    series,
                    axis_title=axis,
                    fmt=charts.pct if share else charts.number,
                    top=top,
                )
                if has
                else charts.empty(label),
                f"{labels[0]} 至 {labels[-1]} 共 {len(months)} 个月，其中 {len(data.trend_seen)} "
                "个月有指标快照；没有快照或当月无数据的月份留空（不记为零），折线在该处断开。"
                if has
                else "近期各月均无数据（计数为零或没有快照）。",
                ("月份", *(name for name, *_ in spec), "指标快照"),
                [
                    (
                        label,
                        *(shown(s.values[i]) for s in series),
                        "有" if m in data.trend_seen else "无",
                    )
                    for i, (label, m) in enumerate(zip(labels, months, strict=True))
                ],
                has,
            )
        )
    return out


# -------------------------------------------------------------------- plans, results


def plan_figures(k: Kpis, data: MonthData) -> list[Figure]:
    executions = data.executions
    plans = sorted({e["plan_id"] for e in executions})
    execution = Figure(
        "plan-execution",
        "监测计划执行情况",
        charts.stacked(
            "本月监测计划各抽样层已出结果和未出结果的任务数",
            [f"{e['plan_id']} {STRATUM_SHORT.get(e['stratum'], e['stratum'])}" for e in executions],
            [
                Series("已出结果", PALETTE[0], [e["done"] for e in executions]),
                Series("未出结果", "#cbd2d9", [e["tasks"] - e["done"] for e in executions]),
            ],
            axis_title="任务数（个）",
            totals=[f"{e['done']}/{e['tasks']}" for e in executions],
        ),
        f"本月监测计划 {len(plans)} 个（{'、'.join(plans)}），计划执行率 "
        f"{k.share('plan_execution')}：有现行检验结论的任务 ÷ 计划的全部任务。"
        if executions
        else "本月无监测计划。",
        ("计划编号", "抽样层", "任务数", "已出结果", "执行率", "不合格", "检出率"),
        [
            (
                e["plan_id"],
                STRATUM_ZH.get(e["stratum"], e["stratum"]),
                count(e["tasks"]),
                count(e["done"]),
                pct(e["done"] / e["tasks"] if e["tasks"] else None),
                count(e["failed"]),
                pct(e["failed"] / e["done"] if e["done"] else None),
            )
            for e in executions
        ],
        bool(executions),
    )
    strata = (("targeted", PALETTE[1]), ("audit", PALETTE[0]))
    tested = sum(k.get("fail_rate_by_stratum", s)["denominator"] or 0 for s, _ in strata)
    hit = Figure(
        "hit-rate",
        "定向监测与随机监测的不合格检出率",
        charts.hbar(
            "本月定向监测与随机监测（审计）的不合格检出率",
            [
                Bar(
                    STRATUM_ZH[s],
                    k.value("fail_rate_by_stratum", s),
                    k.share("fail_rate_by_stratum", s),
                    c,
                )
                for s, c in strata
            ],
            axis_title="不合格检出率",
            fmt=charts.pct,
        ),
        f"定向监测检出率 {k.share('fail_rate_by_stratum', 'targeted')}，随机监测（审计）检出率 "
        f"{k.share('fail_rate_by_stratum', 'audit')}，定向提升倍数 "
        f"{value_text('ratio', k.value('targeting_lift'))}（本月出具的现行检验结论）。"
        if tested
        else "本月无检验结论。",
        ("抽样层", "检验批次", "不合格批次", "检出率"),
        [
            (
                STRATUM_ZH[s],
                count(k.get("fail_rate_by_stratum", s)["denominator"] or 0),
                count(k.get("fail_rate_by_stratum", s)["numerator"] or 0),
                pct(k.value("fail_rate_by_stratum", s)),
            )
            for s, _ in strata
        ],
        bool(tested),
    )
    return [execution, hit, market_figure(data), precision_figure(k)]


def estimate_label(e: Mapping[str, Any], categories: Mapping[str, str], multi: bool) -> str:
    code = e["category_code"]
    name = "全部品类" if code == "*" else categories.get(code, code)
    return f"{e['plan_id']} {name}" if multi else name


def estimate_text(e: Mapping[str, Any]) -> str:
    if e["estimate"] is None:
        return "—"
    if e["ci_low"] is None or e["ci_high"] is None:
        return pct(e["estimate"])
    return f"{pct(e['estimate'])}（{pct(e['ci_low'])}–{pct(e['ci_high'])}）"


def market_figure(data: MonthData) -> Figure:
    estimates = data.estimates
    multi = len({e["plan_id"] for e in estimates}) > 1

    def label(e: Mapping[str, Any]) -> str:
        return estimate_label(e, data.categories, multi)

    overall = [e for e in estimates if e["category_code"] == "*"]
    words = "；".join(
        f"{label(e)}估计 {estimate_text(e)}，随机样本 {e['audit_samples']} 批，其中不合格 "
        f"{e['audit_failed']} 批"
        for e in overall
    )
    return Figure(
        "market-estimate",
        "市场不合格率估计（95% 置信区间）",
        charts.intervals(
            "本月监测计划估计的市场不合格率及其 95% 置信区间，按品类",
            [
                Interval(
                    label(e),
                    e["estimate"],
                    e["ci_low"],
                    e["ci_high"],
                    estimate_text(e),
                    e["category_code"] == "*",
                )
                for e in estimates
            ],
            axis_title="估计不合格率（圆点）及 95% 置信区间（横线）",
        ),
        (words + "。" if words else "")
        + "估计只用随机（审计）样本，按入样概率加权（Horvitz–Thompson）；定向样本只用于检出率。"
        if estimates
        else "本月无市场不合格率估计。",
        ("品类", "随机样本", "随机不合格", "估计不合格率（95% 区间）", "定向样本", "定向不合格"),
        [
            (
                label(e),
                count(e["audit_samples"]),
                count(e["audit_failed"]),
                estimate_text(e),
                count(e["targeted_samples"]),
                count(e["targeted_failed"]),
            )
            for e in estimates
        ],
        any(e["estimate"] is not None for e in estimates),
    )


def precision_figure(k: Kpis) -> Figure:
    by_level = [k.get("fail_rate_by_level", lv) for lv in LEVELS]
    brier = k.get("model_brier")
    detail = brier.get("detail") or {}
    calibration = (
        f"风险模型 Brier 分数 {value_text('score', brier['value'])}（{count(brier['denominator'])} 批；"
        f"平均预测不合格概率 {pct(detail.get('mean_predicted'))}，实际不合格比例 "
        f"{pct(detail.get('observed'))}）。"
        if brier["value"] is not None
        else "本月无可用于模型校验的检验结论。"
    )
    return Figure(
        "fail-by-level",
        "按检验前风险级别的不合格检出率（模型校验）",
        charts.hbar(
            "本月按检验前风险级别的不合格检出率",
            [
                Bar(
                    LEVEL_ZH[lv],
                    r["value"],
                    pct(r["value"]) + frac(r["numerator"], r["denominator"]),
                    LEVEL_COLORS[lv],
                )
                for lv, r in zip(LEVELS, by_level, strict=True)
            ],
            axis_title="不合格检出率",
            fmt=charts.pct,
        ),
        "风险级别越高，检出率应越高。" + calibration,
        ("检验前风险级别", "检验批次", "不合格批次", "检出率"),
        [
            (
                LEVEL_ZH[lv],
                count(r["denominator"] or 0),
                count(r["numerator"] or 0),
                pct(r["value"]),
            )
            for lv, r in zip(LEVELS, by_level, strict=True)
        ],
        any(r["denominator"] for r in by_level),
    )


# ------------------------------------------------------------------ regions, the loop


def region_rows(data: MonthData) -> list[tuple[str | None, str, list[int]]]:
    """(province code, name, [risky products, results, failures]), most first."""
    rows = [
        (code, data.provinces.get(code, code) if code else UNKNOWN_REGION, counts)
        for code, counts in data.regions.items()
    ]
    return sorted(rows, key=lambda r: (r[0] is None, -(r[2][0] + r[2][2]), -r[2][1], r[0] or ""))


def region_figure(data: MonthData) -> Figure:
    rows = region_rows(data)
    shown, rest = rows[:TOP_REGIONS], rows[TOP_REGIONS:]
    table = [(name, *c) for _, name, c in shown]
    if rest:
        table.append((f"其他 {len(rest)} 个地区", *(sum(r[2][i] for r in rest) for i in range(3))))
    known = sum(1 for code, *_ in rows if code)
    return Figure(
        "regions",
        "风险与不合格的地区分布（按店铺所在省份）",
        charts.grouped(
            "本月各省份的高风险及较高风险产品数和不合格批次数",
            [r[0] for r in table],
            [
                Series("高风险及较高风险产品", LEVEL_COLORS["elevated"], [r[1] for r in table]),
                Series("不合格批次", PALETTE[0], [r[3] for r in table]),
            ],
            axis_title="个数",
        ),
        f"涉及 {known} 个省级地区"
        + (f"，列出前 {TOP_REGIONS} 个，其余合并" if rest else "")
        + "。产品按其在售店铺的所在地计（在多个省份销售的产品在各省分别计），检验批次按采样店铺所在地计；"
        "店铺所在地不明的计入“未知地区”。只统计个数。"
        if rows
        else "本月无高风险产品和检验结论。",
        ("省份", "高风险及较高风险产品", "检验批次", "不合格批次"),
        [(name, count(a), count(b), count(c)) for name, a, b, c in table],
        bool(rows),
    )


def timeliness_figure(k: Kpis) -> Figure:
    s2r, r2d = k.get("days_signal_to_result"), k.get("days_result_to_disposal")
    days = [
        Bar("风险信号 → 检验结果", s2r["value"], _days(s2r), PALETTE[0]),
        Bar("不合格结果 → 平台下架确认", r2d["value"], _days(r2d), PALETTE[1]),
    ]
    return Figure(
        "timeliness",
        "从风险信号到检验结果再到处置的时间",
        charts.hbar(
            "本月各环节用时的中位数（天）", days, axis_title="天数（中位数）", fmt=charts.number
        ),
        f"风险信号到检验结果 {_days(s2r)}；不合格结果到平台确认下架 {_days(r2d)}。"
        f"不合格商品处置率 {k.share('disposal_rate')}。两段各自按有记录的批次取中位数。",
        ("环节", "中位数", "批次", "说明"),
        [
            (
                "风险信号 → 检验结果",
                value_text("days", s2r["value"]),
                count(s2r["denominator"] or 0),
                "首次被评为高风险或较高风险之日至检验日期",
            ),
            (
                "不合格结果 → 平台下架确认",
                value_text("days", r2d["value"]),
                count(r2d["denominator"] or 0),
                "检验日期至平台确认下架或整改之日",
            ),
            (
                "不合格商品处置率",
                pct(k.value("disposal_rate")),
                count(k.get("disposal_rate")["denominator"] or 0),
                "平台已确认处置的不合格批次 ÷ 不合格批次",
            ),
        ],
        s2r["value"] is not None or r2d["value"] is not None,
    )


def _days(r: Mapping[str, Any]) -> str:
    if r["value"] is None:
        return "无数据"
    return f"中位数 {r['value']:.1f} 天（{count(r['denominator'])} 批）"


def notice_figure(k: Kpis, data: MonthData) -> Figure:
    owed = [n for n in data.notices if n.get("need_ack")]
    names = [KIND_ZH.get(n["kind"], n["kind"]) for n in owed]
    return Figure(
        "notifications",
        "通知回执情况",
        charts.stacked(
            "本月发出的需回执通知中已回执和未回执的件数，按通知类型",
            names,
            [
                Series("已回执", PALETTE[2], [n["acked"] for n in owed]),
                Series("未回执", "#cbd2d9", [n["need_ack"] - n["acked"] for n in owed]),
            ],
            axis_title="通知数（件）",
            totals=[f"{n['acked']}/{n['need_ack']}" for n in owed],
        ),
        f"通知回执率 {k.share('notification_ack_rate')}，通知按时发出率 "
        f"{k.share('notification_on_time_rate')}（本月生成的通知，已取消的不计）。"
        if data.notices
        else "本月无通知。",
        (
            "通知类型",
            "通知数",
            "已送达",
            "待发送或重试",
            "发送失败",
            "已取消",
            "需回执",
            "已回执",
            "回执率",
        ),
        [notice_row(n) for n in data.notices],
        bool(owed),
    )


def notice_row(n: Mapping[str, Any]) -> tuple[str, ...]:
    waiting = sum(n.get(s, 0) for s in ("queued", "sending", "retry"))
    return (
        KIND_ZH.get(n["kind"], n["kind"]),
        count(n["total"]),
        count(n.get("sent", 0)),
        count(waiting),
        count(n.get("dead", 0)),
        count(n.get("cancelled", 0)),
        count(n.get("need_ack", 0)),
        count(n.get("acked", 0)),
        pct(n["acked"] / n["need_ack"] if n.get("need_ack") else None),
    )


def quality_figure(k: Kpis) -> Figure:
    tables = k.dims("dq_pass_rate")
    return Figure(
        "data-quality",
        "数据质量检查通过率",
        charts.hbar(
            "本月各数据表的数据质量检查通过率",
            [
                Bar(t, k.value("dq_pass_rate", t), k.share("dq_pass_rate", t), PALETTE[2])
                for t in tables
            ],
            axis_title="通过率",
            fmt=charts.pct,
            top=1.0,
        ),
        f"本月数据质量检查项共 {count(k.get('dq_pass_rate')['denominator'])} 项次，通过率 "
        f"{k.share('dq_pass_rate')}。"
        if tables
        else "本月无数据质量检查记录。",
        ("数据表", "检查项次", "通过", "通过率"),
        [
            (
                t,
                count(k.get("dq_pass_rate", t)["denominator"]),
                count(k.get("dq_pass_rate", t)["numerator"]),
                pct(k.value("dq_pass_rate", t)),
            )
            for t in tables
        ],
        bool(tables),
    )


# ---------------------------------------------------------------------------- the lot


def sections(data: MonthData) -> list[Section]:
    k = Kpis(data.kpis)
    out = [
        Section(
            "risks",
            "一、风险监测",
            "本月的风险信号和产品风险评估结果。",
            risk_figures(k, data.categories),
        ),
        Section(
            "plans",
            "二、监测计划与检验结果",
            "本月监测计划的执行、检出和市场不合格率估计。",
            plan_figures(k, data),
        ),
        Section("regions", "三、地区分布", "", [region_figure(data)]),
        Section(
            "loop",
            "四、结果处理与信息传递",
            "从发现风险到处置的用时，以及通知的回执。",
            [timeliness_figure(k), notice_figure(k, data)],
        ),
        Section("quality", "五、数据质量", "", [quality_figure(k)]),
        Section("trends", "六、近期趋势", "各月指标取自当月的指标快照。", trend_figures(data)),
    ]
    if data.credit:
        out.append(
            Section(
                "credit",
                "七、诚信名单",
                "按名单和规则统计的店铺数（不列店铺名称）。",
                headers=("名单", "规则", "目前在列", "本月新列入"),
                rows=[
                    (
                        LIST_ZH.get(c["list_kind"], c["list_kind"]),
                        c["title"],
                        count(c["active"]),
                        count(c["new"]),
                    )
                    for c in data.credit
                ],
            )
        )
    return out
