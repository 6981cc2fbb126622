{#
    One row per change of one reaction (update_id, change_index): a person's
    reaction added (+1) or removed (-1), or a total per reaction (is_snapshot:
    anonymous counts, imported history). Times: `reacted_at` UTC,
    `reacted_date` local to the chat's zone
    (seed chat_settings, else var('timezone')).
    Incremental by day of receipt (context_date): see
    macros/incremental/partitions.sql.
#}

{%- set days = tgpipe.reprocessed_days('reactions')
    if tgpipe.nightly() else none %}

{{ config(**tgpipe.incremental_by_partition(
    'context_date',
    "{{ tgpipe.clear_partitions('context_date', tgpipe.reprocessed_days('reactions')) }}"
)) }}

-- depends_on: {{ ref('stg_telegram__partitions') }}

with

source as (

    select * from {{ source('telegram', 'reactions') }}
    -- Nightly: only the days of receipt that changed, and the day after each.
    where {{ tgpipe.within('context_date', days) }}

),

chat_settings as (

    select * from {{ ref('chat_settings') }}

),

-- A redelivered update can land in two days' partitions: keep the first one.
deduplicated as (

    {{ tgpipe.first_receipt('source', ['update_id', 'change_index']) }}

),

renamed as (

    select
        cast(update_id as bigint) as update_id,
        cast(change_index as integer) as change_index,
        cast(chat_id as bigint) as chat_id,
        cast(message_id as bigint) as message_id,
        cast(user_id as bigint) as user_id,
        cast(actor_chat_id as bigint) as actor_chat_id,
        cast(reaction as varchar) as reaction,
        cast(delta as integer) as delta,
        cast("count" as integer) as reaction_count,
        cast(is_snapshot as boolean) as is_snapshot,
        cast(source as varchar) as reaction_source,
        {{ tgpipe.epoch_to_timestamp('"date"') }} as reacted_at,
        cast(context_timestamp as timestamp) as processed_at,
        cast(context_date as varchar) as context_date
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
        cast(
            {{ tgpipe.to_zone_timestamp(
                'zoned.reacted_at', 'zoned.chat_timezone'
            ) }} as date
        ) as reacted_date
    from zoned

),

final as (

    select
        update_id,
        change_index,
        chat_id,
        message_id,
        user_id,
        actor_chat_id,
        reaction,
        delta,
        reaction_count,
        is_snapshot,
        reaction_source,
        reacted_at,
        processed_at,
        chat_timezone,
        reacted_date,
        context_date
    from localized

)

select * from final
where {{ tgpipe.not_received_before(
    'final', ['update_id', 'change_index'], days
) }}
