"""One message of a Telegram Desktop JSON export as the Bot API updates a bot would have received.

Telegram Desktop's "Export chat history" (JSON) writes each message as an object with ``id``,
``type`` (``message``, ``service`` or ``unsupported``), ``date_unixtime`` (a string), optional
``edited_unixtime``, ``from``/``from_id`` (``"user123"``, ``"channel456"``) or, for service
messages, ``actor``/``actor_id`` and ``action``; ``text`` (a string, or an array mixing strings and
``{"type", "text"}`` objects) and ``text_entities`` (always an array of such objects, plain parts
typed ``"plain"``); media as ``photo``, ``file`` + ``media_type`` (sticker, voice_message,
video_message, animation, video_file, audio_file; none for a plain document), ``mime_type``,
``duration_seconds``, ``width``/``height``, ``sticker_emoji``, ``location_information``,
``place_name``/``address``, ``contact_information``, ``poll``; ``reply_to_message_id``;
``forwarded_from`` (a display name only). Messages of a basic group's history that was later
migrated to the supergroup come first, with ids shifted by -1,000,000,000.

What an export does not keep is left out rather than invented: media objects carry sizes,
durations, mime types and file names but no ``file_id``/``file_unique_id``; a reply names only the
message it answers; a forward's origin is a ``hidden_user`` with the display name the export
kept and the forward's own date; ``is_bot`` is false for every sender (the export does not say);
a poll has no id. Service messages name members by display name only: a member is given the id of
the actor with that name, else of the one sender of the export with that name, else
:func:`unknown_user_id` of the name (above every real user id, which has at most 52 bits).

Reactions: an exported message's ``reactions`` (``[{"type": "emoji"|"custom_emoji"|"paid", "count",
"emoji"|"document_id", "recent": [{"from", "from_id", "date", "date_unixtime"?}]}]``) become one
``message_reaction_count`` update beside the message, dated like the message: ``reactions`` as Bot API
ReactionCount objects (``{"type": ReactionType, "total_count"}``; ``empty`` reactions are left out) and
``recent``, one entry per recent reactor (``{"user": User, "type": ReactionType, "date"}``, or
``"actor_chat"`` for a chat reacting anonymously), whose ids resolve like service messages' members.

Forum topics: a ``topic_created`` service message becomes ``forum_topic_created`` (``name``, and
``icon_color`` 7322096, the first of Telegram's six topic colours: the export does not keep the
colour) with ``message_thread_id`` its own id; ``topic_edit`` becomes ``forum_topic_edited``. A
message whose ``reply_to_message_id`` is a topic's creating message, or a message in a topic, gets
``message_thread_id`` and ``is_topic_message`` (exports are in ascending id order, so a reply's
topic is known when it is read). The export keeps no topic for service messages other than
``topic_created`` and none for topics created before the exported range.

Times: ``date_unixtime`` when the export has it; older exports wrote only the local time of the
exporting computer (``"date": "2020-01-02T03:04:05"``), read in the export's time zone. A local
time that happens twice (clocks going back) is its first occurrence, one that does not exist
(clocks going forward) is read with the offset before the change, landing an hour later: Python's
``fold=0``. A message dated before Telegram existed (:data:`TELEGRAM_EPOCH`, 2013-08-01 UTC) is
refused, as is one without any date.

Update ids (:func:`import_update_id`) live in a range Telegram never uses: real update ids are
small positive numbers, imported ones are ``2**62 | c << 32 | edit << 31 | message_id``:

* ``c`` (30 bits) is the chat field: ``h30(chat_id)``, the first 30 bits of SHA-256 of the chat id in
  decimal, for a message and its edit, and ``h30(chat_id) ^ 1`` (its lowest bit, bit 32, flipped)
  for the message's ``message_reaction_count``;
* ``edit`` (bit 31) is 1 for the ``edited_message`` update of an edited message;
* message ids are below ``2**31`` (MTProto's int32).

Within one chat the message, edit and reactions ids of every message therefore all differ (the
reactions' chat field never equals the message's, the edit's edit bit never equals the
message's), and message and edit ids are the ones imports wrote before reactions were imported, so
rerunning an old import still rewrites the same keys (the ETL deduplicates by update id). They are
deterministic, at least ``2**62``, never collide with a real update, and two chats share an id only
if their chat fields collide (probability about 3 * 2**-30 per pair of chats).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

__all__ = [
    "CHANNEL_ID_OFFSET",
    "IMPORT_UPDATE_ID_FLOOR",
    "MIGRATED_ID_SHIFT",
    "TELEGRAM_EPOCH",
    "TOPIC_ICON_COLOR",
    "Converted",
    "ExportChat",
    "MessageConverter",
    "People",
    "bot_api_chat_type",
    "entities_from_parts",
    "export_time",
    "import_update_id",
    "parse_peer",
    "unknown_user_id",
    "utf16_len",
]

IMPORT_UPDATE_ID_FLOOR: Final = 2**62
_MAX_MESSAGE_ID: Final = 2**31 - 1
# Telegram Desktop shifts the ids of a migrated basic group's history by this much (negative ids).
MIGRATED_ID_SHIFT: Final = -1_000_000_000
CHANNEL_ID_OFFSET: Final = 10**12  # Bot API id of channel/supergroup N is -(10**12 + N): "-100N"
_UNKNOWN_USER_ID_BASE: Final = 2**52
# No Telegram message is older than the service (launched 2013-08-14): earlier dates are corrupt.
TELEGRAM_EPOCH: Final = int(datetime(2013, 8, 1, tzinfo=UTC).timestamp())
# The colour of a topic's icon, which exports do not keep: the first of the six Telegram offers (0x6FB9F0).
TOPIC_ICON_COLOR: Final = 7322096

# The placeholder senders the Bot API puts in ``from`` when a message is sent on behalf of a chat.
GROUP_ANONYMOUS_BOT: Final = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
CHANNEL_BOT: Final = {"id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}

_CHAT_TYPES: Final = {
    "private_group": "group",
    "public_group": "group",
    "private_supergroup": "supergroup",
    "public_supergroup": "supergroup",
    "private_channel": "channel",
    "public_channel": "channel",
    "personal_chat": "private",
    "bot_chat": "private",
}

# Export text-part type -> Bot API MessageEntity type ("plain", "unknown", "bank_card" are no entity).
_ENTITY_TYPES: Final = {
    "mention": "mention",
    "hashtag": "hashtag",
    "cashtag": "cashtag",
    "bot_command": "bot_command",
    "link": "url",
    "email": "email",
    "phone": "phone_number",
    "bold": "bold",
    "italic": "italic",
    "underline": "underline",
    "strikethrough": "strikethrough",
    "spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "text_link": "text_link",
    "mention_name": "text_mention",
    "custom_emoji": "custom_emoji",
    "blockquote": "blockquote",
}

# media_type -> (Bot API field, message_type as the ETL names it)
_DOCUMENT_KINDS: Final = {
    "sticker": "sticker",
    "video_message": "video_note",
    "voice_message": "voice",
    "animation": "animation",
    "video_file": "video",
    "audio_file": "audio",
}
# Content an export keeps too little of to rebuild its Bot API object: the message is kept, with its
# text if any, else as `other media` (it still counts as a message in every mart).
_CONTENT_WITHOUT_OBJECT: Final = {
    "game_title": "game",
    "invoice_information": "invoice",
    "giveaway_information": "giveaway",
    "giveaway_results": "giveaway",
    "todo_list": "checklist",
    "paid_stars_amount": "paid_media",
}
_PEER_RE: Final = re.compile(r"(user|channel|chat)(\d+)")


def bot_api_chat_type(export_type: str) -> str | None:
    """``private_supergroup`` -> ``supergroup``...; None for exports that are not one chat we can import."""
    return _CHAT_TYPES.get(export_type)


def import_update_id(chat_id: int, message_id: int, *, edit: bool = False, reactions: bool = False) -> int:
    """The deterministic update id of an imported message, of its edit or of its reactions (see the
    module docstring)."""
    if not 1 <= message_id <= _MAX_MESSAGE_ID:
        raise ValueError(f"message id {message_id} is outside 1..2**31-1")
    if edit and reactions:
        raise ValueError("an imported update is a message, its edit or its reactions: not two of them")
    digest = hashlib.sha256(str(chat_id).encode("ascii")).digest()
    chat_field = (int.from_bytes(digest[:4], "big") >> 2) ^ int(reactions)
    return IMPORT_UPDATE_ID_FLOOR | chat_field << 32 | int(edit) << 31 | message_id


def export_time(raw: Mapping[str, Any], name: str, zone: ZoneInfo) -> tuple[int | None, bool]:
    """The Unix time of field ``name`` (``date``, ``edited``) of an export object, and whether it was
    read from the local time alone (``{name}_unixtime`` missing): then in ``zone``, ``fold=0``."""
    stamp = raw.get(f"{name}_unixtime")
    if isinstance(stamp, str) and stamp.isdigit():
        return int(stamp), False
    if type(stamp) is int and stamp >= 0:
        return stamp, False
    local = raw.get(name)
    if not isinstance(local, str):
        return None, False
    try:
        moment = datetime.fromisoformat(local)
    except ValueError:
        return None, False
    if moment.tzinfo is not None:  # an offset written with the time needs no zone
        return int(moment.timestamp()), False
    return int(moment.replace(tzinfo=zone, fold=0).timestamp()), True


def unknown_user_id(name: str) -> int:
    """A stable id for a member the export names but never identifies: 2**52 + 40 bits of SHA-256."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return _UNKNOWN_USER_ID_BASE + int.from_bytes(digest[:5], "big")


