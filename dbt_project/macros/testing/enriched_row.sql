{% macro enriched_row(update_id, update_kind, message_id, sent_epoch) %}
    {#-
        One row of the enriched source as a SQL select, for unit-test fixtures (`format: sql`: the
        DuckDB source is a read_parquet() call that dbt cannot introspect for missing columns).
        Keyword arguments override any column with a SQL expression, e.g. text="'hi'", from_id='null'.
    -#}
    {%- set columns = {
        'update_id': update_id | string,
        'update_kind': "'" ~ update_kind ~ "'",
        'message_id': message_id | string,
        'chat_id': '-1001234567890',
        'chat_type': "'supergroup'",
        'chat_title': "'Test group'",
        'from_id': '1001',
        'from_is_bot': 'false',
        'from_first_name': "'Ana'",
        'from_username': "'ana'",
        'sender_chat_id': 'null',
        'date': sent_epoch | string,
        'edit_date': 'null',
        'message_type': "'text'",
        'text': "'hello'",
        'caption': 'null',
        'reply_to_message_id': 'null',
        'message_thread_id': 'null',
        'is_forwarded': 'false',
        'bot_command': 'null',
        'new_chat_members_count': 'null',
        'left_chat_member_id': 'null',
        'service_kind': 'null',
        'topic_name': 'null',
        'context_timestamp': "timestamp '2026-01-01 00:00:00'",
        'context_date': "'2026-01-01'",
    } -%}
    {%- set types = {
        'update_id': 'bigint', 'update_kind': 'varchar', 'message_id': 'bigint', 'chat_id': 'bigint',
        'chat_type': 'varchar', 'chat_title': 'varchar', 'from_id': 'bigint', 'from_is_bot': 'boolean',
        'from_first_name': 'varchar', 'from_username': 'varchar', 'sender_chat_id': 'bigint',
        'date': 'bigint', 'edit_date': 'bigint', 'message_type': 'varchar', 'text': 'varchar',
        'caption': 'varchar', 'reply_to_message_id': 'bigint', 'message_thread_id': 'bigint',
        'is_forwarded': 'boolean', 'bot_command': 'varchar', 'new_chat_members_count': 'integer',
        'left_chat_member_id': 'bigint', 'service_kind': 'varchar', 'topic_name': 'varchar',
        'context_timestamp': 'timestamp', 'context_date': 'varchar',
    } -%}
    {%- for name, value in kwargs.items() -%}
        {%- if name not in columns -%}
            {{ exceptions.raise_compiler_error("enriched_row: no column " ~ name) }}
        {%- endif -%}
        {%- if name == 'context_date' -%}
            {%- do columns.update({name: "'" ~ value ~ "'"}) -%}
        {%- else -%}
            {%- do columns.update({name: value | string}) -%}
        {%- endif -%}
    {%- endfor -%}
    select
    {%- for name, value in columns.items() %}
        cast({{ value }} as {{ types[name] }}) as "{{ name }}"{{ "," if not loop.last }}
    {%- endfor %}
{% endmacro %}
