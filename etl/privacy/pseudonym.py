"""Pseudonymised enriched layer and marts (TGPIPE_PSEUDONYMISE=1): user ids replaced by a keyed hash,
names and usernames dropped, as the ETL writes each day.

A pseudonym is ``HMAC-SHA256(key, str(user_id))``'s first 8 bytes as a big-endian integer shifted
right by one: a stable, non-negative 63-bit integer (an int64 column keeps its type), the same for one
person in every table, day and run, and unknown without the key (TGPIPE_PSEUDONYMISE_KEY, or on AWS
the SSM SecureString TGPIPE_PSEUDONYMISE_KEY_PARAM names). The marts, built from the enriched layer,
are then the plain marts with every user id mapped and every name null.

Replaced: ``messages.from_id``, ``left_chat_member_id`` and a private chat's ``chat_id`` (a user's id);
``reactions.user_id``; ``member_events.user_id`` and ``actor_user_id``; ``message_entities.user_id``
and its ``chat_id`` likewise. Dropped (null): ``from_first_name``, ``from_username``,
``user_first_name``, ``user_username``, and the ``value`` of ``mention`` / ``text_mention`` entities
(an @username or a name). Message text is kept (TGPIPE_TEXT_RETENTION_DAYS limits it). The raw
layer keeps the real ids, so `tgpipe forget --user-id` still finds a person: it hashes the id with the
same key to find their enriched rows.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

import pyarrow as pa

__all__ = ["ID_COLUMNS", "NAME_COLUMNS", "Pseudonymiser", "pseudonym"]

ID_COLUMNS: Final = {
    "messages": ("from_id", "left_chat_member_id"),
    "reactions": ("user_id",),
    "member_events": ("user_id", "actor_user_id"),
    "message_entities": ("user_id",),
}
NAME_COLUMNS: Final = {
    "messages": ("from_first_name", "from_username"),
    "member_events": ("user_first_name", "user_username"),
}
_NAMED_ENTITIES: Final = frozenset({"mention", "text_mention"})


def pseudonym(key: bytes, user_id: int) -> int:
    """The stable 63-bit pseudonym of a user id under ``key``."""
    digest = hmac.new(key, str(user_id).encode("ascii"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class Pseudonymiser:
    """Rewrites a chunk's record batches: ids to pseudonyms (remembered), names to null."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self._known: dict[int, int] = {}

    def __call__(self, user_id: int) -> int:
        found = self._known.get(user_id)
        if found is None:
            found = self._known[user_id] = pseudonym(self.key, user_id)
        return found

    def _ids(self, column: pa.Array, *, only_positive: bool = False) -> pa.Array:
        values = column.to_pylist()
        mapped = [
            v if v is None or (only_positive and v <= 0) else self(v)  # negative: a group or channel
            for v in values
        ]
        return pa.array(mapped, column.type)

    def apply(self, name: str, batch: pa.RecordBatch) -> pa.RecordBatch:
        """One table's batch, pseudonymised."""
        if not batch.num_rows:
            return batch
        columns = dict(zip(batch.schema.names, batch.columns, strict=True))
        for column in ID_COLUMNS.get(name, ()):
            columns[column] = self._ids(columns[column])
        if "chat_id" in columns:
            columns["chat_id"] = self._ids(columns["chat_id"], only_positive=True)
        for column in NAME_COLUMNS.get(name, ()):
            columns[column] = pa.nulls(batch.num_rows, columns[column].type)
        if name == "message_entities":
            kinds = columns["kind"].to_pylist()
            values = columns["value"].to_pylist()
            columns["value"] = pa.array(
                [None if k in _NAMED_ENTITIES else v for k, v in zip(kinds, values, strict=True)], pa.string()
            )
        return pa.RecordBatch.from_arrays([columns[n] for n in batch.schema.names], schema=batch.schema)

    def filter(self, batches: dict[str, pa.RecordBatch]) -> dict[str, pa.RecordBatch]:
        return {name: self.apply(name, batch) for name, batch in batches.items()}
