"""Stubs of the project's macros for sqlfluff's jinja templater (it knows no dbt adapter).

sqlfluff exposes this package to templates as `tgpipe`, so `{{ tgpipe.epoch_to_timestamp('x') }}`
renders here to what the macro renders to on Athena (the dialect sqlfluff lints with). Keep the
signatures in step with macros/engine/*.sql.
"""

from __future__ import annotations


def local_timezone() -> str:
    return "UTC"


def epoch_to_timestamp(epoch_seconds: str) -> str:
    return f"cast(from_unixtime({epoch_seconds}, 'UTC') as timestamp)"


def to_local_timestamp(utc_timestamp: str, zone: str | None = None) -> str:
    return (
        f"cast(with_timezone({utc_timestamp}, 'UTC') at time zone '{zone or local_timezone()}' as timestamp)"
    )


def to_zone_timestamp(utc_timestamp: str, zone_expression: str) -> str:
    return f"cast(at_timezone(with_timezone({utc_timestamp}, 'UTC'), {zone_expression}) as timestamp)"


def chat_timezone(chat_settings_zone: str) -> str:
    return f"coalesce({chat_settings_zone}, '{local_timezone()}')"


def iso_weekday(timestamp_expression: str) -> str:
    return f"day_of_week({timestamp_expression})"


def seconds_between(start_timestamp: str, end_timestamp: str) -> str:
    return f"date_diff('second', {start_timestamp}, {end_timestamp})"


def regexp_replace_all(string: str, pattern: str, replacement: str) -> str:
    return f"regexp_replace({string}, '{pattern}', '{replacement}')"


def regexp_find_all(string: str, pattern: str) -> str:
    return f"regexp_extract_all({string}, '{pattern}')"


def regexp_like(string: str, pattern: str) -> str:
    return f"regexp_like({string}, '{pattern}')"


def char_length(string: str) -> str:
    return f"length({string})"


def safe_cast(expression: str, type_name: str) -> str:
    return f"try_cast({expression} as {type_name})"


def median(expression: str) -> str:
    return f"approx_percentile(cast({expression} as double), 0.5)"


def max_by_keeping_nulls(value: str, order_by: str) -> str:
    return f"max_by({value}, {order_by})"


def whitespace_class() -> str:
    return r"\s\p{Z}"


def trim_whitespace(string: str) -> str:
    space = f"[{whitespace_class()}]"
    return regexp_replace_all(string, f"^{space}+|{space}+$", "")


def date_sequence(start_date: str, end_date: str, step_days: int = 1) -> str:
    return f"sequence(cast({start_date} as date), cast({end_date} as date), interval '{int(step_days)}' day)"


def week_start(date_expression: str) -> str:
    return f"cast(date_trunc('week', {date_expression}) as date)"


def days_between(start_date: str, end_date: str) -> str:
    return f"date_diff('day', {start_date}, {end_date})"


def add_days(date_expression: str, days: int) -> str:
    return f"date_add('day', {int(days)}, {date_expression})"


def first_receipt(relation: str, keys: list[str]) -> str:
    partition = ", ".join(f"{relation}.{key}" for key in keys)
    return (
        "select *\n    from (\n        select\n"  # noqa: S608 - SQL for the linter, no data
        f"            {relation}.*,\n"
        "            row_number() over (\n"
        f"                partition by {partition}\n"
        "                order by\n"
        f"                    {relation}.context_date asc,\n"
        f"                    {relation}.context_timestamp asc\n"
        "            ) as receipt_rank\n"
        f"        from {relation}\n"
        "    ) as ranked\n    where receipt_rank = 1"
    )


# --- incremental models (macros/incremental/partitions.sql): linted as the full build renders them ---


def incremental_by_partition(partition_column: str, clear: str) -> dict[str, object]:
    return {}


def nightly() -> bool:
    return False


def reprocessed_days(enriched_table: str) -> list[str] | None:
    return None


def changed_local_dates(enriched_table: str, date_columns: list[str]) -> str | None:
    return None


def clear_partitions(partition_column: str, values: object) -> str:
    return ""


def advancing_tables() -> list[str]:
    return ["messages", "reactions", "member_events", "message_entities"]


def kept_state(advancing: list[str]) -> str:
    return ""


def incremental_settings() -> str:
    return "0" * 32


def sql_strings(values: list[str]) -> str:
    return ", ".join(f"'{value}'" for value in values) if values else "cast(null as varchar)"


def within(column: str, values: object) -> str:
    return "true"


def not_received_before(relation: str, keys: list[str], days: list[str] | None) -> str:
    return "true"


def partition_last(columns: list[str], partition_column: str) -> str:
    ordered = [c for c in columns if c != partition_column] + [partition_column]
    return ",\n        ".join(ordered)


def enriched_files(enriched_table: str) -> str:
    return (
        f"select\n        '{enriched_table}' as enriched_table,\n        context_date,\n"
        "        cast(count(*) as bigint) as files,\n"
        "        cast(sum(file_size) as bigint) as file_bytes,\n"
        "        max(modified_at) as modified_at\n"
        "    from (\n        select\n"
        "            cast(context_date as varchar) as context_date,\n"
        '            "$path" as file_path,\n'
        '            max("$file_size") as file_size,\n'
        '            max(cast("$file_modified_time" as timestamp)) as modified_at\n'
        f"        from enriched_{enriched_table}\n        group by 1, 2\n    ) as files\n    group by 1, 2"
    )
