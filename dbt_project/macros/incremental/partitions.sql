{#
    Incremental models by partition: a nightly build does the work of the days that changed, not of
    the whole history, and ends with exactly the rows a --full-refresh would give.

    What changed is read from the lake, not guessed from dates: stg_telegram__partitions lists every
    partition (day of receipt) of the four enriched tables with its files' count, size and last
    modification, at the start of the build; int_incremental_state keeps, from the end of the last
    complete build, that same listing plus the local dates of the rows each partition gave. A day of
    receipt changed when its listing differs: a new day, a day the ETL wrote again (a rerun, a
    backfill, `tgpipe forget` rebuilding it, text retention rewriting it), a day that lost its files.

    * Staging (partition context_date) rebuilds the changed days and the day after each
      (var redelivery_days, default 1): Telegram keeps an update it saw no 2xx for 24 hours, so a
      redelivered copy is received on the same day or the next; a copy whose first receipt is in an
      older day the build keeps is left out (first receipt wins, as in a full build).
    * A mart partitioned by local date rebuilds every date the rebuilt days' rows carry, now
      (staging after this build) and before (int_incremental_state): a row removed from an old day
      still has its date rebuilt.
    * Anything that changes every row's meaning (var timezone, top_terms' vars, a seed, the SQL of
      an incremental model) changes the settings fingerprint: the next build rebuilds everything. A
      change to a macro an incremental model uses needs `dbt build --full-refresh`.

    On DuckDB the strategy is delete+insert keyed on the partition column; on Athena insert_overwrite
    of a Hive table partitioned_by it (the column comes last). On both, a pre-hook first clears the
    partitions being rebuilt, so a day or a date left without rows is emptied too.

    var incremental_days: a list of days of receipt (YYYY-MM-DD) to rebuild instead of those the
    listing finds changed, as if the tables existed (the offline Athena check compiles the nightly
    SQL with it; by hand, replays days on built tables).
#}

