with

messages as (

    select * from {{ ref('stg_telegram__messages') }}

),

-- The title and type a chat has now: those of its most recent update (a null
-- title there stays null, on both engines).
latest as (

    select
        chat_id,
        {{ tgpipe.max_by_keeping_nulls('chat_title', 'sent_at') }}
            as chat_title,
        {{ tgpipe.max_by_keeping_nulls('chat_type', 'sent_at') }}
            as chat_type
    from messages
    group by 1

),

activity as (

    select
        chat_id,
        min(
            case when is_new_message then message_date end
        ) as first_message_date,
        max(
            case when is_new_message then message_date end
        ) as last_message_date,
        count(case when is_new_message then 1 end) as messages,
        count(distinct case when is_new_message then user_id end) as users
    from messages
    group by 1

),

final as (

    select
        latest.chat_id,
        latest.chat_title,
        latest.chat_type,
        activity.first_message_date,
        activity.last_message_date,
        activity.messages,
        activity.users
    from latest
    inner join activity
        on latest.chat_id = activity.chat_id

)

select * from final
