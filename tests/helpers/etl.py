"""Builders for the ETL tests: Telegram-shaped updates, expected rows, raw days, partitions read back."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from etl.storage import Storage
from etl.transform.job import EtlJob

GROUP_CHAT = {"id": -1001234567890, "title": "Grupo de Suporte 💬", "type": "supergroup", "is_forum": True}
CHANNEL_CHAT = {"id": -1009876543210, "title": "Anúncios", "type": "channel"}
ANA = {
    "id": 111111111,
    "is_bot": False,
    "first_name": "Ana",
    "last_name": "Souza",
    "username": "anasouza",
    "language_code": "pt-br",
}
BOB = {"id": 222222222, "is_bot": False, "first_name": "Bob", "language_code": "en"}
SENT = 1764000000  # 2025-11-24 16:00:00 UTC
DAY = "2026-10-05"
# context_timestamp of every test run, and what it reads back as (milliseconds).
NOW = datetime(2026, 10, 6, 0, 15, 30, 123456, tzinfo=UTC)
NOW_MS = datetime(2026, 10, 6, 0, 15, 30, 123000, tzinfo=UTC)
TICK = 0.125  # every reading of the fake clock is this much later: a run lasts exactly one tick


def message(message_id: int = 501, *, sender: dict[str, Any] | None = ANA, **fields: Any) -> dict[str, Any]:
    """A group message from Ana (or ``sender``; None for none) with the given content fields."""
    msg: dict[str, Any] = {"message_id": message_id}
    if sender is not None:
        msg["from"] = sender
    msg["chat"] = GROUP_CHAT
    msg["date"] = SENT
    msg.update(fields)
    return msg


def update(update_id: int, kind: str = "message", payload: Any = None, **fields: Any) -> dict[str, Any]:
    """``{"update_id": ..., kind: payload}``; the payload defaults to :func:`message` of ``fields``."""
    return {"update_id": update_id, kind: message(**fields) if payload is None else payload}


def row(**values: Any) -> dict[str, Any]:
    """The enriched row of a plain text message from Ana in the group, with ``values`` changed."""
    base: dict[str, Any] = {
        "update_id": 900000001,
        "update_kind": "message",
        "message_id": 501,
        "chat_id": -1001234567890,
        "chat_type": "supergroup",
        "chat_title": "Grupo de Suporte 💬",
        "from_id": 111111111,
        "from_is_bot": False,
        "from_first_name": "Ana",
        "from_username": "anasouza",
        "sender_chat_id": None,
        "date": SENT,
        "edit_date": None,
        "message_type": "text",
        "text": None,
        "caption": None,
        "reply_to_message_id": None,
        "message_thread_id": None,
        "is_forwarded": False,
        "bot_command": None,
        "new_chat_members_count": None,
        "left_chat_member_id": None,
        "service_kind": None,
        "topic_name": None,
        "migrate_to_chat_id": None,
        "migrate_from_chat_id": None,
        "media_group_id": None,
        "via_bot_id": None,
        "quote_text": None,
        "entity_count": 0,
    }
    unknown = set(values) - set(base) - {"context_timestamp"}
    assert not unknown, f"not columns: {unknown}"
    base.update(values)
    return base


def stored_row(**values: Any) -> dict[str, Any]:
    """:func:`row` as read back from the Parquet file, with the run's context_timestamp."""
    return {**row(**values), "context_timestamp": NOW_MS}


def body(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def write_day(storage: Storage, objects: dict[str, Any], day: str = DAY) -> None:
    """Put objects under ``context_date=day/``: ``{name: update dict or raw bytes}``."""
    for name, value in objects.items():
        storage.put(f"context_date={day}/{name}", value if isinstance(value, bytes) else body(value))


def fake_clock() -> Any:
    """A clock that moves :data:`TICK` seconds at every reading."""
    return itertools.count(1000.0, TICK).__next__


def make_job(raw: Storage, enriched: Storage, **options: Any) -> EtlJob:
    """The ETL between two stores with a fixed processing time and a deterministic clock."""
    return EtlJob(raw, enriched, now=lambda: NOW, clock=fake_clock(), **options)


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Every row of one Parquet file, in file order."""
    return pq.read_table(path).to_pylist()
