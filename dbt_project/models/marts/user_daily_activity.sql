with

messages as (

    select * from {{ ref('messages') }}

),

final as (

    select
        chat_id,
        message_date,
        user_id,
        -- Names can change during the day: keep those of the last message,
        -- null included (a username cleared on it is null, on both engines).
        {{ tgpipe.max_by_keeping_nulls('user_first_name', 'sent_at') }}
            as first_name,
        {{ tgpipe.max_by_keeping_nulls('user_username', 'sent_at') }}
            as username,
        coalesce(bool_or(user_is_bot), false) as is_bot,
        count(*) as messages,
        count(case when message_type = 'text' then 1 end) as text_messages,
        avg(
            case when message_type = 'text' then cast(text_length as double) end
        ) as avg_text_length
    from messages
    where user_id is not null
    group by 1, 2, 3

)

select * from final
