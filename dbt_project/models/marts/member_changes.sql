with

messages as (

    select * from {{ ref('stg_telegram__messages') }}

),

service_messages as (

    select * from messages
    where
        update_kind in ('message', 'channel_post')
        and is_service

),

daily_changes as (

    select
        chat_id,
        message_date,
        cast(
            coalesce(sum(new_chat_members_count), 0) as bigint
        ) as joined_members,
        count(left_chat_member_id) as left_members
    from service_messages
    where new_chat_members_count > 0 or left_chat_member_id is not null
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
