"""Importing a Telegram Desktop JSON export into the raw lake: reading, converting, writing, deduplicating."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from etl.ingest.history.convert import entities_from_parts, import_update_id, unknown_user_id
from etl.ingest.history.importer import ImportSummary, Refusal, import_export
from etl.ingest.history.reader import ExportError, progress_total
from etl.storage import LocalStorage, Storage, StorageError
from tests.helpers import GROUP, OLD_GROUP, ROOT

EXPORT = ROOT / "tests" / "data" / "export" / "result.json"
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
UTC = ZoneInfo("UTC")

CHAT = {"id": GROUP, "type": "supergroup", "title": "Grupo de Suporte 💬"}
OLD_CHAT = {"id": OLD_GROUP, "type": "group", "title": "Suporte"}
ANA = {"id": 111111111, "is_bot": False, "first_name": "Ana Souza"}
BOB = {"id": 222222222, "is_bot": False, "first_name": "Bob"}
CARLA = {"id": 333333333, "is_bot": False, "first_name": "Carla Dias"}
DIEGO = {"id": 444444444, "is_bot": False, "first_name": "Diego"}
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
CHANNEL_BOT = {"id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}


def message(
    message_id: int, sender: dict[str, Any], date_: int, chat: dict[str, Any] = CHAT, **body: Any
) -> dict[str, Any]:
    """A Bot API ``message`` update as the import writes it (update id from the scheme)."""
    msg = {"message_id": message_id, "from": sender, "chat": chat, "date": date_, **body}
    return {"update_id": import_update_id(chat["id"], message_id), "message": msg}


def reacted(update: dict[str, Any], counts: list[Any], recent: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``message_reaction_count`` update of an imported message: ``counts`` as (type, total) pairs."""
    msg = update["message"]
    return {
        "update_id": import_update_id(msg["chat"]["id"], msg["message_id"], reactions=True),
        "message_reaction_count": {
            "chat": msg["chat"],
            "message_id": msg["message_id"],
            "date": msg["date"],
            "reactions": [{"type": kind, "total_count": total} for kind, total in counts],
            "recent": recent,
        },
    }


def the_message(update: dict[str, Any]) -> dict[str, Any]:
    """The object of an update that names its chat and message id, whatever its kind."""
    return next(value for key, value in update.items() if key != "update_id")


def edited(update: dict[str, Any], edit_date: int) -> dict[str, Any]:
    """The ``edited_message`` update of an imported message."""
    msg = update["message"]
    return {
        "update_id": import_update_id(msg["chat"]["id"], msg["message_id"], edit=True),
        "edited_message": {**msg, "edit_date": edit_date},
    }


