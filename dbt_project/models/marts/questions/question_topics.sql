{#
    One row per chat_id, asked_date (local day of asking) and topic (seed
    question_topic_keywords, else other): questions and how they ended.
#}

with

questions as (

    select * from {{ ref('questions') }}

),

final as (

    select
        chat_id,
        asked_date,
        topic,
        count(*) as questions,
        count(case when status <> 'unanswered' then 1 end) as answered,
        count(case when status = 'resolved' then 1 end) as resolved,
        count(case when status = 'unanswered' then 1 end) as unanswered
    from questions
    group by 1, 2, 3

),

typed as (

    select
        cast(chat_id as bigint) as chat_id,
        cast(asked_date as date) as asked_date,
        cast(topic as varchar) as topic,
        cast(questions as bigint) as questions,
        cast(answered as bigint) as answered,
        cast(resolved as bigint) as resolved,
        cast(unanswered as bigint) as unanswered
    from final

)

select * from typed