def parse_peer(value: object) -> tuple[str, int] | None:
    """``"user123"`` -> ``("user", 123)``; None for anything else."""
    if isinstance(value, str) and (match := _PEER_RE.fullmatch(value)):
        return match.group(1), int(match.group(2))
    return None


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def entities_from_parts(parts: object) -> tuple[str, list[dict[str, Any]]]:
    """The text and Bot API entities of an export's ``text``/``text_entities`` value.

    Offsets and lengths are counted in UTF-16 code units; plain parts (strings, or objects typed
    ``plain``) only add text."""
    if isinstance(parts, str):
        return parts, []
    if not isinstance(parts, list):
        return "", []
    chunks: list[str] = []
    entities: list[dict[str, Any]] = []
    offset = 0
    for part in parts:
        if isinstance(part, str):
            text, kind = part, "plain"
        elif isinstance(part, dict) and isinstance(part.get("text"), str):
            text, kind = part["text"], str(part.get("type", "plain"))
        else:
            continue
        length = utf16_len(text)
        entity = _entity(kind, part, text, offset, length)
        if entity is not None:
            entities.append(entity)
        chunks.append(text)
        offset += length
    return "".join(chunks), entities


def _entity(kind: str, part: object, text: str, offset: int, length: int) -> dict[str, Any] | None:
    entity_type = _ENTITY_TYPES.get(kind)
    if entity_type is None or length == 0 or not isinstance(part, dict):
        return None
    entity: dict[str, Any] = {"offset": offset, "length": length, "type": entity_type}
    if kind == "blockquote" and part.get("collapsed") is True:
        entity["type"] = "expandable_blockquote"
    elif kind == "pre" and _str(part.get("language")):
        entity["language"] = part["language"]
    elif kind == "text_link":
        if not _str(part.get("href")):
            return None  # a text_link without its URL is not an entity the Bot API has
        entity["url"] = part["href"]
    elif kind == "custom_emoji":
        if part.get("document_id") is None:
            return None
        entity["custom_emoji_id"] = str(part["document_id"])
    elif kind == "mention_name":
        user_id = _int(part.get("user_id"))
        if user_id is None:
            return None
        entity["user"] = {"id": user_id, "is_bot": False, "first_name": text}
    return entity


