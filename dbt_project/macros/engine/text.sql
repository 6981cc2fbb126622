{# Strings, regular expressions, safe casts and aggregates that differ between engines. #}

{% macro regexp_replace_all(string, pattern, replacement) %}
    {#- Replace every match (Trino replaces all by default; DuckDB only the first without 'g'). -#}
    {{- return(adapter.dispatch('regexp_replace_all', 'tgpipe')(string, pattern, replacement)) -}}
{% endmacro %}

{% macro default__regexp_replace_all(string, pattern, replacement) -%}
    regexp_replace({{ string }}, '{{ pattern }}', '{{ replacement }}')
{%- endmacro %}

{% macro duckdb__regexp_replace_all(string, pattern, replacement) -%}
    regexp_replace({{ string }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}


{% macro regexp_find_all(string, pattern) %}
    {#- Every match of pattern in string, as an array of strings, in order. -#}
    {{- return(adapter.dispatch('regexp_find_all', 'tgpipe')(string, pattern)) -}}
{% endmacro %}

{% macro default__regexp_find_all(string, pattern) -%}
    regexp_extract_all({{ string }}, '{{ pattern }}')
{%- endmacro %}


{% macro char_length(string) %}
    {#- Length in Unicode code points (not bytes, not UTF-16 units). -#}
    {{- return(adapter.dispatch('char_length', 'tgpipe')(string)) -}}
{% endmacro %}

{% macro default__char_length(string) -%}
    length({{ string }})
{%- endmacro %}


{% macro safe_cast(expression, type) %}
    {#- A cast that yields null instead of failing on a bad value. -#}
    {{- return(adapter.dispatch('safe_cast', 'tgpipe')(expression, type)) -}}
{% endmacro %}

{% macro default__safe_cast(expression, type) -%}
    try_cast({{ expression }} as {{ type }})
{%- endmacro %}


{% macro median(expression) %}
    {#- Median of a numeric expression: exact on DuckDB, approx_percentile (t-digest) on Athena. -#}
    {{- return(adapter.dispatch('median', 'tgpipe')(expression)) -}}
{% endmacro %}

{% macro default__median(expression) -%}
    approx_percentile(cast({{ expression }} as double), 0.5)
{%- endmacro %}

{% macro duckdb__median(expression) -%}
    quantile_cont(cast({{ expression }} as double), 0.5)
{%- endmacro %}


{% macro regexp_like(string, pattern) %}
    {#- True when pattern matches somewhere in string (anchor it with ^...$ for a full match). -#}
    {{- return(adapter.dispatch('regexp_like', 'tgpipe')(string, pattern)) -}}
{% endmacro %}

{% macro default__regexp_like(string, pattern) -%}
    regexp_like({{ string }}, '{{ pattern }}')
{%- endmacro %}

{% macro duckdb__regexp_like(string, pattern) -%}
    regexp_matches({{ string }}, '{{ pattern }}')
{%- endmacro %}


{#
    Engine parity: where Trino and DuckDB built-ins disagree on the same data, these macros pin one
    meaning on both.
#}

{% macro max_by_keeping_nulls(value, order_by) %}
    {#-
        The value on the row with the greatest order_by, null included: a username cleared on the
        last message is null, not the name before it. Trino's max_by keeps a null; DuckDB's max_by
        skips it, arg_max_null keeps it. Rows with a null order_by are skipped on both.
    -#}
    {{- return(adapter.dispatch('max_by_keeping_nulls', 'tgpipe')(value, order_by)) -}}
{% endmacro %}

{% macro default__max_by_keeping_nulls(value, order_by) -%}
    max_by({{ value }}, {{ order_by }})
{%- endmacro %}

{% macro duckdb__max_by_keeping_nulls(value, order_by) -%}
    arg_max_null({{ value }}, {{ order_by }})
{%- endmacro %}


{% macro whitespace_class() -%}
    {#-
        A regex class of white space that means the same on Trino (joni) and DuckDB (RE2): `\s`
        alone matches the no-break space on Trino and not on DuckDB; \p{Z} adds every Unicode
        separator (U+00A0, U+2000-U+200A, U+202F, U+3000...) on both. Use it inside brackets:
        '[' ~ whitespace_class() ~ ']'.
    -#}
    \s\p{Z}
{%- endmacro %}


{% macro trim_whitespace(string) -%}
    {#-
        Strip leading and trailing white space (spaces, tabs, newlines, no-break spaces). Trino's
        trim strips more than DuckDB's (spaces only), so neither built-in is used.
    -#}
    {%- set space = '[' ~ tgpipe.whitespace_class() ~ ']' -%}
    {{ tgpipe.regexp_replace_all(string, '^' ~ space ~ '+|' ~ space ~ '+$', '') }}
{%- endmacro %}