{% macro incremental_by_partition(partition_column, clear) %}
    {#- The config of a model built incrementally by partition; `clear` is its pre-hook. -#}
    {%- set settings = {
        'materialized': 'incremental',
        'on_schema_change': 'fail',
        'pre_hook': clear,
    } -%}
    {%- if target.type == 'athena' -%}
        {%- do settings.update({
            'incremental_strategy': 'insert_overwrite',
            'partitioned_by': [partition_column],
        }) -%}
    {%- else -%}
        {%- do settings.update({
            'incremental_strategy': 'delete+insert',
            'unique_key': partition_column,
        }) -%}
    {%- endif -%}
    {{- return(settings) -}}
{% endmacro %}


{% macro nightly() %}
    {#- True when this build of an incremental model rebuilds only what changed (its table exists,
        no --full-refresh), or when var incremental_days says so. Never in a unit test (no `this`). -#}
    {%- if not execute or this is none or should_full_refresh() -%}
        {{- return(false) -}}
    {%- elif var('incremental_days', none) is not none -%}
        {{- return(true) -}}
    {%- endif -%}
    {{- return(is_incremental()) -}}
{% endmacro %}


{% macro incremental_state() %}
    {#- The relation of int_incremental_state (read without ref: it is built after this model). -#}
    {{- return(this.incorporate(path={'identifier': 'int_incremental_state'})) -}}
{% endmacro %}


{% macro kept_state(advancing) -%}
    {#- int_incremental_state: `union all` the rows the last build left for the tables that do
        not advance (read while the table is rebuilt); nothing on a first build. -#}
    {%- if not execute or advancing | length == 4 -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set previous = load_relation(tgpipe.incremental_state()) -%}
    {%- if previous is not none %}
    union all
    select
        enriched_table,
        context_date,
        files,
        file_bytes,
        modified_at,
        local_date,
        settings_fingerprint
    from {{ previous }}
    where not ({{ tgpipe.within('enriched_table', advancing) }})
    {%- endif -%}
{%- endmacro %}


{% macro incremental_settings() %}
    {#- A fingerprint of what gives every row its meaning: the zone, top_terms' vars, the seeds and
        the SQL of the incremental models (their files' checksums). -#}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set parts = [
        tgpipe.local_timezone(),
        var('top_terms_per_day') | string,
        var('top_terms_min_length') | string,
    ] -%}
    {%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
        {%- if node.package_name == 'tgpipe' and (
            node.resource_type == 'seed'
            or (node.resource_type == 'model' and node.config.materialized == 'incremental')
        ) -%}
            {%- do parts.append(node.unique_id ~ '=' ~ node.checksum.checksum) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(local_md5(parts | join('|'))) -}}
{% endmacro %}


{% macro advancing_tables() %}
    {#- The enriched tables whose incremental models (their staging model and every incremental
        model reading it) all run in this invocation: int_incremental_state records their new
        listing; any other table keeps what it recorded, so a build of a selection (dbt build
        --select ...) leaves the days it did not rebuild to the next complete build. -#}
    {%- if not execute -%}
        {{- return([]) -}}
    {%- endif -%}
    {%- set selected = selected_resources | default([]) -%}
    {%- set tables = [] -%}
    {%- for name in ['messages', 'reactions', 'member_events', 'message_entities'] -%}
        {%- set staging = 'model.tgpipe.stg_telegram__' ~ name -%}
        {%- set consumers = [staging] -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and node.config.materialized == 'incremental'
                and staging in node.depends_on.nodes -%}
                {%- do consumers.append(node.unique_id) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if consumers | reject('in', selected) | list | length == 0 -%}
            {%- do tables.append(name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(tables) -}}
{% endmacro %}


{% macro changed_days(enriched_table) %}
    {#- The days of receipt of an enriched table whose partition changed since the last complete
        build, in order; none when everything must be rebuilt (no state yet, other settings). -#}
    {%- set forced = var('incremental_days', none) -%}
    {%- if forced is not none -%}
        {%- set days = [] -%}
        {%- for day in ([forced] if forced is string else forced) -%}
            {%- do days.append(modules.datetime.date.fromisoformat(day | string).isoformat()) -%}
        {%- endfor -%}
        {{- return(days) -}}
    {%- endif -%}
    {%- set state = tgpipe.incremental_state() -%}
    {%- if load_relation(state) is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set settings_query -%}
        select count(*) from {{ state }}
        where settings_fingerprint <> '{{ tgpipe.incremental_settings() }}'
    {%- endset -%}
    {%- if run_query(settings_query).columns[0].values()[0] > 0 -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set changed_query -%}
        with

        listed as (
            select context_date, files, file_bytes, modified_at
            from {{ ref('stg_telegram__partitions') }}
            where enriched_table = '{{ enriched_table }}'
        ),

        built as (
            select distinct context_date, files, file_bytes, modified_at
            from {{ state }}
            where enriched_table = '{{ enriched_table }}'
        )

        select coalesce(listed.context_date, built.context_date) as context_date
        from listed
        full outer join built
            on listed.context_date = built.context_date
        where
            listed.context_date is null
            or built.context_date is null
            or listed.files <> built.files
            or listed.file_bytes <> built.file_bytes
            or listed.modified_at <> built.modified_at
        order by 1
    {%- endset -%}
    {{- return(run_query(changed_query).columns[0].values() | map('string') | list) -}}
{% endmacro %}


{% macro reprocessed_days(enriched_table) %}
    {#- The days of receipt a staging model rebuilds: each changed day and the var('redelivery_days')
        days after it (where a redelivered copy of its updates may be); none: every day. -#}
    {%- set changed = tgpipe.changed_days(enriched_table) -%}
    {%- if changed is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set days = [] -%}
    {%- for day in changed -%}
        {%- set first = modules.datetime.date.fromisoformat(day) -%}
        {%- for offset in range((var('redelivery_days', 1) | int) + 1) -%}
            {%- set value = (first + modules.datetime.timedelta(days=offset)).isoformat() -%}
            {%- if value not in days -%}
                {%- do days.append(value) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{- return(days | sort) -}}
{% endmacro %}


{% macro sql_strings(values) -%}
    {#- A list of strings as SQL literals for `in (...)`; a never-matching null when empty. -#}
    {%- if values | length == 0 -%}
        cast(null as varchar)
    {%- else -%}
        {%- for value in values -%}
            '{{ value | replace("'", "''") }}'{{ ', ' if not loop.last }}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}


{% macro changed_local_dates(enriched_table, date_columns) %}
    {#- A query of the local dates a mart partitioned by date rebuilds: those the rows of the rebuilt
        days of receipt of `enriched_table` carry in date_columns of its staging model (after this build)
        or carried (int_incremental_state, the last build); none: every date. -#}
    {%- set days = tgpipe.reprocessed_days(enriched_table) -%}
    {%- if days is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set staged = ref('stg_telegram__' ~ enriched_table) -%}
    {%- set query -%}
        {%- for column in date_columns %}
        select {{ column }} as local_date
        from {{ staged }}
        where context_date in ({{ tgpipe.sql_strings(days) }})
        union
        {%- endfor %}
        select local_date
        from {{ tgpipe.incremental_state() }}
        where
            enriched_table = '{{ enriched_table }}'
            and context_date in ({{ tgpipe.sql_strings(days) }})
            and local_date is not null
    {%- endset -%}
    {{- return(query) -}}
{% endmacro %}


{% macro clear_partitions(partition_column, values) %}
    {#- Pre-hook of an incremental model: delete the partitions it is about to rebuild. values: a
        list of partition values, a query giving them, or none for every partition. -#}
    {%- if not tgpipe.nightly() -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set condition = none if values is none else tgpipe.within(partition_column, values) -%}
    {{- return(adapter.dispatch('clear_partitions', 'tgpipe')(partition_column, condition)) -}}
{% endmacro %}

{% macro default__clear_partitions(partition_column, condition) -%}
    delete from {{ this }}{% if condition %} where {{ condition }}{% endif %}
{%- endmacro %}

{% macro athena__clear_partitions(partition_column, condition) %}
    {#- Hive tables have no DELETE: drop the partitions (Glue entries and S3 data) that exist. -#}
    {%- set query -%}
        select distinct cast({{ partition_column }} as varchar) from {{ this }}
        {%- if condition %} where {{ condition }}{% endif %}
    {%- endset -%}
    {%- set partitions = [] -%}
    {%- for value in run_query(query).columns[0].values() -%}
        {%- do partitions.append(partition_column ~ "='" ~ value ~ "'") -%}
    {%- endfor -%}
    {%- if partitions -%}
        {%- do adapter.clean_up_partitions(this, partitions) -%}
    {%- endif -%}
    {{- return('') -}}
{% endmacro %}


{% macro within(column, values) -%}
    {#- A condition for a where clause: column among values (a list of strings, or a query; false
        for an empty list), or true when values is none (a full build, or a nightly one that
        rebuilds everything). -#}
    {%- if values is none -%}
        true
    {%- elif values is string -%}
        {{ column }} in ({{ values }})
    {%- elif values | length == 0 -%}
        false
    {%- else -%}
        {{ column }} in ({{ tgpipe.sql_strings(values) }})
    {%- endif -%}
{%- endmacro %}


{% macro not_received_before(relation, keys, days) -%}
    {#- Nightly staging: the row is the first receipt of its keys also among the days of receipt the
        build keeps (a redelivered copy of an update first received on an older day is not); true
        when days is none (every day is rebuilt). -#}
    {%- if days is none -%}
        true
    {%- else -%}
    not exists (
        select 1
        from {{ this }} as received
        where
            received.context_date not in ({{ tgpipe.sql_strings(days) }})
            and received.context_date < {{ relation }}.context_date
            {%- for key in keys %}
            and received.{{ key }} = {{ relation }}.{{ key }}
            {%- endfor %}
    )
    {%- endif -%}
{%- endmacro %}


{% macro partition_last(columns, partition_column) -%}
    {#- A select list with the partition column last on Athena (a Hive table's partition columns end
        its CTAS), in the given order elsewhere. -#}
    {%- set ordered = columns | reject('equalto', partition_column) | list + [partition_column]
        if target.type == 'athena' else columns -%}
    {{ ordered | join(',\n        ') }}
{%- endmacro %}


{% macro enriched_files(enriched_table) %}
    {#- One row per partition (day of receipt) of an enriched table with rows: its files' count,
        total size and last modification. -#}
    {{- return(adapter.dispatch('enriched_files', 'tgpipe')(enriched_table)) -}}
{% endmacro %}

{% macro default__enriched_files(enriched_table) -%}
    {#- Athena (Trino's Hive connector): the hidden columns of each row's file. A file without rows
        gives no row, so an emptied day is a day gone: rebuilt all the same. -#}
    select
        '{{ enriched_table }}' as enriched_table,
        context_date,
        cast(count(*) as bigint) as files,
        cast(sum(file_size) as bigint) as file_bytes,
        max(modified_at) as modified_at
    from (
        select
            cast(context_date as varchar) as context_date,
            "$path" as file_path,
            max("$file_size") as file_size,
            max(cast("$file_modified_time" as timestamp)) as modified_at
        from {{ source('telegram', enriched_table) }}
        group by 1, 2
    ) as files
    group by 1, 2
{%- endmacro %}

{% macro duckdb__enriched_files(enriched_table) -%}
    {#- DuckDB: read_blob lists the files (their content is not read when not selected). The folder
        is the source's (TGPIPE_ENRICHED_URI, default lake/enriched). -#}
    {%- set folder = env_var('TGPIPE_ENRICHED_URI', 'lake/enriched') | replace("'", "''") -%}
    select
        '{{ enriched_table }}' as enriched_table,
        regexp_extract(filename, 'context_date=([^/]+)/', 1) as context_date,
        cast(count(*) as bigint) as files,
        cast(sum(size) as bigint) as file_bytes,
        max(cast(last_modified as timestamp)) as modified_at
    from read_blob('{{ folder }}/{{ enriched_table }}/context_date=*/*.parquet')
    group by 1, 2
{%- endmacro %}
