{#
    One row per question (chat_id, message_id): a new text message from a
    person (not a bot) with ?, ？ or ¿, or whose first word is in seed
    question_words. Its first answer (the earliest reply from another sender),
    answers, whether and how the asker marked it resolved, its topic (seed
    question_topic_keywords, first matching row) and status.
#}

{%- set window_seconds = (var('resolution_window_hours') | int) * 3600 %}

with

messages as (

    select * from {{ ref('messages') }}

),

reactions as (

    select * from {{ ref('stg_telegram__reactions') }}

),

resolution_words as (

    select * from {{ ref('resolution_words') }}

),

positive_reactions as (

    select * from {{ ref('positive_reactions') }}

),

topic_keywords as (

    select * from {{ ref('question_topic_keywords') }}

),

asked as (

    select
        chat_id,
        message_id,
        user_id,
        sent_at as asked_at,
        message_date as asked_date,
        message_text as question_text
    from messages
    where is_question

),

-- An answer: a message from someone else replying to the question.
answers as (

    select
        asked.chat_id,
        asked.message_id as question_id,
        reply.message_id as answer_id,
        reply.user_id,
        reply.sent_at,
        coalesce(reply.user_is_bot, false) as is_bot,
        row_number() over (
            partition by asked.chat_id, asked.message_id
            order by reply.sent_at asc, reply.message_id asc
        ) as answer_rank
    from asked
    inner join messages as reply
        on
            asked.chat_id = reply.chat_id
            and asked.message_id = reply.reply_to_message_id
    where
        coalesce(reply.user_id, reply.sender_chat_id)
        is distinct from asked.user_id

),

answer_counts as (

    select
        chat_id,
        question_id,
        count(distinct answer_id) as answers
    from answers
    group by 1, 2

),

first_answers as (

    select * from answers
    where answer_rank = 1

),

-- The asker's messages in the window after the first answer, in order.
asker_messages as (

    select
        asked.chat_id,
        asked.message_id as question_id,
        later.message_id,
        later.reply_to_message_id,
        later.message_text,
        later.sent_at,
        row_number() over (
            partition by asked.chat_id, asked.message_id
            order by later.sent_at asc, later.message_id asc
        ) as order_after_answer
    from asked
    inner join first_answers
        on
            asked.chat_id = first_answers.chat_id
            and asked.message_id = first_answers.question_id
    inner join messages as later
        on
            asked.chat_id = later.chat_id
            and asked.user_id = later.user_id
            and first_answers.sent_at < later.sent_at
            and {{ tgpipe.seconds_between(
                'first_answers.sent_at', 'later.sent_at'
            ) }} <= {{ window_seconds }}

),

-- A reply to the question or to one of its answers, or the asker's first
-- message after the first answer.
closing_candidates as (

    select asker_messages.*
    from asker_messages
    left join answers
        on
            asker_messages.chat_id = answers.chat_id
            and asker_messages.question_id = answers.question_id
            and asker_messages.reply_to_message_id = answers.answer_id
    where
        asker_messages.reply_to_message_id = asker_messages.question_id
        or answers.answer_id is not null
        or asker_messages.order_after_answer = 1

),

resolution_word_list as (

    select distinct lower(word) as word from resolution_words

),

closing_words as (

    select
        closing_candidates.chat_id,
        closing_candidates.question_id,
        closing_candidates.sent_at,
        extracted.word
    from closing_candidates
    cross join
        unnest(
            {{ tgpipe.regexp_find_all(
                'lower(closing_candidates.message_text)', '[\\p{L}\\p{N}]+'
            ) }}
        ) as extracted (word)

),

resolved_by_messages as (

    select
        closing_words.chat_id,
        closing_words.question_id,
        min(closing_words.sent_at) as resolved_at
    from closing_words
    inner join resolution_word_list
        on closing_words.word = resolution_word_list.word
    group by 1, 2

),

-- The asker adds a positive reaction to one of the answers.
resolved_by_reactions as (

    select
        answers.chat_id,
        answers.question_id,
        min(reactions.reacted_at) as resolved_at
    from answers
    inner join asked
        on
            answers.chat_id = asked.chat_id
            and answers.question_id = asked.message_id
    inner join first_answers
        on
            answers.chat_id = first_answers.chat_id
            and answers.question_id = first_answers.question_id
    inner join reactions
        on
            answers.chat_id = reactions.chat_id
            and answers.answer_id = reactions.message_id
            and asked.user_id = reactions.user_id
    inner join positive_reactions
        on reactions.reaction = positive_reactions.reaction
    where
        not reactions.is_snapshot
        and reactions.delta = 1
        and reactions.reacted_at >= first_answers.sent_at
    group by 1, 2

),

question_words as (

    select
        asked.chat_id,
        asked.message_id,
        extracted.word
    from asked
    cross join
        unnest(
            {{ tgpipe.regexp_find_all(
                'lower(asked.question_text)', '[\\p{L}\\p{N}]+'
            ) }}
        ) as extracted (word)

),

topics as (

    select
        question_words.chat_id,
        question_words.message_id,
        min_by(topic_keywords.topic, topic_keywords.priority) as topic
    from question_words
    inner join topic_keywords
        on question_words.word = lower(topic_keywords.keyword)
    group by 1, 2

),

joined as (

    select
        asked.chat_id,
        asked.message_id,
        asked.user_id,
        asked.asked_at,
        asked.asked_date,
        asked.question_text,
        coalesce(topics.topic, 'other') as topic,
        first_answers.answer_id as first_answer_message_id,
        first_answers.user_id as first_answer_user_id,
        first_answers.is_bot as first_answer_is_bot,
        first_answers.sent_at as first_answer_at,
        cast(
            {{ tgpipe.seconds_between(
                'asked.asked_at', 'first_answers.sent_at'
            ) }} as double
        ) / 60.0 as minutes_to_first_answer,
        coalesce(answer_counts.answers, 0) as answers,
        resolved_by_reactions.resolved_at as reaction_resolved_at,
        resolved_by_messages.resolved_at as message_resolved_at
    from asked
    left join first_answers
        on
            asked.chat_id = first_answers.chat_id
            and asked.message_id = first_answers.question_id
    left join answer_counts
        on
            asked.chat_id = answer_counts.chat_id
            and asked.message_id = answer_counts.question_id
    left join resolved_by_reactions
        on
            asked.chat_id = resolved_by_reactions.chat_id
            and asked.message_id = resolved_by_reactions.question_id
    left join resolved_by_messages
        on
            asked.chat_id = resolved_by_messages.chat_id
            and asked.message_id = resolved_by_messages.question_id
    left join topics
        on
            asked.chat_id = topics.chat_id
            and asked.message_id = topics.message_id

),

-- On a tie (the same second) the reaction is named.
resolved as (

    select
        joined.*,
        case
            when joined.message_resolved_at is null
                then joined.reaction_resolved_at
            when joined.reaction_resolved_at is null
                then joined.message_resolved_at
            else
                least(
                    joined.reaction_resolved_at, joined.message_resolved_at
                )
        end as resolved_at,
        case
            when
                joined.reaction_resolved_at
                <= coalesce(
                    joined.message_resolved_at, joined.reaction_resolved_at
                )
                then 'reaction'
            when joined.message_resolved_at is not null then 'message'
        end as resolved_by
    from joined

),

final as (

    select
        cast(chat_id as bigint) as chat_id,
        cast(message_id as bigint) as message_id,
        cast(user_id as bigint) as user_id,
        cast(asked_at as timestamp) as asked_at,
        cast(asked_date as date) as asked_date,
        cast(question_text as varchar) as question_text,
        cast(topic as varchar) as topic,
        cast(first_answer_message_id as bigint) as first_answer_message_id,
        cast(first_answer_user_id as bigint) as first_answer_user_id,
        cast(first_answer_is_bot as boolean) as first_answer_is_bot,
        cast(first_answer_at as timestamp) as first_answer_at,
        cast(minutes_to_first_answer as double) as minutes_to_first_answer,
        cast(answers as bigint) as answers,
        cast(resolved_at as timestamp) as resolved_at,
        cast(resolved_by as varchar) as resolved_by,
        cast(
            case
                when resolved_at is not null then 'resolved'
                when first_answer_message_id is not null then 'answered'
                else 'unanswered'
            end as varchar
        ) as status
    from resolved

)

select * from final
