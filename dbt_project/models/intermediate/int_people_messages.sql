{#
    One row per new message sent by a person: what every engagement mart counts.
    New messages as the marts define them (message and channel_post updates,
    not service, not edits), from someone with a user id who is not a bot
    (channel posts, anonymous admins and bots are left out; a sender whose
    is_bot is unknown counts as a person).
#}

with

messages as (

    select * from {{ ref('stg_telegram__messages') }}

),

people_messages as (

    select
        chat_id,
        message_id,
        update_id,
        user_id,
        reply_to_message_id,
        sent_at,
        message_date
    from messages
    where
        is_new_message
        and user_id is not null
        and not coalesce(user_is_bot, false)

)

select * from people_messages
