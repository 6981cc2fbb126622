with

messages as (

    select * from {{ ref('messages') }}

),

final as (

    select
        chat_id,
        message_date,
        message_type,
        count(*) as messages,
        count(distinct user_id) as users
    from messages
    group by 1, 2, 3

)

select * from final
