"""The ETL's side of the opt-out: the rows of members who opted out, left out of every table.

A row is a member's when its user column is theirs: ``messages.from_id``, ``reactions.user_id``,
``member_events.user_id``; the ``message_entities`` of a left-out message go with it. Other members'
rows that mention them (a reply to them, a text_mention) stay: opting out stops the member being
counted, it does not erase them (that is `tgpipe forget`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import pyarrow as pa

from ..config import PrivacySettings
from ..lake import OPTOUT_PREFIX
from ..storage import Storage
from .optout import opted_out

__all__ = ["MEMBER_COLUMNS", "Exclusion", "exclusion_of"]

MEMBER_COLUMNS: Final = {"messages": "from_id", "reactions": "user_id", "member_events": "user_id"}


class Exclusion:
    """Filters a chunk's record batches: ``excludes(user_id)`` says who is left out."""

    def __init__(self, excludes: Callable[[int], bool]) -> None:
        self.excludes = excludes
        self.rows = 0  # rows left out so far

    def _mask(self, column: pa.Array) -> pa.Array:
        return pa.array(
            [value is None or not self.excludes(value) for value in column.to_pylist()], pa.bool_()
        )

    def filter(self, batches: dict[str, pa.RecordBatch]) -> dict[str, pa.RecordBatch]:
        """The batches of one chunk without the left-out members' rows."""
        out = dict(batches)
        dropped: set[int] = set()
        for name, column in MEMBER_COLUMNS.items():
            batch = batches.get(name)
            if batch is None or not batch.num_rows:
                continue
            keep = self._mask(batch.column(column))
            if name == "messages":
                dropped = {
                    update_id
                    for update_id, kept in zip(batch.column(0).to_pylist(), keep.to_pylist(), strict=True)
                    if not kept
                }
            out[name] = batch.filter(keep)
            self.rows += batch.num_rows - out[name].num_rows
        entities = batches.get("message_entities")
        if dropped and entities is not None and entities.num_rows:
            keep = pa.array([u not in dropped for u in entities.column(0).to_pylist()], pa.bool_())
            out["message_entities"] = entities.filter(keep)
            self.rows += entities.num_rows - out["message_entities"].num_rows
        return out


def exclusion_of(raw: Storage, settings: PrivacySettings) -> Exclusion | None:
    """The exclusion of the members opted out now (one listing of ``_optout/``); None when nobody is."""
    hashes = opted_out(raw.list(OPTOUT_PREFIX))
    if not hashes:
        return None
    from .identity import Hasher  # hashing (hmac, secrets): only a day with someone opted out needs it

    hasher = Hasher.for_lake(raw, settings)
    return Exclusion(lambda user_id: hasher(user_id) in hashes)
