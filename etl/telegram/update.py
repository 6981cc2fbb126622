"""The shape of a Telegram Bot API Update: the one reading every stage makes of an update's bytes.

The webhook and `tgpipe poll` (through the router), the history import and the daily ETL all call
:func:`parse_update` (or :func:`decode` then :func:`read_update`), so the same bytes get the same
verdict everywhere: which kind, which chat, which message, or "not an update" (:class:`MalformedUpdate`,
whose message names the reason, never the content).

* **JSON** is read by orjson, strictly (RFC 8259): UTF-8 only, no ``NaN``/``Infinity``, no lone
  surrogates, at most 1,024 levels of nesting, no integer of 4,300 digits. What the webhook
  acknowledges, the ETL can therefore always read.
* **An update** is an object with an integer ``update_id`` (0 to 2**63-1) and exactly one more field,
  its kind (https://core.telegram.org/bots/api#update), named in snake_case. Two kinds in one object
  (Telegram never sends that) is not an update: routing by one and modelling the other would put a
  message in the wrong chat.
* **The chat** of a kind is its object's ``chat.id``, or for ``callback_query`` its message's; kinds
  the Bot API adds later are read the same way, so they are kept rather than dropped.
* **A message** (``message``, ``edited_message``, ``channel_post``, ``edited_channel_post``) must say
  what identifies it: ``message_id``, ``chat.id`` and ``date``, 64-bit integers. Every other field of
  a message is optional here; the ETL reads those tolerantly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final, TypeGuard

import orjson

from ..errors import TgpipeError

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MESSAGE_KINDS",
    "MalformedUpdate",
    "Update",
    "decode",
    "parse_update",
    "read_update",
]

# Bot API ids and times are signed 64-bit integers.
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
# The update kinds that carry a Message.
MESSAGE_KINDS: Final = ("message", "edited_message", "channel_post", "edited_channel_post")
_MESSAGE_KIND_SET: Final = frozenset(MESSAGE_KINDS)
_KIND_RE: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")
# Kind names already checked against _KIND_RE (a day holds a handful): the check runs once per name.
_KINDS_SEEN: set[str] = set()
_KINDS_SEEN_MAX: Final = 1024


class MalformedUpdate(TgpipeError, ValueError):
    """The bytes are not a Bot API update; the message says why (never quoting the content)."""


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs a call per field (hot path)
class Update:
    """One update as every stage reads it; the raw body is kept separately, untouched."""

    update_id: int
    kind: str
    chat_id: int | None
    migrate_to_chat_id: int | None = None
    migrate_from_chat_id: int | None = None
    payload: Any = field(default=None, compare=False, repr=False)  # the kind's object

    @property
    def sender_id(self) -> int | None:
        """Who sent it: the kind's ``from.id`` (``user.id`` for message_reaction and poll_answer), if
        any. Read when asked (the webhook's opt-out asks; the ETL, reading a day, does not)."""
        return _sender_of(self.kind, self.payload)

    @property
    def message(self) -> dict[str, Any] | None:
        """The Message of a message kind, else None."""
        return self.payload if self.kind in MESSAGE_KINDS else None


def _is_int64(value: object) -> TypeGuard[int]:
    return type(value) is int and INT64_MIN <= value <= INT64_MAX


def decode(body: bytes) -> Any:
    """The JSON value of ``body``, read strictly, or :class:`MalformedUpdate` saying why not."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedUpdate("body is not valid UTF-8") from None
        raise MalformedUpdate(f"body is not JSON ({exc})") from None


def _chat_of(kind: str, payload: Any) -> int | None:
    if type(payload) is not dict:
        return None
    chat = payload.get("chat")
    if chat is None and kind == "callback_query" and type(payload.get("message")) is dict:
        chat = payload["message"].get("chat")
    if type(chat) is dict:
        chat_id = chat.get("id")
        if _is_int64(chat_id):
            return chat_id
    return None


def _check_message(kind: str, message: Any) -> int:
    """The chat id of a message of ``kind``, after checking what identifies the message."""
    if type(message) is not dict:
        raise MalformedUpdate(f"{kind} is not an object")
    chat = message.get("chat")
    if type(chat) is not dict:
        raise MalformedUpdate(f"{kind}.chat is missing" if chat is None else f"{kind}.chat is not an object")
    message_id, chat_id, date = message.get("message_id"), chat.get("id"), message.get("date")
    # The common case in one expression (this runs for every update); the error names the field.
    if not (
        type(message_id) is int
        and INT64_MIN <= message_id <= INT64_MAX
        and type(chat_id) is int
        and INT64_MIN <= chat_id <= INT64_MAX
        and type(date) is int
        and INT64_MIN <= date <= INT64_MAX
    ):
        for where, value in (("message_id", message_id), ("chat.id", chat_id), ("date", date)):
            if value is None:
                raise MalformedUpdate(f"{kind}.{where} is missing")
            if not _is_int64(value):
                raise MalformedUpdate(f"{kind}.{where} is not a 64-bit integer")
    return chat_id  # type: ignore[return-value]


def read_update(data: Any) -> Update:
    """The update a decoded JSON value is, or :class:`MalformedUpdate` saying why it is none."""
    if type(data) is not dict:
        raise MalformedUpdate(f"body is a JSON {_json_type(data)}, not an object")
    update_id = data.get("update_id")
    if type(update_id) is not int:
        raise MalformedUpdate("update_id is missing" if update_id is None else "update_id is not an integer")
    if not 0 <= update_id <= INT64_MAX:
        raise MalformedUpdate("update_id is out of range")
    if len(data) != 2:
        if len(data) == 1:
            raise MalformedUpdate("update has no kind: no field besides update_id")
        raise MalformedUpdate(f"update has {len(data) - 1} kinds: Telegram sends exactly one")
    for kind in data:
        if kind != "update_id":
            break
    payload = data[kind]
    if kind not in _KINDS_SEEN:
        if not _KIND_RE.fullmatch(kind):
            raise MalformedUpdate("update kind is not a Bot API field name")
        if len(_KINDS_SEEN) < _KINDS_SEEN_MAX:
            _KINDS_SEEN.add(kind)
    if kind in _MESSAGE_KIND_SET:
        chat_id: int | None = _check_message(kind, payload)
    else:
        chat_id = _chat_of(kind, payload)
    migrate_to = migrate_from = None
    if type(payload) is dict and ("migrate_to_chat_id" in payload or "migrate_from_chat_id" in payload):
        if "migrate_to_chat_id" in payload and _is_int64(payload["migrate_to_chat_id"]):
            migrate_to = payload["migrate_to_chat_id"]
        if "migrate_from_chat_id" in payload and _is_int64(payload["migrate_from_chat_id"]):
            migrate_from = payload["migrate_from_chat_id"]
    return Update(update_id, kind, chat_id, migrate_to, migrate_from, payload)


def _sender_of(kind: str, payload: Any) -> int | None:
    """The user id of the one who sent an update of ``kind``: ``from``, or ``user`` for the kinds
    that name the reactor or voter so."""
    if type(payload) is not dict:
        return None
    user = payload.get("user" if kind in _USER_KINDS else "from")
    if type(user) is dict and _is_int64(user.get("id")):
        sender: int = user["id"]
        return sender
    return None


_USER_KINDS: Final = frozenset({"message_reaction", "poll_answer"})


def parse_update(body: bytes) -> Update:
    """:func:`read_update` of :func:`decode` of the body."""
    return read_update(decode(body))


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else type(value).__name__
