-- mart_kpi_monthly: the monthly management indicators (one row per month, indicator
-- and breakdown). For BI tools: filter by kpi, chart value by period_start; shares are
-- 0–1, with numerator and denominator beside them.
with snapshots as (
    select
        period_start,
        kpi,
        dimension,
        label_zh,
        unit,
        value,
        numerator,
        denominator,
        ci_low,
        ci_high,
        computed_at
    from kpi_snapshots
),

final as (
    select
        period_start,                          -- 月份（该月第一天）
        kpi,                                   -- 指标代码
        dimension,                             -- 分组：空为总体，否则为渠道、级别、抽样层等
        label_zh,                              -- 指标名称（含分组）
        unit,                                  -- 单位：count 个数/share 比例/ratio 倍数/days 天/score 分数
        value,                                 -- 指标值（无数据时为空）
        numerator,                             -- 分子（比例类指标）
        denominator,                           -- 分母（比例类指标）
        ci_low,                                -- 95％ 置信区间下限（市场不合格率）
        ci_high,                               -- 95％ 置信区间上限（市场不合格率）
        computed_at                            -- 计算时间（UTC）
    from snapshots
)

select * from final
