{#
    One row per change of one member's membership (update_id, user_id):
    chat_member / my_chat_member updates, service messages adding or removing
    members, join requests and imported history. Times: `changed_at` UTC,
    `changed_date` local to the chat's zone
    (seed chat_settings, else var('timezone')).
    Incremental by day of receipt (context_date): see
    macros/incremental/partitions.sql.
#}

{%- set days = tgpipe.reprocessed_days('member_events')
    if tgpipe.nightly() else none %}

{{ config(**tgpipe.incremental_by_partition(
    'context_date',
    "{{ tgpipe.clear_partitions('context_date', tgpipe.reprocessed_days('member_events')) }}"
)) }}

-- depends_on: {{ ref('stg_telegram__partitions') }}

with

source as (

    select * from {{ source('telegram', 'member_events') }}
    -- Nightly: only the days of receipt that changed, and the day after each.
    where {{ tgpipe.within('context_date', days) }}

),

chat_settings as (

    select * from {{ ref('chat_settings') }}

),

-- A redelivered update can land in two days' partitions: keep the first one.
deduplicated as (

    {{ tgpipe.first_receipt('source', ['update_id', 'user_id']) }}

),

renamed as (

    select
        cast(update_id as bigint) as update_id,
        cast(chat_id as bigint) as chat_id,
        cast(user_id as bigint) as user_id,
        cast(user_is_bot as boolean) as user_is_bot,
        cast(user_first_name as varchar) as user_first_name,
        cast(user_username as varchar) as user_username,
        cast(actor_user_id as bigint) as actor_user_id,
        cast(event as varchar) as member_event,
        cast(old_status as varchar) as old_status,
        cast(new_status as varchar) as new_status,
        cast(via_invite_link as varchar) as invite_link_name,
        cast(via_join_request as boolean) as is_via_join_request,
        cast(source as varchar) as event_source,
        {{ tgpipe.epoch_to_timestamp('"date"') }} as changed_at,
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
                'zoned.changed_at', 'zoned.chat_timezone'
            ) }} as date
        ) as changed_date
    from zoned

),

final as (

    select
        update_id,
        chat_id,
        user_id,
        user_is_bot,
        user_first_name,
        user_username,
        actor_user_id,
        member_event,
        old_status,
        new_status,
        invite_link_name,
        is_via_join_request,
        event_source,
        changed_at,
        processed_at,
        chat_timezone,
        changed_date,
        context_date
    from localized

)

select * from final
where {{ tgpipe.not_received_before(
    'final', ['update_id', 'user_id'], days
) }}