@dataclass
class People:
    """Display name -> user id of every user the export shows as a sender or actor (to resolve the
    members of service messages, which the export names only). A name two users share is ambiguous."""

    _ids: dict[str, int | None] = field(default_factory=dict)

    def add(self, name: object, peer: object) -> None:
        parsed = parse_peer(peer)
        if not isinstance(name, str) or not name or parsed is None or parsed[0] != "user":
            return
        known = self._ids.get(name, parsed[1])
        self._ids[name] = parsed[1] if known == parsed[1] else None

    def resolve(self, name: str) -> int | None:
        return self._ids.get(name)


@dataclass(frozen=True, slots=True)
class ExportChat:
    """The chat an export is imported into: the Bot API id the user gave, and what the export says."""

    chat_id: int
    chat_type: str  # Bot API type: group, supergroup, channel, private
    title: str | None
    export_id: int | None = None  # the export's bare id (anonymous admins post "as" it)
    migrated_from_chat_id: int | None = None  # the basic group the history was migrated from
    migrated_from_title: str | None = None  # its title (in the export's migrate_from_group message)

    def as_bot_api(self, chat_id: int | None = None) -> dict[str, Any]:
        if chat_id is not None and chat_id != self.chat_id:  # the migrated basic group
            title = self.migrated_from_title or self.title
            return {"id": chat_id, "type": "group", **({"title": title} if title else {})}
        if self.chat_type == "private":
            return {"id": self.chat_id, "type": "private", "first_name": self.title or "Unknown"}
        return {"id": self.chat_id, "type": self.chat_type, **({"title": self.title} if self.title else {})}


