"""The whole conversation becomes data: newer and older Bot API shapes, reactions, membership and
entities from third-party-shaped payloads (tests/data/updates/) into their four tables; a day mixing all
tables reruns to the same files, and a run killed between two tables leaves each partition whole."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from etl.storage import LocalStorage
from etl.transform.schema import TABLES
from tests.helpers import CHANNEL, GROUP, update_bytes
from tests.helpers.etl import DAY, make_job, read_rows, stored_row

D = date.fromisoformat(DAY)
T = 1764000200  # the fixtures' first date
CHANNEL_TITLE = "Anúncios"
BOB = {"from_id": 222222222, "from_first_name": "Bob", "from_username": None}
DANI = {"from_id": 444444444, "from_first_name": "Dani", "from_username": "dani_admin"}
ANA = {"from_id": 111111111, "from_first_name": "Ana", "from_username": "anasouza"}
CHANNEL_POST = {
    "update_kind": "channel_post",
    "chat_id": CHANNEL,
    "chat_type": "channel",
    "chat_title": CHANNEL_TITLE,
    "from_id": None,
    "from_is_bot": None,
    "from_first_name": None,
    "from_username": None,
    "sender_chat_id": CHANNEL,
}
# Third-party-shaped payloads of every kind the four tables hold, newer and older Bot API shapes.
FIXTURES = [
    "message_checklist",
    "message_giveaway",
    "message_paid_media",
    "message_story",
    "message_unknown_content",
    "message_old_bot_api",
    "message_forum_topic_created",
    "message_forum_topic_edited",
    "message_entities_quote",
    "message_album_via_bot",
    "message_empty",
    "message_reaction_count",
    "message_reaction_changed",
    "chat_member_invite_link",
    "chat_member_banned",
    "chat_member_promoted",
    "chat_join_request",
    "my_chat_member",
]

MESSAGES = [
    stored_row(update_id=900000101, message_id=601, date=T, message_type="checklist", **ANA),
    stored_row(update_id=900000102, message_id=41, date=T + 1, message_type="giveaway", **CHANNEL_POST),
    stored_row(
        update_id=900000103,
        message_id=42,
        date=T + 2,
        message_type="paid_media",
        caption="Tutorial completo",
        **CHANNEL_POST,
    ),
    stored_row(
        update_id=900000104, message_id=602, date=T + 3, message_type="story", message_thread_id=77, **BOB
    ),
    # Content this reader does not know yet is a message of its own, never service.
    stored_row(update_id=900000105, message_id=603, date=T + 4, message_type="other media", **ANA),
    # Bot API < 3.0: no from.is_bot, no chat.type. Kept, those two fields null or implied.
    stored_row(
        update_id=900000106,
        message_id=604,
        date=T + 5,
        from_id=555555555,
        from_is_bot=None,
        from_first_name="Eva",
        from_username="eva_old",
        text="mensagem de um cliente antigo",
    ),
    stored_row(
        update_id=900000107,
        message_id=77,
        date=T + 6,
        message_type="service",
        message_thread_id=77,
        service_kind="forum_topic_created",
        topic_name="Boletos e Pix",
        **DANI,
    ),
    stored_row(
        update_id=900000108,
        message_id=605,
        date=T + 7,
        message_type="service",
        reply_to_message_id=77,
        message_thread_id=77,
        service_kind="forum_topic_edited",
        topic_name="Boletos, Pix e cartão",
        **DANI,
    ),
    stored_row(
        update_id=900000109,
        message_id=606,
        date=T + 8,
        from_id=333333333,
        from_first_name="Carol",
        from_username="Carol_Dev",
        text="@Carol_Dev veja #Boleto $usd /status@tgpipe_bot https://Suporte.Example.com/faq?id=9 "
        "suporte@Example.COM Ana +55 11 99999-0000",
        reply_to_message_id=602,
        message_thread_id=77,
        bot_command="/status",
        quote_text="boleto vencido",
        entity_count=8,
    ),
    stored_row(
        update_id=900000110,
        message_id=607,
        date=T + 9,
        message_type="photo",
        caption="Ver #Fatura em https://pay.example.org/x",
        media_group_id="13847384738473",
        via_bot_id=7000000001,
        entity_count=3,
        **BOB,
    ),
    # Neither text nor media: still a message.
    stored_row(update_id=900000116, message_id=608, date=T + 15, message_type="other media", **ANA),
]


def reaction(
    update_id: int, index: int, chat: int, message: int, when: int, name: str, **values: Any
) -> dict:
    base = {"user_id": None, "actor_chat_id": None, "delta": None, "count": None, "is_snapshot": False}
    return {
        "update_id": update_id,
        "change_index": index,
        "chat_id": chat,
        "message_id": message,
        **base,
        "date": when,
        "reaction": name,
        **values,
    }


def _ordered(table: str, row: dict[str, Any]) -> dict[str, Any]:
    names = next(t for t in TABLES if t.name == table).schema.names
    return {name: row.get(name) for name in names[:-1]}


REACTIONS = [
    _ordered("reactions", r)
    for r in [
        # Anonymous counts of a channel post: one snapshot row per reaction.
        reaction(900000111, 0, CHANNEL, 41, T + 10, "🔥", count=12, is_snapshot=True),
        reaction(900000111, 1, CHANNEL, 41, T + 10, "custom:5368324170671202286", count=2, is_snapshot=True),
        reaction(900000111, 2, CHANNEL, 41, T + 10, "paid", count=5, is_snapshot=True),
        # A channel reacting as itself: 👍 kept (no row), 🎉 added, the custom emoji removed.
        reaction(900000112, 0, GROUP, 606, T + 11, "🎉", actor_chat_id=CHANNEL, delta=1),
        reaction(
            900000112, 1, GROUP, 606, T + 11, "custom:5368324170671202286", actor_chat_id=CHANNEL, delta=-1
        ),
    ]
]
for r, source in zip(REACTIONS, ["message_reaction_count"] * 3 + ["message_reaction"] * 2, strict=True):
    r["source"] = source


def member(update_id: int, user: int, when: int, event: str, **values: Any) -> dict[str, Any]:
    base = {
        "chat_id": GROUP,
        "user_is_bot": False,
        "user_username": None,
        "old_status": "member",
        "new_status": None,
        "via_invite_link": None,
        "via_join_request": False,
        "source": "chat_member",
    }
    return _ordered(
        "member_events",
        {"update_id": update_id, "user_id": user, "date": when, "event": event, **base, **values},
    )


MEMBER_EVENTS = [
    member(
        900000012,
        7000000001,
        1764000150,
        "promoted",
        user_is_bot=True,
        user_first_name="tgpipe",
        user_username="tgpipe_bot",
        actor_user_id=111111111,
        new_status="administrator",
        source="my_chat_member",
    ),
    member(
        900000015,
        222222222,
        1764000180,
        "join_requested",
        user_first_name="Bob",
        actor_user_id=222222222,
        old_status=None,
        via_invite_link="(unnamed)",  # a link without a name: never the link itself
        via_join_request=True,
        source="chat_join_request",
    ),
    member(
        900000113,
        333333333,
        T + 12,
        "joined",
        user_first_name="Carol",
        user_username="Carol_Dev",
        actor_user_id=333333333,
        old_status="left",
        new_status="member",
        via_invite_link="Campanha de novembro",
    ),
    member(
        900000114,
        666666666,
        T + 13,
        "banned",
        user_first_name="Spam",
        actor_user_id=444444444,
        new_status="kicked",
    ),
    member(
        900000115,
        222222222,
        T + 14,
        "promoted",
        user_first_name="Bob",
        actor_user_id=444444444,
        new_status="administrator",
    ),
]


def entity(
    update_id: int,
    message: int,
    caption: bool,
    index: int,
    kind: str,
    at: tuple[int, int],
    value: Any,
    **v: Any,
) -> dict:
    return _ordered(
        "message_entities",
        {
            "update_id": update_id,
            "update_kind": "message",
            "chat_id": GROUP,
            "message_id": message,
            "in_caption": caption,
            "entity_index": index,
            "kind": kind,
            "offset": at[0],
            "length": at[1],
            "value": value,
            **v,
        },
    )


ENTITIES = [
    entity(900000109, 606, False, 0, "mention", (0, 10), "@carol_dev"),
    entity(900000109, 606, False, 1, "hashtag", (16, 7), "#boleto"),
    entity(900000109, 606, False, 2, "cashtag", (24, 4), "$USD"),
    entity(900000109, 606, False, 3, "bot_command", (29, 18), "/status"),
    entity(900000109, 606, False, 4, "url", (48, 36), "suporte.example.com"),  # the host, never the path
    entity(900000109, 606, False, 5, "email", (85, 19), "example.com"),  # the domain, never the address
    entity(900000109, 606, False, 6, "text_mention", (105, 3), None, user_id=111111111),
    entity(900000109, 606, False, 7, "phone_number", (109, 17), None),  # never the number
    entity(900000110, 607, True, 0, "hashtag", (4, 7), "#fatura"),
    entity(900000110, 607, True, 1, "url", (15, 25), "pay.example.org"),
    entity(900000110, 607, True, 2, "bold", (0, 3), None),
]


def write_fixtures(raw: LocalStorage, names: list[str]) -> None:
    for name in names:
        body = update_bytes(name)
        raw.put(f"context_date={DAY}/{json.loads(body)['update_id']}.json", body)


def read_tables(root: Path) -> dict[str, list[dict[str, Any]]]:
    """Every table's partition of DAY read back, context_timestamp left out (checked elsewhere)."""
    tables = {}
    for table in TABLES:
        rows = read_rows(root / table.name / f"context_date={DAY}" / "part-00000.parquet")
        tables[table.name] = [{k: v for k, v in r.items() if k != "context_timestamp"} for r in rows]
    return tables


