{#
    Reactions added and taken back per chat, local day and reaction, from the
    rows of one person's (or one chat's) change: message_reaction updates and
    the reactors an imported export names. Snapshot rows (is_snapshot: the
    anonymous totals of message_reaction_count, an export's totals) are
    totals at a moment, not changes, and are not counted: counting them would
    count again the named reactors an export also gives as +1 rows.
#}

with

reactions as (

    select * from {{ ref('stg_telegram__reactions') }}

),

changes as (

    select
        chat_id,
        reacted_date as message_date,
        reaction,
        delta
    from reactions
    where not is_snapshot and delta in (1, -1)

),

final as (

    select
        chat_id,
        message_date,
        reaction,
        count(case when delta = 1 then 1 end) as added,
        count(case when delta = -1 then 1 end) as removed,
        count(case when delta = 1 then 1 end)
        - count(case when delta = -1 then 1 end) as net
    from changes
    group by 1, 2, 3

)

select * from final
