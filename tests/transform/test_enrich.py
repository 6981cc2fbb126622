"""One update -> one enriched row: every message type, every update kind, commands, and bad shapes."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from etl.telegram.update import MalformedUpdate
from etl.transform.enrich import Row, to_row, utf16_slice
from tests.helpers.etl import ANA, BOB, CHANNEL_CHAT, GROUP_CHAT, SENT, message, row, update

PHOTO = [{"file_id": "AgAC1", "file_unique_id": "AQAD1", "width": 90, "height": 67}]
DOCUMENT = {
    "file_id": "BQAC",
    "file_unique_id": "AgAD",
    "file_name": "boleto.pdf",
    "mime_type": "application/pdf",
}
LOCATION = {"latitude": -23.55, "longitude": -46.63}
MEDIA = {
    "photo": PHOTO,
    "video": {"file_id": "BAAC", "file_unique_id": "AgAE", "width": 640, "height": 360, "duration": 12},
    "audio": {"file_id": "CQAC", "file_unique_id": "AgAF", "duration": 180},
    "voice": {"file_id": "AwAC", "file_unique_id": "AgAG", "duration": 4},
    "document": DOCUMENT,
    "sticker": {"file_id": "CAAC", "file_unique_id": "AgAH", "type": "regular", "width": 512, "height": 512},
    "video_note": {"file_id": "DQAC", "file_unique_id": "AgAI", "length": 240, "duration": 8},
    "location": LOCATION,
    "contact": {"phone_number": "+5511999999999", "first_name": "Suporte"},
    "poll": {"id": "5", "question": "Horário?", "options": [], "total_voter_count": 0},
    "dice": {"emoji": "🎲", "value": 4},
}


def _row(value: Any) -> dict[str, Any]:
    result = to_row(value)
    assert isinstance(result, Row)
    return result._asdict()


def test_a_text_message_becomes_a_full_row() -> None:
    """Every column of a forum text message: ids, chat, sender, time, type, text, topic."""
    result = _row(update(900000001, text="Bom dia! 🙏", message_thread_id=12, is_topic_message=True))
    assert result == row(text="Bom dia! 🙏", message_thread_id=12)


@pytest.mark.parametrize("kind", sorted(MEDIA))
def test_every_media_type_is_named_and_keeps_its_caption(kind: str) -> None:
    """A message with one kind of media has that message_type, its caption and no text."""
    result = _row(update(7, **{kind: MEDIA[kind]}, caption="veja"))
    assert result == row(update_id=7, message_type=kind, caption="veja")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(
            {"animation": {"file_id": "CgAC"}, "document": DOCUMENT},
            "animation",
            id="animation-over-document",
        ),
        pytest.param(
            {"venue": {"location": LOCATION, "title": "Loja"}, "location": LOCATION},
            "venue",
            id="venue-over-location",
        ),
        pytest.param({"game": {"title": "Quiz"}}, "game", id="game"),
        pytest.param({"story": {"chat": GROUP_CHAT, "id": 3}}, "story", id="story"),
        pytest.param({"paid_media": {"star_count": 5, "paid_media": []}}, "paid_media", id="paid-media"),
        pytest.param({"checklist": {"title": "Deploy", "tasks": []}}, "checklist", id="checklist"),
        pytest.param({"giveaway": {"chats": [], "winners_count": 1}}, "giveaway", id="giveaway"),
        pytest.param({"invoice": {"title": "Plano", "total_amount": 100}}, "invoice", id="invoice"),
        pytest.param({"hologram_2027": {"id": 1}}, "other media", id="content-of-next-year"),
        pytest.param({}, "other media", id="no-content-at-all"),
        pytest.param(
            {"pinned_message": {"message_id": 3, "chat": GROUP_CHAT, "date": SENT}}, "service", id="pin"
        ),
        pytest.param({"new_chat_title": "Suporte"}, "service", id="title-change"),
        pytest.param({"giveaway_created": {}}, "service", id="giveaway-created"),
        pytest.param({"chat_background_set": {"type": {}}}, "service", id="background"),
        pytest.param(
            {"text": "oi", "link_preview_options": {"is_disabled": True}}, "text", id="text-with-options"
        ),
    ],
)
def test_message_type_precedence(fields: dict[str, Any], expected: str) -> None:
    """Animation wins over document, venue over location; newer content kinds are named; a known
    service field is service; content this reader does not know is other media, and counts."""
    assert _row(update(8, **fields))["message_type"] == expected


def test_members_joining_are_counted_in_a_service_row() -> None:
    """new_chat_members -> a service row with how many joined."""
    result = _row(update(5, sender=BOB, new_chat_members=[BOB, ANA], new_chat_member=BOB))
    assert result == row(
        update_id=5,
        from_id=222222222,
        from_first_name="Bob",
        from_username=None,
        message_type="service",
        new_chat_members_count=2,
        service_kind="new_chat_members",
    )


def test_a_member_leaving_is_a_service_row_with_their_id() -> None:
    """left_chat_member -> a service row with the id of who left (here: Bob removed by Ana)."""
    result = _row(update(6, left_chat_member=BOB, left_chat_participant=BOB))
    assert result == row(
        update_id=6, message_type="service", left_chat_member_id=222222222, service_kind="left_chat_member"
    )


def test_an_edit_keeps_the_send_date_and_adds_the_edit_date() -> None:
    """edited_message: a row of its own, kind edited_message, date as sent, edit_date as edited."""
    result = _row(update(9, "edited_message", edit_date=SENT + 120, text="corrigido"))
    assert result == row(update_id=9, update_kind="edited_message", edit_date=SENT + 120, text="corrigido")


@pytest.mark.parametrize("kind", ["channel_post", "edited_channel_post"])
def test_channel_posts_have_a_sender_chat_and_no_sender(kind: str) -> None:
    """A channel post has no `from`: the sender columns are null and sender_chat_id is the channel."""
    post = {
        "message_id": 31,
        "sender_chat": CHANNEL_CHAT,
        "chat": CHANNEL_CHAT,
        "date": SENT,
        "text": "Aviso",
    }
    result = _row({"update_id": 10, kind: post})
    assert result == row(
        update_id=10,
        update_kind=kind,
        message_id=31,
        chat_id=-1009876543210,
        chat_type="channel",
        chat_title="Anúncios",
        from_id=None,
        from_is_bot=None,
        from_first_name=None,
        from_username=None,
        sender_chat_id=-1009876543210,
        text="Aviso",
    )


def test_an_anonymous_admin_keeps_the_placeholder_sender_and_the_group_as_sender_chat() -> None:
    """Telegram's GroupAnonymousBot stays in from_*, and sender_chat_id names the group."""
    anonymous = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
    result = _row(update(11, sender=anonymous, sender_chat=GROUP_CHAT, text="aviso"))
    assert result == row(
        update_id=11,
        from_id=1087968824,
        from_is_bot=True,
        from_first_name="Group",
        from_username="GroupAnonymousBot",
        sender_chat_id=-1001234567890,
        text="aviso",
    )