def without_timestamp(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "context_timestamp"} for r in rows]


@pytest.fixture
def day(tmp_path: Path) -> tuple[LocalStorage, LocalStorage]:
    raw, enriched = LocalStorage(tmp_path / "raw"), LocalStorage(tmp_path / "enriched")
    write_fixtures(raw, FIXTURES)
    return raw, enriched


def test_every_kind_of_the_conversation_gives_its_rows_in_its_table(
    day: tuple[LocalStorage, LocalStorage], tmp_path: Path
) -> None:
    """Newer content by name, unknown content as `other media`, old shapes degraded not dropped;
    reactions, members and entities in their own tables; the summary counts rows per table."""
    raw, enriched = day
    summary = make_job(raw, enriched).run_day(D).as_dict()
    assert read_tables(tmp_path / "enriched") == {
        "messages": without_timestamp(MESSAGES),
        "reactions": REACTIONS,
        "member_events": MEMBER_EVENTS,
        "message_entities": ENTITIES,
    }
    assert {k: summary[k] for k in ("objects", "rows", "skipped", "degraded", "bad_objects")} == {
        "objects": 18,
        "rows": {"messages": 11, "reactions": 5, "member_events": 5, "message_entities": 11},
        "skipped": {},
        "degraded": {"message.chat.type": 1, "message.from.is_bot": 1},
        "bad_objects": 0,
    }