@dataclass(frozen=True, slots=True)
class Converted:
    """An exported message as updates: ``(unix time of its "receipt", update)`` pairs, none when
    ``kind`` is one the import does not carry (then ``supported`` is false) or when the message is
    refused (``refused`` says why, in words naming no content; ``kind`` is the reason's key).
    ``local_time`` tells that a time of the message was read from its local time alone."""

    kind: str
    chat_id: int | None
    message_id: int | None
    updates: tuple[tuple[int, dict[str, Any]], ...] = ()
    local_time: bool = False
    refused: str | None = None

    @property
    def supported(self) -> bool:
        return bool(self.updates)


def _user(user_id: int, name: object) -> dict[str, Any]:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": name if isinstance(name, str) and name else "Deleted Account",
    }


def _file_name(raw: Mapping[str, Any]) -> str | None:
    if name := _str(raw.get("file_name")):
        return name
    path = _str(raw.get("file"))
    if path and not path.startswith("("):  # "(File not included. ...)" is no path
        return path.rsplit("/", 1)[-1] or None
    return None


def _reaction_type(item: object) -> dict[str, Any] | None:
    """The Bot API ReactionType of an exported reaction; None for ``empty`` or unreadable ones."""
    if not isinstance(item, dict):
        return None
    kind = item.get("type")
    if kind == "emoji" and _str(item.get("emoji")):
        return {"type": "emoji", "emoji": item["emoji"]}
    if kind == "custom_emoji" and item.get("document_id") not in (None, ""):
        return {"type": "custom_emoji", "custom_emoji_id": str(item["document_id"])}
    if kind == "paid":
        return {"type": "paid"}
    return None


def _pick(**values: object) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


