{#
    Are questions answered? For each new message, its first reply from someone else (a new message
    in the same chat whose reply_to_message_id is its message_id), wherever that reply falls in time.
    Counted on the day the replied-to message was sent.
#}

with

messages as (

    select * from {{ ref('messages') }}

),

new_messages as (

    select
        chat_id,
        message_id,
        message_date,
        sent_at,
        reply_to_message_id,
        coalesce(user_id, sender_chat_id) as sender_id
    from messages

),

first_replies as (

    select
        original.chat_id,
        original.message_id,
        min(reply.sent_at) as first_reply_at
    from new_messages as original
    inner join new_messages as reply
        on
            original.chat_id = reply.chat_id
            and original.message_id = reply.reply_to_message_id
    -- Replying to yourself is not an answer.
    where reply.sender_id is distinct from original.sender_id
    group by 1, 2

),

latencies as (

    select
        new_messages.chat_id,
        new_messages.message_date,
        first_replies.first_reply_at is not null as has_reply,
        cast(
            {{ tgpipe.seconds_between(
                'new_messages.sent_at', 'first_replies.first_reply_at'
            ) }} as double
        ) / 60.0 as minutes_to_first_reply
    from new_messages
    left join first_replies
        on
            new_messages.chat_id = first_replies.chat_id
            and new_messages.message_id = first_replies.message_id

),

final as (

    select
        chat_id,
        message_date,
        count(*) as messages,
        count(case when has_reply then 1 end) as replied_messages,
        cast(count(case when has_reply then 1 end) as double)
        / count(*) as reply_rate,
        {{ tgpipe.median('minutes_to_first_reply') }}
            as median_minutes_to_first_reply,
        avg(minutes_to_first_reply) as avg_minutes_to_first_reply
    from latencies
    group by 1, 2

)

select * from final
