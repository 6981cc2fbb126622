{#
    Who answers whom: per chat, each person who replied to a message of another
    person, with how often and when. A reply is a new message whose
    reply_to_message_id is the message_id of a new message in the same chat;
    both senders are people (bots and channel posts left out), and replying to
    yourself is not a pair. A reply to a message the lake does not hold (sent
    before it starts) has no replied-to user and is not counted.
#}

with

people_messages as (

    select * from {{ ref('int_people_messages') }}

),

replies as (

    select
        reply.chat_id,
        reply.user_id as replier_user_id,
        original.user_id as replied_to_user_id,
        reply.sent_at
    from people_messages as reply
    inner join people_messages as original
        on
            reply.chat_id = original.chat_id
            and reply.reply_to_message_id = original.message_id
    where reply.user_id <> original.user_id

),

final as (

    select
        chat_id,
        replier_user_id,
        replied_to_user_id,
        count(*) as replies,
        min(sent_at) as first_reply_at,
        max(sent_at) as last_reply_at
    from replies
    group by 1, 2, 3

)

select * from final
