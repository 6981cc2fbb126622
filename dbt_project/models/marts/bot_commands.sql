with

messages as (

    select * from {{ ref('messages') }}

),

final as (

    select
        chat_id,
        message_date,
        bot_command,
        count(*) as uses,
        count(distinct user_id) as users
    from messages
    where bot_command is not null
    group by 1, 2, 3

)

select * from final
