{#
    What the incremental models were last built from, written at the end of
    every complete build (it comes after them all): per partition of the
    enriched lake (table, day of receipt), the listing this build started from
    (stg_telegram__partitions) and each local date its staged rows carry, with
    the settings fingerprint. The next build compares the lake with it to find
    the days that changed, and rebuilds the dates their rows carried. A table
    whose incremental models did not all run in this build (a selection) keeps
    the rows it had, so the next build still finds its days changed.
#}

{{ config(materialized='table') }}

{%- set advancing = tgpipe.advancing_tables() %}

-- depends_on: {{ ref('top_terms') }}
-- depends_on: {{ ref('stg_telegram__message_entities') }}

with

partitions as (

    select * from {{ ref('stg_telegram__partitions') }}

),

messages as (

    select * from {{ ref('stg_telegram__messages') }}

),

reactions as (

    select * from {{ ref('stg_telegram__reactions') }}

),

member_events as (

    select * from {{ ref('stg_telegram__member_events') }}

),

-- The local dates of each day of receipt's rows, as the marts cut them.
row_dates as (

    select
        'messages' as enriched_table,
        context_date,
        message_date as local_date
    from messages
    union distinct
    select
        'messages' as enriched_table,
        context_date,
        edited_date as local_date
    from messages
    where edited_date is not null
    union distinct
    select
        'reactions' as enriched_table,
        context_date,
        reacted_date as local_date
    from reactions
    union distinct
    select
        'member_events' as enriched_table,
        context_date,
        changed_date as local_date
    from member_events

),

advanced as (

    select
        cast(partitions.enriched_table as varchar) as enriched_table,
        cast(partitions.context_date as varchar) as context_date,
        cast(partitions.files as bigint) as files,
        cast(partitions.file_bytes as bigint) as file_bytes,
        cast(partitions.modified_at as timestamp) as modified_at,
        cast(row_dates.local_date as date) as local_date,
        cast(
            '{{ tgpipe.incremental_settings() }}' as varchar
        ) as settings_fingerprint
    from partitions
    left join row_dates
        on
            partitions.enriched_table = row_dates.enriched_table
            and partitions.context_date = row_dates.context_date
    where {{ tgpipe.within('partitions.enriched_table', advancing) }}

),

-- The tables whose models did not all run keep the rows of the last build.
final as (

    select * from advanced
    {{ tgpipe.kept_state(advancing) }}

)

select * from final
