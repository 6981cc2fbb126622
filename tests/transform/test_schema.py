"""The enriched table's declared schema, and rows turned into record batches of exactly that schema."""

from __future__ import annotations

import pyarrow as pa
import pytest

from etl.transform.enrich import Row
from etl.transform.schema import ENRICHED_SCHEMA, to_record_batch
from tests.helpers.etl import NOW, NOW_MS, row

EXPECTED_COLUMNS = [
    ("update_id", pa.int64(), False),
    ("update_kind", pa.string(), False),
    ("message_id", pa.int64(), False),
    ("chat_id", pa.int64(), False),
    ("chat_type", pa.string(), False),
    ("chat_title", pa.string(), True),
    ("from_id", pa.int64(), True),
    ("from_is_bot", pa.bool_(), True),
    ("from_first_name", pa.string(), True),
    ("from_username", pa.string(), True),
    ("sender_chat_id", pa.int64(), True),
    ("date", pa.int64(), False),
    ("edit_date", pa.int64(), True),
    ("message_type", pa.string(), False),
    ("text", pa.string(), True),
    ("caption", pa.string(), True),
    ("reply_to_message_id", pa.int64(), True),
    ("message_thread_id", pa.int64(), True),
    ("is_forwarded", pa.bool_(), False),
    ("bot_command", pa.string(), True),
    ("new_chat_members_count", pa.int32(), True),
    ("left_chat_member_id", pa.int64(), True),
    ("context_timestamp", pa.timestamp("ms", tz="UTC"), True),
]
PROCESSED_AT = pa.scalar(NOW, pa.timestamp("ms", tz="UTC"))


def test_the_schema_is_the_issue_s_table_in_order() -> None:
    """Names, types and nullability of every column, in order; context_date is a folder, not a column."""
    expected = pa.schema([pa.field(name, kind, nullable=null) for name, kind, null in EXPECTED_COLUMNS])
    assert expected == ENRICHED_SCHEMA


def test_a_row_holds_every_column_but_the_run_s_timestamp() -> None:
    """Row's fields are the schema's columns in the same order, context_timestamp excepted."""
    assert [*Row._fields, "context_timestamp"] == ENRICHED_SCHEMA.names


def test_rows_become_a_record_batch_of_the_schema() -> None:
    """Values land in their typed columns, nulls stay null, every row gets the run's timestamp (ms)."""
    first = Row(**row(text="oi", message_thread_id=12))
    second = Row(
        **row(update_id=2, message_type="service", new_chat_members_count=3, from_id=None, from_is_bot=None)
    )
    batch = to_record_batch([first, second], PROCESSED_AT)
    assert batch.schema == ENRICHED_SCHEMA
    assert batch.to_pylist() == [
        {**row(text="oi", message_thread_id=12), "context_timestamp": NOW_MS},
        {
            **row(
                update_id=2, message_type="service", new_chat_members_count=3, from_id=None, from_is_bot=None
            ),
            "context_timestamp": NOW_MS,
        },
    ]


def test_no_rows_make_an_empty_batch_of_the_schema() -> None:
    """A chunk with no message at all still has the declared schema (nothing is inferred)."""
    batch = to_record_batch([], PROCESSED_AT)
    assert (batch.num_rows, batch.schema) == (0, ENRICHED_SCHEMA)


def test_a_value_of_the_wrong_type_is_refused_not_coerced() -> None:
    """The arrays are typed up front: a string in an int64 column fails instead of changing the schema."""
    bad = Row(**row(message_id="501"))
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
        to_record_batch([bad], PROCESSED_AT)
