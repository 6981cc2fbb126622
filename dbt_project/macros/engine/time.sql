{#
    Time: every engine difference about instants, zones and calendars lives here.

    Timestamps in models are naive and mean UTC (`<event>_at`); local wall-clock values come from
    to_zone_timestamp() with each chat's zone (seed chat_settings, else the `timezone` var), or
    from to_local_timestamp() with the `timezone` var. Athena cannot store `timestamp with time zone`
    in Parquet tables, so nothing zoned leaves these macros.
#}

{% macro local_timezone() %}
    {#- The IANA zone of the project (var `timezone`), checked before it is inlined in SQL. -#}
    {%- set zone = var('timezone', 'UTC') | string | trim -%}
    {%- if not zone -%}
        {%- set zone = 'UTC' -%}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*', zone) -%}
        {{ exceptions.raise_compiler_error(
            "var 'timezone' (TGPIPE_TIMEZONE) must be an IANA time zone such as UTC or America/Sao_Paulo, got '" ~ zone ~ "'"
        ) }}
    {%- endif -%}
    {{- return(zone) -}}
{% endmacro %}


{% macro epoch_to_timestamp(epoch_seconds) %}
    {{- return(adapter.dispatch('epoch_to_timestamp', 'tgpipe')(epoch_seconds)) -}}
{% endmacro %}

{% macro default__epoch_to_timestamp(epoch_seconds) -%}
    cast(from_unixtime({{ epoch_seconds }}, 'UTC') as timestamp)
{%- endmacro %}

{% macro duckdb__epoch_to_timestamp(epoch_seconds) -%}
    make_timestamp(cast({{ epoch_seconds }} as bigint) * 1000000)
{%- endmacro %}


{% macro to_local_timestamp(utc_timestamp, zone=none) %}
    {#- A naive UTC timestamp -> the naive wall-clock timestamp in `zone` (default: the project's). -#}
    {{- return(adapter.dispatch('to_local_timestamp', 'tgpipe')(utc_timestamp, zone or tgpipe.local_timezone())) -}}
{% endmacro %}

{% macro default__to_local_timestamp(utc_timestamp, zone) -%}
    {#- Trino/Athena: AT TIME ZONE on a naive timestamp would read it in the session zone. -#}
    cast(with_timezone({{ utc_timestamp }}, 'UTC') at time zone '{{ zone }}' as timestamp)
{%- endmacro %}

{% macro duckdb__to_local_timestamp(utc_timestamp, zone) -%}
    cast(({{ utc_timestamp }} at time zone 'UTC') at time zone '{{ zone }}' as timestamp)
{%- endmacro %}


{% macro to_zone_timestamp(utc_timestamp, zone_expression) %}
    {#-
        A naive UTC timestamp -> the naive wall-clock timestamp in the zone a SQL expression gives
        row by row (a column such as chat_timezone, not a literal).
    -#}
    {{- return(adapter.dispatch('to_zone_timestamp', 'tgpipe')(utc_timestamp, zone_expression)) -}}
{% endmacro %}

{% macro default__to_zone_timestamp(utc_timestamp, zone_expression) -%}
    {#- Trino/Athena: AT TIME ZONE takes only a literal; at_timezone() takes any varchar. -#}
    cast(at_timezone(with_timezone({{ utc_timestamp }}, 'UTC'), {{ zone_expression }}) as timestamp)
{%- endmacro %}

{% macro duckdb__to_zone_timestamp(utc_timestamp, zone_expression) -%}
    {#- timezone(zone, timestamp) reads the wall clock in zone (-> timestamptz); with a timestamptz it
        gives the wall clock in zone (-> timestamp). The session's TimeZone plays no part. -#}
    timezone({{ zone_expression }}, timezone('UTC', {{ utc_timestamp }}))
{%- endmacro %}


{% macro chat_timezone(chat_settings_zone) -%}
    {#- A chat's zone: its row of seed chat_settings, else the project's (var timezone). -#}
    coalesce({{ chat_settings_zone }}, '{{ tgpipe.local_timezone() }}')
{%- endmacro %}


{% macro iso_weekday(timestamp_expression) %}
    {#- ISO day of week: 1 = Monday ... 7 = Sunday. -#}
    {{- return(adapter.dispatch('iso_weekday', 'tgpipe')(timestamp_expression)) -}}
{% endmacro %}

{% macro default__iso_weekday(timestamp_expression) -%}
    day_of_week({{ timestamp_expression }})
{%- endmacro %}

{% macro duckdb__iso_weekday(timestamp_expression) -%}
    isodow({{ timestamp_expression }})
{%- endmacro %}


{% macro seconds_between(start_timestamp, end_timestamp) -%}
    {#- Whole seconds from start to end; date_diff(unit, start, end) means the same on both engines. -#}
    date_diff('second', {{ start_timestamp }}, {{ end_timestamp }})
{%- endmacro %}


{% macro date_sequence(start_date, end_date, step_days=1) %}
    {#-
        An array of the dates from start_date to end_date (inclusive) every step_days days, for
        `cross join unnest(...) as spine (spine_date)`: a date spine. Cast the unnested value to
        date (DuckDB's generate_series yields timestamps). Empty when start_date > end_date.
    -#}
    {{- return(adapter.dispatch('date_sequence', 'tgpipe')(start_date, end_date, step_days)) -}}
{% endmacro %}

{% macro default__date_sequence(start_date, end_date, step_days) -%}
    sequence(
        cast({{ start_date }} as date),
        cast({{ end_date }} as date),
        interval '{{ step_days | int }}' day
    )
{%- endmacro %}

{% macro duckdb__date_sequence(start_date, end_date, step_days) -%}
    generate_series(
        cast({{ start_date }} as date),
        cast({{ end_date }} as date),
        interval '{{ step_days | int }}' day
    )
{%- endmacro %}


{% macro week_start(date_expression) -%}
    {#- The Monday of the ISO week of a date (date_trunc('week') is Monday-based on both). -#}
    cast(date_trunc('week', {{ date_expression }}) as date)
{%- endmacro %}


{% macro days_between(start_date, end_date) -%}
    {#- Whole days from start_date to end_date (dates); date_diff means the same on both engines. -#}
    date_diff('day', {{ start_date }}, {{ end_date }})
{%- endmacro %}


{% macro add_days(date_expression, days) %}
    {#- A date plus a whole number of days (negative: earlier), still a date. -#}
    {{- return(adapter.dispatch('add_days', 'tgpipe')(date_expression, days)) -}}
{% endmacro %}

{% macro default__add_days(date_expression, days) -%}
    date_add('day', {{ days | int }}, {{ date_expression }})
{%- endmacro %}

{% macro duckdb__add_days(date_expression, days) -%}
    cast({{ date_expression }} + interval '{{ days | int }}' day as date)
{%- endmacro %}
