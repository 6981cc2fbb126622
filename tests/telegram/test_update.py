"""Routing facts are read from every kind of Telegram update; anything else is malformed."""

from __future__ import annotations

import pytest

from etl.telegram.update import MalformedUpdate, Update, parse_update
from tests.helpers import CHANNEL, GROUP, OLD_GROUP, update_bytes, update_names

ANA, BOB = 111111111, 222222222  # the senders of the samples

EXPECTED = {
    "callback_query": (Update(900000016, "callback_query", GROUP), ANA),
    "channel_post": (Update(900000010, "channel_post", CHANNEL), None),
    "chat_join_request": (Update(900000015, "chat_join_request", GROUP), BOB),
    "chat_member": (Update(900000013, "chat_member", GROUP), BOB),
    "edited_channel_post": (Update(900000011, "edited_channel_post", CHANNEL), None),
    "edited_message": (Update(900000009, "edited_message", GROUP), ANA),
    "inline_query": (Update(900000019, "inline_query", None), BOB),
    "message_command": (Update(900000002, "message", GROUP), BOB),
    "message_forwarded": (Update(900000008, "message", GROUP), BOB),
    "message_left_member": (Update(900000006, "message", GROUP), ANA),
    "message_migrate_from": (
        Update(900000018, "message", -1001234567891, migrate_from_chat_id=OLD_GROUP),
        ANA,
    ),
    "message_migrate_to": (Update(900000017, "message", OLD_GROUP, migrate_to_chat_id=-1001234567891), ANA),
    "message_new_members": (Update(900000005, "message", GROUP), BOB),
    "message_other_chat": (Update(900000021, "message", -1005555555555), BOB),
    "message_photo": (Update(900000003, "message", GROUP), ANA),
    "message_private": (Update(900000022, "message", 222222222), BOB),
    "message_reaction": (Update(900000014, "message_reaction", GROUP), ANA),
    "message_reply": (Update(900000004, "message", GROUP), BOB),
    "message_sticker": (Update(900000007, "message", GROUP), ANA),
    "message_text": (Update(900000001, "message", GROUP), ANA),
    "my_chat_member": (Update(900000012, "my_chat_member", GROUP), ANA),
    "poll_answer": (Update(900000020, "poll_answer", None), BOB),
    "chat_member_banned": (Update(900000114, "chat_member", GROUP), 444444444),
    "chat_member_invite_link": (Update(900000113, "chat_member", GROUP), 333333333),
    "chat_member_promoted": (Update(900000115, "chat_member", GROUP), 444444444),
    "message_album_via_bot": (Update(900000110, "message", GROUP), BOB),
    "message_checklist": (Update(900000101, "message", GROUP), ANA),
    "message_empty": (Update(900000116, "message", GROUP), ANA),
    "message_entities_quote": (Update(900000109, "message", GROUP), 333333333),
    "message_forum_topic_created": (Update(900000107, "message", GROUP), 444444444),
    "message_forum_topic_edited": (Update(900000108, "message", GROUP), 444444444),
    "message_giveaway": (Update(900000102, "channel_post", CHANNEL), None),
    "message_old_bot_api": (Update(900000106, "message", GROUP), 555555555),
    "message_paid_media": (Update(900000103, "channel_post", CHANNEL), None),
    "message_reaction_changed": (Update(900000112, "message_reaction", GROUP), None),
    "message_reaction_count": (Update(900000111, "message_reaction_count", CHANNEL), None),
    "message_story": (Update(900000104, "message", GROUP), BOB),
    "message_unknown_content": (Update(900000105, "message", GROUP), ANA),
}


def test_every_sample_update_is_covered() -> None:
    """The table below names every payload under tests/data/updates/."""
    assert sorted(EXPECTED) == update_names()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_update_kind_and_chat_are_read(name: str) -> None:
    """Each kind of update yields its id, kind, chat (the callback's message's chat for a callback)
    and sender (``from``; the reactor or voter ``user`` of a reaction or poll answer)."""
    update = parse_update(update_bytes(name))
    assert (update, update.sender_id) == EXPECTED[name]


