"""The enriched table's schema: declared once here, never inferred from the data.

Key: ``update_id`` (unique within a partition). Partition: ``context_date=YYYY-MM-DD`` (the day
of receipt in TGPIPE_TIMEZONE; see :mod:`etl.lake`), a folder, not a column of the files. The dbt source
(dbt_project/models/staging/telegram/_telegram__sources.yml) declares the same columns for Athena.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import pyarrow as pa

from .enrich import Row

__all__ = [
    "COMPRESSION",
    "ENRICHED_SCHEMA",
    "ROW_COLUMNS",
    "ROW_GROUP_ROWS",
    "to_record_batch",
]

ENRICHED_SCHEMA: Final = pa.schema(
    [
        pa.field("update_id", pa.int64(), nullable=False),  # Telegram update id: the key
        pa.field("update_kind", pa.string(), nullable=False),  # message, edited_message, channel_post...
        pa.field("message_id", pa.int64(), nullable=False),  # id within the chat
        pa.field("chat_id", pa.int64(), nullable=False),
        pa.field("chat_type", pa.string(), nullable=False),  # private, group, supergroup, channel
        pa.field("chat_title", pa.string()),
        pa.field("from_id", pa.int64()),  # sender user id (null for channel posts)
        pa.field("from_is_bot", pa.bool_()),
        pa.field("from_first_name", pa.string()),
        pa.field("from_username", pa.string()),
        pa.field("sender_chat_id", pa.int64()),  # anonymous admins and channels
        pa.field("date", pa.int64(), nullable=False),  # send time, Unix seconds
        pa.field("edit_date", pa.int64()),  # for edits, Unix seconds
        pa.field("message_type", pa.string(), nullable=False),  # text, photo, ..., other media, service
        pa.field("text", pa.string()),
        pa.field("caption", pa.string()),
        pa.field("reply_to_message_id", pa.int64()),
        pa.field("message_thread_id", pa.int64()),  # forum topic
        pa.field("is_forwarded", pa.bool_(), nullable=False),
        pa.field("bot_command", pa.string()),  # first bot_command, lower-case, without @botname
        pa.field("new_chat_members_count", pa.int32()),  # service message: members joined
        pa.field("left_chat_member_id", pa.int64()),  # service message: member left
        # When the ETL processed the update. Milliseconds: Athena's timestamp precision.
        pa.field("context_timestamp", pa.timestamp("ms", tz="UTC")),
    ]
)

# The columns read from each update (a Row's fields, in order); context_timestamp is the run's.
ROW_COLUMNS: Final = len(Row._fields)

COMPRESSION: Final = "zstd"
# Rows per row group: what is held in memory between writes, whatever the size of the day.
ROW_GROUP_ROWS: Final = 65_536


def to_record_batch(rows: Sequence[Row], processed_at: pa.Scalar) -> pa.RecordBatch:
    """Rows as one Arrow record batch of the declared schema: one typed array per column, built from
    the transposed rows (no per-row dicts, no type inference)."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in range(ROW_COLUMNS)]
    arrays = [pa.array(values, type=ENRICHED_SCHEMA.field(i).type) for i, values in enumerate(columns)]
    arrays.append(pa.repeat(processed_at, len(rows)))
    return pa.RecordBatch.from_arrays(arrays, schema=ENRICHED_SCHEMA)
