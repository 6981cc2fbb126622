"""One raw update -> its rows in every table of the enriched lake: the per-item work of the daily ETL
(no pyarrow here).

:func:`enrich` reads an update with the one parser of the update shape
(:func:`etl.telegram.update.read_update`) and appends its rows to :class:`Tables`: a message
(:func:`message_row`) gives a ``messages`` row and the rows of its entities
(:mod:`etl.transform.entities`); a service message that adds or removes members, and the
membership and reaction updates, give ``member_events`` and ``reactions`` rows
(:mod:`etl.transform.events`). Any other kind gives no row and is counted by its name. It reads
tolerantly, because Telegram adds fields every few months and old payloads and exports lack fields
required today:

* what identifies a message (``update_id``, ``message_id``, ``chat.id``, ``date``) must be there,
  else the update is :class:`~etl.telegram.update.MalformedUpdate` and the object is a bad object;
* any other field that is missing where the Bot API requires it (``chat.type``, ``from.id``,
  ``from.is_bot``, ``from.first_name``) or is not shaped as documented becomes null, and its name
  is counted as *degraded* (``chat_type`` falls back to what the chat id implies); the row is kept.

``message_type`` is ``text``, the media kind, the name of a newer content kind (``checklist``,
``giveaway``, ``paid_media``, ``story``, ``game``, ``invoice``...), ``service`` for a known service
field (``service_kind`` names it), and ``other media`` for content this reader does not know yet.

It runs once per update, 100,000s of times a day, so the common path is flat: dictionary look-ups and
one validity expression; only a row that fails it takes the slow path that finds what to null.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from ..telegram.update import INT64_MAX, INT64_MIN, MESSAGE_KINDS, read_update
from .entities import EntityRow, bot_command_of, entity_rows, utf16_slice
from .events import (
    MEMBER_KINDS,
    REACTION_KINDS,
    MemberEventRow,
    ReactionRow,
    member_event_rows,
    reaction_rows,
    service_member_rows,
)

__all__ = [
    "CONTENT_KINDS",
    "MEDIA_TYPES",
    "MESSAGE_KINDS",
    "SERVICE_FIELDS",
    "Row",
    "Tables",
    "bot_command",
    "enrich",
    "message_row",
    "message_type",
    "service_kind",
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
# Newer content kinds, each typed by its own name.
CONTENT_KINDS: Final = ("checklist", "giveaway", "giveaway_winners", "paid_media", "story", "game", "invoice")
# Fields that make a message a service message (Bot API 9), in order of precedence.
SERVICE_FIELDS: Final = (
    "new_chat_members",
    "left_chat_member",
    "new_chat_title",
    "new_chat_photo",
    "delete_chat_photo",
    "group_chat_created",
    "supergroup_chat_created",
    "channel_chat_created",
    "message_auto_delete_timer_changed",
    "migrate_to_chat_id",
    "migrate_from_chat_id",
    "pinned_message",
    "forum_topic_created",
    "forum_topic_edited",
    "forum_topic_closed",
    "forum_topic_reopened",
    "general_forum_topic_hidden",
    "general_forum_topic_unhidden",
    "video_chat_scheduled",
    "video_chat_started",
    "video_chat_ended",
    "video_chat_participants_invited",
    "successful_payment",
    "refunded_payment",
    "users_shared",
    "user_shared",
    "chat_shared",
    "gift",
    "unique_gift",
    "connected_website",
    "write_access_allowed",
    "passport_data",
    "proximity_alert_triggered",
    "boost_added",
    "chat_background_set",
    "checklist_tasks_done",
    "checklist_tasks_added",
    "direct_message_price_changed",
    "paid_message_price_changed",
    "giveaway_created",
    "giveaway_completed",
    "suggested_post_approved",
    "suggested_post_approval_failed",
    "suggested_post_declined",
    "suggested_post_paid",
    "suggested_post_refunded",
    "web_app_data",
)
_SERVICE_SET: Final = frozenset(SERVICE_FIELDS)
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
    service_kind: str | None
    topic_name: str | None
    migrate_to_chat_id: int | None
    migrate_from_chat_id: int | None
    media_group_id: str | None
    via_bot_id: int | None
    quote_text: str | None
    entity_count: int


@dataclass
class Tables:
    """The rows of some updates, per table (what one chunk of raw objects gives)."""

    messages: list[Row] = field(default_factory=list)
    reactions: list[ReactionRow] = field(default_factory=list)
    member_events: list[MemberEventRow] = field(default_factory=list)
    message_entities: list[EntityRow] = field(default_factory=list)


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
    ("topic_name", "forum_topic.name", str),
    ("migrate_to_chat_id", "migrate_to_chat_id", int),
    ("migrate_from_chat_id", "migrate_from_chat_id", int),
    ("media_group_id", "media_group_id", str),
    ("via_bot_id", "via_bot.id", int),
    ("quote_text", "quote.text", str),
)
# Fields of a sender the Bot API always sends: missing, they are degraded too.
_SENDER_REQUIRED: Final = ("from_id", "from_is_bot", "from_first_name")
_MISSING: Final = object()


def enrich(update: Any, tables: Tables, degraded: Counter[str] | None = None) -> tuple[int, str | None]:
    """Append the rows of one decoded update to ``tables``; returns its update id and, for a kind no
    table holds, that kind (to be counted as skipped).

    Raises :class:`~etl.telegram.update.MalformedUpdate` when the value is not an update or its
    message lacks what identifies it; counts the name of every field it had to null in ``degraded``."""
    parsed = read_update(update)
    kind, update_id = parsed.kind, parsed.update_id
    if kind in MESSAGE_KINDS:
        msg: dict[str, Any] = parsed.payload
        row = message_row(update_id, kind, msg, degraded)
        tables.messages.append(row)
        if "entities" in msg:
            entity_rows(
                update_id,
                kind,
                row.chat_id,
                row.message_id,
                msg.get("text"),
                msg["entities"],
                False,
                tables.message_entities,
                degraded,
            )
        if "caption_entities" in msg:
            entity_rows(
                update_id,
                kind,
                row.chat_id,
                row.message_id,
                msg.get("caption"),
                msg["caption_entities"],
                True,
                tables.message_entities,
                degraded,
            )
        if kind == "message" and ("new_chat_members" in msg or "left_chat_member" in msg):
            service_member_rows(update_id, row.chat_id, row.date, msg, tables.member_events, degraded)
        return update_id, None
    if kind in REACTION_KINDS:
        reaction_rows(update_id, kind, parsed.payload, tables.reactions, degraded)
        return update_id, None
    if kind in MEMBER_KINDS:
        member_event_rows(update_id, kind, parsed.payload, tables.member_events, degraded)
        return update_id, None
    return update_id, kind


def to_row(update: Any, degraded: Counter[str] | None = None) -> Row | str:
    """The ``messages`` row of an update carrying a Message, else the update's kind."""
    parsed = read_update(update)
    if parsed.kind not in MESSAGE_KINDS:
        return parsed.kind
    return message_row(parsed.update_id, parsed.kind, parsed.payload, degraded)


