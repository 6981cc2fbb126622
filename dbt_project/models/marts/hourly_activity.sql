with

messages as (

    select * from {{ ref('messages') }}

),

final as (

    select
        chat_id,
        message_weekday as day_of_week,
        message_hour as hour_of_day,
        case message_weekday
            when 1 then 'Monday'
            when 2 then 'Tuesday'
            when 3 then 'Wednesday'
            when 4 then 'Thursday'
            when 5 then 'Friday'
            when 6 then 'Saturday'
            when 7 then 'Sunday'
        end as day_name,
        count(*) as messages,
        count(distinct user_id) as active_users,
        count(distinct message_date) as active_days
    from messages
    group by 1, 2, 3, 4

)

select * from final