def test_a_private_chat_message() -> None:
    """chat_type private, chat_title null."""
    chat = {"id": 111111111, "first_name": "Ana", "type": "private"}
    result = _row(
        {
            "update_id": 12,
            "message": {"message_id": 1, "from": ANA, "chat": chat, "date": SENT, "text": "/start"},
        }
    )
    assert result == row(
        update_id=12, message_id=1, chat_id=111111111, chat_type="private", chat_title=None, text="/start"
    )


def test_a_reply_names_the_message_it_answers() -> None:
    """reply_to_message_id is the replied message's id."""
    replied = message(501, text="pergunta")
    assert (
        _row(update(4, message_id=504, reply_to_message=replied, text="resposta"))["reply_to_message_id"]
        == 501
    )


@pytest.mark.parametrize(
    ("fields", "forwarded"),
    [
        pytest.param(
            {"forward_origin": {"type": "hidden_user", "sender_user_name": "X", "date": SENT}},
            True,
            id="origin",
        ),
        pytest.param({"forward_from": ANA, "forward_date": SENT}, True, id="legacy-user"),
        pytest.param({"forward_from_chat": CHANNEL_CHAT, "forward_date": SENT}, True, id="legacy-chat"),
        pytest.param({}, False, id="not-forwarded"),
    ],
)
def test_forwarded_messages(fields: dict[str, Any], forwarded: bool) -> None:
    """is_forwarded from forward_origin or the older forward_* fields."""
    assert _row(update(13, text="x", **fields))["is_forwarded"] is forwarded