def message_row(update_id: int, kind: str, msg: dict[str, Any], degraded: Counter[str] | None = None) -> Row:
    """The ``messages`` row of a Message that :func:`~etl.telegram.update.read_update` accepted."""
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
    typed = message_type(msg)
    service = service_kind(msg) if typed == SERVICE_TYPE else None
    topic_name = migrate_to = migrate_from = media_group_id = via_bot_id = quote_text = None
    if service is not None:
        if service in ("forum_topic_created", "forum_topic_edited"):
            topic = msg[service]
            topic_name = topic.get("name") if type(topic) is dict else _WRONG
        migrate_to, migrate_from = get("migrate_to_chat_id"), get("migrate_from_chat_id")
    if "media_group_id" in msg:
        media_group_id = msg["media_group_id"]
    if "via_bot" in msg:
        via_bot_id, ok = _id_of(msg["via_bot"], "id")
        shapes_ok = shapes_ok and ok
    if "quote" in msg:
        quote_text, ok = _id_of(msg["quote"], "text")
        shapes_ok = shapes_ok and ok
    entity_count = 0
    for name in ("entities", "caption_entities"):
        if name in msg and type(msg[name]) is list:
            entity_count += len(msg[name])
    values = [
        update_id,
        kind,
        msg["message_id"],
        chat["id"],
        chat_type,
        chat_title,
        from_id,
        from_is_bot,
        from_first_name,
        from_username,
        sender_chat_id,
        msg["date"],
        edit_date,
        typed,
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
        service,
        topic_name,
        migrate_to,
        migrate_from,
        media_group_id,
        via_bot_id,
        quote_text,
        entity_count,
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
        and (
            service is None
            or (
                (topic_name is None or type(topic_name) is str)
                and _valid_int(migrate_to)
                and _valid_int(migrate_from)
            )
        )
        and (media_group_id is None or type(media_group_id) is str)
        and _valid_int(via_bot_id)
        and (quote_text is None or type(quote_text) is str)
    ):
        _degrade(values, msg, kind, has_sender, degraded)
    row: Row = _new_row(Row, values)
    return row


_new_row = tuple.__new__  # builds a Row without NamedTuple's Python-level __new__ (hot path)
_WRONG: Final = object()  # a value that is not what the Bot API documents (nulled by _degrade)
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
    for name in ("sender_chat", "reply_to_message", "left_chat_member", "via_bot", "quote"):
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
    """``text``, the first media kind present (see :data:`MEDIA_TYPES`), a newer content kind,
    ``service`` for a known service field, or ``other media`` for content not known here."""
    if "text" in msg:
        return "text"
    for name in MEDIA_TYPES:
        if name in msg:
            return name
    for name in CONTENT_KINDS:
        if name in msg:
            return name
    if not _SERVICE_SET.isdisjoint(msg):
        return SERVICE_TYPE
    return OTHER_MEDIA_TYPE


def service_kind(msg: dict[str, Any]) -> str | None:
    """The service field a service message carries (the first of :data:`SERVICE_FIELDS`)."""
    for name in SERVICE_FIELDS:
        if name in msg:
            return name
    return None


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
        return bot_command_of(command)
    return None
