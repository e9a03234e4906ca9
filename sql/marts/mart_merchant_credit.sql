-- mart_merchant_credit: the red and black lists of shops (one row per listing, in force
-- or ended). For BI tools: filter is_in_force for the lists as they stand; list_kind or
-- rule_code for one list; read reason for the evidence in words.
-- No personal data: the name of a shop that may be run by a person (个人网店) is withheld,
-- by the rule the notices use (transforms.results.facts.is_individual): a credit code
-- 9X… tells (X = 2: 个体工商户); without one, only a licence naming a company (…公司) is
-- a business; an unknown shop is treated as a person's. Contacts never appear.
with shop_licences as (
    select
        platform,
        external_id,
        name,
        upper(trim(coalesce(cast(attributes ->> 'credit_code' as text), ''))) as credit_code,
        coalesce(company_name, '') as company_name,
        coalesce(
            lower(cast(attributes ->> 'is_individual' as text)) in ('true', '1'), false
        ) as is_marked_individual
    from shops
),

shop_marks as (
    select
        platform,
        external_id,
        name,
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
        mc.platform,                           -- 电商平台
        mc.shop_external_id,                   -- 平台店铺编号
        mc.shop_id,                            -- 店铺编号：shops.id
        case
            when coalesce(s.is_individual, 1) = 1 then '个人网店（名称不公开）'
            else coalesce(s.name, mc.shop_name)
        end as shop_name,                      -- 店铺名称（个人网店不公开）
        coalesce(s.is_individual, 1) = 1 as is_individual_shop, -- 是否个人网店（或无法确认为企业）
        mc.list_kind,                          -- 名单代码：black/red
        case mc.list_kind
            when 'black' then '黑名单'
            when 'red' then '红名单'
        end as list_zh,                        -- 名单：黑名单/红名单
        mc.rule_code,                          -- 规则代码：repeat_failure/unremedied_safety/clean_record
        cast(mc.evidence ->> 'rule_zh' as text) as rule_zh, -- 规则名称
        mc.reason,                             -- 列入原因（含报告编号、日期；解除时注明）
        mc.listed_on,                          -- 列入日期
        mc.expires_on,                         -- 移出日期（当日起不再列入；在列且为空：整改前持续列入）
        mc.status,                             -- 状态代码：active/expired/lifted
        case mc.status
            when 'active' then '在列'
            when 'expired' then '期满移出'
            when 'lifted' then '提前移出'
        end as status_zh,                      -- 状态：在列/期满移出/提前移出
        mc.status = 'active' as is_in_force,   -- 是否在列（当前名单）
        cast(mc.evidence ->> 'report_count' as integer) as evidence_count, -- 依据检验报告数
        mc.rules_version,                      -- 信用规则版本
        mc.computed_at                         -- 最近计算变更时间（UTC）
    from merchant_credit as mc
    left join shop_marks as s
        on
            mc.platform = s.platform
            and mc.shop_external_id = s.external_id
)

select * from final
