"""One raw update -> one enriched row: the per-item work of the daily ETL (no pyarrow here).

:func:`to_row` reads an update with the one parser of the update shape
(:func:`etl.telegram.update.read_update`) and returns a :class:`Row` for the kinds that carry a
Message, or the name of any other kind (to be counted as skipped). It reads tolerantly, because
Telegram adds fields every few months and old payloads and exports lack fields required today:

* what identifies a message (``update_id``, ``message_id``, ``chat.id``, ``date``) must be there,
  else the update is :class:`~etl.telegram.update.MalformedUpdate` and the object is a bad object;
* any other field that is missing where the Bot API requires it (``chat.type``, ``from.id``,
  ``from.is_bot``, ``from.first_name``) or is not shaped as documented becomes null, and its name
  is counted as *degraded* (``chat_type`` falls back to what the chat id implies); the row is kept.

It runs once per update, 100,000s of times a day, so the common path is flat: dictionary look-ups and
one validity expression; only a row that fails it takes the slow path that finds what to null.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Final, NamedTuple

from ..telegram.update import INT64_MAX, INT64_MIN, MESSAGE_KINDS, read_update

__all__ = [
    "MEDIA_TYPES",
    "MESSAGE_KINDS",
    "OTHER_MEDIA",
    "Row",
    "bot_command",
    "message_type",
    "to_row",
    "utf16_slice",
]

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
# Bot API ids of channels and supergroups are -(10**12 + n): "-100n".
_CHANNEL_ID_LIMIT: Final = -(10**12)


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


# Fields that may be null, where each comes from, and what it must be when present.
_OPTIONAL: Final = (
    ("chat_title", "chat.title", str),
    ("from_id", "from.id", int),
    ("from_is_bot", "from.is_bot", bool),
    ("from_first_name", "from.first_name", str),
    ("from_username", "from.username", str),
    ("sender_chat_id", "sender_chat.id", int),
    ("edit_date", "edit_date", int),
    ("text", "text", str),
    ("caption", "caption", str),
    ("reply_to_message_id", "reply_to_message.message_id", int),
    ("message_thread_id", "message_thread_id", int),
    ("left_chat_member_id", "left_chat_member.id", int),
)
# Fields of a sender the Bot API always sends: missing, they are degraded too.
_SENDER_REQUIRED: Final = ("from_id", "from_is_bot", "from_first_name")
_MISSING: Final = object()


def to_row(update: Any, degraded: Counter[str] | None = None) -> Row | str:
    """The enriched row of an update carrying a Message, else the update's kind (``my_chat_member``...).

    Raises :class:`~etl.telegram.update.MalformedUpdate` when the value is not an update or its
    message lacks what identifies it; counts the name of every field it had to null in ``degraded``."""
    parsed = read_update(update)
    kind = parsed.kind
    if kind not in MESSAGE_KINDS:
        return kind
    msg: dict[str, Any] = parsed.payload
    get = msg.get
    chat: dict[str, Any] = msg["chat"]

    sender = get("from", _MISSING)
    has_sender = sender is not _MISSING and sender is not None
    if type(sender) is dict:
        from_id = sender.get("id")
        from_is_bot = sender.get("is_bot")
        from_first_name = sender.get("first_name")
        from_username = sender.get("username")
    else:
        from_id = from_is_bot = from_first_name = from_username = None

    # Rarer parts of a message: looked up only when present.
    sender_chat_id = reply_to_message_id = left_chat_member_id = new_chat_members_count = None
    shapes_ok = type(sender) is dict or not has_sender
    if "sender_chat" in msg:
        sender_chat_id, ok = _id_of(msg["sender_chat"], "id")
        shapes_ok = shapes_ok and ok
    if "reply_to_message" in msg:
        reply_to_message_id, ok = _id_of(msg["reply_to_message"], "message_id")
        shapes_ok = shapes_ok and ok
    if "left_chat_member" in msg:
        left_chat_member_id, ok = _id_of(msg["left_chat_member"], "id")
        shapes_ok = shapes_ok and ok
    if "new_chat_members" in msg:
        members = msg["new_chat_members"]
        if type(members) is list:
            new_chat_members_count = len(members)
        else:
            shapes_ok = False

    text = get("text")
    caption = get("caption")
    command = None
    if "entities" in msg and type(text) is str:
        command = bot_command(text, msg["entities"])
        if command is _BAD_ENTITIES:
            shapes_ok, command = False, None
    if command is None and "caption_entities" in msg and type(caption) is str:
        command = bot_command(caption, msg["caption_entities"])
        if command is _BAD_ENTITIES:
            shapes_ok, command = False, None

    chat_type = chat.get("type")
    chat_title = chat.get("title")
    edit_date = get("edit_date")
    thread_id = get("message_thread_id")
    values = [
        parsed.update_id,
        kind,
        msg["message_id"],
        parsed.chat_id,
        chat_type,
        chat_title,
        from_id,
        from_is_bot,
        from_first_name,
        from_username,
        sender_chat_id,
        msg["date"],
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
    ]
    # One flat expression (this runs for every update): the common, well-formed message.
    if not (
        shapes_ok
        and type(chat_type) is str
        and (chat_title is None or type(chat_title) is str)
        and (
            not has_sender
            or (
                type(from_id) is int
                and INT64_MIN <= from_id <= INT64_MAX
                and type(from_is_bot) is bool
                and type(from_first_name) is str
                and (from_username is None or type(from_username) is str)
            )
        )
        and (edit_date is None or (type(edit_date) is int and INT64_MIN <= edit_date <= INT64_MAX))
        and (thread_id is None or (type(thread_id) is int and INT64_MIN <= thread_id <= INT64_MAX))
        and (text is None or type(text) is str)
        and (caption is None or type(caption) is str)
        and _valid_int(sender_chat_id)
        and _valid_int(reply_to_message_id)
        and _valid_int(left_chat_member_id)
    ):
        _degrade(values, msg, kind, has_sender, degraded)
    row: Row = _new_row(Row, values)
    return row


_new_row = tuple.__new__  # builds a Row without NamedTuple's Python-level __new__ (hot path)
_INDEX: Final = {name: i for i, name in enumerate(Row._fields)}


def _valid_int(value: Any) -> bool:
    return value is None or (type(value) is int and INT64_MIN <= value <= INT64_MAX)


def _id_of(obj: Any, id_field: str) -> tuple[Any, bool]:
    """The id inside a nested object, and whether the object was an object at all."""
    if type(obj) is not dict:
        return None, False
    return obj.get(id_field), True


def _degrade(
    values: list[Any], msg: dict[str, Any], kind: str, has_sender: bool, degraded: Counter[str] | None
) -> None:
    """Null every value that is not shaped as documented (and every required one that is missing),
    counting the field's name as ``<kind>.<field>``."""
    names: list[str] = []
    chat_type = values[_INDEX["chat_type"]]
    if type(chat_type) is not str:
        values[_INDEX["chat_type"]] = _implied_chat_type(values[_INDEX["chat_id"]], kind)
        names.append("chat.type")
    for column, source, expected in _OPTIONAL:
        i = _INDEX[column]
        value = values[i]
        if value is None:
            if has_sender and column in _SENDER_REQUIRED:
                names.append(source)
            continue
        ok = type(value) is expected and (expected is not int or INT64_MIN <= value <= INT64_MAX)
        if not ok:
            values[i] = None
            names.append(source)
    sender = msg.get("from")
    if has_sender and type(sender) is not dict:
        names.append("from")
    for name in ("sender_chat", "reply_to_message", "left_chat_member"):
        if name in msg and type(msg[name]) is not dict:
            names.append(name)
    if "new_chat_members" in msg and type(msg["new_chat_members"]) is not list:
        names.append("new_chat_members")
    for name, text_field in (("entities", "text"), ("caption_entities", "caption")):
        if (
            name in msg
            and type(msg.get(text_field)) is str
            and bot_command(msg[text_field], msg[name]) is _BAD_ENTITIES
        ):
            names.append(name)
    if degraded is not None:
        degraded.update(f"{kind}.{name}" for name in dict.fromkeys(names))