@pytest.mark.parametrize(
    ("fields", "command"),
    [
        pytest.param(
            {
                "text": "/help@tgpipe_bot please",
                "entities": [{"offset": 0, "length": 16, "type": "bot_command"}],
            },
            "/help",
            id="without-botname",
        ),
        pytest.param(
            {"text": "/Start", "entities": [{"offset": 0, "length": 6, "type": "bot_command"}]},
            "/start",
            id="lower-case",
        ),
        pytest.param(
            {"text": "🙏 /Ajuda agora", "entities": [{"offset": 3, "length": 6, "type": "bot_command"}]},
            "/ajuda",
            id="after-an-emoji-utf16",
        ),
        pytest.param(
            {
                "text": "@ana /a /b",
                "entities": [
                    {"offset": 0, "length": 4, "type": "mention"},
                    {"offset": 5, "length": 2, "type": "bot_command"},
                    {"offset": 8, "length": 2, "type": "bot_command"},
                ],
            },
            "/a",
            id="first-of-two",
        ),
        pytest.param(
            {
                "photo": PHOTO,
                "caption": "/report erro",
                "caption_entities": [{"offset": 0, "length": 7, "type": "bot_command"}],
            },
            "/report",
            id="in-a-caption",
        ),
        pytest.param(
            {"text": "https://x.y", "entities": [{"offset": 0, "length": 11, "type": "url"}]},
            None,
            id="no-command",
        ),
        pytest.param({"text": "/help"}, None, id="no-entities"),
    ],
)
def test_bot_command(fields: dict[str, Any], command: str | None) -> None:
    """The first bot_command entity, sliced in UTF-16 units, lower-case, without @botname."""
    assert _row(update(14, **fields))["bot_command"] == command


@pytest.mark.parametrize(
    ("text", "offset", "length", "expected"),
    [
        pytest.param("abc", 1, 2, "bc", id="ascii"),
        pytest.param("😀😀x", 4, 1, "x", id="after-two-astral"),
        pytest.param("é😀/go", 3, 3, "/go", id="bmp-then-astral"),
        pytest.param("😀", 0, 2, "😀", id="a-whole-pair"),
    ],
)
def test_utf16_slice(text: str, offset: int, length: int, expected: str) -> None:
    """Offsets and lengths count UTF-16 code units, as Telegram's entities do."""
    assert utf16_slice(text, offset, length) == expected


