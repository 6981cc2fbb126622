"""One raw update -> one enriched row: the per-item work of the daily ETL (no pyarrow here).

:func:`to_row` reads the update object Telegram sent (https://core.telegram.org/bots/api#update)
and returns a :class:`Row` for the four kinds that carry a Message, or the name of any other kind
(to be counted as skipped). Anything that does not have the shape the Bot API documents for the
fields we read raises :class:`BadUpdate`, whose message names the field, never its content.

It runs once per update, 100,000s of times a day, so it is written flat: dictionary look-ups and
type checks inline, no per-field helper calls on the common path.
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

from ..errors import TgpipeError
from ..telegram.update import INT64_MAX, INT64_MIN

__all__ = [
    "MEDIA_TYPES",
    "MESSAGE_KINDS",
    "OTHER_MEDIA",
    "BadUpdate",
    "Row",
    "bot_command",
    "message_type",
    "to_row",
    "utf16_slice",
]

MESSAGE_KINDS: Final = ("message", "edited_message", "channel_post", "edited_channel_post")

# Media a message can carry, in order of precedence: an animation also has a `document`, a venue
# also has a `location`, so each is tested before the field it includes.
MEDIA_TYPES: Final = (
    "animation",
    "photo",
    "video",
    "audio",
    "voice",
    "document",
    "sticker",
    "video_note",
    "venue",
    "location",
    "contact",
    "poll",
    "dice",
)
# Content that is neither text, nor one of the media above, nor a service message.
OTHER_MEDIA: Final = ("game", "invoice", "story", "paid_media", "giveaway", "giveaway_winners", "checklist")
OTHER_MEDIA_TYPE: Final = "other media"
SERVICE_TYPE: Final = "service"


class BadUpdate(TgpipeError, ValueError):
    """The object is not an update of the shape the Bot API documents; the message names the field."""


class Row(NamedTuple):
    """One row of the enriched table, in the schema's column order (context_timestamp, the same
    for a whole run, is added when the rows are written)."""

    update_id: int
    update_kind: str
    message_id: int
    chat_id: int
    chat_type: str
    chat_title: str | None
    from_id: int | None
    from_is_bot: bool | None
    from_first_name: str | None
    from_username: str | None
    sender_chat_id: int | None
    date: int
    edit_date: int | None
    message_type: str
    text: str | None
    caption: str | None
    reply_to_message_id: int | None
    message_thread_id: int | None
    is_forwarded: bool
    bot_command: str | None
    new_chat_members_count: int | None
    left_chat_member_id: int | None


_STR_FIELDS: Final = ("chat_type", "chat_title", "from_first_name", "from_username", "text", "caption")
_REQUIRED: Final = {"message_id", "chat_id", "chat_type", "date"}
_SOURCE: Final = {  # where each checked field comes from, for error messages
    "update_id": "update_id",
    "message_id": "message_id",
    "chat_id": "chat.id",
    "chat_type": "chat.type",
    "chat_title": "chat.title",
    "from_id": "from.id",
    "from_first_name": "from.first_name",
    "from_username": "from.username",
    "sender_chat_id": "sender_chat.id",
    "date": "date",
    "edit_date": "edit_date",
    "text": "text",
    "caption": "caption",
    "reply_to_message_id": "reply_to_message.message_id",
    "message_thread_id": "message_thread_id",
    "left_chat_member_id": "left_chat_member.id",
}


def to_row(update: Any) -> Row | str:
    """The enriched row of an update carrying a Message, else the update's kind (``my_chat_member``...).

    Raises :class:`BadUpdate` when the update or the fields read from its message are not shaped as
    the Bot API documents them."""
    if type(update) is not dict:
        raise BadUpdate(f"update is a JSON {_json_type(update)}, not an object")
    update_id = update.get("update_id")
    if type(update_id) is not int or not 0 <= update_id <= INT64_MAX:
        raise BadUpdate("update_id is missing" if update_id is None else "update_id is not a 64-bit integer")
    for kind in MESSAGE_KINDS:
        msg = update.get(kind)
        if msg is not None:
            break
    else:
        for key in update:
            if key != "update_id":
                return str(key)
        raise BadUpdate("update has no field besides update_id")
    if type(msg) is not dict:
        raise BadUpdate(f"{kind} is a JSON {_json_type(msg)}, not an object")
    get = msg.get

    chat = get("chat")
    if type(chat) is not dict:
        raise BadUpdate(f"{kind}.chat is missing" if chat is None else f"{kind}.chat is not an object")
    sender = get("from")
    if sender is None:
        from_id = from_is_bot = from_first_name = from_username = None
    elif type(sender) is dict:
        from_id = sender.get("id")
        from_is_bot = sender.get("is_bot")
        from_first_name = sender.get("first_name")
        from_username = sender.get("username")
        if from_id is None or type(from_is_bot) is not bool or from_first_name is None:
            raise BadUpdate(f"{kind}.from lacks id, is_bot or first_name")
    else:
        raise BadUpdate(f"{kind}.from is not an object")

    # Rarer parts of a message: looked up only when present.
    sender_chat_id = reply_to_message_id = left_chat_member_id = new_chat_members_count = None
    if "sender_chat" in msg:
        sender_chat_id = _id_of(msg, "sender_chat", "id", kind)
    if "reply_to_message" in msg:
        reply_to_message_id = _id_of(msg, "reply_to_message", "message_id", kind)
    if "left_chat_member" in msg:
        left_chat_member_id = _id_of(msg, "left_chat_member", "id", kind)
    if "new_chat_members" in msg:
        members = msg["new_chat_members"]
        if type(members) is not list:
            raise BadUpdate(f"{kind}.new_chat_members is not an array")
        new_chat_members_count = len(members)

    text = get("text")
    caption = get("caption")
    command = None
    if "entities" in msg and type(text) is str:
        command = bot_command(text, msg["entities"], f"{kind}.entities")
    if command is None and "caption_entities" in msg and type(caption) is str:
        command = bot_command(caption, msg["caption_entities"], f"{kind}.caption_entities")

    # Required fields may be missing here: the check below rejects the row then.
    message_id: Any = get("message_id")
    chat_id: Any = chat.get("id")
    chat_type: Any = chat.get("type")
    chat_title = chat.get("title")
    sent: Any = get("date")
    edit_date = get("edit_date")
    thread_id = get("message_thread_id")
    row: Row = _new_row(
        Row,
        (
            update_id,
            kind,
            message_id,
            chat_id,
            chat_type,
            chat_title,
            from_id,
            from_is_bot,
            from_first_name,
            from_username,
            sender_chat_id,
            sent,
            edit_date,
            message_type(msg),
            text,
            caption,
            reply_to_message_id,
            thread_id,
            # is_forwarded: forward_origin since Bot API 7.0, forward_* fields before it
            "forward_origin" in msg
            or "forward_date" in msg
            or "forward_from" in msg
            or "forward_from_chat" in msg,
            command,
            new_chat_members_count,
            left_chat_member_id,
        ),
    )
    # One flat expression (this runs for every update): required ints and strings, then the optional.
    if not (
        type(message_id) is int
        and type(chat_id) is int
        and type(sent) is int
        and type(chat_type) is str
        and INT64_MIN <= message_id <= INT64_MAX
        and INT64_MIN <= chat_id <= INT64_MAX
        and INT64_MIN <= sent <= INT64_MAX
        and (from_id is None or (type(from_id) is int and INT64_MIN <= from_id <= INT64_MAX))
        and (edit_date is None or (type(edit_date) is int and INT64_MIN <= edit_date <= INT64_MAX))
        and (thread_id is None or (type(thread_id) is int and INT64_MIN <= thread_id <= INT64_MAX))
        and (chat_title is None or type(chat_title) is str)
        and (from_first_name is None or type(from_first_name) is str)
        and (from_username is None or type(from_username) is str)
        and (text is None or type(text) is str)
        and (caption is None or type(caption) is str)
        and _valid_int(sender_chat_id)
        and _valid_int(reply_to_message_id)
        and _valid_int(left_chat_member_id)
    ):
        _reject(row, kind)
    return row


_new_row = tuple.__new__  # builds a Row without NamedTuple's Python-level __new__ (hot path)


def _valid_int(value: Any) -> bool:
    return value is None or (type(value) is int and INT64_MIN <= value <= INT64_MAX)


def _id_of(msg: dict[str, Any], name: str, id_field: str, kind: str) -> Any:
    obj = msg[name]
    if type(obj) is not dict:
        raise BadUpdate(f"{kind}.{name} is not an object")
    return obj.get(id_field)


def _reject(row: Row, kind: str) -> None:
    """Raise the :class:`BadUpdate` naming the first field of ``row`` that is missing or mistyped."""
    for name in Row._fields:
        if name not in _SOURCE:
            continue
        value = getattr(row, name)
        where = _SOURCE[name] if name == "update_id" else f"{kind}.{_SOURCE[name]}"
        if value is None:
            if name in _REQUIRED:
                raise BadUpdate(f"{where} is missing")
        elif name in _STR_FIELDS:
            if type(value) is not str:
                raise BadUpdate(f"{where} is not a string")
        elif type(value) is not int or not INT64_MIN <= value <= INT64_MAX:
            raise BadUpdate(f"{where} is not a 64-bit integer")
    raise AssertionError("_reject called on a valid row")  # pragma: no cover


def message_type(msg: dict[str, Any]) -> str:
    """``text``, the first media kind present (see :data:`MEDIA_TYPES`), ``other media`` or ``service``."""
    if "text" in msg:
        return "text"
    for name in MEDIA_TYPES:
        if name in msg:
            return name
    for name in OTHER_MEDIA:
        if name in msg:
            return OTHER_MEDIA_TYPE
    return SERVICE_TYPE


def bot_command(text: str, entities: Any, where: str = "entities") -> str | None:
    """The first ``bot_command`` entity of ``text``, lower-case and without ``@botname`` (``/help``)."""
    if type(entities) is not list:
        raise BadUpdate(f"{where} is not an array")
    for entity in entities:
        if type(entity) is not dict:
            raise BadUpdate(f"{where} holds a non-object")
        if entity.get("type") != "bot_command":
            continue
        offset, length = entity.get("offset"), entity.get("length")
        if type(offset) is not int or type(length) is not int or offset < 0 or length < 1:
            raise BadUpdate(f"{where}: a bot_command has no valid offset and length")
        command = utf16_slice(text, offset, length, where)
        return command.split("@", 1)[0].lower()
    return None


def utf16_slice(text: str, offset: int, length: int, where: str = "entities") -> str:
    """``text[offset:offset+length]`` counted in UTF-16 code units, as Telegram counts entity offsets
    (an emoji outside the Basic Multilingual Plane is two units)."""
    if text.isascii():
        if offset + length > len(text):
            raise BadUpdate(f"{where}: an entity ends beyond the text")
        return text[offset : offset + length]
    units = text.encode("utf-16-le")
    if 2 * (offset + length) > len(units):
        raise BadUpdate(f"{where}: an entity ends beyond the text")
    try:
        return units[2 * offset : 2 * (offset + length)].decode("utf-16-le")
    except UnicodeDecodeError:
        raise BadUpdate(f"{where}: an entity splits a character") from None


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
