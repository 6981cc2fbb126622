{#
    One row per entity of a message's text or caption (update_id, in_caption,
    entity_index), with its normalised value: lower-case mentions and
    hashtags, the host of a link, the domain of an email, a command without
    @botname.
#}

with

source as (

    select * from {{ source('telegram', 'message_entities') }}

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
        cast(context_date as varchar) as context_date,
        cast(context_timestamp as timestamp) as processed_at,
        update_kind in ('edited_message', 'edited_channel_post') as is_edit
    from deduplicated

)

select * from renamed
