-- mart_notification_status: every notice in the outbox and what became of it (one row
-- per notice, reminders and escalations included). For BI tools: filter status for
-- delivery, is_ack_overdue for answers owed, kind for one document type.
-- Overdue is judged against the database clock (current_timestamp, UTC) when queried.
-- No personal data: no addresses, no error texts; the name of a shop run by an
-- individual (payload shop.is_individual) is not shown.
with notices as (
    select
        n.id,
        n.idempotency_key,
        n.parent_id,
        n.evaluation_id,
        n.report_number,
        n.kind,
        n.recipient_kind,
        n.recipient_name,
        n.channel,
        n.status,
        n.attempts,
        n.last_error,
        n.created_at,
        n.next_attempt_at,
        n.sent_at,
        n.due_at,
        n.ack_due_at,
        n.acknowledged_at,
        n.ack_kind,
        n.reminders,
        n.escalated_at,
        cast(n.payload ->> 'reference' as text) as reference,
        -- A reminder's shop is its notice's shop.
        case
            when
                lower(cast(coalesce(p.payload, n.payload) -> 'shop' ->> 'is_individual' as text))
                in ('true', '1')
                then 1
            else 0
        end as is_individual_shop
    from notifications as n
    left join notifications as p on n.parent_id = p.id
),

final as (
    select
        id as notification_id,                 -- 通知记录编号：notifications.id
        idempotency_key,                       -- 通知编号（幂等键；回执时引用）
        parent_id,                             -- 原通知记录编号（催告、上报时）
        kind,                                  -- 通知类型代码
        case kind
            when 'seller_result' then '检验结果告知书'
            when 'producer_failure' then '不合格产品检验结果通知书'
            when 'platform_failure' then '不合格产品下架处置通知'
            when 'regulator_safety' then '产品质量安全风险通报函'
            when 'public_alert' then '消费提示'
            when 'reminder' then '回执催告通知'
            when 'escalation' then '逾期未回执情况报告'
            else kind
        end as kind_zh,                        -- 通知类型
        reference,                             -- 文书编号
        report_number,                         -- 检验报告编号
        evaluation_id,                         -- 结果评价编号：evaluations.id
        recipient_kind,                        -- 收件方类型代码：seller/producer/platform/regulator/public
        case recipient_kind
            when 'seller' then '网店经营者'
            when 'producer' then '生产者'
            when 'platform' then '电商平台'
            when 'regulator' then '监管部门'
            when 'public' then '社会公众'
            else recipient_kind
        end as recipient_kind_zh,              -- 收件方类型
        case
            when recipient_kind = 'seller' and is_individual_shop = 1
                then '个人网店（名称不公开）'
            else recipient_name
        end as recipient_name,                 -- 收件方名称（个人网店不公开）
        channel,                               -- 发送渠道代码：email/webhook/file
        case channel
            when 'email' then '电子邮件'
            when 'webhook' then '平台接口'
            when 'file' then '文件'
            else channel
        end as channel_zh,                     -- 发送渠道
        status,                                -- 发送状态代码：queued/sending/sent/retry/dead/cancelled
        case status
            when 'queued' then '待发送'
            when 'sending' then '发送中'
            when 'sent' then '已送达'
            when 'retry' then '待重试'
            when 'dead' then '发送失败（待人工处理）'
            when 'cancelled' then '已取消'
            else status
        end as status_zh,                      -- 发送状态
        status = 'sent' as is_sent,            -- 是否已送达
        status = 'dead' as is_dead_letter,     -- 是否发送失败、需人工处理
        attempts,                              -- 发送尝试次数
        last_error is not null as has_error,   -- 最近一次发送是否出错（错误详情见 notifications）
        created_at,                            -- 入队时间（UTC）
        next_attempt_at,                       -- 下次尝试时间（UTC；待重试时有意义）
        sent_at,                               -- 送达时间（UTC）
        due_at,                                -- 应送达期限（UTC；空为无期限）
        coalesce(
            due_at is not null
            and (
                sent_at > due_at
                or (sent_at is null and due_at < current_timestamp)
            ),
            false
        ) as is_late,                          -- 是否超过送达期限（未送达的按当前时间）
        ack_due_at,                            -- 回执期限（UTC；空为无需回执）
        ack_due_at is not null as is_ack_expected, -- 是否需要回执
        acknowledged_at,                       -- 首次回执时间（UTC）
        acknowledged_at is not null as is_acknowledged, -- 是否已回执
        ack_kind,                              -- 最近回执类型代码（中文见下一列）
        case ack_kind
            when 'received' then '已收到'
            when 'takedown_confirmed' then '已确认下架'
            when 'objection' then '提出异议'
            when 'remedied' then '已整改'
        end as ack_kind_zh,                    -- 最近回执类型
        coalesce(
            ack_due_at is not null
            and acknowledged_at is null
            and ack_due_at < current_timestamp,
            false
        ) as is_ack_overdue,                   -- 回执是否逾期（按当前时间）
        reminders,                             -- 已催告次数
        escalated_at,                          -- 逾期上报时间（UTC）
        escalated_at is not null as is_escalated -- 是否已逾期上报
    from notices
)

select * from final
