{#
    One row per partition (table, day of receipt) of the enriched lake as this
    build found it, before staging reads it: its files' count, total size and
    last modification. The incremental models compare it with
    int_incremental_state (the last complete build) to find the days that
    changed (see macros/incremental/partitions.sql).
#}

{{ config(materialized='table') }}

with

messages as (

    {{ tgpipe.enriched_files('messages') }}

),

reactions as (

    {{ tgpipe.enriched_files('reactions') }}

),

member_events as (

    {{ tgpipe.enriched_files('member_events') }}

),

message_entities as (

    {{ tgpipe.enriched_files('message_entities') }}

),

partitions as (

    select * from messages
    union all
    select * from reactions
    union all
    select * from member_events
    union all
    select * from message_entities

),

final as (

    select
        cast(enriched_table as varchar) as enriched_table,
        cast(context_date as varchar) as context_date,
        cast(files as bigint) as files,
        cast(file_bytes as bigint) as file_bytes,
        cast(modified_at as timestamp) as modified_at
    from partitions

)

select * from final