def test_a_day_mixing_all_tables_reruns_to_the_same_rows(
    day: tuple[LocalStorage, LocalStorage], tmp_path: Path
) -> None:
    """Run twice: every table's partition holds the same rows, one file each, and the same summary."""
    raw, enriched = day
    first = make_job(raw, enriched).run_day(D).as_dict()
    before = read_tables(tmp_path / "enriched")
    again = make_job(raw, enriched).run_day(D).as_dict()
    assert read_tables(tmp_path / "enriched") == before
    assert again == first
    assert sorted(enriched.list()) == sorted(
        f"{table.name}/context_date={DAY}/part-00000.parquet" for table in TABLES
    )


class KillingStorage(LocalStorage):
    """A store that SIGKILLs its own process at its ``at``-th put of a finished file: before the put
    (``after=False``) or right after it."""

    def __init__(self, root: Path, at: int, after: bool) -> None:
        super().__init__(root)
        self.at, self.after, self.puts = at, after, 0

    def put_file(self, key: str, path: str | os.PathLike[str]) -> None:
        self.puts += 1
        if self.puts == self.at and not self.after:
            os.kill(os.getpid(), signal.SIGKILL)
        super().put_file(key, path)
        if self.puts == self.at and self.after:
            os.kill(os.getpid(), signal.SIGKILL)


