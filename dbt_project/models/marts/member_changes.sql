{#
    Joins and leaves per member: a person who joined counts once a day however
    many updates said so (a service message and a chat_member update for the
    same join, or a join after a leave). Leaving includes being removed or banned.
#}

with

member_events as (

    select * from {{ ref('stg_telegram__member_events') }}

),

directions as (

    select
        chat_id,
        changed_date,
        user_id,
        case
            when member_event = 'joined' then 'joined'
            when member_event in ('left', 'kicked', 'banned') then 'left'
        end as direction
    from member_events

),

daily_changes as (

    select
        chat_id,
        changed_date as message_date,
        count(
            distinct case when direction = 'joined' then user_id end
        ) as joined_members,
        count(
            distinct case when direction = 'left' then user_id end
        ) as left_members
    from directions
    where direction is not null
    group by 1, 2

),

final as (

    select
        chat_id,
        message_date,
        joined_members,
        left_members,
        joined_members - left_members as net_change
    from daily_changes

)

select * from final
