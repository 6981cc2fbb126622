"""Erasure records: one small JSON object per `tgpipe forget` run under ``{raw}/_erasures/``.

A record names the person only by their salted id hash (:mod:`etl.privacy.identity`) and holds when
it ran, for which chat (null: every chat) and how many objects and rows it removed or rewrote per
layer; never a name, a username, a day or any text::

    {"person": "3f1c...", "chat_id": null, "at": "2026-10-05T10:15:00.123456Z",
     "counts": {"raw_removed": 4, "raw_rewritten": 2, ...}}

The history import reads them (:func:`erased_people`) so a re-imported export never brings an
erased person back.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import orjson

from ..lake import ERASURES_PREFIX, erasure_key
from ..storage import ObjectNotFound, Storage

__all__ = ["erased_people", "write_record"]


def write_record(raw: Storage, person: str, chat_id: int | None, at: datetime, counts: dict[str, Any]) -> str:
    """Append one record; returns its key."""
    stamp = at.strftime("%Y%m%dT%H%M%S%fZ")
    record = {
        "person": person,
        "chat_id": chat_id,
        "at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "counts": counts,
    }
    key = erasure_key(stamp, person, secrets.token_hex(4))
    raw.put(key, orjson.dumps(record))
    return key


def erased_people(raw: Storage, chat_ids: frozenset[int] | None = None) -> frozenset[str]:
    """The hashes of the people erased from every chat, or from one of ``chat_ids``."""
    people: set[str] = set()
    for key in raw.list(ERASURES_PREFIX):
        try:
            record = orjson.loads(raw.get(key))
        except (ObjectNotFound, orjson.JSONDecodeError):
            continue
        if type(record) is not dict or type(record.get("person")) is not str:
            continue
        chat = record.get("chat_id")
        if chat is None or chat_ids is None or chat in chat_ids:
            people.add(record["person"])
    return frozenset(people)
