{#
    first_receipt(relation, keys): the rows of `relation` (a CTE of an enriched
    source) with one row per `keys`, the first received: Telegram redelivers an
    update it saw no 2xx for, and across local midnight the copy lands in the
    next day's partition. Earliest context_date wins, then the earliest ETL run.
    Renders a query, for the body of a `deduplicated` CTE; the rank column
    `receipt_rank` stays in the output, as a staging model's `renamed` CTE
    selects its columns by name.
#}

{% macro first_receipt(relation, keys) %}
    {%- set partition = [] -%}
    {%- for key in keys -%}
        {%- do partition.append(relation ~ '.' ~ key) -%}
    {%- endfor -%}
    select *
    from (
        select
            {{ relation }}.*,
            row_number() over (
                partition by {{ partition | join(', ') }}
                order by
                    {{ relation }}.context_date asc,
                    {{ relation }}.context_timestamp asc
            ) as receipt_rank
        from {{ relation }}
    ) as ranked
    where receipt_rank = 1
{%- endmacro %}