def test_an_unknown_future_kind_with_a_chat_is_routed_by_its_chat() -> None:
    """A kind the Bot API adds later is still kept when it carries a chat."""
    body = b'{"update_id": 7, "chat_boost": {"chat": {"id": -100, "type": "channel"}, "boost": {}}}'
    assert parse_update(body) == Update(7, "chat_boost", -100)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(
            b'{"update_id": 1',
            "body is not JSON (unexpected end of data: line 1 column 16 (char 15))",
            id="truncated",
        ),
        pytest.param(
            b"",
            "body is not JSON (Input is a zero-length, empty document: line 1 column 1 (char 0))",
            id="empty",
        ),
        pytest.param(b"\xff\xfe{}", "body is not valid UTF-8", id="invalid-utf8"),
        pytest.param(
            b'\xef\xbb\xbf{"update_id": 1}',
            "body is not JSON (UTF-8 byte order mark (BOM) is not supported: line 1 column 1 (char 0))",
            id="bom",
        ),
        pytest.param(b"[1, 2]", "body is a JSON array, not an object", id="array"),
        pytest.param(b'"text"', "body is a JSON string, not an object", id="string"),
        pytest.param(b"null", "body is a JSON null, not an object", id="null"),
        pytest.param(b'{"message": {}}', "update_id is missing", id="no-update-id"),
        pytest.param(b'{"update_id": null}', "update_id is missing", id="null-update-id"),
        pytest.param(b'{"update_id": "12"}', "update_id is not an integer", id="string-update-id"),
        pytest.param(b'{"update_id": 1.5}', "update_id is not an integer", id="float-update-id"),
        pytest.param(
            b'{"update_id": 1e20, "message": {}}', "update_id is not an integer", id="huge-update-id"
        ),
        pytest.param(b'{"update_id": true}', "update_id is not an integer", id="bool-update-id"),
        pytest.param(b'{"update_id": -3}', "update_id is out of range", id="negative-update-id"),
        pytest.param(b'{"update_id": 9223372036854775808}', "update_id is out of range", id="beyond-int64"),
        pytest.param(b'{"update_id": 8}', "update has no kind: no field besides update_id", id="no-kind"),
        pytest.param(
            b'{"update_id": 7, "my_chat_member": {"chat": {"id": -100}}, "message": {"message_id": 1, '
            b'"date": 1, "chat": {"id": -200, "type": "group"}, "text": "x"}}',
            "update has 2 kinds: Telegram sends exactly one",
            id="two-kinds",
        ),
        pytest.param(
            b'{"update_id": 7, "Message": {}}', "update kind is not a Bot API field name", id="kind-name"
        ),
        pytest.param(
            b"[" * 100_000,
            "body is not JSON (depth limit exceeded: line 1 column 1026 (char 1025))",
            id="deeply-nested",
        ),
        pytest.param(
            b'{"update_id": 1, "x": 1' + b"0" * 5000 + b"}",
            "body is not JSON (number is infinity when parsed as double: line 1 column 23 (char 22))",
            id="huge-integer",
        ),
        pytest.param(
            b'{"update_id": 1, "message": {"a": NaN}}',
            "body is not JSON (unexpected character, expected a JSON value: line 1 column 35 (char 34))",
            id="nan",
        ),
        pytest.param(
            b'{"update_id": 1, "x": -Infinity}',
            "body is not JSON (no digit after sign: line 1 column 24 (char 23))",
            id="infinity",
        ),
        pytest.param(
            b'{"update_id": 1, "x": "\\ud800"}',
            "body is not JSON (no low surrogate in string: line 1 column 24 (char 23))",
            id="lone-surrogate",
        ),
        pytest.param(b'{"update_id": 1, "message": []}', "message is not an object", id="message-array"),
        pytest.param(
            b'{"update_id": 1, "message": {"message_id": 1, "date": 1}}',
            "message.chat is missing",
            id="no-chat",
        ),
        pytest.param(
            b'{"update_id": 1, "message": {"message_id": 1, "date": 1, "chat": 5}}',
            "message.chat is not an object",
            id="chat-number",
        ),
        pytest.param(
            b'{"update_id": 1, "edited_message": {"date": 1, "chat": {"id": 5}}}',
            "edited_message.message_id is missing",
            id="no-message-id",
        ),
        pytest.param(
            b'{"update_id": 1, "channel_post": {"message_id": 1, "date": 1, "chat": {"id": "-100"}}}',
            "channel_post.chat.id is not a 64-bit integer",
            id="chat-id-string",
        ),
        pytest.param(
            b'{"update_id": 1, "message": {"message_id": 1, "date": 1.5, "chat": {"id": 5}}}',
            "message.date is not a 64-bit integer",
            id="date-float",
        ),
        pytest.param(
            b'{"update_id": 1, "message": {"message_id": 1, "chat": {"id": 5}}}',
            "message.date is missing",
            id="no-date",
        ),
    ],
)
def test_malformed_bodies_are_refused_with_a_reason(body: bytes, reason: str) -> None:
    """Anything but one update, read strictly (RFC 8259), with what identifies its message, is malformed;
    the reason never quotes the content."""
    with pytest.raises(MalformedUpdate) as excinfo:
        parse_update(body)
    assert str(excinfo.value) == reason


def test_a_message_needs_only_what_identifies_it() -> None:
    """A message with an id, a chat id and a date is an update, however little else it says."""
    update = parse_update(b'{"update_id": 3, "message": {"message_id": 9, "date": 0, "chat": {"id": -5}}}')
    assert update == Update(3, "message", -5)
    assert update.message == {"message_id": 9, "date": 0, "chat": {"id": -5}}
