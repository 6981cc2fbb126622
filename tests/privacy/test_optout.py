"""Opt-out from the chat: /optout is stored with its marker, later updates from the member are
answered 200 and not stored (at once on the instance that stored it, within the cache's lifetime
on the others), the ETL leaves out whatever slipped through, /optin reverses it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest

from etl.config import EtlSettings, IngestSettings, PrivacySettings
from etl.ingest.router import Router
from etl.lake import OPTOUT_PREFIX
from etl.privacy.identity import Hasher, person_hash
from etl.privacy.optout import OptOutList, opted_out, optout_command
from etl.storage import LocalStorage
from etl.telegram.update import parse_update
from etl.transform.job import EtlJob
from tests.helpers import GROUP
from tests.privacy.conversation import ANA, ANA_ID, BOB, T1, body, msg

T1_DAY = date(2026, 10, 5)
SALT = PrivacySettings(salt="a-test-salt-of-32-characters-xx")


def _update(update_id: int, text: str, sender: dict[str, Any] = ANA, kind: str = "message") -> dict[str, Any]:
    entities = (
        [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text.startswith("/") else []
    )
    return {"update_id": update_id, kind: msg(update_id, sender, T1, text=text, entities=entities)}


@pytest.mark.parametrize(
    ("text", "kind", "command"),
    [
        ("/optout", "message", "optout"),
        ("/optout@tgpipe_bot", "message", "optout"),
        ("/OptOut por favor", "message", "optout"),
        ("/optin", "message", "optin"),
        ("/optin@tgpipe_bot", "message", "optin"),
        ("/optouts", "message", None),
        ("optout", "message", None),
        ("please /optout", "message", None),
        ("/optout", "edited_message", None),
    ],
    ids=[
        "plain",
        "addressed",
        "any-case-with-words",
        "optin",
        "optin-addressed",
        "longer-word",
        "no-slash",
        "not-first",
        "an-edit",
    ],
)
def test_the_commands_are_read_from_new_messages_only(text: str, kind: str, command: str | None) -> None:
    """A new message whose first word is /optout or /optin (optionally @bot, any case) is the command."""
    assert optout_command(parse_update(body(_update(1, text, kind=kind)))) == command


def test_the_latest_marker_of_a_member_is_their_choice() -> None:
    """Markers are listed, never read: the largest update id per member decides."""
    keys = [
        f"{OPTOUT_PREFIX}aaa/00000000000000000005.optout",
        f"{OPTOUT_PREFIX}aaa/00000000000000000009.optin",
        f"{OPTOUT_PREFIX}bbb/00000000000000000007.optin",
        f"{OPTOUT_PREFIX}bbb/00000000000000000010.optout",
        f"{OPTOUT_PREFIX}ccc/00000000000000000003.optout",
        f"{OPTOUT_PREFIX}ccc/stray.txt",
    ]
    assert opted_out(keys) == frozenset({"bbb", "ccc"})


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _router(raw: LocalStorage, clock: _Clock) -> Router:
    settings = IngestSettings(frozenset({GROUP}), timezone=ZoneInfo("UTC"))
    optouts = OptOutList(raw, Hasher.for_lake(raw, SALT), clock=clock)
    return Router(settings, raw, clock=lambda: float(T1), optouts=optouts)


def test_an_optout_is_honoured_at_once_here_and_within_60_s_elsewhere(tmp_path: Path) -> None:
    """GIVEN two webhook instances on one lake; WHEN Ana sends /optout to one; THEN that one drops her
    next update at once, the other keeps storing hers until its cached list is 60 s old, Bob is
    never affected, and /optin makes both store her again."""
    raw = LocalStorage(tmp_path / "raw")
    clock = _Clock()
    here, there = _router(raw, clock), _router(raw, clock)
    reaction = {
        "update_id": 0,
        "message_reaction": {
            "chat": msg(0, BOB, T1)["chat"],
            "message_id": 2,
            "user": ANA,
            "date": T1,
            "old_reaction": [],
            "new_reaction": [],
        },
    }

    def send(router: Router, update: dict[str, Any]) -> str:
        return router.ingest(body(update)).outcome

    outcomes = [
        send(there, _update(1, "bom dia")),  # `there` reads the (empty) list now
        send(here, _update(2, "/optout@tgpipe_bot")),
        send(here, _update(3, "ainda aqui?")),
        send(here, {**reaction, "update_id": 4}),
        send(here, _update(5, "oi", sender=BOB)),
        send(there, _update(6, "escapou")),  # its cache is 0 s old
    ]
    clock.now = 59.9
    outcomes.append(send(there, _update(7, "escapou de novo")))
    clock.now = 60.0
    outcomes.append(send(there, _update(8, "agora não")))
    outcomes.append(send(here, _update(9, "/optin")))
    outcomes.append(send(here, _update(10, "voltei")))
    clock.now = 120.0
    outcomes.append(send(there, _update(11, "voltei mesmo")))

    assert outcomes == [
        "stored",
        "stored",
        "opted_out",
        "opted_out",
        "stored",
        "stored",
        "stored",
        "opted_out",
        "stored",
        "stored",
        "stored",
    ]
    day = "context_date=2026-10-05/"
    assert [k.removeprefix(day) for k in raw.list(day)] == [f"{n}.json" for n in (1, 10, 11, 2, 5, 6, 7, 9)]
    ana = person_hash(SALT.salt.encode(), ANA_ID)  # type: ignore[union-attr]
    assert list(raw.list(OPTOUT_PREFIX)) == [
        f"{OPTOUT_PREFIX}{ana}/00000000000000000002.optout",
        f"{OPTOUT_PREFIX}{ana}/00000000000000000009.optin",
    ]


def test_the_etl_leaves_out_the_rows_of_members_who_opted_out(tmp_path: Path) -> None:
    """What slipped through before the list reached an instance is not in any table; Bob's rows are."""
    raw, enriched = LocalStorage(tmp_path / "raw"), LocalStorage(tmp_path / "enriched")
    clock = _Clock()
    here, there = _router(raw, clock), _router(raw, clock)
    there.ingest(body(_update(1, "bom dia @bob")))
    for update in (_update(2, "/optout"), _update(3, "oi", sender=BOB)):
        assert here.ingest(body(update)).outcome == "stored"
    assert there.ingest(body(_update(4, "escapou, #tag"))).outcome == "stored"
    reaction = {
        "update_id": 5,
        "message_reaction": {
            "chat": msg(0, BOB, T1)["chat"],
            "message_id": 3,
            "user": ANA,
            "date": T1,
            "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": "👍"}],
        },
    }
    assert there.ingest(body(reaction)).outcome == "stored"
    job = EtlJob(raw, enriched, settings=EtlSettings(timezone=ZoneInfo("UTC")), processes=1, privacy=SALT)

    summary = job.run_day(T1_DAY)

    assert summary.rows == {"messages": 1, "reactions": 0, "member_events": 0, "message_entities": 0}
    messages = pq.read_table(tmp_path / "enriched/messages/context_date=2026-10-05/part-00000.parquet")
    assert messages.select(["update_id", "from_id", "text"]).to_pylist() == [
        {"update_id": 3, "from_id": BOB["id"], "text": "oi"}
    ]

    assert here.ingest(body(_update(6, "/optin"))).outcome == "stored"
    summary = job.run_day(T1_DAY)
    # Her four messages and Bob's, her reaction, the bot_command entities of her two commands.
    assert summary.rows == {"messages": 5, "reactions": 1, "member_events": 0, "message_entities": 2}
