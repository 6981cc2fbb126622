{#
    Generic data tests written here because dbt hub packages (dbt_utils) cannot be installed.
    Each returns the offending rows; the test fails when there is at least one.
#}

{% test unique_combination(model, combination_of_columns) %}
    {#- No two rows share the same values of these columns (a grain test). -#}
    {%- set columns = combination_of_columns | join(', ') %}

    select
        {{ columns }},
        count(*) as rows_with_these_values
    from {{ model }}
    group by {{ columns }}
    having count(*) > 1
{% endtest %}


{% test non_negative(model, column_name) %}
    {#- A count or duration is never below zero (null passes: not_null says otherwise). -#}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} < 0
{% endtest %}


{% test expression_is_true(model, expression, column_name=none) %}
    {#-
        An invariant that must hold on every row, e.g. `text_messages <= messages`. A row where the
        expression is null (a null operand) passes: not_null tests say whether nulls are allowed.
    -#}
    select *
    from {{ model }}
    where not ({{ expression }})
{% endtest %}


{% test relationships_combination(model, to, combination_of_columns) %}
    {#- Every combination of these columns also exists in `to` (a multi-column relationships test). -#}
    with

    child as (

        select distinct {{ combination_of_columns | join(', ') }}
        from {{ model }}

    ),

    parent as (

        select distinct {{ combination_of_columns | join(', ') }}
        from {{ to }}

    )

    select child.*
    from child
    left join parent
        on
        {%- for column in combination_of_columns %}
            {{ 'and ' if not loop.first }}child.{{ column }} = parent.{{ column }}
        {%- endfor %}
    where parent.{{ combination_of_columns[0] }} is null
{% endtest %}
