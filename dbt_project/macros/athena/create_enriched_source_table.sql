{#
    dbt run-operation create_enriched_source_table [--args '{replace: true}' | '{dry_run: true}']

    Creates (idempotently) the Glue database and the external tables behind the telegram sources
    (messages, reactions, member_events, message_entities), each over its folder of
    TGPIPE_ENRICHED_URI, with partition projection on context_date: every day the ETL writes is
    queryable at once, with no MSCK REPAIR TABLE and no Glue partitions to manage.
    Columns and types come from the source's YAML (declared once, as in the ETL's schema).
    replace: drop and recreate the table (metadata only; the Parquet files stay) to apply a changed
    definition. dry_run: print the DDL instead of running it (works with no AWS account).
#}

{% macro create_enriched_source_table(replace=false, dry_run=false) %}
    {{- return(adapter.dispatch('create_enriched_source_table', 'tgpipe')(replace, dry_run)) -}}
{% endmacro %}


{% macro default__create_enriched_source_table(replace, dry_run) %}
    {{ log("create_enriched_source_table: nothing to do on the " ~ target.type ~ " target, whose source reads the Parquet files of TGPIPE_ENRICHED_URI in place", info=true) }}
{% endmacro %}


{% macro athena__create_enriched_source_table(replace, dry_run) %}
    {%- set statements = tgpipe.enriched_source_table_ddl(replace) -%}
    {%- for statement in statements -%}
        {%- if dry_run -%}
            {{ print(statement ~ ';') }}
        {%- else -%}
            {%- do run_query(statement) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not dry_run -%}
        {%- set relation = source('telegram', 'messages') -%}
        {{ log("create_enriched_source_table: the tables of " ~ relation.schema ~ " read " ~ tgpipe.enriched_location(), info=true) }}
    {%- endif -%}
{% endmacro %}


{% macro enriched_location() %}
    {#- TGPIPE_ENRICHED_URI as an S3 folder URI ending in /, or a clear error. -#}
    {%- set uri = env_var('TGPIPE_ENRICHED_URI', '') | trim -%}
    {%- if not modules.re.fullmatch('s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/[^\'\\\\]*)?', uri) -%}
        {{ exceptions.raise_compiler_error(
            "TGPIPE_ENRICHED_URI must be the s3://bucket/prefix the ETL writes to on the athena target, got '" ~ uri ~ "'"
        ) }}
    {%- endif -%}
    {{- return(uri.rstrip('/') ~ '/') -}}
{% endmacro %}


{% macro enriched_source_table_ddl(replace=false) %}
    {#- The DDL statements, in order, as a list of strings (Athena runs one statement per query): the
        database, then one external table per table of the enriched lake, each over its own folder. -#}
    {%- set nodes = graph.sources.values() | selectattr('source_name', 'equalto', 'telegram') | sort(attribute='name') -%}
    {%- set partition_column = 'context_date' -%}
    {%- set statements = [] -%}
    {%- for node in nodes -%}
        {%- set relation = source('telegram', node.name) -%}
        {%- set location = tgpipe.enriched_location() ~ node.name ~ '/' -%}
        {%- set columns = [] -%}
        {%- for column in node.columns.values() if column.name != partition_column -%}
            {%- if not column.data_type -%}
                {{ exceptions.raise_compiler_error("source telegram." ~ node.name ~ ": column " ~ column.name ~ " has no data_type") }}
            {%- endif -%}
            {%- do columns.append('`' ~ column.name ~ '` ' ~ column.data_type) -%}
        {%- endfor -%}
        {%- set table = '`' ~ relation.schema ~ '`.`' ~ relation.identifier ~ '`' -%}
        {%- if loop.first -%}
            {%- do statements.append('create database if not exists `' ~ relation.schema ~ '`') -%}
        {%- endif -%}
        {%- if replace -%}
            {%- do statements.append('drop table if exists ' ~ table) -%}
        {%- endif -%}
        {%- set ddl -%}
create external table if not exists {{ table }} (
    {{ columns | join(',\n    ') }}
)
comment 'tgpipe enriched layer: {{ node.name }}, partitioned by day of receipt'
partitioned by (`{{ partition_column }}` string)
stored as parquet
location '{{ location }}'
tblproperties (
    'projection.enabled' = 'true',
    'projection.{{ partition_column }}.type' = 'date',
    'projection.{{ partition_column }}.format' = 'yyyy-MM-dd',
    'projection.{{ partition_column }}.range' = '{{ tgpipe.projection_first_date() }},NOW+1DAYS',
    'projection.{{ partition_column }}.interval' = '1',
    'projection.{{ partition_column }}.interval.unit' = 'DAYS',
    'storage.location.template' = '{{ location }}{{ partition_column }}=${{ "{" ~ partition_column ~ "}" }}/'
)
        {%- endset -%}
        {%- do statements.append(ddl) -%}
    {%- endfor -%}
    {{- return(statements) -}}
{% endmacro %}


{% macro projection_first_date() %}
    {#- var('enriched_first_date'), checked: it is inlined in the DDL. -#}
    {%- set first = var('enriched_first_date', '2020-01-01') | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', first) -%}
        {{ exceptions.raise_compiler_error("var 'enriched_first_date' must be a date like 2020-01-01, got '" ~ first ~ "'") }}
    {%- endif -%}
    {{- return(first) -}}
{% endmacro %}