# Export message id -> the updates it becomes, each with its day in America/Sao_Paulo.
TEXT_2 = message(2, ANA, 1763978400, text="Bom dia! Alguém pode ajudar com o deploy? 🚀")
THUMBS_UP = {"type": "emoji", "emoji": "👍"}
CUSTOM = {"type": "custom_emoji", "custom_emoji_id": "5368324170671202286"}
HEART = {"type": "emoji", "emoji": "❤"}
TEXT_20 = message(
    20,
    CARLA,
    1763982360,
    text="Hi @anasouza, thanks! 👩🏽‍💻 #obrigada",
    entities=[
        {"offset": 3, "length": 9, "type": "mention"},
        {"offset": 30, "length": 9, "type": "hashtag"},
    ],
)
TEXT_29 = message(
    29,
    ANA,
    1764036000,
    text="Valeu Diego!",
    entities=[{"offset": 6, "length": 5, "type": "text_mention", "user": DIEGO}],
)
D23, D24, D25 = "2025-11-23", "2025-11-24", "2025-11-25"
EXPECTED: dict[str, tuple[int, list[tuple[str, dict[str, Any]]]]] = {
    "migrated-create-group": (
        -999999998,
        [(D23, message(2, ANA, 1763899200, OLD_CHAT, group_chat_created=True))],
    ),
    "migrated-text": (
        -999999997,
        [(D23, message(3, ANA, 1763899260, OLD_CHAT, text="Oi pessoal! Bem-vindos 🎉"))],
    ),
    "migrated-reply": (
        -999999996,
        [
            (
                D23,
                message(
                    4,
                    BOB,
                    1763899500,
                    OLD_CHAT,
                    reply_to_message={"message_id": 3, "chat": OLD_CHAT},
                    text="Valeu, Ana!",
                ),
            )
        ],
    ),
    "migrate-to-supergroup": (
        -999999995,
        [(D23, message(5, ANA, 1763899800, OLD_CHAT, migrate_to_chat_id=GROUP))],
    ),
    "migrate-from-group": (
        1,
        [
            (
                D23,
                message(1, ANONYMOUS_ADMIN, 1763899801, sender_chat=CHAT, migrate_from_chat_id=OLD_GROUP),
            )
        ],
    ),
    "text-edited-with-reactions": (
        2,
        [
            (D24, TEXT_2),
            (D24, edited(TEXT_2, 1763978550)),
            (
                D24,
                reacted(
                    TEXT_2,
                    [(THUMBS_UP, 3), (CUSTOM, 1), ({"type": "paid"}, 5)],
                    [
                        # Bob's reaction has only a local time: 07:10 in São Paulo (the export's zone).
                        {"user": BOB, "type": THUMBS_UP, "date": 1763979000},
                        {"user": CARLA, "type": THUMBS_UP, "date": 1763979060},
                        {"user": DIEGO, "type": CUSTOM, "date": 1763979120},
                    ],
                ),
            ),
        ],
    ),
    "text-array-command-link-reply": (
        3,
        [
            (
                D24,
                message(
                    3,
                    BOB,
                    1763978580,
                    reply_to_message={"message_id": 2, "chat": CHAT},
                    text="Use /help@tgpipe_bot ou veja https://example.com/docs 👍",
                    entities=[
                        {"offset": 4, "length": 16, "type": "bot_command"},
                        {"offset": 29, "length": 24, "type": "url"},
                    ],
                ),
            )
        ],
    ),
    "command-only": (
        4,
        [
            (
                D24,
                message(
                    4,
                    BOB,
                    1763978640,
                    text="/start",
                    entities=[{"offset": 0, "length": 6, "type": "bot_command"}],
                ),
            )
        ],
    ),
    "photo-with-caption": (
        5,
        [
            (
                D24,
                message(
                    5,
                    ANA,
                    1763978700,
                    photo=[{"width": 1280, "height": 720, "file_size": 84211}],
                    caption="Olha o erro 😅",
                    caption_entities=[{"offset": 7, "length": 4, "type": "bold"}],
                ),
            )
        ],
    ),
    "sticker": (
        6,
        [
            (
                D24,
                message(
                    6,
                    BOB,
                    1763978760,
                    sticker={
                        "type": "regular",
                        "width": 512,
                        "height": 512,
                        "is_animated": False,
                        "is_video": False,
                        "emoji": "😂",
                        "file_size": 23400,
                    },
                ),
            )
        ],
    ),
    "voice": (
        7,
        [
            (
                D24,
                message(
                    7, ANA, 1763978820, voice={"duration": 7, "mime_type": "audio/ogg", "file_size": 24576}
                ),
            )
        ],
    ),
    "video-with-caption": (
        8,
        [
            (
                D24,
                message(
                    8,
                    ANA,
                    1763978880,
                    video={
                        "width": 1920,
                        "height": 1080,
                        "duration": 12,
                        "file_name": "demo.mp4",
                        "mime_type": "video/mp4",
                        "file_size": 5242880,
                    },
                    caption="Vídeo do problema",
                ),
            )
        ],
    ),
    "document": (
        9,
        [
            (
                D24,
                message(
                    9,
                    BOB,
                    1763978940,
                    document={
                        "file_name": "relatório.pdf",
                        "mime_type": "application/pdf",
                        "file_size": 102400,
                    },
                    caption="O relatório",
                ),
            )
        ],
    ),
    "animation": (
        10,
        [
            (
                D24,
                message(
                    10,
                    BOB,
                    1763979000,
                    animation={
                        "width": 320,
                        "height": 240,
                        "duration": 3,
                        "file_name": "gif.mp4",
                        "mime_type": "video/mp4",
                        "file_size": 90112,
                    },
                    document={"file_name": "gif.mp4", "mime_type": "video/mp4", "file_size": 90112},
                ),
            )
        ],
    ),
    "video-note": (
        11,
        [(D24, message(11, ANA, 1763979060, video_note={"length": 384, "duration": 9, "file_size": 400000}))],
    ),
    "audio": (
        12,
        [
            (
                D24,
                message(
                    12,
                    BOB,
                    1763979120,
                    audio={
                        "duration": 215,
                        "performer": "Artista",
                        "title": "Canção",
                        "file_name": "cancao.mp3",
                        "mime_type": "audio/mpeg",
                        "file_size": 3400000,
                    },
                ),
            )
        ],
    ),
    "location": (
        13,
        [(D24, message(13, ANA, 1763979180, location={"latitude": -23.55052, "longitude": -46.633308}))],
    ),
    "venue": (
        14,
        [
            (
                D24,
                message(
                    14,
                    BOB,
                    1763979240,
                    venue={
                        "location": {"latitude": -23.561414, "longitude": -46.655881},
                        "title": "Café do Ponto",
                        "address": "Av. Paulista, 1000",
                    },
                    location={"latitude": -23.561414, "longitude": -46.655881},
                ),
            )
        ],
    ),
    "contact": (
        15,
        [
            (
                D24,
                message(
                    15,
                    ANA,
                    1763979300,
                    contact={"phone_number": "+55 11 91234 5678", "first_name": "Carla", "last_name": "Dias"},
                ),
            )
        ],
    ),
    "poll": (
        16,
        [
            (
                D24,
                message(
                    16,
                    ANA,
                    1763979360,
                    poll={
                        "question": "Qual horário?",
                        "options": [{"text": "10h", "voter_count": 2}, {"text": "14h", "voter_count": 1}],
                        "total_voter_count": 3,
                        "is_closed": False,
                    },
                ),
            )
        ],
    ),
    "forwarded": (
        17,
        [
            (
                D24,
                message(
                    17,
                    BOB,
                    1763979420,
                    forward_origin={
                        "type": "hidden_user",
                        "sender_user_name": "Canal de Notícias",
                        "date": 1763979420,
                    },
                    text="Nova versão lançada!",
                ),
            )
        ],
    ),
    "join-invited": (18, [(D24, message(18, ANA, 1763982000, new_chat_members=[CARLA]))]),
    "join-by-link": (19, [(D24, message(19, DIEGO, 1763982300, new_chat_members=[DIEGO]))]),
    "reactions-of-unknown-and-channel": (
        20,
        [
            (D24, TEXT_20),
            (
                D24,
                reacted(
                    TEXT_20,
                    [(HEART, 2)],  # the "empty" reaction is no ReactionType: left out
                    [
                        {
                            "user": {
                                "id": unknown_user_id("Eduardo Lima"),
                                "is_bot": False,
                                "first_name": "Eduardo Lima",
                            },
                            "type": HEART,
                            "date": 1763982600,
                        },
                        {
                            "actor_chat": {
                                "id": -1009876543210,
                                "type": "channel",
                                "title": "Canal de Notícias",
                            },
                            "type": HEART,
                            "date": 1763982660,
                        },
                    ],
                ),
            ),
        ],
    ),
    "leave-self": (21, [(D24, message(21, DIEGO, 1763983800, left_chat_member=DIEGO))]),
    "removed-unknown-member": (
        22,
        [
            (
                D24,
                message(
                    22,
                    ANA,
                    1763983860,
                    left_chat_member={
                        "id": unknown_user_id("Eduardo Lima"),
                        "is_bot": False,
                        "first_name": "Eduardo Lima",
                    },
                ),
            )
        ],
    ),
    "pin": (
        23,
        [(D24, message(23, ANA, 1763983920, pinned_message={"chat": CHAT, "message_id": 2, "date": 0}))],
    ),
    "anonymous-admin": (
        24,
        [(D24, message(24, ANONYMOUS_ADMIN, 1763985600, sender_chat=CHAT, text="Aviso: manutenção às 22h"))],
    ),
    "sent-as-channel": (
        25,
        [
            (
                D24,
                message(
                    25,
                    CHANNEL_BOT,
                    1763985660,
                    sender_chat={"id": -1009876543210, "type": "channel", "title": "Canal de Notícias"},
                    text="Post do canal",
                ),
            )
        ],
    ),
    "late-evening-is-the-local-day": (28, [(D24, message(28, BOB, 1764034200, text="Boa noite 🌙"))]),
    "edit-on-the-next-local-day": (29, [(D24, TEXT_29), (D25, edited(TEXT_29, 1764040200))]),
    "title-changed": (30, [(D24, message(30, ANA, 1764036300, new_chat_title="Grupo de Suporte 💬"))]),
    "unsupported-entry": (26, []),
    "no-content-kept-as-other-media": (27, [(D24, message(27, BOB, 1763985720))]),
    "game-kept": (
        31,
        [
            (
                D24,
                message(
                    31, BOB, 1764036360, game={"title": "Lumberjack", "description": "Chop", "photo": []}
                ),
            )
        ],
    ),
    "before-telegram-refused": (32, []),
}