@pytest.mark.parametrize(
    "kind",
    [
        "my_chat_member",
        "chat_member",
        "message_reaction",
        "message_reaction_count",
        "callback_query",
        "chat_join_request",
        "inline_query",
        "poll_answer",
        "chat_boost",
        "business_message",
    ],
)
def test_updates_without_a_message_are_skipped_by_kind(kind: str) -> None:
    """Any other update kind is not a row: its kind is returned, to be counted."""
    assert to_row({"update_id": 15, kind: {"chat": GROUP_CHAT, "date": SENT}}) == kind


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param([], "body is a JSON array, not an object", id="array"),
        pytest.param("x", "body is a JSON string, not an object", id="string"),
        pytest.param({"message": message()}, "update_id is missing", id="no-update-id"),
        pytest.param(
            {"update_id": "1", "message": message()}, "update_id is not an integer", id="update-id-string"
        ),
        pytest.param(
            {"update_id": True, "message": message()}, "update_id is not an integer", id="update-id-bool"
        ),
        pytest.param(
            {"update_id": -1, "message": message()}, "update_id is out of range", id="update-id-negative"
        ),
        pytest.param({"update_id": 1}, "update has no kind: no field besides update_id", id="no-kind"),
        pytest.param({"update_id": 1, "message": "hi"}, "message is not an object", id="message-string"),
        pytest.param(
            {"update_id": 1, "message": {"message_id": 1, "date": SENT}},
            "message.chat is missing",
            id="no-chat",
        ),
        pytest.param(update(1, chat=[1]), "message.chat is not an object", id="chat-array"),
        pytest.param(
            {"update_id": 1, "message": {"chat": GROUP_CHAT, "date": SENT, "text": "x"}},
            "message.message_id is missing",
            id="no-message-id",
        ),
        pytest.param(
            update(1, message_id="501"), "message.message_id is not a 64-bit integer", id="message-id-string"
        ),
        pytest.param(
            update(1, chat={**GROUP_CHAT, "id": 2**63}),
            "message.chat.id is not a 64-bit integer",
            id="chat-id-overflow",
        ),
        pytest.param(update(1, date=1764000000.5), "message.date is not a 64-bit integer", id="date-float"),
        pytest.param(
            {"update_id": 1, "edited_message": {"message_id": 1, "chat": GROUP_CHAT}},
            "edited_message.date is missing",
            id="no-date",
        ),
    ],
)
def test_an_update_without_what_identifies_its_message_is_malformed(value: Any, reason: str) -> None:
    """Without an update id, a message id, a chat id and a date there is no row to keep: the object is
    refused with the one parser's reason, naming the field, never its content."""
    with pytest.raises(MalformedUpdate) as caught:
        to_row(value)
    assert str(caught.value) == reason


ENTITY_BEYOND = [{"type": "bot_command", "offset": 1, "length": 5}]


