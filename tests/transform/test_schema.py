"""The enriched lake's declared tables (schema and key), and rows turned into record batches of exactly
that schema."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl.transform.enrich import Row
from etl.transform.entities import EntityRow
from etl.transform.events import MemberEventRow, ReactionRow
from etl.transform.schema import (
    COMPRESSION,
    ENTITIES,
    MEMBER_EVENTS,
    MESSAGES,
    REACTIONS,
    TABLES,
    Table,
    open_writer,
    to_record_batch,
)
from tests.helpers.etl import NOW, NOW_MS, row

I64, STR, BOOL, I32 = pa.int64(), pa.string(), pa.bool_(), pa.int32()
PROCESSED = ("context_timestamp", pa.timestamp("ms", tz="UTC"), True)
EXPECTED: dict[str, list[tuple[str, pa.DataType, bool]]] = {
    "messages": [
        ("update_id", I64, False),
        ("update_kind", STR, False),
        ("message_id", I64, False),
        ("chat_id", I64, False),
        ("chat_type", STR, False),
        ("chat_title", STR, True),
        ("from_id", I64, True),
        ("from_is_bot", BOOL, True),
        ("from_first_name", STR, True),
        ("from_username", STR, True),
        ("sender_chat_id", I64, True),
        ("date", I64, False),
        ("edit_date", I64, True),
        ("message_type", STR, False),
        ("text", STR, True),
        ("caption", STR, True),
        ("reply_to_message_id", I64, True),
        ("message_thread_id", I64, True),
        ("is_forwarded", BOOL, False),
        ("bot_command", STR, True),
        ("new_chat_members_count", I32, True),
        ("left_chat_member_id", I64, True),
        ("service_kind", STR, True),
        ("topic_name", STR, True),
        ("migrate_to_chat_id", I64, True),
        ("migrate_from_chat_id", I64, True),
        ("media_group_id", STR, True),
        ("via_bot_id", I64, True),
        ("quote_text", STR, True),
        ("entity_count", I32, False),
        PROCESSED,
    ],
    "reactions": [
        ("update_id", I64, False),
        ("change_index", I32, False),
        ("chat_id", I64, False),
        ("message_id", I64, False),
        ("user_id", I64, True),
        ("actor_chat_id", I64, True),
        ("date", I64, False),
        ("reaction", STR, False),
        ("delta", I32, True),
        ("count", I32, True),
        ("is_snapshot", BOOL, False),
        ("source", STR, False),
        PROCESSED,
    ],
    "member_events": [
        ("update_id", I64, False),
        ("chat_id", I64, False),
        ("user_id", I64, False),
        ("user_is_bot", BOOL, True),
        ("user_first_name", STR, True),
        ("user_username", STR, True),
        ("actor_user_id", I64, True),
        ("date", I64, False),
        ("event", STR, False),
        ("old_status", STR, True),
        ("new_status", STR, True),
        ("via_invite_link", STR, True),
        ("via_join_request", BOOL, False),
        ("source", STR, False),
        PROCESSED,
    ],
    "message_entities": [
        ("update_id", I64, False),
        ("update_kind", STR, False),
        ("chat_id", I64, False),
        ("message_id", I64, False),
        ("in_caption", BOOL, False),
        ("entity_index", I32, False),
        ("kind", STR, False),
        ("offset", I32, True),
        ("length", I32, True),
        ("value", STR, True),
        ("user_id", I64, True),
        PROCESSED,
    ],
}
PROCESSED_AT = pa.scalar(NOW, pa.timestamp("ms", tz="UTC"))


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_every_table_s_schema_in_order(table: Table) -> None:
    """Names, types and nullability of every column, in order; context_date is a folder, not a column."""
    expected = pa.schema([pa.field(name, kind, nullable=null) for name, kind, null in EXPECTED[table.name]])
    assert table.schema == expected


def test_the_tables_and_their_keys() -> None:
    """Four tables, each with the columns that identify a row (tested unique by dbt)."""
    assert [(t.name, t.key) for t in TABLES] == [
        ("messages", ("update_id",)),
        ("reactions", ("update_id", "change_index")),
        ("member_events", ("update_id", "user_id")),
        ("message_entities", ("update_id", "in_caption", "entity_index")),
    ]


@pytest.mark.parametrize(
    ("table", "row_type"),
    [(MESSAGES, Row), (REACTIONS, ReactionRow), (MEMBER_EVENTS, MemberEventRow), (ENTITIES, EntityRow)],
    ids=lambda v: getattr(v, "name", ""),
)
def test_a_row_tuple_holds_every_column_but_the_run_s_timestamp(table: Table, row_type: type) -> None:
    """The row tuples' fields are the schema's columns in the same order, context_timestamp excepted."""
    assert [*row_type._fields, "context_timestamp"] == table.schema.names


def test_rows_become_a_record_batch_of_the_schema() -> None:
    """Values land in their typed columns, nulls stay null, every row gets the run's timestamp (ms)."""
    first = Row(**row(text="oi", message_thread_id=12))
    second = Row(
        **row(update_id=2, message_type="service", new_chat_members_count=3, from_id=None, from_is_bot=None)
    )
    batch = to_record_batch(MESSAGES, [first, second], PROCESSED_AT)
    assert batch.schema == MESSAGES.schema
    assert batch.to_pylist() == [
        {**row(text="oi", message_thread_id=12), "context_timestamp": NOW_MS},
        {
            **row(
                update_id=2, message_type="service", new_chat_members_count=3, from_id=None, from_is_bot=None
            ),
            "context_timestamp": NOW_MS,
        },
    ]
    reaction = ReactionRow(7, 0, -100, 5, 11, None, 1764000000, "👍", 1, None, False, "message_reaction")
    assert to_record_batch(REACTIONS, [reaction], PROCESSED_AT).to_pylist() == [
        {**reaction._asdict(), "context_timestamp": NOW_MS}
    ]


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_no_rows_make_an_empty_batch_of_the_schema(table: Table) -> None:
    """A chunk with no row of a table still has the declared schema (nothing is inferred)."""
    batch = to_record_batch(table, [], PROCESSED_AT)
    assert (batch.num_rows, batch.schema) == (0, table.schema)


