{#
    One row per message (chat_id, message_id): every new message (not an edit,
    not a service message) with its sender, local date, the text as last
    edited, and what it drew: edits, replies from others, net reactions. The
    daily rollups read from here instead of repeating the filter.
#}

with

staged as (

    select * from {{ ref('stg_telegram__messages') }}

),

reactions as (

    select * from {{ ref('stg_telegram__reactions') }}

),

question_words as (

    select * from {{ ref('question_words') }}

),

new_messages as (

    select
        staged.*,
        coalesce(staged.user_id, staged.sender_chat_id) as sender_id
    from staged
    where staged.is_new_message

),

-- The latest edit of each message gives its current text.
ranked_edits as (

    select
        chat_id,
        message_id,
        message_text,
        edited_at,
        row_number() over (
            partition by chat_id, message_id
            order by edited_at desc, update_id desc
        ) as edit_rank
    from staged
    where is_edit

),

edits as (

    select
        chat_id,
        message_id,
        count(*) as edits,
        max(edited_at) as last_edited_at,
        max(case when edit_rank = 1 then message_text end) as last_edited_text
    from ranked_edits
    group by 1, 2

),

-- Replying to yourself is not a reply.
replies as (

    select
        original.chat_id,
        original.message_id,
        count(*) as replies
    from new_messages as original
    inner join new_messages as reply
        on
            original.chat_id = reply.chat_id
            and original.message_id = reply.reply_to_message_id
    where reply.sender_id is distinct from original.sender_id
    group by 1, 2

),

-- Per reaction: the net of people's changes; a total (snapshot) only counts
-- when no person's change of that reaction on that message is in the lake.
reaction_changes as (

    select
        chat_id,
        message_id,
        reaction,
        sum(delta) as net_count
    from reactions
    where not is_snapshot
    group by 1, 2, 3

),

ranked_snapshots as (

    select
        chat_id,
        message_id,
        reaction,
        reaction_count,
        row_number() over (
            partition by chat_id, message_id, reaction
            order by reacted_at desc, update_id desc, change_index desc
        ) as snapshot_rank
    from reactions
    where is_snapshot

),

latest_snapshots as (

    select * from ranked_snapshots
    where snapshot_rank = 1

),

reaction_totals as (

    select
        coalesce(
            reaction_changes.chat_id, latest_snapshots.chat_id
        ) as chat_id,
        coalesce(
            reaction_changes.message_id, latest_snapshots.message_id
        ) as message_id,
        sum(
            greatest(
                coalesce(
                    reaction_changes.net_count,
                    latest_snapshots.reaction_count
                ),
                0
            )
        ) as reactions
    from reaction_changes
    full outer join latest_snapshots
        on
            reaction_changes.chat_id = latest_snapshots.chat_id
            and reaction_changes.message_id = latest_snapshots.message_id
            and reaction_changes.reaction = latest_snapshots.reaction
    group by 1, 2

),

-- A forum topic is named by its forum_topic_created service message (whose
-- message_id is the topic's message_thread_id) and renamed by
-- forum_topic_edited ones: the latest name wins.
topic_names as (

    select
        chat_id,
        topic_name,
        sent_at,
        update_id,
        case
            when service_kind = 'forum_topic_created' then message_id
            else message_thread_id
        end as message_thread_id
    from staged
    where
        service_kind in ('forum_topic_created', 'forum_topic_edited')
        and topic_name is not null
        and not is_edit

),

ranked_topic_names as (

    select
        topic_names.*,
        row_number() over (
            partition by topic_names.chat_id, topic_names.message_thread_id
            order by topic_names.sent_at desc, topic_names.update_id desc
        ) as name_rank
    from topic_names

),

topics as (

    select
        chat_id,
        message_thread_id,
        topic_name
    from ranked_topic_names
    where name_rank = 1

),

-- The first word: the first run of letters and digits, lower-case.
first_words as (

    select
        chat_id,
        message_id,
        nullif(
            regexp_extract(lower(message_text), '[\p{L}\p{N}]+'), ''
        ) as first_word
    from new_messages
    where message_type = 'text'

),

question_word_list as (

    select distinct lower(word) as word from question_words

),

question_openings as (

    select
        first_words.chat_id,
        first_words.message_id
    from first_words
    inner join question_word_list
        on first_words.first_word = question_word_list.word

),

final as (

    select
        new_messages.chat_id,
        new_messages.message_id,
        new_messages.update_id,
        new_messages.user_id,
        new_messages.sender_chat_id,
        new_messages.user_first_name,
        new_messages.user_username,
        new_messages.user_is_bot,
        new_messages.sent_at,
        new_messages.message_date,
        new_messages.message_hour,
        new_messages.message_weekday,
        new_messages.chat_timezone,
        new_messages.message_type,
        new_messages.is_forwarded,
        new_messages.bot_command,
        new_messages.reply_to_message_id,
        new_messages.message_thread_id,
        topics.topic_name,
        new_messages.message_text,
        new_messages.caption,
        new_messages.text_length,
        edits.last_edited_at,
        coalesce(
            edits.last_edited_text, new_messages.message_text
        ) as current_text,
        coalesce(edits.edits, 0) as edits,
        coalesce(replies.replies, 0) as replies,
        coalesce(reaction_totals.reactions, 0) as reactions,
        coalesce(
            new_messages.message_type = 'text'
            and new_messages.user_id is not null
            and not coalesce(new_messages.user_is_bot, false)
            and (
                strpos(new_messages.message_text, '?') > 0
                or strpos(new_messages.message_text, '？') > 0
                or strpos(new_messages.message_text, '¿') > 0
                or question_openings.message_id is not null
            ),
            false
        ) as is_question
    from new_messages
    left join edits
        on
            new_messages.chat_id = edits.chat_id
            and new_messages.message_id = edits.message_id
    left join replies
        on
            new_messages.chat_id = replies.chat_id
            and new_messages.message_id = replies.message_id
    left join reaction_totals
        on
            new_messages.chat_id = reaction_totals.chat_id
            and new_messages.message_id = reaction_totals.message_id
    left join topics
        on
            new_messages.chat_id = topics.chat_id
            and new_messages.message_thread_id = topics.message_thread_id
    left join question_openings
        on
            new_messages.chat_id = question_openings.chat_id
            and new_messages.message_id = question_openings.message_id

),

typed as (

    select
        cast(chat_id as bigint) as chat_id,
        cast(message_id as bigint) as message_id,
        cast(update_id as bigint) as update_id,
        cast(user_id as bigint) as user_id,
        cast(sender_chat_id as bigint) as sender_chat_id,
        cast(user_first_name as varchar) as user_first_name,
        cast(user_username as varchar) as user_username,
        cast(user_is_bot as boolean) as user_is_bot,
        cast(sent_at as timestamp) as sent_at,
        cast(message_date as date) as message_date,
        cast(message_hour as integer) as message_hour,
        cast(message_weekday as integer) as message_weekday,
        cast(chat_timezone as varchar) as chat_timezone,
        cast(message_type as varchar) as message_type,
        cast(is_forwarded as boolean) as is_forwarded,
        cast(bot_command as varchar) as bot_command,
        cast(reply_to_message_id as bigint) as reply_to_message_id,
        cast(message_thread_id as bigint) as message_thread_id,
        cast(topic_name as varchar) as topic_name,
        cast(message_text as varchar) as message_text,
        cast(caption as varchar) as caption,
        cast(text_length as bigint) as text_length,
        cast(current_text as varchar) as current_text,
        cast(edits as bigint) as edits,
        cast(last_edited_at as timestamp) as last_edited_at,
        cast(replies as bigint) as replies,
        cast(reactions as bigint) as reactions,
        cast(is_question as boolean) as is_question
    from final

)

select * from typed