def _implied_chat_type(chat_id: int, kind: str) -> str:
    """What a chat id says of its chat: users are positive, basic groups small negatives, and
    "-100..." ids are channels (which send channel posts) or supergroups."""
    if chat_id > 0:
        return "private"
    if chat_id <= _CHANNEL_ID_LIMIT:
        return "channel" if kind in ("channel_post", "edited_channel_post") else "supergroup"
    return "group" if chat_id < 0 else "unknown"


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


class _BadEntities(str):
    """The entities of a text are not shaped as documented (a marker, never a command)."""


_BAD_ENTITIES: Final = _BadEntities("")


def bot_command(text: str, entities: Any) -> str | None:
    """The first ``bot_command`` entity of ``text``, lower-case and without ``@botname`` (``/help``);
    :data:`_BAD_ENTITIES` when the entities are not an array of well-formed entities."""
    if type(entities) is not list:
        return _BAD_ENTITIES
    for entity in entities:
        if type(entity) is not dict:
            return _BAD_ENTITIES
        if entity.get("type") != "bot_command":
            continue
        offset, length = entity.get("offset"), entity.get("length")
        if type(offset) is not int or type(length) is not int or offset < 0 or length < 1:
            return _BAD_ENTITIES
        command = utf16_slice(text, offset, length)
        if command is None:
            return _BAD_ENTITIES
        return command.split("@", 1)[0].lower()
    return None


def utf16_slice(text: str, offset: int, length: int) -> str | None:
    """``text[offset:offset+length]`` counted in UTF-16 code units, as Telegram counts entity offsets
    (an emoji outside the Basic Multilingual Plane is two units); None when the entity ends beyond
    the text or splits a character."""
    if text.isascii():
        if offset + length > len(text):
            return None
        return text[offset : offset + length]
    units = text.encode("utf-16-le", "surrogatepass")
    if 2 * (offset + length) > len(units):
        return None
    try:
        return units[2 * offset : 2 * (offset + length)].decode("utf-16-le")
    except UnicodeDecodeError:
        return None