@pytest.mark.parametrize(
    ("value", "changed", "degraded"),
    [
        pytest.param(
            update(1, chat={"id": -1001234567890}),
            {"chat_type": "supergroup", "chat_title": None},
            ["chat.type"],
            id="no-chat-type-supergroup",
        ),
        pytest.param(
            update(1, kind="channel_post", chat={"id": -1009876543210}, sender=None),
            {
                "update_kind": "channel_post",
                "chat_id": -1009876543210,
                "chat_type": "channel",
                "chat_title": None,
                "from_id": None,
                "from_is_bot": None,
                "from_first_name": None,
                "from_username": None,
            },
            ["chat.type"],
            id="no-chat-type-channel",
        ),
        pytest.param(
            update(1, chat={"id": -4001234567}),
            {"chat_id": -4001234567, "chat_type": "group", "chat_title": None},
            ["chat.type"],
            id="no-chat-type-group",
        ),
        pytest.param(
            update(1, chat={"id": 111111111}),
            {"chat_id": 111111111, "chat_type": "private", "chat_title": None},
            ["chat.type"],
            id="no-chat-type-private",
        ),
        pytest.param(
            update(1, chat={**GROUP_CHAT, "title": 5}),
            {"chat_title": None},
            ["chat.title"],
            id="title-number",
        ),
        pytest.param(update(1, text=5), {"message_type": "text", "text": None}, ["text"], id="text-number"),
        pytest.param(
            update(1, photo=PHOTO, caption=["x"]),
            {"message_type": "photo", "caption": None},
            ["caption"],
            id="caption-array",
        ),
        pytest.param(
            update(1, sender={"id": 5, "first_name": "A"}, text="oi"),
            {
                "from_id": 5,
                "from_is_bot": None,
                "from_first_name": "A",
                "from_username": None,
                "message_type": "text",
                "text": "oi",
            },
            ["from.is_bot"],
            id="from-without-is-bot",
        ),
        pytest.param(
            update(1, sender={"id": 5, "is_bot": "no", "first_name": "A"}),
            {"from_id": 5, "from_is_bot": None, "from_first_name": "A", "from_username": None},
            ["from.is_bot"],
            id="from-is-bot-string",
        ),
        pytest.param(
            update(1, sender={"id": "5", "is_bot": False}),
            {"from_id": None, "from_is_bot": False, "from_first_name": None, "from_username": None},
            ["from.id", "from.first_name"],
            id="from-id-string-no-name",
        ),
        pytest.param(
            update(1, sender=[ANA]),
            {"from_id": None, "from_is_bot": None, "from_first_name": None, "from_username": None},
            ["from.id", "from.is_bot", "from.first_name", "from"],
            id="from-array",
        ),
        pytest.param(update(1, sender_chat=5), {}, ["sender_chat"], id="sender-chat-number"),
        pytest.param(
            update(1, reply_to_message={"message_id": "2"}),
            {},
            ["reply_to_message.message_id"],
            id="reply-id",
        ),
        pytest.param(update(1, edit_date=2**64), {}, ["edit_date"], id="edit-date-overflow"),
        pytest.param(update(1, message_thread_id=True), {}, ["message_thread_id"], id="thread-bool"),
        pytest.param(
            update(1, left_chat_member="Ana"),
            {"message_type": "service", "service_kind": "left_chat_member"},
            ["left_chat_member"],
            id="left-member-string",
        ),
        pytest.param(
            update(1, new_chat_members={"id": 1}),
            {"message_type": "service", "service_kind": "new_chat_members"},
            ["new_chat_members"],
            id="members-object",
        ),
        pytest.param(
            update(1, text="/x", entities={"type": "bot_command"}),
            {"message_type": "text", "text": "/x"},
            ["entities"],
            id="entities-object",
        ),
        pytest.param(
            update(1, text="/x", entities=["bot_command"]),
            {"message_type": "text", "text": "/x", "entity_count": 1},
            ["entities"],
            id="entity-string",
        ),
        pytest.param(
            update(1, text="/x", entities=[{"type": "bot_command", "offset": 0}]),
            {"message_type": "text", "text": "/x", "entity_count": 1},
            ["entities"],
            id="entity-no-length",
        ),
        pytest.param(
            update(1, text="/x", entities=ENTITY_BEYOND),
            {"message_type": "text", "text": "/x", "entity_count": 1},
            ["entities"],
            id="entity-beyond",
        ),
        pytest.param(
            update(1, text="🙏/x", entities=[{"type": "bot_command", "offset": 1, "length": 2}]),
            {"message_type": "text", "text": "🙏/x", "entity_count": 1},
            ["entities"],
            id="entity-splits-a-surrogate-pair",
        ),
        pytest.param(
            update(
                1,
                photo=PHOTO,
                caption="/x",
                caption_entities=[{"type": "bot_command", "offset": 0, "length": 9}],
            ),
            {"message_type": "photo", "caption": "/x", "entity_count": 1},
            ["caption_entities"],
            id="caption-entity-beyond",
        ),
    ],
)
def test_a_field_not_shaped_as_documented_becomes_null_and_is_counted(
    value: Any, changed: dict[str, Any], degraded: list[str]
) -> None:
    """The row is kept: the field is null (chat_type: what the chat id implies) and its name counted."""
    counted: Counter[str] = Counter()
    result = to_row(value, counted)
    assert isinstance(result, Row)
    assert result._asdict() == row(update_id=1, **{"message_type": "other media", **changed})
    kind = result.update_kind
    assert counted == Counter(f"{kind}.{name}" for name in degraded)


def test_old_payloads_without_is_bot_keep_every_message() -> None:
    """Bot API before 3.0 had no from.is_bot: each such message is a row, counted once per field."""
    counted: Counter[str] = Counter()
    old = {"id": 5, "first_name": "Old", "username": "old"}
    rows = [to_row(update(n, sender=old, text="oi"), counted) for n in (1, 2, 3)]
    assert [r.from_is_bot for r in rows if isinstance(r, Row)] == [None, None, None]
    assert counted == Counter({"message.from.is_bot": 3})