class MessageConverter:
    """Turns export messages of one chat into Bot API updates, in the export's order (a reply's forum
    topic is learned from the message it answers). ``zone`` reads times the export kept only as
    local times."""

    def __init__(self, chat: ExportChat, people: People | None = None, zone: ZoneInfo | None = None) -> None:
        self.chat = chat
        self.people = people or People()
        self.zone = zone or ZoneInfo("UTC")
        channel = chat.chat_type == "channel"
        self._kinds = ("channel_post", "edited_channel_post") if channel else ("message", "edited_message")
        self._topics: dict[int, int] = {}  # export id of a message in a forum topic -> the topic's id

    def _locate(self, export_id: int) -> tuple[int, int] | None:
        """(chat id, message id) of an export id; None for migrated history whose old chat is unknown."""
        if export_id > 0:
            return self.chat.chat_id, export_id
        if self.chat.migrated_from_chat_id is None:
            return None
        return self.chat.migrated_from_chat_id, export_id - MIGRATED_ID_SHIFT

    def convert(self, raw: Mapping[str, Any]) -> Converted:
        """The updates of one exported message (validated beforehand: integer ``id``)."""
        kind_of_entry = raw.get("type")
        export_id = _int(raw.get("id")) or 0
        if kind_of_entry not in ("message", "service"):
            return Converted(str(kind_of_entry), None, None)
        located = self._locate(export_id)
        if located is None:
            return Converted("migrated_history", None, None)
        chat_id, message_id = located
        if not 1 <= message_id <= _MAX_MESSAGE_ID:
            return Converted("bad_message_id", chat_id, None)
        date, local = export_time(raw, "date", self.zone)
        if date is None:
            return Converted(
                "no_date", chat_id, message_id, refused='it has no "date_unixtime" nor a readable "date"'
            )
        if date < TELEGRAM_EPOCH:
            when = datetime.fromtimestamp(date, UTC).strftime("%Y-%m-%d %H:%M:%S")
            return Converted(
                "date_before_telegram",
                chat_id,
                message_id,
                local_time=local,
                refused=f"its date, {when} UTC, is before Telegram existed (2013-08-01)",
            )
        chat = self.chat.as_bot_api(chat_id)
        message: dict[str, Any] = {"message_id": message_id}
        if kind_of_entry == "service":
            message.update(self._sender(raw.get("actor"), raw.get("actor_id"), chat))
            message["chat"] = chat
            message["date"] = date
            body, kind = self._service(raw, chat, chat_id)
            if body is not None and "forum_topic_created" in body:
                self._topics[export_id] = export_id
                message.update(message_thread_id=message_id, is_topic_message=True)
        else:
            message.update(self._sender(raw.get("from"), raw.get("from_id"), chat))
            message["chat"] = chat
            message["date"] = date
            message.update(self._topic(raw, export_id))
            body, kind = self._content(raw, chat, date)
        if body is None:
            return Converted(kind, chat_id, message_id, local_time=local)
        message.update(body)
        kind_message, kind_edit = self._kinds
        updates = [(date, {"update_id": import_update_id(chat_id, message_id), kind_message: message})]
        edit_date, edit_local = export_time(raw, "edited", self.zone)
        if edit_date and edit_date >= TELEGRAM_EPOCH:
            local = local or edit_local
            edited = {**message, "edit_date": edit_date}
            updates.append(
                (
                    edit_date,
                    {"update_id": import_update_id(chat_id, message_id, edit=True), kind_edit: edited},
                )
            )
        reactions, reactions_local = self._reactions(raw, chat, message_id, date)
        if reactions is not None:
            local = local or reactions_local
            update_id = import_update_id(chat_id, message_id, reactions=True)
            updates.append((date, {"update_id": update_id, "message_reaction_count": reactions}))
        return Converted(kind, chat_id, message_id, tuple(updates), local_time=local)

    def _topic(self, raw: Mapping[str, Any], export_id: int) -> dict[str, Any]:
        """``message_thread_id`` and ``is_topic_message`` of a message in a forum topic, else nothing."""
        reply_to = _int(raw.get("reply_to_message_id"))
        if not reply_to or raw.get("reply_to_peer_id") is not None or reply_to not in self._topics:
            return {}
        topic = self._topics[export_id] = self._topics[reply_to]
        return {"message_thread_id": topic, "is_topic_message": True}

    def _reactions(
        self, raw: Mapping[str, Any], chat: dict[str, Any], message_id: int, date: int
    ) -> tuple[dict[str, Any] | None, bool]:
        """The ``message_reaction_count`` of a message with reactions, and whether a reactor's time was
        read from its local time alone."""
        items = raw.get("reactions")
        if not isinstance(items, list):
            return None, False
        counts: list[dict[str, Any]] = []
        recent: list[dict[str, Any]] = []
        local = False
        for item in items:
            reaction_type = _reaction_type(item)
            if reaction_type is None:
                continue
            counts.append({"type": reaction_type, "total_count": _int(item.get("count")) or 0})
            reactors = item.get("recent")
            for reactor in reactors if isinstance(reactors, list) else []:
                if not isinstance(reactor, dict):
                    continue
                entry = {**self._reactor(reactor.get("from"), reactor.get("from_id")), "type": reaction_type}
                when, when_local = export_time(reactor, "date", self.zone)
                if when is not None:
                    entry["date"] = when
                    local = local or when_local
                recent.append(entry)
        if not counts:
            return None, False
        body = {"chat": chat, "message_id": message_id, "date": date, "reactions": counts, "recent": recent}
        return body, local

    def _reactor(self, name: object, peer_value: object) -> dict[str, Any]:
        """``{"user": ...}`` of a reactor, or ``{"actor_chat": ...}`` for a chat reacting anonymously."""
        peer = parse_peer(peer_value)
        if peer is not None and peer[0] == "user":
            return {"user": _user(peer[1], name)}
        if peer is not None:
            kind, bare = peer
            chat_id, chat_type = (
                (-(CHANNEL_ID_OFFSET + bare), "channel") if kind == "channel" else (-bare, "group")
            )
            return {
                "actor_chat": {"id": chat_id, "type": chat_type, **({"title": name} if _str(name) else {})}
            }
        return {"user": self._member(name, None, None)}

    def _sender(self, name: object, peer_value: object, chat: dict[str, Any]) -> dict[str, Any]:
        peer = parse_peer(peer_value)
        if peer is None:
            return {}
        kind, bare = peer
        if kind == "user":
            return {"from": _user(bare, name)}
        if chat["type"] == "channel":  # a channel post is sent by the channel itself
            return {"sender_chat": chat}
        if chat["id"] == self.chat.chat_id and bare == self.chat.export_id:  # an anonymous admin
            return {"from": dict(GROUP_ANONYMOUS_BOT), "sender_chat": chat}
        sender_id, sender_type = (
            (-(CHANNEL_ID_OFFSET + bare), "channel") if kind == "channel" else (-bare, "group")
        )
        sender_chat = {
            "id": sender_id,
            "type": sender_type,
            **({"title": name} if isinstance(name, str) else {}),
        }
        return {"from": dict(CHANNEL_BOT), "sender_chat": sender_chat}

    def _reply_and_forward(self, raw: Mapping[str, Any], chat: dict[str, Any], date: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        reply_to = _int(raw.get("reply_to_message_id"))
        if reply_to and raw.get("reply_to_peer_id") is None:  # a reply within this chat
            reply_id = reply_to - MIGRATED_ID_SHIFT if reply_to < 0 else reply_to
            out["reply_to_message"] = {"message_id": reply_id, "chat": chat}
        if "forwarded_from" in raw or "forwarded_from_id" in raw:
            name = _str(raw.get("forwarded_from"))
            peer = parse_peer(raw.get("forwarded_from_id"))
            if peer is not None and peer[0] == "user":
                out["forward_origin"] = {"type": "user", "sender_user": _user(peer[1], name), "date": date}
            else:
                out["forward_origin"] = {
                    "type": "hidden_user",
                    "sender_user_name": name or "Unknown",
                    "date": date,
                }
        if author := _str(raw.get("author")):
            out["author_signature"] = author
        return out

    def _content(
        self, raw: Mapping[str, Any], chat: dict[str, Any], date: int
    ) -> tuple[dict[str, Any] | None, str]:
        media, kind = self._media(raw)
        if media is None:
            return None, kind
        text, entities = entities_from_parts(raw.get("text_entities", raw.get("text")))
        body = self._reply_and_forward(raw, chat, date)
        if not media and not text:  # dice, stories...: the export keeps no content for them
            return body, "other media"
        body.update(media)
        if text:
            prefix = "caption" if media else "text"
            body[prefix] = text
            if entities:
                body["caption_entities" if media else "entities"] = entities
        return body, kind

    def _media(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str]:
        """Bot API media fields and the ETL's message_type; ``None`` fields for media not carried."""
        if _str(raw.get("game_title")):  # the export keeps a game's title and description, no photo
            game = {
                "title": raw["game_title"],
                "description": _str(raw.get("game_description")) or "",
                "photo": [],
            }
            return {"game": game}, "game"
        for key in _CONTENT_WITHOUT_OBJECT:
            if key in raw:
                return {}, "other media"
        width, height = _int(raw.get("width")) or 0, _int(raw.get("height")) or 0
        duration = _int(raw.get("duration_seconds")) or 0
        mime = _str(raw.get("mime_type"))
        if isinstance(raw.get("poll"), dict):
            return {"poll": self._poll(raw["poll"])}, "poll"
        if isinstance(raw.get("contact_information"), dict):
            info = raw["contact_information"]
            contact = _pick(
                phone_number=_str(info.get("phone_number")) or "",
                first_name=_str(info.get("first_name")) or "",
                last_name=_str(info.get("last_name")) or None,
            )
            return {"contact": contact}, "contact"
        if "location_information" in raw or "place_name" in raw:
            point = raw.get("location_information")
            if not isinstance(point, dict):
                return None, "location_unavailable"
            location = _pick(
                latitude=point.get("latitude"),
                longitude=point.get("longitude"),
                live_period=_int(raw.get("live_location_period_seconds")),
            )
            if "place_name" in raw or "address" in raw:
                venue = {
                    "location": location,
                    "title": _str(raw.get("place_name")) or "",
                    "address": _str(raw.get("address")) or "",
                }
                return {"venue": venue, "location": location}, "venue"
            return {"location": location}, "location"
        if "photo" in raw:
            size = _pick(width=width, height=height, file_size=_int(raw.get("photo_file_size")))
            return {"photo": [size]}, "photo"
        if "file" in raw or "media_type" in raw:
            return self._document(raw, width, height, duration, mime)
        return {}, "text"

    def _document(
        self, raw: Mapping[str, Any], width: int, height: int, duration: int, mime: str | None
    ) -> tuple[dict[str, Any], str]:
        media_type = _str(raw.get("media_type"))
        kind = _DOCUMENT_KINDS.get(media_type or "", "document")
        file_size = _int(raw.get("file_size"))
        file_name = _file_name(raw)
        document = _pick(file_name=file_name, mime_type=mime, file_size=file_size)
        if kind == "sticker":
            name = file_name or ""
            animated = mime == "application/x-tgsticker" or name.endswith(".tgs")
            video = mime == "video/webm" or name.endswith(".webm")
            sticker = _pick(
                type="regular",
                width=width,
                height=height,
                is_animated=animated,
                is_video=video,
                emoji=_str(raw.get("sticker_emoji")),
                file_size=file_size,
            )
            return {"sticker": sticker}, kind
        if kind == "video_note":
            return {"video_note": _pick(length=width, duration=duration, file_size=file_size)}, kind
        if kind == "voice":
            return {"voice": _pick(duration=duration, mime_type=mime, file_size=file_size)}, kind
        if kind == "audio":
            audio = _pick(
                duration=duration,
                performer=_str(raw.get("performer")),
                title=_str(raw.get("title")),
                **document,
            )
            return {"audio": audio}, kind
        if kind in ("video", "animation"):
            clip = {"width": width, "height": height, "duration": duration, **document}
            # The Bot API sets ``document`` as well on animations, for older clients.
            return (
                {"animation": clip, "document": document} if kind == "animation" else {"video": clip}
            ), kind
        return {"document": document}, kind

    @staticmethod
    def _poll(poll: Mapping[str, Any]) -> dict[str, Any]:
        options = []
        for answer in poll.get("answers") or []:
            if isinstance(answer, dict):
                text, _ = entities_from_parts(answer.get("text"))
                options.append({"text": text, "voter_count": _int(answer.get("voters")) or 0})
        question, _ = entities_from_parts(poll.get("question"))
        return {
            "question": question,
            "options": options,
            "total_voter_count": _int(poll.get("total_voters")) or 0,
            "is_closed": poll.get("closed") is True,
        }

    def _member(self, name: object, actor_name: object, actor: tuple[str, int] | None) -> dict[str, Any]:
        text = name if isinstance(name, str) and name else "Deleted Account"
        if actor is not None and actor[0] == "user" and text == actor_name:
            return _user(actor[1], text)
        known = self.people.resolve(text)
        return _user(known if known is not None else unknown_user_id(text), text)

    def _service(
        self, raw: Mapping[str, Any], chat: dict[str, Any], chat_id: int
    ) -> tuple[dict[str, Any] | None, str]:
        action = _str(raw.get("action")) or "custom"
        actor_name, actor = raw.get("actor"), parse_peer(raw.get("actor_id"))
        members = [m for m in raw.get("members") or [] if m is None or isinstance(m, str)]
        body: dict[str, Any] | None = None
        if action == "invite_members" and members:
            body = {"new_chat_members": [self._member(m, actor_name, actor) for m in members]}
        elif action in ("join_group_by_link", "join_group_by_request") and actor and actor[0] == "user":
            body = {"new_chat_members": [_user(actor[1], actor_name)]}
        elif action == "remove_members" and members:
            body = {"left_chat_member": self._member(members[0], actor_name, actor)}
        elif action == "create_group":
            body = {"group_chat_created": True}
        elif action == "create_channel":
            body = {"channel_chat_created": True}
        elif action == "edit_group_title" and _str(raw.get("title")):
            body = {"new_chat_title": raw["title"]}
        elif action == "edit_group_photo":
            size = _pick(
                width=_int(raw.get("width")) or 0,
                height=_int(raw.get("height")) or 0,
                file_size=_int(raw.get("photo_file_size")),
            )
            body = {"new_chat_photo": [size]}
        elif action == "delete_group_photo":
            body = {"delete_chat_photo": True}
        elif action == "pin_message" and (pinned := _int(raw.get("message_id"))):
            pinned = pinned - MIGRATED_ID_SHIFT if pinned < 0 else pinned
            body = {"pinned_message": {"chat": chat, "message_id": pinned, "date": 0}}  # InaccessibleMessage
        elif action == "migrate_to_supergroup" and chat_id != self.chat.chat_id:
            body = {"migrate_to_chat_id": self.chat.chat_id}
        elif action == "migrate_from_group" and self.chat.migrated_from_chat_id is not None:
            body = {"migrate_from_chat_id": self.chat.migrated_from_chat_id}
        elif action == "set_messages_ttl" and _int(raw.get("period")) is not None:
            body = {"message_auto_delete_timer_changed": {"message_auto_delete_time": _int(raw["period"])}}
        elif action == "topic_created" and _str(raw.get("title")):
            body = {"forum_topic_created": {"name": raw["title"], "icon_color": TOPIC_ICON_COLOR}}
        elif action == "topic_edit":
            edited: dict[str, Any] = {}
            if _str(raw.get("new_title")):
                edited["name"] = raw["new_title"]
            if (icon := _int(raw.get("new_icon_emoji_id"))) is not None:
                edited["icon_custom_emoji_id"] = str(icon) if icon else ""  # "": the icon was removed
            body = {"forum_topic_edited": edited}
        elif action == "group_call":
            seconds = _int(raw.get("duration"))
            body = {"video_chat_ended": {"duration": seconds}} if seconds else {"video_chat_started": {}}
        if body is None:
            return None, f"service:{action}"
        return body, "service"
