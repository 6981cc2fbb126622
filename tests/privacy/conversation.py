"""A small conversation in which Ana takes part in every way the pipeline records, delivered through
the real webhook into a raw lake, then through the real ETL: what the privacy tests erase her from."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from etl.config import EtlSettings, IngestSettings, WebhookSettings
from etl.ingest.webhook import Webhook
from etl.storage import Storage
from etl.transform.job import EtlJob
from tests.helpers import GROUP, SECRET

ANA_ID, BOB_ID, CARL_ID = 111111111, 222222222, 333333333
ANA = {"id": ANA_ID, "is_bot": False, "first_name": "Ana", "last_name": "Souza", "username": "anasouza"}
BOB = {"id": BOB_ID, "is_bot": False, "first_name": "Bob"}
CARL = {"id": CARL_ID, "is_bot": False, "first_name": "Carl", "username": "carl_b"}
CHAT = {"id": GROUP, "title": "Grupo de Suporte", "type": "supergroup"}
ANA_TEXT = "Bom dia! Alguém sabe como emitir o boleto? 🙏"
ANA_EDITED = "Bom dia! Como emitir a segunda via do boleto?"
DAY1, DAY2 = date(2026, 10, 5), date(2026, 10, 6)
T1, T2 = 1791201600, 1791288000  # 2026-10-05 12:00 and 2026-10-06 12:00 UTC
# Ana's traces: no stored byte may hold one of them after `forget`.
TRACES = (b"111111111", b"anasouza", b"Souza", b"boleto", b"Ana")


def body(update: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, as Telegram sends it."""
    return json.dumps(update, ensure_ascii=False, separators=(",", ":")).encode()


def msg(message_id: int, sender: dict[str, Any], when: int, **fields: Any) -> dict[str, Any]:
    return {"message_id": message_id, "from": sender, "chat": CHAT, "date": when, **fields}


ANA_MESSAGE = msg(501, ANA, T1, text=ANA_TEXT)
# Bob's reply: Telegram embeds Ana's message (and the quoted part of it) in it, and he @mentions her.
BOB_REPLY = msg(
    502,
    BOB,
    T1 + 60,
    reply_to_message=ANA_MESSAGE,
    quote={"text": "emitir o boleto", "position": 25, "is_manual": True},
    text="Pelo app, @anasouza e @carl_b sabem",
    entities=[{"type": "mention", "offset": 10, "length": 9}, {"type": "mention", "offset": 22, "length": 7}],
)
# Carl thanks Ana with a text_mention (no username needed: the entity carries her user).
CARL_THANKS = msg(
    503,
    CARL,
    T1 + 120,
    text="Valeu Ana 👍 e Bob",
    entities=[
        {"type": "text_mention", "offset": 6, "length": 3, "user": ANA},
        {"type": "bold", "offset": 15, "length": 3},
    ],
)
BOB_ADDS = msg(504, BOB, T1 + 30, new_chat_participant=ANA, new_chat_member=ANA, new_chat_members=[ANA, CARL])

# (day of receipt, update) in delivery order; update ids are Telegram's, increasing.
DELIVERIES: list[tuple[int, dict[str, Any]]] = [
    (
        T1,
        {
            "update_id": 101,
            "chat_member": {
                "chat": CHAT,
                "from": ANA,
                "date": T1,
                "old_chat_member": {"user": ANA, "status": "left"},
                "new_chat_member": {"user": ANA, "status": "member"},
            },
        },
    ),
    (T1, {"update_id": 102, "message": BOB_ADDS}),
    (T1, {"update_id": 103, "message": ANA_MESSAGE}),
    (T1, {"update_id": 103, "message": ANA_MESSAGE}),  # a redelivery: a second version on S3
    (T1, {"update_id": 104, "message": BOB_REPLY}),
    (T1, {"update_id": 105, "message": CARL_THANKS}),
    (
        T1,
        {
            "update_id": 106,
            "message_reaction": {
                "chat": CHAT,
                "message_id": 502,
                "user": ANA,
                "date": T1 + 130,
                "old_reaction": [],
                "new_reaction": [{"type": "emoji", "emoji": "❤"}],
            },
        },
    ),
    (
        T1,
        {
            "update_id": 107,
            "message_reaction": {
                "chat": CHAT,
                "message_id": 501,
                "user": BOB,
                "date": T1 + 140,
                "old_reaction": [],
                "new_reaction": [{"type": "emoji", "emoji": "👍"}],
            },
        },
    ),
    (T1, {"update_id": 108, "message": msg(505, BOB, T1 + 150, text="Bom dia a todos")}),
    (T1, {"update_id": 108, "message": msg(505, BOB, T1 + 150, text="Bom dia a todos")}),  # redelivered
    (T2, {"update_id": 109, "edited_message": {**ANA_MESSAGE, "text": ANA_EDITED, "edit_date": T2}}),
    (
        T2,
        {
            "update_id": 110,
            "chat_join_request": {
                "chat": CHAT,
                "from": CARL,
                "user_chat_id": CARL_ID,
                "date": T2 + 10,
                "invite_link": {
                    "invite_link": "https://t.me/+AbCd",
                    "creator": ANA,
                    "creates_join_request": True,
                    "is_primary": False,
                    "is_revoked": False,
                },
            },
        },
    ),
    (T2, {"update_id": 111, "message": msg(506, CARL, T2 + 20, text="Alguém viu o jogo?")}),
    (
        T2,
        {
            "update_id": 112,
            "message": msg(
                507,
                ANA,
                T2 + 30,
                photo=[{"file_id": "AgAD", "file_unique_id": "AQAD", "width": 90, "height": 90}],
                caption="meu boleto",
            ),
        },
    ),
]
# Deliveries that are no update: kept byte-exact under _quarantine/ (one of them holds Ana's id).
QUARANTINED = [
    (T1, b'{"update_id": 113, "message": {"from": {"id": 111111111}, "text": "caf\xe9"}}'),
    (T2, b'{"update_id": 114, "message": {"from": {"id": 222222222}, "text": "caf\xe9"}}'),
]


@dataclass
class Lake:
    """A raw and an enriched store filled through the webhook and the ETL."""

    raw: Storage
    enriched: Storage
    settings: EtlSettings = field(default_factory=lambda: EtlSettings(timezone=ZoneInfo("UTC")))

    def job(self) -> EtlJob:
        return EtlJob(self.raw, self.enriched, settings=self.settings, processes=1)


def deliver(raw: Storage, deliveries: list[tuple[int, dict[str, Any]]] | None = None) -> None:
    """POST each delivery to the webhook (secret checked, routed, stored) at its time of receipt."""
    now = [0.0]
    settings = WebhookSettings(IngestSettings(frozenset({GROUP}), timezone=ZoneInfo("UTC")), SECRET)
    hook = Webhook(settings, raw, clock=lambda: now[0])
    for when, update in deliveries if deliveries is not None else DELIVERIES:
        now[0] = float(when)
        assert hook.handle(body(update), SECRET).outcome == "stored"
    for when, data in QUARANTINED if deliveries is None else []:
        now[0] = float(when)
        assert hook.handle(data, SECRET).outcome == "quarantined"


def fill(raw: Storage, enriched: Storage) -> Lake:
    """The conversation through the webhook, then the ETL of both days."""
    deliver(raw)
    lake = Lake(raw, enriched)
    for day in (DAY1, DAY2):
        lake.job().run_day(day)
    return lake


def at(stamp: int) -> datetime:
    return datetime.fromtimestamp(stamp, UTC)