SUMMARY = {
    "messages_read": 37,
    "updates_written": 38,
    "edits_written": 2,
    "reactions_written": 2,
    "skipped_duplicates": 0,
    "skipped_repeated_ids": 1,  # the second message 28
    "skipped_unsupported": 1,
    "skipped_erased": 0,
    "rewritten_erased": 0,
    "local_times": 1,  # message 2: Bob's reaction
    "by_kind": {
        "animation": 1,
        "audio": 1,
        "contact": 1,
        "document": 1,
        "game": 1,
        "location": 1,
        "other media": 1,
        "photo": 1,
        "poll": 1,
        "service": 9,
        "sticker": 1,
        "text": 11,
        "venue": 1,
        "video": 1,
        "video_note": 1,
        "voice": 1,
    },
    "unsupported_by_kind": {"unsupported": 1},
    "refused": {"date_before_telegram": 1},
    "first_day": D23,
    "last_day": D25,
}


def run(raw: Storage, path: Path = EXPORT, tz: ZoneInfo = SAO_PAULO, **options: Any) -> dict[str, Any]:
    """Import ``path`` as the test group and return the summary without its timing."""
    options.setdefault("migrated_from_chat_id", OLD_GROUP)
    summary = import_export(path, GROUP, raw, tz, workers=4, **options)
    assert isinstance(summary, ImportSummary)
    result = summary.as_dict()
    assert result.pop("seconds") >= 0
    return result


def lake(raw: Storage) -> dict[str, dict[str, Any]]:
    """Every object of the lake, parsed, by key."""
    return {key: json.loads(raw.get(key)) for key in raw.list()}


def write_export(path: Path, messages: list[dict[str, Any]], **header: Any) -> Path:
    """A small export file with the test group's header (overridable)."""
    data = {"name": "Grupo de Suporte 💬", "type": "private_supergroup", "id": 1234567890, **header}
    data["messages"] = messages
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The fixture export imported once (America/Sao_Paulo days): its summary and the lake's objects."""
    raw = LocalStorage(tmp_path_factory.mktemp("lake"))
    return run(raw), lake(raw)


@pytest.mark.parametrize("name", list(EXPECTED), ids=list(EXPECTED))
def test_every_message_kind_becomes_the_exact_bot_api_update(
    imported: tuple[dict[str, Any], dict[str, dict[str, Any]]], name: str
) -> None:
    """Each exported message is stored as the exact Bot API update(s) expected, in its local day."""
    _, objects = imported
    export_id, expected = EXPECTED[name]
    chat_id, message_id = (OLD_GROUP, export_id + 1_000_000_000) if export_id < 0 else (GROUP, export_id)
    got = [
        (key.split("/")[0].removeprefix("context_date="), update)
        for key, update in objects.items()
        for msg in [the_message(update)]
        if (msg["chat"]["id"], msg["message_id"]) == (chat_id, message_id)
    ]
    assert sorted(got, key=lambda kv: kv[1]["update_id"]) == sorted(
        expected, key=lambda kv: kv[1]["update_id"]
    )


def test_the_lake_holds_exactly_the_expected_objects(
    imported: tuple[dict[str, Any], dict[str, dict[str, Any]]],
) -> None:
    """The import writes one object per expected update, keyed by day and update id, and nothing else."""
    summary, objects = imported
    expected = {
        f"context_date={day}/{update['update_id']}.json": update
        for _, updates in EXPECTED.values()
        for day, update in updates
    }
    assert objects == expected
    assert summary == SUMMARY