def _killed_run(raw_root: Path, enriched_root: Path, at: int, after: bool) -> None:
    make_job(LocalStorage(raw_root), KillingStorage(enriched_root, at, after)).run_day(D)


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
@pytest.mark.parametrize(("at", "after"), [(n, a) for n in range(1, len(TABLES) + 1) for a in (False, True)])
def test_a_run_killed_between_tables_leaves_each_partition_old_or_new_and_whole(
    tmp_path: Path, at: int, after: bool
) -> None:
    """Yesterday's run wrote the day from half the objects; today's, with all of them, is SIGKILLed at
    each put: every table then holds the old rows or the new ones, readable, and a rerun completes."""
    raw, enriched = LocalStorage(tmp_path / "raw"), LocalStorage(tmp_path / "enriched")
    write_fixtures(raw, FIXTURES[::2])
    make_job(raw, enriched).run_day(D)
    old = read_tables(tmp_path / "enriched")
    write_fixtures(raw, FIXTURES[1::2])
    new_job = make_job(raw, LocalStorage(tmp_path / "expected"))
    new_job.run_day(D)
    new = read_tables(tmp_path / "expected")
    assert all(old[name] != new[name] for name in old)

    child = multiprocessing.get_context("fork").Process(
        target=_killed_run, args=(tmp_path / "raw", tmp_path / "enriched", at, after)
    )
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    after_kill = read_tables(tmp_path / "enriched")
    replaced = at if after else at - 1  # the puts that completed, in table order
    assert after_kill == {
        table.name: (new if index < replaced else old)[table.name] for index, table in enumerate(TABLES)
    }
    make_job(raw, enriched).run_day(D)
    assert read_tables(tmp_path / "enriched") == new


EXPORT_REACTIONS = [  # tests/data/export/result.json: messages 2 and 20, with their named reactors
    (4990740010698276866, 0, 2, None, None, 1763978400, "👍", None, 3, True),
    (4990740010698276866, 1, 2, None, None, 1763978400, "custom:5368324170671202286", None, 1, True),
    (4990740010698276866, 2, 2, None, None, 1763978400, "paid", None, 5, True),
    (4990740010698276866, 3, 2, 222222222, None, 1763979000, "👍", 1, None, False),
    (4990740010698276866, 4, 2, 333333333, None, 1763979060, "👍", 1, None, False),
    (4990740010698276866, 5, 2, 444444444, None, 1763979120, "custom:5368324170671202286", 1, None, False),
    (4990740010698276884, 0, 20, None, None, 1763982360, "❤", None, 2, True),
    (4990740010698276884, 1, 20, 4504136679112792, None, 1763982600, "❤", 1, None, False),  # by name only
    (4990740010698276884, 2, 20, None, CHANNEL, 1763982660, "❤", 1, None, False),  # a channel, anonymously
]


def test_an_imported_export_s_reactions_and_members_reach_their_tables(tmp_path: Path) -> None:
    """The history import's reactions (totals, and the reactors the export names) and its join, leave
    and removal service messages become rows of reactions and member_events, source `export`."""
    from zoneinfo import ZoneInfo

    from etl.ingest.history.importer import import_export
    from tests.helpers import ROOT

    raw, enriched = LocalStorage(tmp_path / "raw"), LocalStorage(tmp_path / "enriched")
    import_export(
        ROOT / "tests" / "data" / "export" / "result.json", GROUP, raw, ZoneInfo("America/Sao_Paulo")
    )
    summary = make_job(raw, enriched).run_day(date(2025, 11, 24)).as_dict()
    assert summary["rows"] == {"messages": 30, "reactions": 9, "member_events": 4, "message_entities": 7}
    assert (summary["degraded"], summary["skipped"], summary["bad_objects"]) == ({}, {}, 0)
    part = "context_date=2025-11-24/part-00000.parquet"
    names = ["update_id", "change_index", "message_id", "user_id", "actor_chat_id", "date", "reaction"]
    names += ["delta", "count", "is_snapshot"]
    expected = [
        {**dict(zip(names, r, strict=True)), "chat_id": GROUP, "source": "export"} for r in EXPORT_REACTIONS
    ]
    assert without_timestamp(read_rows(tmp_path / "enriched" / "reactions" / part)) == [
        _ordered("reactions", r) for r in expected
    ]
    members = read_rows(tmp_path / "enriched" / "member_events" / part)
    assert [(m["user_first_name"], m["event"], m["actor_user_id"], m["source"]) for m in members] == [
        ("Carla Dias", "joined", 111111111, "export"),  # added by Ana
        ("Diego", "joined", 444444444, "export"),
        ("Diego", "left", 444444444, "export"),
        ("Eduardo Lima", "kicked", 111111111, "export"),
    ]
