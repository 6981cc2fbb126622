{#
    One row per update_id: the enriched updates, deduplicated, renamed and typed.
    Times: `*_at` are naive UTC timestamps; `message_*` and `edited_date` are
    local to the chat's zone (seed chat_settings, else var('timezone')).
    Incremental by day of receipt (context_date): see
    macros/incremental/partitions.sql.
#}

{%- set days = tgpipe.reprocessed_days('messages')
    if tgpipe.nightly() else none %}

{{ config(**tgpipe.incremental_by_partition(
    'context_date',
    "{{ tgpipe.clear_partitions('context_date', tgpipe.reprocessed_days('messages')) }}"
)) }}

-- depends_on: {{ ref('stg_telegram__partitions') }}

with

source as (

    select * from {{ source('telegram', 'messages') }}
    -- Nightly: only the days of receipt that changed, and the day after each.
    where {{ tgpipe.within('context_date', days) }}

),

chat_settings as (

    select * from {{ ref('chat_settings') }}

),

-- Telegram redelivers an update it saw no 2xx for; across local midnight the
-- copy lands in the next day's partition. Keep the first receipt.
deduplicated as (

    {{ tgpipe.first_receipt('source', ['update_id']) }}

),

renamed as (

    select
        -- ids
        cast(update_id as bigint) as update_id,
        cast(message_id as bigint) as message_id,
        cast(chat_id as bigint) as chat_id,
        cast(from_id as bigint) as user_id,
        cast(sender_chat_id as bigint) as sender_chat_id,
        cast(reply_to_message_id as bigint) as reply_to_message_id,
        cast(message_thread_id as bigint) as message_thread_id,
        cast(left_chat_member_id as bigint) as left_chat_member_id,

        -- strings
        cast(update_kind as varchar) as update_kind,
        cast(chat_type as varchar) as chat_type,
        cast(chat_title as varchar) as chat_title,
        cast(from_first_name as varchar) as user_first_name,
        cast(from_username as varchar) as user_username,
        cast(message_type as varchar) as message_type,
        cast("text" as varchar) as message_text,
        cast(caption as varchar) as caption,
        cast(bot_command as varchar) as raw_bot_command,
        cast(service_kind as varchar) as service_kind,
        cast(topic_name as varchar) as topic_name,

        -- numbers
        cast(new_chat_members_count as integer) as new_chat_members_count,

        -- booleans
        cast(from_is_bot as boolean) as user_is_bot,
        coalesce(cast(is_forwarded as boolean), false) as is_forwarded,

        -- timestamps (UTC)
        {{ tgpipe.epoch_to_timestamp('"date"') }} as sent_at,
        {{ tgpipe.epoch_to_timestamp('edit_date') }} as edited_at,

        -- lineage
        cast(context_date as varchar) as context_date,
        cast(context_timestamp as timestamp) as processed_at

    from deduplicated

),

zoned as (

    select
        renamed.*,
        {{ tgpipe.chat_timezone('chat_settings.timezone') }} as chat_timezone
    from renamed
    left join chat_settings
        on renamed.chat_id = chat_settings.chat_id

),

localized as (

    select
        zoned.*,
        {{ tgpipe.to_zone_timestamp('zoned.sent_at', 'zoned.chat_timezone') }}
            as sent_at_local,
        {{ tgpipe.to_zone_timestamp('zoned.edited_at', 'zoned.chat_timezone') }}
            as edited_at_local
    from zoned

),

enriched as (

    select
        update_id,
        message_id,
        chat_id,
        user_id,
        sender_chat_id,
        reply_to_message_id,
        message_thread_id,
        left_chat_member_id,
        update_kind,
        chat_type,
        chat_title,
        user_first_name,
        user_username,
        user_is_bot,
        message_type,
        message_text,
        caption,
        service_kind,
        topic_name,
        -- Lower-case, without @botname and surrounding white space (tabs and
        -- no-break spaces too, alike on both engines): the ETL already
        -- normalises, this keeps older partitions honest.
        nullif(
            split_part(
                lower({{ tgpipe.trim_whitespace('raw_bot_command') }}), '@', 1
            ),
            ''
        ) as bot_command,
        {{ tgpipe.char_length('message_text') }} as text_length,
        new_chat_members_count,
        is_forwarded,
        update_kind in ('edited_message', 'edited_channel_post')
            as is_edit,
        message_type = 'service' as is_service,
        -- What every mart counts as a message: new (not an edit), not a
        -- service message.
        update_kind in ('message', 'channel_post')
        and message_type <> 'service' as is_new_message,
        sent_at,
        edited_at,
        chat_timezone,
        cast(sent_at_local as date) as message_date,
        cast(extract(hour from sent_at_local) as integer) as message_hour,
        cast(
            {{ tgpipe.iso_weekday('sent_at_local') }} as integer
        ) as message_weekday,
        cast(edited_at_local as date) as edited_date,
        {{ tgpipe.safe_cast('context_date', 'date') }} as received_date,
        processed_at,
        context_date
    from localized

)

select * from enriched
where {{ tgpipe.not_received_before('enriched', ['update_id'], days) }}
