{#
    Daily, weekly and monthly active senders per chat and local day, over every
    day from the chat's first to its last message day (quiet days included):
    a sender is active on a day in the 7 (wau) or 30 (mau) days ending on it.
#}

with

chats as (

    select * from {{ ref('chats') }}

),

people_messages as (

    select * from {{ ref('int_people_messages') }}

),

spine as (

    select
        chats.chat_id,
        cast(spine_days.spine_date as date) as message_date
    from chats
    cross join
        unnest(
            {{ tgpipe.date_sequence(
                'chats.first_message_date', 'chats.last_message_date'
            ) }}
        ) as spine_days (spine_date)
    where chats.first_message_date is not null

),

sender_days as (

    select distinct
        chat_id,
        user_id,
        message_date
    from people_messages

),

first_days as (

    select
        chat_id,
        user_id,
        min(message_date) as first_message_date
    from sender_days
    group by 1, 2

),

-- Each day a person sent a message counts for the 30 days that start with it.
sender_windows as (

    select
        spine.chat_id,
        spine.message_date,
        sender_days.user_id,
        {{ tgpipe.days_between(
            'sender_days.message_date', 'spine.message_date'
        ) }} as days_ago
    from spine
    inner join sender_days
        on
            spine.chat_id = sender_days.chat_id
            and spine.message_date >= sender_days.message_date
            and {{ tgpipe.add_days('spine.message_date', -29) }}
            <= sender_days.message_date

),

window_counts as (

    select
        chat_id,
        message_date,
        count(distinct case when days_ago = 0 then user_id end) as dau,
        count(distinct case when days_ago < 7 then user_id end) as wau,
        count(distinct user_id) as mau
    from sender_windows
    group by 1, 2

),

newcomers as (

    select
        chat_id,
        first_message_date as message_date,
        count(*) as new_users
    from first_days
    group by 1, 2

),

final as (

    select
        spine.chat_id,
        spine.message_date,
        cast(coalesce(window_counts.dau, 0) as bigint) as dau,
        cast(coalesce(window_counts.wau, 0) as bigint) as wau,
        cast(coalesce(window_counts.mau, 0) as bigint) as mau,
        cast(coalesce(newcomers.new_users, 0) as bigint) as new_users
    from spine
    left join window_counts
        on
            spine.chat_id = window_counts.chat_id
            and spine.message_date = window_counts.message_date
    left join newcomers
        on
            spine.chat_id = newcomers.chat_id
            and spine.message_date = newcomers.message_date

)

select * from final
