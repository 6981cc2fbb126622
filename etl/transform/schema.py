"""The enriched lake's tables: each schema declared once here, with its key, never inferred from data.

Every table is partitioned by ``context_date=YYYY-MM-DD`` (the day of receipt in TGPIPE_TIMEZONE;
see :mod:`etl.lake`), a folder, not a column of the files, and ends with ``context_timestamp``, when
the ETL processed the day. The dbt sources (dbt_project/models/staging/telegram/_telegram__sources.yml)
and the Athena tables (chalice_app/infra/data.yaml, the ``create_enriched_source_table`` macro) declare
the same columns. Columns come in the order of the row tuples of :mod:`etl.transform.enrich`,
:mod:`etl.transform.events` and :mod:`etl.transform.entities`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import pyarrow as pa
import pyarrow._parquet as _parquet

from .enrich import Row
from .entities import EntityRow
from .events import MemberEventRow, ReactionRow

__all__ = [
    "COMPRESSION",
    "ENRICHED_SCHEMA",
    "ENTITIES",
    "MEMBER_EVENTS",
    "MESSAGES",
    "REACTIONS",
    "ROW_GROUP_ROWS",
    "TABLES",
    "Table",
    "open_writer",
    "to_record_batch",
]

# When the ETL processed the update. Milliseconds: Athena's timestamp precision.
_PROCESSED_AT = pa.field("context_timestamp", pa.timestamp("ms", tz="UTC"))


@dataclass(frozen=True)
class Table:
    """One table of the enriched lake: its name (the folder), its schema and the columns of its key."""

    name: str
    schema: pa.Schema
    key: tuple[str, ...]
    row_fields: tuple[str, ...]  # the row tuple's fields, one per column before context_timestamp

    def __post_init__(self) -> None:
        names = tuple(self.schema.names)
        if names[:-1] != self.row_fields or names[-1] != _PROCESSED_AT.name:
            raise AssertionError(f"the {self.name} schema does not follow its row tuple")  # pragma: no cover


MESSAGES: Final = Table(
    "messages",
    pa.schema(
        [
            pa.field("update_id", pa.int64(), nullable=False),  # Telegram update id: the key
            pa.field("update_kind", pa.string(), nullable=False),  # message, edited_message, channel_post...
            pa.field("message_id", pa.int64(), nullable=False),  # id within the chat
            pa.field("chat_id", pa.int64(), nullable=False),
            pa.field(
                "chat_type", pa.string(), nullable=False
            ),  # private, group, supergroup, channel, unknown
            pa.field("chat_title", pa.string()),
            pa.field("from_id", pa.int64()),  # sender user id (null for channel posts)
            pa.field("from_is_bot", pa.bool_()),  # null when the payload does not say (Bot API < 3.0)
            pa.field("from_first_name", pa.string()),
            pa.field("from_username", pa.string()),
            pa.field("sender_chat_id", pa.int64()),  # anonymous admins and channels
            pa.field("date", pa.int64(), nullable=False),  # send time, Unix seconds
            pa.field("edit_date", pa.int64()),  # for edits, Unix seconds
            pa.field("message_type", pa.string(), nullable=False),  # text, photo, ..., checklist, service
            pa.field("text", pa.string()),
            pa.field("caption", pa.string()),
            pa.field("reply_to_message_id", pa.int64()),
            pa.field("message_thread_id", pa.int64()),  # forum topic
            pa.field("is_forwarded", pa.bool_(), nullable=False),
            pa.field("bot_command", pa.string()),  # first bot_command, lower-case, without @botname
            pa.field("new_chat_members_count", pa.int32()),  # service message: members joined
            pa.field("left_chat_member_id", pa.int64()),  # service message: member left
            pa.field("service_kind", pa.string()),  # the service field (forum_topic_created...), else null
            pa.field("topic_name", pa.string()),  # forum_topic_created / forum_topic_edited: the name
            pa.field("migrate_to_chat_id", pa.int64()),
            pa.field("migrate_from_chat_id", pa.int64()),
            pa.field("media_group_id", pa.string()),  # an album's messages share it
            pa.field("via_bot_id", pa.int64()),  # sent through an inline bot
            pa.field("quote_text", pa.string()),  # the part of the replied message it quotes
            pa.field("entity_count", pa.int32(), nullable=False),  # entities of the text and caption
            _PROCESSED_AT,
        ]
    ),
    key=("update_id",),
    row_fields=Row._fields,
)

REACTIONS: Final = Table(
    "reactions",
    pa.schema(
        [
            pa.field("update_id", pa.int64(), nullable=False),
            pa.field("change_index", pa.int32(), nullable=False),  # the row's place in its update
            pa.field("chat_id", pa.int64(), nullable=False),
            pa.field("message_id", pa.int64(), nullable=False),  # the message reacted to
            pa.field("user_id", pa.int64()),  # who reacted (null: anonymous, or a snapshot)
            pa.field("actor_chat_id", pa.int64()),  # a chat reacting on its own behalf
            pa.field("date", pa.int64(), nullable=False),  # Unix seconds
            pa.field("reaction", pa.string(), nullable=False),  # the emoji, custom:<id>, paid
            pa.field("delta", pa.int32()),  # +1 added, -1 removed; null for a snapshot
            pa.field("count", pa.int32()),  # a snapshot's total; null for a change
            pa.field("is_snapshot", pa.bool_(), nullable=False),
            pa.field(
                "source", pa.string(), nullable=False
            ),  # message_reaction, message_reaction_count, export
            _PROCESSED_AT,
        ]
    ),
    key=("update_id", "change_index"),
    row_fields=ReactionRow._fields,
)

MEMBER_EVENTS: Final = Table(
    "member_events",
    pa.schema(
        [
            pa.field("update_id", pa.int64(), nullable=False),
            pa.field("chat_id", pa.int64(), nullable=False),
            pa.field("user_id", pa.int64(), nullable=False),  # the member
            pa.field("user_is_bot", pa.bool_()),
            pa.field("user_first_name", pa.string()),
            pa.field("user_username", pa.string()),
            pa.field("actor_user_id", pa.int64()),  # who made the change (the member, an admin)
            pa.field("date", pa.int64(), nullable=False),  # Unix seconds
            pa.field("event", pa.string(), nullable=False),  # joined, left, kicked, banned, promoted...
            pa.field("old_status", pa.string()),  # chat_member updates: creator, member, left, kicked...
            pa.field("new_status", pa.string()),
            pa.field("via_invite_link", pa.string()),  # the invite link's name, never the link
            pa.field("via_join_request", pa.bool_(), nullable=False),
            pa.field("source", pa.string(), nullable=False),  # chat_member, ..., service_message, export
            _PROCESSED_AT,
        ]
    ),
    key=("update_id", "user_id"),
    row_fields=MemberEventRow._fields,
)

ENTITIES: Final = Table(
    "message_entities",
    pa.schema(
        [
            pa.field("update_id", pa.int64(), nullable=False),
            pa.field("update_kind", pa.string(), nullable=False),  # message, edited_message...
            pa.field("chat_id", pa.int64(), nullable=False),
            pa.field("message_id", pa.int64(), nullable=False),
            pa.field("in_caption", pa.bool_(), nullable=False),  # of the caption, else of the text
            pa.field("entity_index", pa.int32(), nullable=False),  # its place in the list
            pa.field("kind", pa.string(), nullable=False),  # mention, hashtag, url, bot_command...
            pa.field("offset", pa.int32()),  # UTF-16 code units
            pa.field("length", pa.int32()),
            pa.field("value", pa.string()),  # normalised (see etl.transform.entities)
            pa.field("user_id", pa.int64()),  # text_mention: the person mentioned
            _PROCESSED_AT,
        ]
    ),
    key=("update_id", "in_caption", "entity_index"),
    row_fields=EntityRow._fields,
)

# Every table, in the order the ETL writes them.
TABLES: Final = (MESSAGES, REACTIONS, MEMBER_EVENTS, ENTITIES)
# The messages table's schema (what the first version of the lake was).
ENRICHED_SCHEMA: Final = MESSAGES.schema

COMPRESSION: Final = "zstd"
# Rows per row group: what is held in memory between writes, whatever the size of the day.
ROW_GROUP_ROWS: Final = 65_536


def to_record_batch(table: Table, rows: Sequence[tuple[Any, ...]], processed_at: pa.Scalar) -> pa.RecordBatch:
    """Rows as one Arrow record batch of the table's schema: one typed array per column, built from
    the transposed rows (no per-row dicts, no type inference)."""
    schema = table.schema
    width = len(table.row_fields)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]
    arrays = [pa.array(values, type=schema.field(i).type) for i, values in enumerate(columns)]
    arrays.append(pa.repeat(processed_at, len(rows)))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def open_writer(table: Table, path: str) -> _parquet.ParquetWriter:
    """A Parquet writer of ``table`` at ``path``: what ``pyarrow.parquet.ParquetWriter(path, schema,
    compression=COMPRESSION)`` opens (the same options, so the same bytes: a test holds it to that),
    without importing ``pyarrow.parquet``, whose file systems (S3, GCS, TLS) cost a day of a few
    hundred updates more time than its rows. ``write_table(data, row_group_size=n)``, ``close()``."""
    return _parquet.ParquetWriter(
        path,
        table.schema,
        version="2.6",
        compression=COMPRESSION,
        use_dictionary=True,
        write_statistics=True,
        use_deprecated_int96_timestamps=False,
        use_byte_stream_split=False,
        writer_engine_version="V2",
        data_page_version="1.0",
        use_compliant_nested_type=True,
        store_schema=True,
        write_page_index=False,
        write_page_checksum=False,
        store_decimal_as_integer=False,
        write_time_adjusted_to_utc=False,
        use_content_defined_chunking=False,
    )
