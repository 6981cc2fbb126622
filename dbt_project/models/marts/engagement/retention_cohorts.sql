{#
    Weekly retention per chat: people grouped by the local week (Monday to
    Sunday) of their first message in the chat, and how many of them sent a
    message 0, 1, 2... weeks later, up to the week of the chat's last message
    (weeks nobody came back included, with 0).
#}

with

chats as (

    select * from {{ ref('chats') }}

),

people_messages as (

    select * from {{ ref('int_people_messages') }}

),

sender_weeks as (

    select distinct
        chat_id,
        user_id,
        {{ tgpipe.week_start('message_date') }} as activity_week
    from people_messages

),

cohort_members as (

    select
        chat_id,
        user_id,
        min(activity_week) as cohort_week
    from sender_weeks
    group by 1, 2

),

cohorts as (

    select
        chat_id,
        cohort_week,
        count(*) as cohort_users
    from cohort_members
    group by 1, 2

),

-- Every week from the cohort's to the chat's last, so a week without
-- returning members still has a row.
cohort_weeks as (

    select
        cohorts.chat_id,
        cohorts.cohort_week,
        cohorts.cohort_users,
        cast(spine_weeks.spine_date as date) as activity_week
    from cohorts
    inner join chats
        on cohorts.chat_id = chats.chat_id
    cross join
        unnest(
            {{ tgpipe.date_sequence(
                'cohorts.cohort_week',
                tgpipe.week_start('chats.last_message_date'),
                step_days=7
            ) }}
        ) as spine_weeks (spine_date)

),

returned as (

    select
        cohort_members.chat_id,
        cohort_members.cohort_week,
        sender_weeks.activity_week,
        count(*) as active_users
    from cohort_members
    inner join sender_weeks
        on
            cohort_members.chat_id = sender_weeks.chat_id
            and cohort_members.user_id = sender_weeks.user_id
    group by 1, 2, 3

),

final as (

    select
        cohort_weeks.chat_id,
        cohort_weeks.cohort_week,
        cast(
            {{ tgpipe.days_between(
                'cohort_weeks.cohort_week', 'cohort_weeks.activity_week'
            ) }} / 7 as integer
        ) as weeks_since,
        cohort_weeks.activity_week,
        cast(cohort_weeks.cohort_users as bigint) as cohort_users,
        cast(coalesce(returned.active_users, 0) as bigint) as active_users
    from cohort_weeks
    left join returned
        on
            cohort_weeks.chat_id = returned.chat_id
            and cohort_weeks.cohort_week = returned.cohort_week
            and cohort_weeks.activity_week = returned.activity_week

)

select * from final
