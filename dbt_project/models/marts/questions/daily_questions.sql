{#
    One row per chat_id and asked_date (local day of asking) with a question:
    how many were answered (answered or resolved), resolved, left unanswered,
    first answered by a bot or by people, and how fast.
#}

with

questions as (

    select * from {{ ref('questions') }}

),

final as (

    select
        chat_id,
        asked_date,
        count(*) as questions,
        count(case when status <> 'unanswered' then 1 end) as answered,
        count(case when status = 'resolved' then 1 end) as resolved,
        count(case when status = 'unanswered' then 1 end) as unanswered,
        count(case when first_answer_is_bot then 1 end) as answered_by_bot,
        count(
            case when not first_answer_is_bot then 1 end
        ) as answered_by_people,
        {{ tgpipe.median('minutes_to_first_answer') }}
            as median_minutes_to_first_answer,
        cast(count(case when status <> 'unanswered' then 1 end) as double)
        / count(*) as answer_rate,
        cast(count(case when status = 'resolved' then 1 end) as double)
        / count(*) as resolution_rate
    from questions
    group by 1, 2

),

typed as (

    select
        cast(chat_id as bigint) as chat_id,
        cast(asked_date as date) as asked_date,
        cast(questions as bigint) as questions,
        cast(answered as bigint) as answered,
        cast(resolved as bigint) as resolved,
        cast(unanswered as bigint) as unanswered,
        cast(answered_by_bot as bigint) as answered_by_bot,
        cast(answered_by_people as bigint) as answered_by_people,
        cast(
            median_minutes_to_first_answer as double
        ) as median_minutes_to_first_answer,
        cast(answer_rate as double) as answer_rate,
        cast(resolution_rate as double) as resolution_rate
    from final

)

select * from typed
