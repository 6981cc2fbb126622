with

staged as (

    select * from {{ ref('stg_telegram__messages') }}

),

messages as (

    select * from {{ ref('messages') }}

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
    from staged
    group by 1

),

activity as (

    select
        chat_id,
        min(message_date) as first_message_date,
        max(message_date) as last_message_date,
        count(*) as messages,
        count(distinct user_id) as users
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
        coalesce(activity.messages, 0) as messages,
        coalesce(activity.users, 0) as users
    from latest
    left join activity
        on latest.chat_id = activity.chat_id

)

select * from final
