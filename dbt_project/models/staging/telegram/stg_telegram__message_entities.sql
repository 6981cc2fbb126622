{#
    One row per entity of a message's text or caption (update_id, in_caption,
    entity_index), with its normalised value: lower-case mentions and
    hashtags, the host of a link, the domain of an email, a command without
    @botname.
    Incremental by day of receipt (context_date): see
    macros/incremental/partitions.sql.
#}

{%- set days = tgpipe.reprocessed_days('message_entities')
    if tgpipe.nightly() else none %}

{{ config(**tgpipe.incremental_by_partition(
    'context_date',
    "{{ tgpipe.clear_partitions('context_date', tgpipe.reprocessed_days('message_entities')) }}"
)) }}

-- depends_on: {{ ref('stg_telegram__partitions') }}

with

source as (

    select * from {{ source('telegram', 'message_entities') }}
    -- Nightly: only the days of receipt that changed, and the day after each.
    where {{ tgpipe.within('context_date', days) }}

),

-- A redelivered update can land in two days' partitions: keep the first one.
deduplicated as (

    {{ tgpipe.first_receipt(
        'source', ['update_id', 'in_caption', 'entity_index']
    ) }}

),

renamed as (

    select
        cast(update_id as bigint) as update_id,
        cast(update_kind as varchar) as update_kind,
        cast(chat_id as bigint) as chat_id,
        cast(message_id as bigint) as message_id,
        cast(in_caption as boolean) as is_in_caption,
        cast(entity_index as integer) as entity_index,
        cast(kind as varchar) as entity_kind,
        cast("offset" as integer) as entity_offset,
        cast("length" as integer) as entity_length,
        cast("value" as varchar) as entity_value,
        cast(user_id as bigint) as mentioned_user_id,
        cast(context_timestamp as timestamp) as processed_at,
        cast(context_date as varchar) as context_date,
        update_kind in ('edited_message', 'edited_channel_post') as is_edit
    from deduplicated

),

final as (

    select
        update_id,
        update_kind,
        chat_id,
        message_id,
        is_in_caption,
        entity_index,
        entity_kind,
        entity_offset,
        entity_length,
        entity_value,
        mentioned_user_id,
        processed_at,
        is_edit,
        context_date
    from renamed

)

select * from final
where {{ tgpipe.not_received_before(
    'final', ['update_id', 'is_in_caption', 'entity_index'], days
) }}
