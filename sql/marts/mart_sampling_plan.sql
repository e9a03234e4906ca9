-- mart_sampling_plan: every sampling task of every monitoring plan (one row per task).
-- For BI tools: filter by plan, stratum, lab or status; weight audit rows by
-- sampling_weight to estimate market totals. No personal data: the name of a shop that
-- may be run by a person (个人网店) is withheld, by the rule of mart_merchant_credit.
with plans as (
    select
        plan_id,
        period_start,
        period_end,
        risk_as_of,
        seed,
        status
    from monitoring_plans
),

shop_licences as (
    select
        id,
        name,
        region_code,
        upper(trim(coalesce(cast(attributes ->> 'credit_code' as text), ''))) as credit_code,
        coalesce(company_name, '') as company_name,
        coalesce(
            lower(cast(attributes ->> 'is_individual' as text)) in ('true', '1'), false
        ) as is_marked_individual
    from shops
),

shop_marks as (
    select
        id,
        name,
        region_code,
        case
            when is_marked_individual then 1
            when length(credit_code) = 18 and substr(credit_code, 1, 1) = '9'
                then case when substr(credit_code, 2, 1) = '2' then 1 else 0 end
            when replace(company_name, '公司', '') != company_name then 0
            else 1
        end as is_individual
    from shop_licences
),

final as (
    select
        t.plan_id,                             -- 监测计划编号
        plans.period_start,                    -- 计划期开始日期
        plans.period_end,                      -- 计划期结束日期
        plans.risk_as_of,                      -- 所用风险评估日期
        plans.seed,                            -- 随机抽样种子（可复现）
        plans.status as plan_status,           -- 计划状态
        t.task_id,                             -- 任务编号
        t.stratum,                             -- 抽样层代码：targeted/audit
        case t.stratum
            when 'targeted' then '定向监测'
            else '随机抽查'
        end as stratum_zh,                     -- 抽样层：定向监测/随机抽查
        t.stratum_key,                         -- 分层键：风险级别，或 品类|平台
        t.inclusion_probability,               -- 入样概率 π（定向为 1，随机为 n_h/N_h）
        1.0 / t.inclusion_probability as sampling_weight, -- 抽样权数 1/π
        t.product_id,                          -- 产品编号：products.id
        p.brand,                               -- 品牌
        p.model,                               -- 型号
        p.name as product_name,                -- 产品名称
        t.category_code,                       -- 品类代码：ref_categories.code
        c.name_zh as category_zh,              -- 品类名称
        t.risk_level,                          -- 风险级别代码：high/elevated/moderate/low
        case t.risk_level
            when 'high' then '高风险'
            when 'elevated' then '较高风险'
            when 'moderate' then '一般风险'
            when 'low' then '低风险'
        end as risk_level_zh,                  -- 风险级别（未评估为空）
        t.risk_probability,                    -- 抽检不合格概率（模型估计，0–1）
        t.listing_id,                          -- 商品链接编号：listings.id
        t.platform,                            -- 电商平台
        t.listing_external_id,                 -- 平台商品编号
        l.url as listing_url,                  -- 商品链接
        l.title as listing_title,              -- 商品标题
        t.shop_id,                             -- 店铺编号：shops.id
        case
            when coalesce(s.is_individual, 1) = 1 then '个人网店（名称不公开）'
            else s.name
        end as shop_name,                      -- 店铺名称（个人网店不公开）
        s.region_code as shop_region_code,     -- 店铺所在地区代码
        t.price_fen,                           -- 计划时标价（分）
        t.price_cap_fen,                       -- 采购限价（分/件）
        t.sample_units,                        -- 样品数量
        t.backup_units,                        -- 备样数量
        t.lab_code,                            -- 检验机构代码：ref_labs.code（空为未分配）
        lab.name as lab_name,                  -- 检验机构名称
        t.due_on,                              -- 预计到样日期
        t.status,                              -- 任务状态：planned/no_lab/…
        t.created_at                           -- 任务生成时间（UTC）
    from sampling_tasks as t
    inner join plans on t.plan_id = plans.plan_id
    left join products as p on t.product_id = p.id
    left join listings as l on t.listing_id = l.id
    left join shop_marks as s on t.shop_id = s.id
    left join ref_categories as c on t.category_code = c.code
    left join ref_labs as lab on t.lab_code = lab.code
)

select * from final
