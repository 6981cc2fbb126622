"""The shape of Telegram Bot API updates, as far as the webhook needs it.

An Update object has an integer ``update_id`` and exactly one optional field naming its kind
(https://core.telegram.org/bots/api#update). Most kinds carry a chat: the kind's object has a
``chat`` (message, edited_message, channel_post, my_chat_member, chat_member, message_reaction,
chat_join_request, chat_boost, ...) or, for ``callback_query``, a ``message`` with one. Kinds we
don't know yet are read the same way, so a new Bot API field is kept rather than dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeGuard

from ..errors import TgpipeError

__all__ = ["INT64_MAX", "INT64_MIN", "MalformedUpdate", "Update", "parse_update"]

# Bot API ids and times are signed 64-bit integers.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class MalformedUpdate(TgpipeError, ValueError):
    """The body is not a UTF-8 JSON object with an integer ``update_id``."""


@dataclass(frozen=True, slots=True)
class Update:
    """The routing facts of one update; the raw body is kept separately, untouched."""

    update_id: int
    kind: str | None
    chat_id: int | None
    migrate_to_chat_id: int | None = None
    migrate_from_chat_id: int | None = None


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _chat_of(payload: Any) -> int | None:
    if not isinstance(payload, dict):
        return None
    chat = payload.get("chat")
    if chat is None and isinstance(payload.get("message"), dict):  # callback_query
        chat = payload["message"].get("chat")
    if isinstance(chat, dict) and _is_int(chat.get("id")):
        chat_id: int = chat["id"]
        return chat_id
    return None


def _int_field(payload: Any, name: str) -> int | None:
    if isinstance(payload, dict) and _is_int(payload.get(name)):
        value: int = payload[name]
        return value
    return None


def parse_update(body: bytes) -> Update:
    """Read the routing facts of a webhook body, or raise :class:`MalformedUpdate` saying why."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedUpdate("body is not valid UTF-8") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # ValueError: also an integer of over 4,300 digits
        raise MalformedUpdate(f"body is not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise MalformedUpdate(f"body is a JSON {type(data).__name__}, not an object")
    update_id = data.get("update_id")
    if not _is_int(update_id):
        raise MalformedUpdate("update_id is missing" if update_id is None else "update_id is not an integer")
    if not 0 <= update_id <= INT64_MAX:
        raise MalformedUpdate("update_id is out of range")
    # One kind per update; should Telegram ever send more, the first one carrying a chat decides.
    kind: str | None = None
    payload: Any = None
    chat_id: int | None = None
    for key, value in data.items():
        if key == "update_id":
            continue
        if kind is None:
            kind, payload = key, value
        found = _chat_of(value)
        if found is not None:
            kind, payload, chat_id = key, value, found
            break
    return Update(
        update_id=update_id,
        kind=kind,
        chat_id=chat_id,
        migrate_to_chat_id=_int_field(payload, "migrate_to_chat_id"),
        migrate_from_chat_id=_int_field(payload, "migrate_from_chat_id"),
    )
