-- mart_risk_current: the newest risk assessment of every product (one row per product).
-- For BI tools: filter by level or category, sort by probability, read the summary.
with latest as (
    select
        product_id,
        max(as_of) as as_of
    from risk_assessments
    group by product_id
),

listing_counts as (
    select
        product_id,
        count(*) as listings_count,
        count(distinct shop_id) as shops_count,
        min(price_fen) as min_price_fen
    from listings
    where product_id is not null
    group by product_id
),

final as (
    select
        a.product_id,                          -- 产品编号：products.id
        p.brand,                               -- 品牌
        p.model,                               -- 型号
        p.name as product_name,                -- 产品名称
        a.category_code,                       -- 品类代码：ref_categories.code
        c.name_zh as category_zh,              -- 品类名称
        c.group_zh as category_group_zh,       -- 品类大类
        a.as_of,                               -- 评估日期（北京时间）
        a.level,                               -- 风险级别代码：high/elevated/moderate/low
        case a.level
            when 'high' then '高风险'
            when 'elevated' then '较高风险'
            when 'moderate' then '一般风险'
            else '低风险'
        end as level_zh,                       -- 风险级别：高风险/较高风险/一般风险/低风险
        case a.level
            when 'high' then 4
            when 'elevated' then 3
            when 'moderate' then 2
            else 1
        end as level_rank,                     -- 风险级别序号（4 最高），用于排序
        a.probability,                         -- 抽检不合格概率（模型估计，0–1）
        a.likelihood,                          -- 可能性等级 1–5：极低/低/中/高/极高
        a.severity,                            -- 严重程度 1–4：微弱/一般/严重/非常严重
        a.hazard,                              -- 主要危害类别代码
        a.is_confirmed,                        -- 是否已确认（规则或人工）
        a.confirmation,                        -- 确认依据
        a.review_status,                       -- 人工复核状态：pending/confirmed/dismissed
        a.review_note,                         -- 复核备注
        a.summary,                             -- 风险说明：主要信号及其渠道
        a.model_version,                       -- 评分模型版本
        a.matrix_version,                      -- 风险矩阵版本
        l.listings_count,                      -- 在售商品链接数
        l.shops_count,                         -- 在售店铺数
        l.min_price_fen,                       -- 最低售价（分）
        a.assessed_at                          -- 评估时间（UTC）
    from risk_assessments as a
    inner join latest
        on
            a.product_id = latest.product_id
            and a.as_of = latest.as_of
    inner join products as p on a.product_id = p.id
    left join ref_categories as c on a.category_code = c.code
    left join listing_counts as l on a.product_id = l.product_id
)

select * from final
