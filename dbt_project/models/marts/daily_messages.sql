with

staged as (

    select * from {{ ref('stg_telegram__messages') }}

),

messages as (

    select * from {{ ref('messages') }}

),

sent as (

    select
        chat_id,
        message_date,
        count(*) as messages,
        count(distinct user_id) as active_users,
        count(case when message_type = 'text' then 1 end) as text_messages,
        count(case when message_type <> 'text' then 1 end) as media_messages,
        count(case when is_forwarded then 1 end) as forwarded_messages
    from messages
    group by 1, 2

),

-- An edit belongs to the local day it was made on, not to the day of the
-- message it edits.
edits as (

    select
        chat_id,
        coalesce(edited_date, message_date) as message_date,
        count(*) as edits
    from staged
    where is_edit
    group by 1, 2

),

days as (

    select
        chat_id,
        message_date
    from sent
    union distinct
    select
        chat_id,
        message_date
    from edits

),

final as (

    select
        days.chat_id,
        days.message_date,
        coalesce(sent.messages, 0) as messages,
        coalesce(sent.active_users, 0) as active_users,
        coalesce(sent.text_messages, 0) as text_messages,
        coalesce(sent.media_messages, 0) as media_messages,
        coalesce(sent.forwarded_messages, 0) as forwarded_messages,
        coalesce(edits.edits, 0) as edits
    from days
    left join sent
        on
            days.chat_id = sent.chat_id
            and days.message_date = sent.message_date
    left join edits
        on
            days.chat_id = edits.chat_id
            and days.message_date = edits.message_date

)

select * from final