def test_a_value_of_the_wrong_type_is_refused_not_coerced() -> None:
    """The arrays are typed up front: a string in an int64 column fails instead of changing the schema."""
    bad = Row(**row(message_id="501"))
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
        to_record_batch(MESSAGES, [bad], PROCESSED_AT)


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_the_writer_writes_what_pyarrow_parquet_writes(table: Table, tmp_path: Path) -> None:
    """open_writer skips importing pyarrow.parquet, not any of its options: for the same rows the file
    is byte for byte what pyarrow.parquet.ParquetWriter(path, schema, compression=COMPRESSION) writes,
    and it reads back as those rows (a pyarrow upgrade that changes a default fails here)."""
    rows = {
        MESSAGES.name: [Row(**row(text="oi", message_thread_id=12)), Row(**row(update_id=2, text=None))],
        REACTIONS.name: [
            ReactionRow(7, 0, -100, 5, 11, None, 1764000000, "👍", 1, None, False, "message_reaction")
        ],
        MEMBER_EVENTS.name: [],
        ENTITIES.name: [EntityRow(3, "message", -100, 5, False, 0, "hashtag", 0, 3, "#oi", None)],
    }[table.name]
    data = pa.Table.from_batches([to_record_batch(table, rows, PROCESSED_AT)], schema=table.schema)
    theirs = pq.ParquetWriter(tmp_path / "theirs.parquet", table.schema, compression=COMPRESSION)
    theirs.write_table(data, row_group_size=max(1, data.num_rows))
    theirs.close()
    ours = open_writer(table, str(tmp_path / "ours.parquet"))
    ours.write_table(data, row_group_size=max(1, data.num_rows))
    ours.close()
    assert (tmp_path / "ours.parquet").read_bytes() == (tmp_path / "theirs.parquet").read_bytes()
    assert pq.read_table(tmp_path / "ours.parquet").to_pylist() == data.to_pylist()
