with

messages as (

    select * from {{ ref('messages') }}

),

text_messages as (

    select * from messages
    where message_type = 'text'

),

final as (

    select
        chat_id,
        message_date,
        count(*) as text_messages,
        avg(cast(text_length as double)) as avg_length,
        min(text_length) as min_length,
        max(text_length) as max_length
    from text_messages
    group by 1, 2

)

select * from final