def test_objects_are_compact_utf8_json(tmp_path: Path) -> None:
    """A stored object is the update as compact JSON with non-ASCII text kept as UTF-8."""
    raw = LocalStorage(tmp_path / "raw")
    run(raw)
    key = f"context_date={D24}/{TEXT_2['update_id']}.json"
    assert raw.get(key) == json.dumps(TEXT_2, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def test_entity_offsets_and_lengths_count_utf16_code_units() -> None:
    """Offsets and lengths are UTF-16 code units: an emoji outside the BMP counts two, a ZWJ sequence more."""
    parts = [
        "👩🏽‍💻 ",
        {"type": "bold", "text": "ação 🚀"},
        " e ",
        {"type": "bot_command", "text": "/help"},
        {"type": "text_link", "text": "aqui", "href": "https://example.com"},
        {"type": "pre", "text": "x = 1", "language": "python"},
        {"type": "custom_emoji", "text": "😀", "document_id": 5368324170671202286},
        {"type": "blockquote", "text": "citação", "collapsed": True},
        {"type": "plain", "text": " fim"},
    ]
    text, entities = entities_from_parts(parts)
    assert text == "👩🏽‍💻 ação 🚀 e /helpaquix = 1😀citação fim"
    assert entities == [
        {"offset": 8, "length": 7, "type": "bold"},
        {"offset": 18, "length": 5, "type": "bot_command"},
        {"offset": 23, "length": 4, "type": "text_link", "url": "https://example.com"},
        {"offset": 27, "length": 5, "type": "pre", "language": "python"},
        {"offset": 32, "length": 2, "type": "custom_emoji", "custom_emoji_id": "5368324170671202286"},
        {"offset": 34, "length": 7, "type": "expandable_blockquote"},
    ]
    utf16 = text.encode("utf-16-le")
    sliced = [utf16[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le") for e in entities]
    assert sliced == ["ação 🚀", "/help", "aqui", "x = 1", "😀", "citação"]


def test_update_ids_are_deterministic_reserved_and_distinct_per_chat_and_edit() -> None:
    """Ids repeat for the same message, differ between chats, for the edit and for the reactions, and lie in
    (2**62, 2**63-1]; message and edit ids are the ones imports wrote before reactions were imported."""
    assert import_update_id(GROUP, 2) == import_update_id(GROUP, 2) == 4990740006403309570
    assert import_update_id(GROUP, 2, edit=True) == 4990740008550793218
    assert import_update_id(GROUP, 2, reactions=True) == 4990740010698276866
    assert import_update_id(OLD_GROUP, 2) == 5570282436396318722
    ids = {
        import_update_id(chat, message_id, edit=edit)
        for chat in (GROUP, OLD_GROUP, -1009876543210, 42)
        for message_id in (1, 2, 2**31 - 1)
        for edit in (False, True)
    }
    assert len(ids) == 4 * 3 * 2
    assert all(2**62 < update_id <= 2**63 - 1 for update_id in ids)
    with pytest.raises(ValueError, match=r"^message id 2147483648 is outside 1\.\.2\*\*31-1$"):
        import_update_id(GROUP, 2**31)
    with pytest.raises(ValueError, match=r"^message id 0 is outside 1\.\.2\*\*31-1$"):
        import_update_id(GROUP, 0)
    with pytest.raises(
        ValueError, match=r"^an imported update is a message, its edit or its reactions: not two of them$"
    ):
        import_update_id(GROUP, 2, edit=True, reactions=True)


def test_message_edit_and_reactions_ids_of_many_messages_are_all_distinct() -> None:
    """Message, edit and reactions ids of 30,000 messages in each of 5 chats: 450,000 distinct, >= 2**62."""
    chats = (GROUP, OLD_GROUP, -1009876543210, -1001, 42)
    message_ids = [*range(1, 10_001), *range(2**30 - 5_000, 2**30 + 5_000), *range(2**31 - 10_000, 2**31)]
    variants = ({}, {"edit": True}, {"reactions": True})
    ids = [
        import_update_id(chat, message_id, **variant)
        for chat in chats
        for message_id in message_ids
        for variant in variants
    ]
    assert len(ids) == len(set(ids)) == 5 * 30_000 * 3
    assert min(ids) >= 2**62
    assert max(ids) <= 2**63 - 1


def test_days_follow_the_configured_time_zone(tmp_path: Path) -> None:
    """Late-evening messages land in their local day: 2025-11-24 in São Paulo, 2025-11-25 in UTC."""
    in_utc = LocalStorage(tmp_path / "utc")
    summary = run(in_utc, tz=UTC)
    late = {k for k, v in lake(in_utc).items() if the_message(v)["message_id"] in (28, 29, 30)}
    assert late == {
        f"context_date={D25}/{import_update_id(GROUP, 28)}.json",
        f"context_date={D25}/{import_update_id(GROUP, 29)}.json",
        f"context_date={D25}/{import_update_id(GROUP, 29, edit=True)}.json",
        f"context_date={D25}/{import_update_id(GROUP, 30)}.json",
    }
    assert (summary["first_day"], summary["last_day"]) == (D23, D25)


def test_rerunning_an_import_rewrites_the_same_objects(tmp_path: Path) -> None:
    """A second import of the same export writes the same keys with the same bytes and reports the same."""
    raw = LocalStorage(tmp_path / "raw")
    first = run(raw)
    before = {key: raw.get(key) for key in raw.list()}
    second = run(raw)
    assert {key: raw.get(key) for key in raw.list()} == before
    assert second == first == SUMMARY


WEBHOOK_HELP = {  # what the webhook stored for message 3 on its day
    "update_id": 900000003,
    "message": {"message_id": 3, "from": BOB, "chat": CHAT, "date": 1763978580, "text": "/help@tgpipe_bot"},
}
WEBHOOK_LATE = {  # message 28, received after local midnight: stored in the next day
    "update_id": 900000028,
    "message": {"message_id": 28, "from": BOB, "chat": CHAT, "date": 1764034200, "text": "Boa noite 🌙"},
}
WEBHOOK_OTHER_CHAT = {  # message id 4 of another chat: not a duplicate
    "update_id": 900000004,
    "message": {
        "message_id": 4,
        "from": BOB,
        "chat": {"id": -1009999999999, "type": "supergroup"},
        "date": 1763978640,
    },
}
WEBHOOK_EDIT_ONLY = {  # only an edit of message 5 was stored: the message itself is still imported
    "update_id": 900000005,
    "edited_message": {
        "message_id": 5,
        "from": ANA,
        "chat": CHAT,
        "date": 1763978700,
        "edit_date": 1763978800,
    },
}
WEBHOOK_MIGRATED = {  # message 3 of the old basic group
    "update_id": 900000103,
    "message": {"message_id": 3, "from": ANA, "chat": OLD_CHAT, "date": 1763899260, "text": "Oi pessoal!"},
}


def test_messages_the_webhook_stored_are_skipped(storage: Storage) -> None:
    """Messages already stored for the same chat and id (same day or next) are not imported; others are."""
    stored = {
        f"context_date={D24}/900000003.json": json.dumps(WEBHOOK_HELP).encode(),
        f"context_date={D25}/900000028.json": json.dumps(WEBHOOK_LATE).encode(),
        f"context_date={D24}/900000004.json": json.dumps(WEBHOOK_OTHER_CHAT).encode(),
        f"context_date={D24}/900000005.json": json.dumps(WEBHOOK_EDIT_ONLY).encode(),
        f"context_date={D23}/900000103.json": json.dumps(WEBHOOK_MIGRATED).encode(),
        f"context_date={D24}/900000999.json": b"{not json",
        "_quarantine/2025-11-24/abc.bin": b"garbage",
    }
    for key, body in stored.items():
        storage.put(key, body)
    summary = run(storage)
    assert summary == {
        **SUMMARY,
        "updates_written": 35,
        "skipped_duplicates": 3,
        "by_kind": {**SUMMARY["by_kind"], "text": 8},
    }
    skipped = {
        f"context_date={D24}/{import_update_id(GROUP, 3)}.json",
        f"context_date={D24}/{import_update_id(GROUP, 28)}.json",
        f"context_date={D23}/{import_update_id(OLD_GROUP, 3)}.json",
    }
    expected = {
        f"context_date={day}/{update['update_id']}.json": update
        for _, updates in EXPECTED.values()
        for day, update in updates
    }
    objects = {key: storage.get(key) for key in storage.list()}
    assert set(objects) == (set(expected) - skipped) | set(stored)
    assert all(objects[key] == body for key, body in stored.items())
    assert all(json.loads(objects[key]) == expected[key] for key in set(expected) - skipped)


def test_migrated_history_is_skipped_without_the_old_chat_id(tmp_path: Path) -> None:
    """Without migrated_from_chat_id the basic group's history and migrate_from are counted, not written."""
    raw = LocalStorage(tmp_path / "raw")
    summary = run(raw, migrated_from_chat_id=None)
    assert summary["unsupported_by_kind"] == {
        "migrated_history": 4,
        "service:migrate_from_group": 1,
        "unsupported": 1,
    }
    assert summary["skipped_unsupported"] == 6
    assert summary["updates_written"] == 33
    assert all(the_message(v)["chat"] == CHAT for v in lake(raw).values())


def exported(
    message_id: int,
    stamp: str | None,
    sender: tuple[str, str] = ("Bob", "user222222222"),
    text: str = "",
    **fields: Any,
) -> dict[str, Any]:
    """One exported message as Telegram Desktop writes it; no ``date_unixtime`` when ``stamp`` is None."""
    item: dict[str, Any] = {"id": message_id, "type": "message"}
    if stamp is not None:
        item["date_unixtime"] = stamp
    parts = [{"type": "plain", "text": text}] if text else []
    return {**item, "from": sender[0], "from_id": sender[1], "text": text, "text_entities": parts, **fields}


def service(message_id: int, stamp: str, action: str, **fields: Any) -> dict[str, Any]:
    """One exported service message by Ana."""
    return {
        "id": message_id,
        "type": "service",
        "date_unixtime": stamp,
        "actor": "Ana Souza",
        "actor_id": "user111111111",
        "action": action,
        **fields,
        "text": "",
        "text_entities": [],
    }


def test_forum_topics_keep_their_thread_and_their_service_messages(tmp_path: Path) -> None:
    """A topic's creation and edits become forum_topic_created/edited; messages in a topic, replies to
    them included, carry message_thread_id and is_topic_message; General-topic messages do not."""
    path = write_export(
        tmp_path / "result.json",
        [
            service(10, "1763978400", "topic_created", title="Deploy"),
            exported(11, "1763978460", reply_to_message_id=10, text="Como faço o deploy?"),
            exported(
                12, "1763978520", ("Ana Souza", "user111111111"), reply_to_message_id=11, text="make deploy"
            ),
            exported(13, "1763978580", ("Carla Dias", "user333333333"), text="Oi"),
            exported(14, "1763978640", reply_to_message_id=13, text="Oi, Carla"),
            service(
                15, "1763978700", "topic_edit", new_title="Deploy e CI", new_icon_emoji_id=5368324170671202286
            ),
            service(16, "1763978760", "topic_edit", new_icon_emoji_id=0),
        ],
        name="Grupo de Suporte 💬",
    )
    raw = LocalStorage(tmp_path / "raw")
    summary = run(raw, path, tz=UTC, migrated_from_chat_id=None)
    topic = {"message_thread_id": 10, "is_topic_message": True}
    expected = [
        message(10, ANA, 1763978400, **topic, forum_topic_created={"name": "Deploy", "icon_color": 7322096}),
        message(
            11,
            BOB,
            1763978460,
            **topic,
            reply_to_message={"message_id": 10, "chat": CHAT},
            text="Como faço o deploy?",
        ),
        message(
            12,
            ANA,
            1763978520,
            **topic,
            reply_to_message={"message_id": 11, "chat": CHAT},
            text="make deploy",
        ),
        message(13, CARLA, 1763978580, text="Oi"),
        message(14, BOB, 1763978640, reply_to_message={"message_id": 13, "chat": CHAT}, text="Oi, Carla"),
        message(
            15,
            ANA,
            1763978700,
            forum_topic_edited={"name": "Deploy e CI", "icon_custom_emoji_id": "5368324170671202286"},
        ),
        message(16, ANA, 1763978760, forum_topic_edited={"icon_custom_emoji_id": ""}),  # the icon removed
    ]
    assert lake(raw) == {f"context_date={D24}/{update['update_id']}.json": update for update in expected}
    assert (summary["updates_written"], summary["by_kind"]) == (7, {"service": 3, "text": 4})


def test_local_times_of_an_old_export_are_read_in_the_export_zone_with_fold_0(tmp_path: Path) -> None:
    """Without date_unixtime the local time is read in export_timezone: a time clocks skip lands an hour
    later, a time that happens twice is its first occurrence; date_unixtime wins when both are there."""
    path = write_export(
        tmp_path / "result.json",
        [
            exported(1, None, date="2021-03-14T02:30:00", text="no relógio que pula"),  # New York skips 02:xx
            exported(2, None, date="2021-11-07T01:30:00", text="duas vezes"),  # 01:xx happens twice
            exported(3, "1636300800", date="2021-11-07T11:00:00", text="com unixtime"),
        ],
    )
    raw = LocalStorage(tmp_path / "raw")
    summary = run(raw, path, tz=UTC, export_timezone=ZoneInfo("America/New_York"))
    dates = {the_message(u)["message_id"]: the_message(u)["date"] for u in lake(raw).values()}
    assert dates == {
        1: 1615707000,  # 07:30 UTC: 02:30 read at -05:00, i.e. 03:30 EDT
        2: 1636263000,  # 05:30 UTC: the first 01:30, EDT (-04:00)
        3: 1636300800,
    }
    assert (summary["local_times"], summary["updates_written"]) == (2, 3)


def test_messages_dated_before_telegram_are_refused_and_named(tmp_path: Path) -> None:
    """A message dated before 2013-08-01 UTC, or without a date, is refused with its id and reason; the rest
    is imported."""
    path = write_export(
        tmp_path / "result.json",
        [
            exported(1, "0", text="época zero"),
            exported(2, "1375315199", text="um segundo antes"),
            exported(3, "1375315200", text="o primeiro segundo"),
            exported(4, None, text="sem data"),
            exported(5, "1375401600", text="depois"),
        ],
    )
    raw = LocalStorage(tmp_path / "raw")
    summary = import_export(path, GROUP, raw, UTC, workers=2)
    assert summary.refused == {"date_before_telegram": 2, "no_date": 1}
    assert summary.refusals == [
        Refusal(
            1,
            "date_before_telegram",
            "its date, 1970-01-01 00:00:00 UTC, is before Telegram existed (2013-08-01)",
        ),
        Refusal(
            2,
            "date_before_telegram",
            "its date, 2013-07-31 23:59:59 UTC, is before Telegram existed (2013-08-01)",
        ),
        Refusal(4, "no_date", 'it has no "date_unixtime" nor a readable "date"'),
    ]
    assert lake(raw) == {
        "context_date=2013-08-01/" + str(import_update_id(GROUP, 3)) + ".json": message(
            3, BOB, 1375315200, text="o primeiro segundo"
        ),
        "context_date=2013-08-02/" + str(import_update_id(GROUP, 5)) + ".json": message(
            5, BOB, 1375401600, text="depois"
        ),
    }
    assert (summary.messages_read, summary.updates_written, summary.by_kind) == (5, 2, {"text": 2})


def test_messages_sharing_an_id_are_written_once_and_counted_once(tmp_path: Path) -> None:
    """Five exported messages with one id (on two days): one object, counted once; the rest are repeats."""
    copies = [exported(7, str(1763978400 + 86400 * (n % 2) + n), text=f"cópia {n}") for n in range(5)]
    largest = [
        exported(2**31 - 1, "1763978500", text=f"maior {n}") for n in range(2)
    ]  # the last id MTProto has
    path = write_export(tmp_path / "result.json", [*copies, *largest])
    raw = LocalStorage(tmp_path / "raw")
    summary = run(raw, path, tz=UTC)
    assert lake(raw) == {
        f"context_date={D24}/{import_update_id(GROUP, 7)}.json": message(7, BOB, 1763978400, text="cópia 0"),
        f"context_date={D24}/{import_update_id(GROUP, 2**31 - 1)}.json": message(
            2**31 - 1, BOB, 1763978500, text="maior 0"
        ),
    }
    assert (summary["messages_read"], summary["updates_written"], summary["skipped_repeated_ids"]) == (
        7,
        2,
        5,
    )
    assert (summary["by_kind"], summary["first_day"], summary["last_day"]) == ({"text": 2}, D24, D24)


def test_a_channel_export_becomes_channel_posts(tmp_path: Path) -> None:
    """A channel's messages become channel_post / edited_channel_post updates sent by the channel itself."""
    path = write_export(
        tmp_path / "result.json",
        [
            {
                "id": 7,
                "type": "message",
                "date": "2025-11-24T07:00:00",
                "date_unixtime": "1763978400",
                "edited": "2025-11-24T07:05:00",
                "edited_unixtime": "1763978700",
                "from": "Canal de Notícias",
                "from_id": "channel9876543210",
                "author": "Ana Souza",
                "text": "Novidades 🎉",
                "text_entities": [{"type": "plain", "text": "Novidades 🎉"}],
            }
        ],
        name="Canal de Notícias",
        type="public_channel",
        id=9876543210,
    )
    raw = LocalStorage(tmp_path / "raw")
    channel = {"id": -1009876543210, "type": "channel", "title": "Canal de Notícias"}
    summary = import_export(path, -1009876543210, raw, UTC, workers=2)
    post = {
        "message_id": 7,
        "sender_chat": channel,
        "chat": channel,
        "date": 1763978400,
        "author_signature": "Ana Souza",
        "text": "Novidades 🎉",
    }
    assert lake(raw) == {
        f"context_date={D24}/{import_update_id(-1009876543210, 7)}.json": {
            "update_id": import_update_id(-1009876543210, 7),
            "channel_post": post,
        },
        f"context_date={D24}/{import_update_id(-1009876543210, 7, edit=True)}.json": {
            "update_id": import_update_id(-1009876543210, 7, edit=True),
            "edited_channel_post": {**post, "edit_date": 1763978700},
        },
    }
    assert (summary.updates_written, summary.edits_written, summary.by_kind) == (2, 1, {"text": 1})


def test_progress_reports_every_byte_of_both_passes(tmp_path: Path) -> None:
    """The progress callback's increments add up to progress_total: twice the file's size."""
    seen: list[int] = []
    import_export(EXPORT, GROUP, LocalStorage(tmp_path / "raw"), UTC, progress=seen.append, workers=2)
    assert sum(seen) == progress_total(EXPORT) == 2 * EXPORT.stat().st_size
    assert all(n > 0 for n in seen)


def test_the_log_line_has_counts_and_no_message_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One JSON log line reports the import's counts; no message text reaches the log."""
    run(LocalStorage(tmp_path / "raw"))
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert len(lines) == 1
    line = lines[0]
    assert line.pop("ts")
    assert line.pop("seconds") >= 0
    assert line == {
        "level": "info",
        "service": "tgpipe-import",
        "event": "import",
        "file": "result.json",
        "chat_id": GROUP,
        **SUMMARY,
    }
    assert "Bom dia" not in json.dumps(lines, ensure_ascii=False)


class FailingStorage(LocalStorage):
    """A local lake whose puts fail after ``ok`` successful ones (a storage outage mid-import)."""

    def __init__(self, root: Path, ok: int) -> None:
        super().__init__(root)
        self.ok = ok

    def put(self, key: str, data: bytes) -> None:
        if self.ok <= 0:
            raise StorageError(f"cannot write {key}: disk full")
        self.ok -= 1
        super().put(key, data)


def test_a_storage_failure_stops_the_import_and_a_rerun_completes_it(tmp_path: Path) -> None:
    """A failing put raises StorageError; rerunning on a healthy lake writes everything once."""
    with pytest.raises(StorageError, match=r"^cannot write context_date=.*: disk full$"):
        run(FailingStorage(tmp_path / "raw", ok=10))
    raw = LocalStorage(tmp_path / "raw")
    assert len(list(raw.list())) < SUMMARY["updates_written"]
    assert run(raw) == SUMMARY
    assert len(list(raw.list())) == SUMMARY["updates_written"]


MESSAGE = {
    "id": 1,
    "type": "message",
    "date_unixtime": "1763978400",
    "from": "Bob",
    "from_id": "user2",
    "text": "oi",
}


@pytest.mark.parametrize(
    ("content", "error"),
    [
        pytest.param(
            b"hello, not json",
            "result.json is not valid JSON: is it the result.json of Telegram Desktop's "
            "'Export chat history' in JSON format?",
            id="not-json",
        ),
        pytest.param(
            b"",
            "result.json is not valid JSON: is it the result.json of Telegram Desktop's "
            "'Export chat history' in JSON format?",
            id="empty-file",
        ),
        pytest.param(
            b'[{"id": 1}]',
            "result.json is not a JSON object: is it the result.json of Telegram Desktop's "
            "'Export chat history' in JSON format?",
            id="top-level-array",
        ),
        pytest.param(
            b'{"name": "Grupo", "type": "private_supergroup", "id": 1234567890}',
            'result.json has no "messages" list: is it the result.json of Telegram Desktop\'s '
            "'Export chat history' in JSON format?",
            id="no-messages-key",
        ),
        pytest.param(
            b'{"name": "Grupo", "type": "private_supergroup", "id": 1234567890, "messages": {}}',
            'result.json: "messages" is not a list: is it the result.json of Telegram Desktop\'s '
            "'Export chat history' in JSON format?",
            id="messages-not-a-list",
        ),
        pytest.param(
            b'{"about": "Here is the data you requested.", "personal_information": {}, "chats": {}}',
            "result.json is an export of a whole account; export one chat's history instead "
            "(in the chat's menu: Export chat history, format JSON)",
            id="whole-account-export",
        ),
        pytest.param(
            b'{"name": "Grupo", "type": "private_supergroup", "id": 1234567890, "messages": ['
            + json.dumps(MESSAGE).encode()
            + b", {",
            "result.json is not valid JSON: is it the result.json of Telegram Desktop's "
            "'Export chat history' in JSON format?",
            id="truncated",
        ),
        pytest.param(
            b'{"name": "Grupo", "type": "private_supergroup", "id": 1234567890, "messages": [1]}',
            "result.json: message #0 is not a JSON object",
            id="message-not-an-object",
        ),
        pytest.param(
            b'{"name": "Grupo", "type": "private_supergroup", "id": 1234567890, "messages": [{"type": "x"}]}',
            'result.json: message #0 has no integer "id"',
            id="message-without-id",
        ),
        pytest.param(
            b'{"name": "Grupo", "id": 1234567890, "messages": []}',
            'result.json has no chat "type": is it the result.json of Telegram Desktop\'s '
            "'Export chat history' in JSON format?",
            id="no-chat-type",
        ),
        pytest.param(
            b'{"type": "saved_messages", "id": 1234567890, "messages": []}',
            "result.json is an export of a 'saved_messages' chat, which cannot be imported "
            "(groups, supergroups, channels and private chats can)",
            id="saved-messages",
        ),
        pytest.param(
            b'{"name": "Outro", "type": "public_supergroup", "id": 5555555555, "messages": []}',
            "result.json is the export of chat -1005555555555 (public_supergroup 5555555555), "
            "not of chat -1001234567890",
            id="another-chat",
        ),
    ],
)
def test_a_malformed_export_raises_a_clear_error_and_writes_nothing(
    tmp_path: Path, content: bytes, error: str
) -> None:
    """A file that is not a one-chat JSON export raises ExportError, exactly worded; the lake stays empty."""
    path = tmp_path / "result.json"
    path.write_bytes(content)
    raw = LocalStorage(tmp_path / "raw")
    with pytest.raises(ExportError) as caught:
        import_export(path, GROUP, raw, UTC, workers=2)
    assert str(caught.value) == error
    assert list(raw.list()) == []


def test_a_missing_file_raises_a_clear_error(tmp_path: Path) -> None:
    """A path that is not a file raises ExportError naming it."""
    with pytest.raises(ExportError) as caught:
        import_export(tmp_path / "nope.json", GROUP, LocalStorage(tmp_path / "raw"), UTC)
    assert str(caught.value) == f"{tmp_path / 'nope.json'} does not exist or is not a file"


class CountingStorage:
    """A lake that keeps only how many objects and bytes were put: the memory check measures the parser."""

    uri = "memory://count"

    def __init__(self) -> None:
        self.objects = 0
        self.bytes = 0

    def put(self, key: str, data: bytes) -> None:
        self.objects += 1
        self.bytes += len(data)

    def get(self, key: str) -> bytes:
        raise AssertionError("nothing is stored here")

    def list(self, prefix: str = "") -> Iterator[str]:
        return iter(())

    def delete(self, key: str) -> None:
        raise AssertionError("nothing is stored here")


def generated_export(path: Path, messages: int) -> Path:
    """An export of ``messages`` ~2 KB text messages over many days, written without holding it in memory."""
    body = ("Mensagem longa com acentuação e emoji 🚀 " * 50)[:2000]
    with path.open("w", encoding="utf-8") as fh:
        header = {"name": "Grupo de Suporte 💬", "type": "private_supergroup", "id": 1234567890}
        fh.write(json.dumps(header, ensure_ascii=False, indent=1)[:-2] + ',\n "messages": [')
        for n in range(1, messages + 1):
            item = {
                "id": n,
                "type": "message",
                "date_unixtime": str(1700000000 + 60 * n),
                "from": "Bob",
                "from_id": "user222222222",
                "text": [{"type": "bot_command", "text": "/help"}, f" {n} {body}"],
            }
            fh.write(("\n" if n == 1 else ",\n") + json.dumps(item, ensure_ascii=False))
        fh.write("\n ]\n}\n")
    return path


def peak_memory(path: Path) -> tuple[int, CountingStorage]:
    """tracemalloc's peak while importing ``path``."""
    raw = CountingStorage()
    tracemalloc.start()
    try:
        import_export(path, GROUP, raw, UTC, workers=4)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, raw


def test_memory_stays_bounded_as_the_export_grows(tmp_path: Path) -> None:
    """Importing a 10x larger export does not need more memory: the peak stays far below the file size."""
    small = generated_export(tmp_path / "small.json", 2_000)
    large = generated_export(tmp_path / "large.json", 20_000)
    small_peak, small_raw = peak_memory(small)
    large_peak, large_raw = peak_memory(large)
    assert (small_raw.objects, large_raw.objects) == (2_000, 20_000)
    assert large.stat().st_size > 40_000_000
    assert large_peak < large.stat().st_size / 20
    assert large_peak < 1.5 * small_peak + 1_000_000
    print(
        f"peak {small_peak / 1e6:.1f} MB for {small.stat().st_size / 1e6:.0f} MB, "
        f"{large_peak / 1e6:.1f} MB for {large.stat().st_size / 1e6:.0f} MB"
    )
