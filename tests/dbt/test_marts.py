"""The dbt marts on DuckDB, end to end: realistic raw Telegram updates -> the real ETL (`tgpipe etl`)
-> `dbt build` -> every mart compared, whole, with an independent computation in Python.

The corpus below knows what it generated (who sent what, when, of which type, replying to which
message); the expected marts are computed from that knowledge, not from the enriched Parquet.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from etl.demo.traffic import MEDIA, Sent, Traffic
from tests.helpers import DBT_PROJECT

BIN = Path(sys.executable).parent

TZ_NAME = "America/Sao_Paulo"  # UTC-03:00: 22:30 local is already the next day in UTC
TZ = ZoneInfo(TZ_NAME)  # TGPIPE_TIMEZONE: the webhook's days of receipt, and every chat's days but...
DAYS = [date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11)]  # Monday to Wednesday
# Quieter days over the next weeks (a Saturday, a Tuesday, a Sunday, a Tuesday, a Friday 32 days after
# the first): retention reaches weeks_since 4 and the 30-day window lets the first day go.
LATER_DAYS = [date(2026, 3, 14), date(2026, 3, 17), date(2026, 3, 22), date(2026, 3, 24), date(2026, 4, 10)]

GROUP = {"id": -1001234567890, "title": "Grupo de Suporte 💬", "type": "supergroup", "is_forum": True}
CHANNEL = {"id": -1009876543210, "title": "Anúncios", "type": "channel"}
OLD_GROUP = {"id": -4001234567, "title": "Suporte (antigo)", "type": "group"}
NEW_GROUP_TITLE = "Suporte 💬"
# ...the old group's, cut in Asia/Kolkata (UTC+05:30) by seed chat_settings (the built project's copy).
CHAT_ZONES = {OLD_GROUP["id"]: ZoneInfo("Asia/Kolkata")}


def zone_of(chat_id: int) -> ZoneInfo:
    """The zone a chat's local days and hours are cut in."""
    return CHAT_ZONES.get(chat_id, TZ)


ANA = {
    "id": 111111111,
    "is_bot": False,
    "first_name": "Ana",
    "username": "anasouza",
    "language_code": "pt-br",
}
BOB = {"id": 222222222, "is_bot": False, "first_name": "Bob", "language_code": "en"}
CARLA = {"id": 333333333, "is_bot": False, "first_name": "Carla", "username": "carla_m"}
HELPER = {"id": 444444444, "is_bot": True, "first_name": "HelperBot", "username": "helper_bot"}
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
NEWCOMERS = [
    {"id": 555555551, "is_bot": False, "first_name": "Davi"},
    {"id": 555555552, "is_bot": False, "first_name": "Elis"},
]
# Engagement: people who arrive and go through chat_member updates (a join by link, a spammer banned
# then unbanned, one who leaves and comes back), a join request never approved, a bot added.
GABI = {"id": 666666661, "is_bot": False, "first_name": "Gabi", "username": "gabi"}  # posts once: silent
HUGO = {"id": 666666662, "is_bot": False, "first_name": "Hugo"}
SPAMMER = {"id": 666666663, "is_bot": False, "first_name": "Promo", "username": "promo_x"}
IVO = {"id": 666666664, "is_bot": False, "first_name": "Ivo"}
NEW_BOT = {"id": 777777771, "is_bot": True, "first_name": "StatsBot", "username": "stats_bot"}
REACTIONS = ("👍", "❤", "🔥", "😂", "👀", "🎉")  # 😂 and 👀 are not positive (seed positive_reactions)
# Edge texts both engines must read alike: a tab and a no-break space before a mention, a link ended by
# a no-break space, emoji only.
EDGE_TEXTS = ["senha\tbloqueada\u00a0@carla_m ajuda", "link https://example.com/x\u00a0boleto", "🙏🙏🙏"]

TEXTS = [
    "Bom dia! Alguém sabe como emitir o boleto? 🙏",
    "Não consigo acessar minha conta desde ontem",
    "O app está travando no login 😡",
    "Obrigado pela ajuda, pessoal!",
    "Qual o prazo para pagamento da fatura?",
    "Where can I find the invoice for March?",
    "The login page keeps failing with error 500",
    "Alguém mais com erro no pagamento via PIX?",
    "Senha resetada, funcionou 👍",
    "Como faço para trocar o cartão cadastrado?",
    "Is there a way to export my invoice data?",
    "Reunião movida para 15h, ok?",
    "café ☕ antes da reunião",
    "Ação necessária: atualizar o aplicativo",
    "🇧🇷🇧🇷 vamos!",
    "Veja https://example.com/ajuda?id=42 e @anasouza pode ajudar",
    "2ª via do boleto: menu Pagamentos > Boletos",
    "Cafe\u0301 com boleto atrasado e senha bloqueada",  # a combining accent: 2 code points
    "login ok agora, boleto pago",
]
COMMANDS = [  # (text, offset and length of the bot_command entity in UTF-16 code units, normalised)
    ("/help@tgpipe_bot", 0, 16, "/help"),
    ("/Help", 0, 5, "/help"),
    ("/boleto@tgpipe_bot 2ª via", 0, 18, "/boleto"),
    ("/start", 0, 6, "/start"),
    ("🙏 /help@tgpipe_bot por favor", 3, 16, "/help"),  # the emoji is 2 UTF-16 units
]
CAPTIONS = ["print do erro", "screenshot of the login error", "comprovante de pagamento", None]
MEDIA_WEIGHTS = {
    "photo": 8,
    "sticker": 5,
    "voice": 3,
    "document": 3,
    "animation": 3,
    "video": 2,
    "location": 1,
    "venue": 1,
    "poll": 1,
    "dice": 1,
    "contact": 1,
}


@dataclass(frozen=True)
class Reacted:
    """One change of one person's reaction the corpus sent (delta +1 added, -1 taken back)."""

    at: datetime
    chat_id: int
    message_id: int
    user_id: int
    emoji: str
    delta: int


@dataclass(frozen=True)
class Counted:
    """An anonymous total of one reaction on a message (message_reaction_count): a snapshot."""

    at: datetime
    chat_id: int
    message_id: int
    emoji: str
    count: int


class Corpus(Traffic):
    """The test's scenario on the shared traffic builder: ids increase with time, as Telegram assigns them."""

    def __init__(self) -> None:
        super().__init__(TZ, seed=20260309, first_update_id=700_000_000, step=(1, 3))
        # Every reaction change any part of the scenario makes: the questions, messages and engagement
        # expectations all read this one list.
        self.reacted: list[Reacted] = []
        self.counted: list[Counted] = []
        # (when, update id, user, message, added, taken back): reactions to send, see settle_reactions.
        self._intents: list[tuple[datetime, int, dict[str, Any], Sent, tuple[str, ...], tuple[str, ...]]] = []
        # Apart from self.rng for the reactions to replies; not for secrets.
        self.reaction_rng = random.Random(12)  # noqa: S311
        # (chat id, user, when, update id, what happened): chat_member updates and join requests, with
        # what they mean: joined, left, banned, unbanned, promoted, requested.
        self.member_log: list[tuple[int, dict[str, Any], datetime, int, str]] = []

    # --- each chat in its own zone ------------------------------------------------------------

    def message(self, *args: Any, **kwargs: Any) -> Sent:
        """A new message whose local day is cut in its chat's zone (days of receipt stay in TZ)."""
        sent = super().message(*args, **kwargs)
        sent.zone = zone_of(sent.chat["id"])
        return sent

    def edit(self, *args: Any, **kwargs: Any) -> Sent:
        sent = super().edit(*args, **kwargs)
        sent.zone = zone_of(sent.chat["id"])
        return sent

    # --- reactions and membership -------------------------------------------------------------

    def react(
        self,
        at: datetime,
        user: dict[str, Any],
        target: Sent,
        add: tuple[str, ...] = (),
        remove: tuple[str, ...] = (),
    ) -> None:
        """``user`` adds and takes back reactions to ``target`` at ``at``. Several parts of the scenario
        react to the same messages, so the update (its id taken now) is built by settle_reactions."""
        self._intents.append((at, self.update_id(), user, target, add, remove))

    def settle_reactions(self) -> None:
        """The message_reaction updates, in time order: each carries the person's reactions before and
        after (Telegram's old_reaction and new_reaction); a change to what they already have is none."""
        held: dict[tuple[int, int, int], list[str]] = defaultdict(list)
        for at, update_id, user, target, add, remove in sorted(self._intents, key=lambda i: (i[0], i[1])):
            key = (target.chat["id"], target.message_id, user["id"])
            old = held[key]
            new = [e for e in old if e not in remove] + [e for e in add if e not in old]
            if new == old:
                continue
            payload = {
                "chat": target.chat,
                "message_id": target.message_id,
                "user": user,
                "date": int(at.timestamp()),
                "old_reaction": [{"type": "emoji", "emoji": e} for e in old],
                "new_reaction": [{"type": "emoji", "emoji": e} for e in new],
            }
            update = {"update_id": update_id, "message_reaction": payload}
            self.others.append((at.astimezone(self.zone).date(), update_id, update))  # as other() does
            changes = [(e, 1) for e in new if e not in old] + [(e, -1) for e in old if e not in new]
            self.reacted += [Reacted(at, *key, e, delta) for e, delta in changes]
            held[key] = new
        self._intents.clear()

    def reaction_count(self, at: datetime, target: Sent, emoji: str, count: int) -> None:
        """The anonymous total of ``emoji`` on ``target`` (a message_reaction_count): not a change."""
        payload = {
            "chat": target.chat,
            "message_id": target.message_id,
            "date": int(at.timestamp()),
            "reactions": [{"type": {"type": "emoji", "emoji": emoji}, "total_count": count}],
        }
        self.other(at, "message_reaction_count", payload)
        self.counted.append(Counted(at, target.chat["id"], target.message_id, emoji, count))

    def member_change(
        self,
        at: datetime,
        user: dict[str, Any],
        old: str,
        new: str,
        what: str,
        actor: dict[str, Any] | None = None,
    ) -> None:
        """A chat_member update of the group: ``user`` goes from status ``old`` to ``new``."""
        payload = {
            "chat": GROUP,
            "from": actor or user,
            "date": int(at.timestamp()),
            "old_chat_member": {"user": user, "status": old},
            "new_chat_member": {
                "user": user,
                "status": new,
                **({"until_date": 0} if new == "kicked" else {}),
            },
        }
        self.other(at, "chat_member", payload)
        self.member_log.append((GROUP["id"], user, at, self.next_update_id, what))

    def join_request(self, at: datetime, user: dict[str, Any]) -> None:
        payload = {"chat": GROUP, "from": user, "user_chat_id": user["id"], "date": int(at.timestamp())}
        self.other(at, "chat_join_request", payload)
        self.member_log.append((GROUP["id"], user, at, self.next_update_id, "requested"))

    # --- the scenario -------------------------------------------------------------------------

    def random_content(self) -> dict[str, Any]:
        roll = self.rng.random()
        if roll < 0.55:
            return {"text": self.rng.choice(TEXTS), "forwarded": self.rng.random() < 0.08}
        if roll < 0.68:
            return {"command": self.rng.choice(COMMANDS)}
        kind = self.rng.choices(list(MEDIA_WEIGHTS), weights=list(MEDIA_WEIGHTS.values()))[0]
        return {"message_type": kind, "caption": self.rng.choice(CAPTIONS)}

    def day(self, day: date, busy: int) -> None:
        local = datetime(day.year, day.month, day.day, tzinfo=TZ)
        group_users = [ANA, BOB, CARLA, HELPER, ANONYMOUS_ADMIN]
        seconds = sorted(self.rng.sample(range(7 * 3600, 23 * 3600 + 1800), busy))
        if day == DAYS[2]:  # the group is renamed early on the last day
            self.message(
                GROUP,
                local + timedelta(hours=6, minutes=59),
                user=ANA,
                message_type="service",
                service={"new_chat_title": NEW_GROUP_TITLE},
            )
            self.titles[GROUP["id"]] = NEW_GROUP_TITLE
        if day == DAYS[1]:
            self.names[BOB["id"]] = "Roberto"  # Bob renames himself: the day shows his latest name
        group_messages: list[Sent] = []
        for second in seconds:
            at = local + timedelta(seconds=second)
            user = self.rng.choices(group_users, weights=[5, 5, 3, 1, 1])[0]
            reply_to = None
            if group_messages and self.rng.random() < 0.3:
                reply_to = self.rng.choice(group_messages[-12:])
            sent = self.message(GROUP, at, user=user, reply_to=reply_to, **self.random_content())
            group_messages.append(sent)
            if sent.message_type == "text" and sent.command is None and self.rng.random() < 0.12:
                self.edit(sent, at + timedelta(seconds=self.rng.randint(5, 900)), sent.text + " (editado)")
        # Service messages: joins (one of them two people at once), a leave, a pin.
        self.message(
            GROUP,
            local + timedelta(hours=10, seconds=7),
            user=ANA,
            message_type="service",
            service={"new_chat_members": NEWCOMERS, "new_chat_member": NEWCOMERS[0]},
            joined=2,
        )
        self.message(
            GROUP,
            local + timedelta(hours=12, seconds=11),
            user=NEWCOMERS[0],
            message_type="service",
            service={"new_chat_members": [NEWCOMERS[0]], "new_chat_member": NEWCOMERS[0]},
            joined=1,
        )
        self.message(
            GROUP,
            local + timedelta(hours=18, seconds=13),
            user=CARLA,
            message_type="service",
            service={"left_chat_member": CARLA},
            left_id=CARLA["id"],
        )
        self.message(
            GROUP,
            local + timedelta(hours=19, seconds=17),
            user=ANA,
            message_type="service",
            service={"pinned_message": group_messages[0].body["message"]},
        )
        # Around local midnight and the UTC day change (22:30 local is 01:30 UTC the next day).
        self.message(
            GROUP, local + timedelta(hours=22, minutes=30, seconds=5), user=CARLA, text="boa noite 🌙"
        )
        late = self.message(
            GROUP, local + timedelta(hours=23, minutes=59, seconds=50), user=BOB, text="até amanhã"
        )
        self.message(
            GROUP, local + timedelta(days=1, seconds=10), user=ANA, text="ainda aqui?", reply_to=late
        )
        # An edit made after midnight is the next day's edit.
        self.edit(late, local + timedelta(days=1, seconds=40), "até amanhã, pessoal")
        self.react_to_replies(group_messages)
        if day == DAYS[0]:
            self.questions_scenario(local)
        # The channel: posts, a photo post, an edited post.
        posts = [
            self.message(CHANNEL, local + timedelta(hours=9, minutes=m), user=None, text=t)
            for m, t in ((0, "Manutenção programada hoje às 22h"), (30, "Sistema normalizado ✅"))
        ]
        self.message(
            CHANNEL,
            local + timedelta(hours=11),
            user=None,
            message_type="photo",
            caption="Novo horário de atendimento",
        )
        self.edit(posts[0], local + timedelta(hours=9, minutes=5), "Manutenção programada hoje às 23h")
        # Reactions, after the day's messages: some added, some taken back, some swapped.
        reactors = [ANA, BOB, CARLA, NEWCOMERS[1]]
        for sent in group_messages:
            if self.rng.random() >= 0.2:
                continue
            user, emoji = self.rng.choice(reactors), self.rng.choice(REACTIONS)
            at = sent.sent + timedelta(minutes=self.rng.randint(1, 25))
            self.react(at, user, sent, add=(emoji,))
            roll = self.rng.random()
            if roll < 0.2:
                self.react(at + timedelta(minutes=3), user, sent, remove=(emoji,))
            elif roll < 0.3:
                other = next(e for e in REACTIONS if e != emoji)
                self.react(at + timedelta(minutes=4), user, sent, add=(other,), remove=(emoji,))
        # The channel's anonymous totals: a snapshot, not a change.
        self.reaction_count(local + timedelta(hours=9, minutes=40), posts[1], "👍", 7)
        # Updates that are not messages.
        self.other(
            local + timedelta(hours=8), "message_reaction", {"chat": GROUP, "message_id": 1, "date": 0}
        )
        self.other(
            local + timedelta(hours=8, minutes=1),
            "callback_query",
            {"id": "1", "from": ANA, "chat_instance": "x", "data": "ok"},
        )

    def membership(self, day: date) -> None:
        """The chat_member story of the first two days: Gabi joins by link, says hello once and never
        again; a spammer joins, posts and is banned; a bot is added."""
        local = datetime(day.year, day.month, day.day, tzinfo=TZ)
        if day == DAYS[0]:
            self.member_change(local + timedelta(hours=7, minutes=5), GABI, "left", "member", "joined")
            self.message(
                GROUP, local + timedelta(hours=7, minutes=10), user=GABI, text="Oi, sou nova aqui 👋"
            )
            self.member_change(
                local + timedelta(hours=7, minutes=20), NEW_BOT, "left", "member", "joined", ANA
            )
        if day == DAYS[1]:
            self.member_change(local + timedelta(hours=13, minutes=5), SPAMMER, "left", "member", "joined")
            self.message(
                GROUP, local + timedelta(hours=13, minutes=6), user=SPAMMER, text="Ganhe 500% 🚀 chama"
            )
            self.member_change(
                local + timedelta(hours=13, minutes=8), SPAMMER, "member", "kicked", "banned", ANA
            )

    def later_day(self, day: date) -> None:
        """A quiet day of the following weeks: few messages, each chosen, replies and reactions."""
        local = datetime(day.year, day.month, day.day, tzinfo=TZ)
        if day == LATER_DAYS[0]:  # Saturday: Ana clears her username; edge texts
            first = self.message(GROUP, local + timedelta(hours=10), user=ANA, text=EDGE_TEXTS[0])
            no_username = {k: v for k, v in ANA.items() if k != "username"}
            second = self.message(
                GROUP, local + timedelta(hours=10, minutes=30), user=no_username, text=EDGE_TEXTS[1]
            )
            self.message(
                GROUP, local + timedelta(hours=10, minutes=40), user=BOB, text=EDGE_TEXTS[2], reply_to=first
            )
            self.react(
                local + timedelta(hours=10, minutes=45), GABI, second, add=("❤",)
            )  # the silent member reacts
        elif day == LATER_DAYS[1]:  # Tuesday: Hugo arrives, Davi posts for the first time, Bob promoted
            self.member_change(local + timedelta(hours=8), HUGO, "left", "member", "joined")
            hugo = self.message(GROUP, local + timedelta(hours=9), user=HUGO, text="Bom dia, cheguei")
            self.message(
                GROUP, local + timedelta(hours=9, minutes=5), user=CARLA, text="Bem-vindo!", reply_to=hugo
            )
            self.message(
                GROUP, local + timedelta(hours=9, minutes=10), user=NEWCOMERS[0], text="Primeira vez aqui"
            )
            self.message(GROUP, local + timedelta(hours=9, minutes=20), user=ANA, text="login ok")
            self.member_change(local + timedelta(hours=11), BOB, "member", "administrator", "promoted", ANA)
            self.member_change(local + timedelta(hours=12), SPAMMER, "kicked", "left", "unbanned", ANA)
        elif day == LATER_DAYS[2]:  # Sunday: late at night (the next UTC day)
            self.message(GROUP, local + timedelta(hours=20), user=BOB, text="Alguém aí?")
            self.message(GROUP, local + timedelta(hours=23, minutes=30), user=CARLA, text="boa noite 🌙")
        elif day == LATER_DAYS[3]:  # Tuesday: Hugo replies and leaves; a request nobody approves
            carla = self.message(GROUP, local + timedelta(hours=10), user=CARLA, text="Qual o prazo?")
            answer = self.message(
                GROUP, local + timedelta(hours=11), user=HUGO, text="3 dias", reply_to=carla
            )
            self.react(local + timedelta(hours=11, minutes=2), ANA, answer, add=("👍",))
            self.react(local + timedelta(hours=11, minutes=3), CARLA, answer, add=("🔥",))
            self.react(local + timedelta(hours=11, minutes=9), CARLA, answer, remove=("🔥",))
            self.member_change(local + timedelta(hours=15), HUGO, "member", "left", "left")
            self.join_request(local + timedelta(hours=16), IVO)
        elif day == LATER_DAYS[4]:  # Friday: Hugo is back
            self.member_change(local + timedelta(hours=9), HUGO, "left", "member", "joined")
            self.message(GROUP, local + timedelta(hours=10), user=ANA, text="Bom dia!")
            self.message(
                GROUP, local + timedelta(hours=10, minutes=5), user=HUGO, text="voltei", reply_to=None
            )

    def old_group(self, day: date) -> None:
        local = datetime(day.year, day.month, day.day, 14, tzinfo=TZ)  # 22:30 in the old group's zone
        first = self.message(OLD_GROUP, local, user=CARLA, text="Alguém aí? grupo antigo")
        self.message(
            OLD_GROUP, local + timedelta(minutes=42), user=ANA, text="Sim! use o grupo novo", reply_to=first
        )
        self.message(OLD_GROUP, local + timedelta(minutes=50), user=CARLA, text="valeu", reply_to=first)
        self.message(OLD_GROUP, local + timedelta(minutes=51), user=CARLA, command=COMMANDS[3])

    # --- questions ----------------------------------------------------------------------------

    def react_to_replies(self, messages: list[Sent]) -> None:
        """Now and then the author of a replied-to message reacts to the reply (sometimes taking it
        back), and someone else reacts too."""
        rng = self.reaction_rng
        by_id = {m.message_id: m for m in messages}
        for reply in messages:
            original = by_id.get(reply.reply_to) if reply.reply_to is not None else None
            if original is None or original.user is None or rng.random() >= 0.5:
                continue
            at = reply.sent + timedelta(minutes=rng.randint(1, 40))
            emoji = rng.choice(REACTIONS)
            self.react(at, original.user, reply, add=(emoji,))
            if rng.random() < 0.15:
                self.react(at + timedelta(minutes=5), original.user, reply, remove=(emoji,))
            if rng.random() < 0.3:
                self.react(at + timedelta(minutes=1), CARLA, reply, add=("👍",))

    def questions_scenario(self, local: datetime) -> None:
        """Questions with a known outcome on the first day (``local`` is its local midnight): resolved
        by a reaction and by a message, answered by a bot and by people, a thanks 47h59 and 48h01 after
        the first answer, answers across local midnight (also in the old group's own zone), a forum
        topic renamed, and texts with tabs, NBSP and only emoji."""
        thread = self.message_ids.get(GROUP["id"], 0) + 1
        self.message(
            GROUP,
            local + timedelta(hours=6, minutes=30),
            user=ANA,
            message_type="service",
            service={"forum_topic_created": {"name": "Boletos", "icon_color": 7322096}},
            message_thread_id=thread,
            is_topic_message=True,
        )
        in_topic = {"message_thread_id": thread, "is_topic_message": True}
        # Resolved by Ana's 👍 on Bob's answer (Carla's 👍 and Ana's 😂 on the bot's do not resolve).
        boleto = self.message(
            GROUP,
            local + timedelta(hours=6, minutes=40),
            user=ANA,
            text="Como faço para gerar o boleto",
            **in_topic,
        )
        bob = self.message(
            GROUP,
            local + timedelta(hours=6, minutes=43),
            user=BOB,
            text="Menu Pagamentos > Boletos",
            reply_to=boleto,
        )
        bot = self.message(
            GROUP, local + timedelta(hours=6, minutes=44), user=HELPER, text="Veja /help", reply_to=boleto
        )
        self.react(local + timedelta(hours=6, minutes=45), CARLA, bob, add=("👍",))
        self.react(local + timedelta(hours=6, minutes=46), ANA, bot, add=("😂",))
        self.react(local + timedelta(hours=6, minutes=50), ANA, bob, add=("👍",))
        # The topic is renamed: its messages show the latest name.
        self.message(
            GROUP,
            local + timedelta(hours=6, minutes=55),
            user=ANA,
            message_type="service",
            service={"forum_topic_edited": {"name": "Boletos e Pix"}},
            **in_topic,
        )
        # Answered by the bot; resolved by the asker's reply to the answer.
        invoice = self.message(
            GROUP, local + timedelta(hours=6, minutes=20), user=CARLA, text="Where is the invoice?"
        )
        answer = self.message(
            GROUP,
            local + timedelta(hours=6, minutes=21),
            user=HELPER,
            text="Settings → Billing",
            reply_to=invoice,
        )
        self.message(
            GROUP,
            local + timedelta(hours=6, minutes=35),
            user=CARLA,
            text="Thanks,\u00a0it worked",
            reply_to=answer,
        )
        # Unanswered, in Spanish; an emoji question; not questions: emoji only, a bot's, an edit's "?".
        self.message(
            GROUP, local + timedelta(hours=6, minutes=22), user=BOB, text="¿Alguien sabe la contraseña"
        )
        self.message(GROUP, local + timedelta(hours=6, minutes=23), user=CARLA, text="🤔？")
        self.message(GROUP, local + timedelta(hours=6, minutes=24), user=ANA, text="🙏🙏🙏")
        self.message(GROUP, local + timedelta(hours=6, minutes=25), user=HELPER, text="Precisa de ajuda?")
        hello = self.message(GROUP, local + timedelta(hours=6, minutes=26), user=BOB, text="Bom dia pessoal")
        self.edit(hello, local + timedelta(hours=6, minutes=27), "Bom dia pessoal?")
        # A tab and an NBSP before the question word; thanks 47h59 (resolves) and 48h01 (too late).
        prazo = self.message(
            GROUP, local + timedelta(hours=6, minutes=1), user=ANA, text="\tQual o prazo de entrega"
        )
        reply = self.message(
            GROUP, local + timedelta(hours=6, minutes=5), user=CARLA, text="3 dias úteis", reply_to=prazo
        )
        self.message(
            GROUP,
            local + timedelta(days=2, hours=6, minutes=4),
            user=ANA,
            text="Obrigada, resolvido!",
            reply_to=reply,
        )
        volta = self.message(
            GROUP, local + timedelta(hours=6, minutes=2), user=BOB, text="\u00a0Quando volta o login do app"
        )
        reply = self.message(
            GROUP, local + timedelta(hours=6, minutes=6), user=ANA, text="Já voltou", reply_to=volta
        )
        self.message(
            GROUP, local + timedelta(days=2, hours=6, minutes=7), user=BOB, text="valeu!", reply_to=volta
        )
        # Answered across local midnight, a self-reply first (no answer).
        late = self.message(
            GROUP, local + timedelta(hours=23, minutes=55), user=CARLA, text="Alguém acordado?"
        )
        self.message(
            GROUP, local + timedelta(hours=23, minutes=56), user=CARLA, text="ninguém", reply_to=late
        )
        self.message(
            GROUP, local + timedelta(days=1, minutes=3), user=HELPER, text="Estou aqui", reply_to=late
        )
        # The old group (Asia/Kolkata): asked at 23:50 there, answered at 00:10, thanked at 00:15.
        kolkata = CHAT_ZONES[OLD_GROUP["id"]]
        there = datetime(local.year, local.month, local.day, 23, 50, tzinfo=kolkata)
        asked = self.message(OLD_GROUP, there, user=CARLA, text="Alguém sabe o horário do suporte?")
        answered = self.message(
            OLD_GROUP, there + timedelta(minutes=20), user=ANA, text="Das 9h às 18h", reply_to=asked
        )
        self.message(OLD_GROUP, there + timedelta(minutes=25), user=CARLA, text="valeu 🙌", reply_to=answered)


def build_corpus() -> Corpus:
    corpus = Corpus()
    for index, day in enumerate(DAYS):
        if index == 0:
            corpus.old_group(day)
        corpus.membership(day)
        corpus.day(day, busy=70 if index != 1 else 90)
    for day in LATER_DAYS:
        corpus.later_day(day)
    # Telegram saw no 2xx for this update before local midnight and redelivered it: it was stored
    # under both days of receipt.
    redelivered = next(s for s in corpus.updates if s.text == "até amanhã" and s.day == DAYS[0])
    redelivered.receipt_days.append(DAYS[1])
    corpus.settle_reactions()
    return corpus


def write_raw(corpus: Corpus, raw: Path) -> list[date]:
    """The raw lake as the webhook writes it: context_date=D/{update_id}.json, bytes as received."""
    days: set[date] = set()
    objects = [(day, s.update_id, s.body) for s in corpus.updates for day in s.receipt_days]
    for day, update_id, body in [*objects, *corpus.others]:
        folder = raw / f"context_date={day.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{update_id}.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        days.add(day)
    return sorted(days)


# --- the independent computation ------------------------------------------------------------------


def _new_messages(corpus: Corpus) -> list[Sent]:
    return [s for s in corpus.updates if s.is_new_message]


def expected_daily_messages(corpus: Corpus) -> dict[tuple[int, date], tuple[int, ...]]:
    rows: dict[tuple[int, date], list[Any]] = defaultdict(lambda: [0, set(), 0, 0, 0, 0])
    for s in _new_messages(corpus):
        row = rows[(s.chat["id"], s.day)]
        row[0] += 1
        if s.user is not None:
            row[1].add(s.user["id"])
        row[2] += s.message_type == "text"
        row[3] += s.message_type != "text"
        row[4] += s.forwarded
    for s in corpus.updates:
        if s.edited is not None:
            rows[(s.chat["id"], s.edited.astimezone(s.zone).date())][5] += 1
    return {key: (r[0], len(r[1]), r[2], r[3], r[4], r[5]) for key, r in rows.items()}


def expected_user_daily_activity(corpus: Corpus) -> dict[tuple[int, date, int], tuple[Any, ...]]:
    by_key: dict[tuple[int, date, int], list[Sent]] = defaultdict(list)
    for s in _new_messages(corpus):
        if s.user is not None:
            by_key[(s.chat["id"], s.day, s.user["id"])].append(s)
    expected = {}
    for key, sent in by_key.items():
        texts = [len(s.text) for s in sent if s.message_type == "text" and s.text is not None]
        last = max(sent, key=lambda s: s.sent)
        expected[key] = (
            last.user["first_name"] if last.user else None,
            last.user.get("username") if last.user else None,  # a username cleared on it: None
            any(s.user["is_bot"] for s in sent if s.user),
            len(sent),
            len(texts),
            statistics.fmean(texts) if texts else None,
        )
    return expected


def expected_daily_message_length(corpus: Corpus) -> dict[tuple[int, date], tuple[Any, ...]]:
    lengths: dict[tuple[int, date], list[int]] = defaultdict(list)
    for s in _new_messages(corpus):
        if s.message_type == "text" and s.text is not None:
            lengths[(s.chat["id"], s.day)].append(len(s.text))
    return {k: (len(v), statistics.fmean(v), min(v), max(v)) for k, v in lengths.items()}


def expected_hourly_activity(corpus: Corpus) -> dict[tuple[int, int, int], tuple[int, int, int]]:
    cells: dict[tuple[int, int, int], list[Any]] = defaultdict(lambda: [0, set(), set()])
    for s in _new_messages(corpus):
        local = s.sent.astimezone(s.zone)
        cell = cells[(s.chat["id"], local.isoweekday(), local.hour)]
        cell[0] += 1
        if s.user is not None:
            cell[1].add(s.user["id"])
        cell[2].add(local.date())
    return {k: (v[0], len(v[1]), len(v[2])) for k, v in cells.items()}


def expected_message_types(corpus: Corpus) -> dict[tuple[int, date, str], tuple[int, int]]:
    groups: dict[tuple[int, date, str], list[Sent]] = defaultdict(list)
    for s in _new_messages(corpus):
        groups[(s.chat["id"], s.day, s.message_type)].append(s)
    return {k: (len(v), len({s.user["id"] for s in v if s.user})) for k, v in groups.items()}


def expected_bot_commands(corpus: Corpus) -> dict[tuple[int, date, str], tuple[int, int]]:
    groups: dict[tuple[int, date, str], list[Sent]] = defaultdict(list)
    for s in _new_messages(corpus):
        if s.command is not None:
            groups[(s.chat["id"], s.day, s.command)].append(s)
    return {k: (len(v), len({s.user["id"] for s in v if s.user})) for k, v in groups.items()}


def expected_member_changes(corpus: Corpus) -> dict[tuple[int, date], tuple[int, int, int]]:
    """Distinct members who joined and who left per chat and local day (two joins of one person, one)."""
    changes: dict[tuple[int, date], tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
    for s in corpus.updates:
        if s.kind == "message" and s.message_type == "service" and (s.joined or s.left_id):
            joined, left = changes[(s.chat["id"], s.day)]
            joined.update(m["id"] for m in s.message.get("new_chat_members", []))
            if s.left_id is not None:
                left.add(s.left_id)
    for chat, user, at, _, what in corpus.member_log:  # chat_member updates: joins, leaves and bans
        if what in ("joined", "left", "banned"):
            changes[(chat, at.astimezone(zone_of(chat)).date())][0 if what == "joined" else 1].add(user["id"])
    return {k: (len(j), len(left), len(j) - len(left)) for k, (j, left) in changes.items()}


def expected_reply_times(corpus: Corpus) -> dict[tuple[int, date], tuple[Any, ...]]:
    messages = _new_messages(corpus)

    def sender(s: Sent) -> int | None:
        return s.user["id"] if s.user else s.sender_chat_id

    first_reply: dict[tuple[int, int], datetime] = {}
    for reply in messages:
        if reply.reply_to is None:
            continue
        key = (reply.chat["id"], reply.reply_to)
        original = next((m for m in messages if (m.chat["id"], m.message_id) == key), None)
        if original is None or sender(original) == sender(reply):
            continue
        first_reply[key] = min(first_reply.get(key, reply.sent), reply.sent)
    days: dict[tuple[int, date], list[float | None]] = defaultdict(list)
    for m in messages:
        at = first_reply.get((m.chat["id"], m.message_id))
        days[(m.chat["id"], m.day)].append(None if at is None else (at - m.sent).total_seconds() / 60)
    expected = {}
    for key, latencies in days.items():
        replied = [x for x in latencies if x is not None]
        expected[key] = (
            len(latencies),
            len(replied),
            len(replied) / len(latencies),
            statistics.median(replied) if replied else None,
            statistics.fmean(replied) if replied else None,
        )
    return expected


def expected_chats(corpus: Corpus) -> dict[int, tuple[Any, ...]]:
    expected = {}
    for chat in (GROUP, CHANNEL, OLD_GROUP):
        rows = [s for s in corpus.updates if s.chat["id"] == chat["id"]]
        new = [s for s in rows if s.is_new_message]
        latest = max(rows, key=lambda s: (s.sent, s.update_id))
        expected[chat["id"]] = (
            latest.body[latest.kind]["chat"].get("title"),
            chat["type"],
            min(s.day for s in new),
            max(s.day for s in new),
            len(new),
            len({s.user["id"] for s in new if s.user}),
        )
    return expected


def _stop_words() -> set[str]:
    with (DBT_PROJECT / "seeds" / "stop_words.csv").open(encoding="utf-8") as handle:
        return {row["word"] for row in csv.DictReader(handle)}


# White space as the models read it on both engines, [\s\p{Z}]: RE2's \s (tab, newline, form feed,
# carriage return, space) and every Unicode separator (Zs, Zl, Zp), written out.
_SPACE = "\t\n\f\r\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_NOISE = re.compile(f"(https?://|www\\.)[^{_SPACE}]+|(^|[{_SPACE}])[@/][^{_SPACE}]+")
_WORD = re.compile(r"[^\W_]+")  # letters and digits, as [\p{L}\p{N}]+


def expected_top_terms(
    corpus: Corpus, per_day: int = 25, min_length: int = 3
) -> dict[tuple[int, date], list]:
    stop = _stop_words()
    counts: dict[tuple[int, date], dict[str, list[Any]]] = defaultdict(dict)
    for s in _new_messages(corpus):
        if s.text is None and s.caption is None:
            continue
        body = _NOISE.sub(" ", f"{s.text or ''} {s.caption or ''}".lower())
        for term in _WORD.findall(body):
            if term in stop or len(term) < min_length or re.fullmatch("[0-9]+", term):
                continue
            entry = counts[(s.chat["id"], s.day)].setdefault(term, [0, set(), set()])
            entry[0] += 1
            entry[1].add(s.update_id)
            entry[2].add(s.user["id"] if s.user else None)
    expected = {}
    for key, terms in counts.items():
        ranked = sorted(terms.items(), key=lambda item: (-item[1][0], -len(item[1][1]), item[0]))
        expected[key] = [
            (rank, term, uses, len(updates), len(users - {None}))
            for rank, (term, (uses, updates, users)) in enumerate(ranked[:per_day], start=1)
        ]
    return expected


# --- the independent computation: engagement ------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    """An aware instant as the marts give it: a naive UTC timestamp."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _people_messages(corpus: Corpus) -> list[Sent]:
    """New messages sent by people (not bots, not channel posts)."""
    return [s for s in _new_messages(corpus) if s.user is not None and not s.user["is_bot"]]


def _chat_days(corpus: Corpus) -> dict[int, tuple[date, date]]:
    """Each chat's first and last local day with a new message (any sender)."""
    days: dict[int, list[date]] = defaultdict(list)
    for s in _new_messages(corpus):
        days[s.chat["id"]].append(s.day)
    return {chat: (min(d), max(d)) for chat, d in days.items()}


def expected_active_users(corpus: Corpus) -> dict[tuple[int, date], tuple[int, int, int, int]]:
    active: dict[int, dict[date, set[int]]] = defaultdict(lambda: defaultdict(set))
    first: dict[tuple[int, int], date] = {}
    for s in _people_messages(corpus):
        active[s.chat["id"]][s.day].add(s.user["id"])
        key = (s.chat["id"], s.user["id"])
        first[key] = min(first.get(key, s.day), s.day)
    expected = {}
    for chat, (start, end) in _chat_days(corpus).items():
        day = start
        while day <= end:

            def within(n: int, chat: int = chat, day: date = day) -> int:
                window = [day - timedelta(days=k) for k in range(n)]
                return len(set().union(*(active[chat][d] for d in window)))

            new = sum(1 for (c, _), d in first.items() if c == chat and d == day)
            expected[(chat, day)] = (within(1), within(7), within(30), new)
            day += timedelta(days=1)
    return expected


def expected_retention_cohorts(corpus: Corpus) -> dict[tuple[int, date, int], tuple[date, int, int]]:
    def monday(day: date) -> date:
        return day - timedelta(days=day.weekday())

    weeks: dict[tuple[int, int], set[date]] = defaultdict(set)
    for s in _people_messages(corpus):
        weeks[(s.chat["id"], s.user["id"])].add(monday(s.day))
    cohorts: dict[tuple[int, date], set[int]] = defaultdict(set)
    for (chat, user), active in weeks.items():
        cohorts[(chat, min(active))].add(user)
    last_week = {chat: monday(end) for chat, (_, end) in _chat_days(corpus).items()}
    expected = {}
    for (chat, cohort), users in cohorts.items():
        week, since = cohort, 0
        while week <= last_week[chat]:
            back = {u for u in users if week in weeks[(chat, u)]}
            expected[(chat, cohort, since)] = (week, len(users), len(back))
            week, since = week + timedelta(days=7), since + 1
    return expected


# What each membership change leaves true of the person: in the chat, out of it, or no say.
IN_CHAT_AFTER: dict[str, bool | None] = {
    "joined": True,
    "promoted": True,
    "left": False,
    "banned": False,
    "unbanned": False,  # allowed back, not back in
    "requested": None,
}


def _membership_changes(corpus: Corpus) -> list[tuple[int, dict[str, Any], datetime, int, str]]:
    """Every membership change: the chat_member log and the service messages' joins and leaves."""
    changes = list(corpus.member_log)
    for s in corpus.updates:
        if s.kind == "message" and s.message_type == "service":
            changes += [
                (s.chat["id"], m, s.sent, s.update_id, "joined")
                for m in s.message.get("new_chat_members", [])
            ]
            if s.left_id is not None:
                changes.append((s.chat["id"], s.message["left_chat_member"], s.sent, s.update_id, "left"))
    return changes


def expected_member_roster(corpus: Corpus) -> dict[tuple[int, int], tuple[Any, ...]]:
    changes = _membership_changes(corpus)
    bots = {s.user["id"] for s in corpus.updates if s.user and s.user["is_bot"]}
    bots |= {user["id"] for _, user, *_ in changes if user["is_bot"]}
    seen: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    posted: dict[tuple[int, int], list[Sent]] = defaultdict(list)
    for s in _people_messages(corpus):
        seen[(s.chat["id"], s.user["id"])].append(s.sent)
        posted[(s.chat["id"], s.user["id"])].append(s)
    for chat, user, at, _, _ in changes:
        seen[(chat, user["id"])].append(at)
    added: Counter[tuple[int, int]] = Counter()
    for r in corpus.reacted:
        seen[(r.chat_id, r.user_id)].append(r.at)
        added[(r.chat_id, r.user_id)] += r.delta == 1
    last_day = {chat: end for chat, (_, end) in _chat_days(corpus).items()}
    expected = {}
    for (chat, user_id), moments in seen.items():
        if user_id in bots:
            continue
        mine = sorted(
            (at, update_id, what) for c, u, at, update_id, what in changes if (c, u["id"]) == (chat, user_id)
        )
        joins = [at for at, _, what in mine if what == "joined"]
        joined_at = max(joins) if joins else None
        leaves = [
            at
            for at, _, what in mine
            if what in ("left", "banned") and (joined_at is None or at >= joined_at)
        ]
        says = [IN_CHAT_AFTER[what] for _, _, what in mine if IN_CHAT_AFTER[what] is not None]
        sent = posted.get((chat, user_id), [])
        last = max(sent, key=lambda s: s.sent) if sent else None
        expected[(chat, user_id)] = (
            _utc(min(moments)),
            _utc(joined_at) if joined_at else None,
            _utc(max(leaves)) if leaves else None,
            says[-1] if says else None,
            len(sent),
            added[(chat, user_id)],
            _utc(last.sent) if last else None,
            (last_day[chat] - max(s.day for s in sent)).days if sent else None,
        )
    return expected


def expected_reply_pairs(corpus: Corpus) -> dict[tuple[int, int, int], tuple[int, datetime, datetime]]:
    messages = _people_messages(corpus)
    author = {(s.chat["id"], s.message_id): s.user["id"] for s in messages}
    pairs: dict[tuple[int, int, int], list[datetime]] = defaultdict(list)
    for s in messages:
        replied_to = author.get((s.chat["id"], s.reply_to)) if s.reply_to is not None else None
        if replied_to is not None and replied_to != s.user["id"]:
            pairs[(s.chat["id"], s.user["id"], replied_to)].append(_utc(s.sent))
    return {k: (len(v), min(v), max(v)) for k, v in pairs.items()}


def expected_daily_reactions(corpus: Corpus) -> dict[tuple[int, date, str], tuple[int, int, int]]:
    cells: dict[tuple[int, date, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in corpus.reacted:
        cells[(r.chat_id, r.at.astimezone(zone_of(r.chat_id)).date(), r.emoji)][0 if r.delta == 1 else 1] += 1
    return {k: (a, r, a - r) for k, (a, r) in cells.items()}


# --- the independent computation: questions and messages ------------------------------------------


def _seed_rows(name: str) -> list[dict[str, str]]:
    with (DBT_PROJECT / "seeds" / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _words(text: str | None) -> list[str]:
    return _WORD.findall(text.lower()) if text else []


def _sender(s: Sent) -> int | None:
    return s.user["id"] if s.user else s.sender_chat_id


def is_question(s: Sent, question_words: set[str]) -> bool:
    """A new text message from a person: a question mark (ASCII, fullwidth or inverted), or a first
    word (letters and digits) that asks."""
    if not s.is_new_message or s.message_type != "text" or s.text is None:
        return False
    if s.user is None or s.user["is_bot"]:
        return False
    words = _words(s.text)
    return any(mark in s.text for mark in "?？¿") or (bool(words) and words[0] in question_words)


def expected_messages(corpus: Corpus) -> dict[tuple[int, int], tuple[Any, ...]]:
    """messages: (chat, message) -> date, current text, edits, replies from others, net reactions,
    is_question, forum topic name."""
    question_words = {r["word"] for r in _seed_rows("question_words")}
    new = _new_messages(corpus)
    edits: dict[tuple[int, int], list[Sent]] = defaultdict(list)
    topics: dict[tuple[int, int], tuple[datetime, int, str]] = {}
    for s in corpus.updates:
        if s.kind.startswith("edited_"):
            edits[(s.chat["id"], s.message_id)].append(s)
        for field in ("forum_topic_created", "forum_topic_edited"):
            if s.kind == "message" and field in s.message and "name" in s.message[field]:
                thread = s.message_id if field == "forum_topic_created" else s.message["message_thread_id"]
                named = (s.sent, s.update_id, s.message[field]["name"])
                topics[(s.chat["id"], thread)] = max(topics.get((s.chat["id"], thread), named), named)
    senders = {(s.chat["id"], s.message_id): _sender(s) for s in new}
    replies: Counter[tuple[int, int]] = Counter()
    for s in new:
        key = (s.chat["id"], s.reply_to) if s.reply_to is not None else None
        if key in senders and senders[key] != _sender(s):
            replies[key] += 1
    # Per reaction: the net of people's changes; else the latest anonymous total, if any.
    net: dict[tuple[int, int, str], int] = {}
    for c in sorted(corpus.counted, key=lambda c: c.at):  # the latest last
        net[(c.chat_id, c.message_id, c.emoji)] = c.count
    changed: Counter[tuple[int, int, str]] = Counter()
    for r in corpus.reacted:
        changed[(r.chat_id, r.message_id, r.emoji)] += r.delta
    net.update(changed)
    reactions: Counter[tuple[int, int]] = Counter()
    for (chat_id, message_id, _), count in net.items():
        reactions[(chat_id, message_id)] += max(count, 0)
    expected = {}
    for s in new:
        key = (s.chat["id"], s.message_id)
        latest = max(edits[key], key=lambda e: (e.edited, e.update_id)) if edits[key] else None
        topic = topics.get((s.chat["id"], s.message.get("message_thread_id")))
        expected[key] = (
            s.day,
            latest.text if latest else s.text,
            len(edits[key]),
            replies[key],
            reactions[key],
            is_question(s, question_words),
            topic[2] if topic else None,
        )
    return expected


def expected_questions(corpus: Corpus) -> dict[tuple[int, int], tuple[Any, ...]]:
    """questions: (chat, message) -> asker, asked_at, asked_date, topic, first answer (id, user, is_bot,
    at), minutes, answers, resolved_at, resolved_by, status."""
    question_words = {r["word"] for r in _seed_rows("question_words")}
    resolution_words = {r["word"] for r in _seed_rows("resolution_words")}
    positive = {r["reaction"] for r in _seed_rows("positive_reactions")}
    keywords = sorted(_seed_rows("question_topic_keywords"), key=lambda r: int(r["priority"]))
    window = timedelta(hours=48)
    new = _new_messages(corpus)
    replies: dict[tuple[int, int], list[Sent]] = defaultdict(list)
    for s in new:
        if s.reply_to is not None:
            replies[(s.chat["id"], s.reply_to)].append(s)
    expected = {}
    for q in new:
        if not is_question(q, question_words):
            continue
        chat_id, asker = q.chat["id"], q.user["id"] if q.user else None
        answers = sorted(
            (r for r in replies[(chat_id, q.message_id)] if _sender(r) != asker),
            key=lambda r: (r.sent, r.message_id),
        )
        first = answers[0] if answers else None
        by_reaction = by_message = None
        if first is not None:
            answer_ids = {a.message_id for a in answers}
            by_reaction = min(
                (
                    r.at
                    for r in corpus.reacted
                    if (r.chat_id, r.user_id, r.delta) == (chat_id, asker, 1)
                    and r.message_id in answer_ids
                    and r.emoji in positive
                    and r.at >= first.sent
                ),
                default=None,
            )
            later = sorted(
                (
                    m
                    for m in new
                    if m.chat["id"] == chat_id
                    and m.user is not None
                    and m.user["id"] == asker
                    and first.sent < m.sent <= first.sent + window
                ),
                key=lambda m: (m.sent, m.message_id),
            )
            by_message = min(
                (
                    m.sent
                    for index, m in enumerate(later)
                    if (index == 0 or m.reply_to == q.message_id or m.reply_to in answer_ids)
                    and resolution_words & set(_words(m.text))
                ),
                default=None,
            )
        if by_reaction is not None and (by_message is None or by_reaction <= by_message):
            resolved_at, resolved_by = by_reaction, "reaction"
        else:
            resolved_at, resolved_by = by_message, "message" if by_message is not None else None
        words = set(_words(q.text))
        topic = next((k["topic"] for k in keywords if k["keyword"] in words), "other")
        status = "resolved" if resolved_at else "answered" if first else "unanswered"
        expected[(chat_id, q.message_id)] = (
            asker,
            _utc(q.sent),
            q.day,
            q.text,
            topic,
            first.message_id if first else None,
            (first.user["id"] if first.user else None) if first else None,
            (bool(first.user and first.user["is_bot"])) if first else None,
            _utc(first.sent) if first else None,
            (first.sent - q.sent).total_seconds() / 60 if first else None,
            len(answers),
            _utc(resolved_at) if resolved_at else None,
            resolved_by,
            status,
        )
    return expected


def expected_daily_questions(corpus: Corpus) -> dict[tuple[int, date], tuple[Any, ...]]:
    days: dict[tuple[int, date], list[tuple[Any, ...]]] = defaultdict(list)
    for (chat_id, _), row in expected_questions(corpus).items():
        days[(chat_id, row[2])].append(row)
    expected = {}
    for key, rows in days.items():
        answered = [r for r in rows if r[13] != "unanswered"]
        resolved = [r for r in rows if r[13] == "resolved"]
        minutes = [r[9] for r in answered]
        expected[key] = (
            len(rows),
            len(answered),
            len(resolved),
            len(rows) - len(answered),
            sum(1 for r in answered if r[7]),
            sum(1 for r in answered if not r[7]),
            statistics.median(minutes) if minutes else None,
            len(answered) / len(rows),
            len(resolved) / len(rows),
        )
    return expected


def expected_question_topics(corpus: Corpus) -> dict[tuple[int, date, str], tuple[int, int, int, int]]:
    cells: Counter[tuple[int, date, str, str]] = Counter()
    for (chat_id, _), row in expected_questions(corpus).items():
        cells[(chat_id, row[2], row[4], row[13])] += 1
    expected: dict[tuple[int, date, str], tuple[int, int, int, int]] = {}
    for chat_id, day, topic in {k[:3] for k in cells}:
        resolved, answered, unanswered = (
            cells[(chat_id, day, topic, s)] for s in ("resolved", "answered", "unanswered")
        )
        expected[(chat_id, day, topic)] = (
            resolved + answered + unanswered,
            resolved + answered,
            resolved,
            unanswered,
        )
    return expected


# --- running the pipeline -------------------------------------------------------------------------


@dataclass
class Built:
    corpus: Corpus
    work: Path
    duckdb_path: Path
    dbt_output: str
    project: Path = DBT_PROJECT

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        import duckdb

        with duckdb.connect(str(self.duckdb_path), read_only=True) as connection:
            return connection.execute(sql).fetchall()


def pipeline_env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TGPIPE_", "DBT_"))}
    env.update(
        {
            "TGPIPE_RAW_URI": str(work / "raw"),
            "TGPIPE_ENRICHED_URI": str(work / "enriched"),
            "TGPIPE_DUCKDB_PATH": str(work / "tgpipe.duckdb"),
            "TGPIPE_TIMEZONE": TZ_NAME,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    return env


def run_etl(day: date, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`tgpipe etl --date D`, as a user runs it."""
    return subprocess.run(
        [str(BIN / "tgpipe"), "etl", "--date", day.isoformat()],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def run_dbt(
    *args: str, env: dict[str, str], cwd: Path, project: Path = DBT_PROJECT
) -> subprocess.CompletedProcess[str]:
    """dbt as the README runs it, from an unrelated working directory."""
    command = [str(BIN / "dbt"), *args, "--project-dir", str(project), "--profiles-dir", str(project)]
    command += ["--target-path", str(cwd / "target"), "--log-path", str(cwd / "logs")]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False, timeout=600)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Raw updates -> `tgpipe etl` for every day -> `dbt build` on DuckDB, once for the session."""
    work = tmp_path_factory.mktemp("dbt_marts")
    corpus = build_corpus()
    days = write_raw(corpus, work / "raw")
    env = pipeline_env(work)
    for day in days:
        etl = run_etl(day, env, work)
        assert etl.returncode == 0, (
            f"tgpipe etl --date {day} exited {etl.returncode}:\n{etl.stdout}\n{etl.stderr}"
        )
    project = copy_project_with_chat_settings(work / "dbt_project")
    build = run_dbt("build", env=env, cwd=work, project=project)
    assert build.returncode == 0, f"dbt build failed:\n{build.stdout[-6000:]}\n{build.stderr[-2000:]}"
    return Built(corpus, work, work / "tgpipe.duckdb", build.stdout, project)


def copy_project_with_chat_settings(project: Path) -> Path:
    """The dbt project as a user has it after editing seeds/chat_settings.csv: the old group in its
    own zone (CHAT_ZONES), every other chat in TGPIPE_TIMEZONE."""
    shutil.copytree(DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    rows = "".join(f"{chat_id},{zone.key}\n" for chat_id, zone in CHAT_ZONES.items())
    (project / "seeds" / "chat_settings.csv").write_text("chat_id,timezone\n" + rows, encoding="utf-8")
    return project


# --- the tests ------------------------------------------------------------------------------------


def test_corpus_covers_the_tricky_cases() -> None:
    """The corpus holds every case the marts must get right, so the comparisons below mean something."""
    corpus = build_corpus()
    sent = corpus.updates
    kinds = Counter(s.kind for s in sent)
    assert set(kinds) == {"message", "edited_message", "channel_post", "edited_channel_post"}
    assert {s.message_type for s in sent} >= {"text", "service", *MEDIA}
    assert any(len(s.receipt_days) == 2 for s in sent), "a redelivery stored under two days"
    assert any(s.sent.astimezone(s.zone).hour >= 21 for s in sent if s.is_new_message), (
        "late local = next UTC day"
    )
    assert any(s.edited and s.edited.astimezone(s.zone).date() != s.day for s in sent), (
        "an edit after midnight"
    )
    assert {s.command for s in sent} >= {"/help", "/boleto", "/start"}
    assert len({s.chat["id"] for s in sent}) == 3
    assert corpus.others, "updates without a Message"
    # Engagement: reactions added and taken back, joins, leaves and a ban, replies, several weeks.
    assert {r.delta for r in corpus.reacted} == {1, -1}
    held: Counter[tuple[int, int, int, str]] = Counter()
    for r in sorted(corpus.reacted, key=lambda r: r.at):  # each person gives a reaction once at most
        held[(r.chat_id, r.message_id, r.user_id, r.emoji)] += r.delta
        assert held[(r.chat_id, r.message_id, r.user_id, r.emoji)] in (0, 1), r
    assert corpus.counted, "an anonymous snapshot"
    assert any(body.get("message_reaction_count") for _, _, body in corpus.others)
    assert {what for *_, what in corpus.member_log} == {
        "joined",
        "left",
        "banned",
        "unbanned",
        "promoted",
        "requested",
    }
    assert len(expected_reply_pairs(corpus)) >= 5
    assert any(s.reply_to is not None and s.user is not None for s in sent)
    assert max(k[2] for k in expected_retention_cohorts(corpus)) >= 2, "retention reaches weeks_since 2"
    assert any(s.text in EDGE_TEXTS for s in sent)


def _materialization(path: Path) -> str:
    """A model's materialization as its file or folder sets it (dbt_project.yml: marts are tables,
    staging and intermediate views, unless the model's own config says otherwise)."""
    sql = path.read_text(encoding="utf-8")
    if "tgpipe.incremental_by_partition(" in sql:
        return "incremental model"
    if "materialized='table'" in sql or "marts" in path.parts:
        return "table model"
    return "view model"


def _project_nodes() -> dict[str, int]:
    """What the project holds, counted from its files: seeds, models by materialization, unit tests."""
    import yaml

    models = DBT_PROJECT / "models"
    unit_tests = sum(
        len((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("unit_tests", []))
        for path in models.rglob("*.yml")
    )
    return {
        "seed": len(list((DBT_PROJECT / "seeds").glob("*.csv"))),
        **Counter(_materialization(path) for path in models.rglob("*.sql")),
        "unit test": unit_tests,
    }


def test_dbt_build_runs_every_model_test_and_unit_test(built: Built) -> None:
    """`dbt build` builds every seed, view and table of the project and passes every data and unit test."""
    tail = built.dbt_output.strip().splitlines()[-1]
    match = re.search(r"PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)", tail)
    assert match, tail
    passed, warned, errored, skipped = map(int, match.groups())
    assert (warned, errored, skipped) == (0, 0, 0)
    finished = next(line for line in built.dbt_output.splitlines() if "Finished running" in line)
    ran = {
        kind: int(n)
        for n, kind in re.findall(
            r"(\d+) (seed|table model|view model|incremental model|data test|unit test)s?\b", finished
        )
    }
    data_tests = ran.pop("data test")
    assert ran == _project_nodes()
    assert ran == {"seed": 6, "incremental model": 5, "table model": 20, "view model": 1, "unit test": 27}
    assert data_tests > 150
    assert passed == sum(ran.values()) + data_tests, finished


def test_staging_has_one_row_per_update_carrying_a_message(built: Built) -> None:
    """Staging keeps each update once (the redelivery stored under two days included), skips other updates."""
    rows = built.rows(
        "select update_id, update_kind, message_date, received_date from stg_telegram__messages"
    )
    want = {s.update_id: (s.kind, s.day, s.receipt_days[0]) for s in built.corpus.updates}
    assert {r[0]: (r[1], r[2], r[3]) for r in rows} == want
    assert len(rows) == len(want)


def test_daily_messages(built: Built) -> None:
    """daily_messages: per chat and local day, messages (no edits, no service), senders, text/media, edits."""
    rows = built.rows(
        "select chat_id, message_date, messages, active_users, text_messages, media_messages, "
        "forwarded_messages, edits from daily_messages"
    )
    assert {(r[0], r[1]): r[2:] for r in rows} == expected_daily_messages(built.corpus)
    assert len(rows) == len(expected_daily_messages(built.corpus))


def test_user_daily_activity(built: Built) -> None:
    """user_daily_activity: per chat, day and sender: latest first name, bot flag, counts, mean length."""
    rows = built.rows(
        "select chat_id, message_date, user_id, first_name, username, is_bot, messages, text_messages, "
        "avg_text_length from user_daily_activity"
    )
    got = {(r[0], r[1], r[2]): r[3:] for r in rows}
    want = expected_user_daily_activity(built.corpus)
    assert got.keys() == want.keys()
    for key, (name, username, is_bot, messages, texts, avg_length) in want.items():
        assert got[key][:5] == (name, username, is_bot, messages, texts), key
        assert got[key][5] == (pytest.approx(avg_length) if avg_length is not None else None), key
    ana_cleared = (GROUP["id"], LATER_DAYS[0], ANA["id"])
    assert got[ana_cleared][:2] == ("Ana", None), "the username cleared on the day's last message"
    assert ("Roberto", False) in {
        (v[0], v[2]) for k, v in got.items() if k[2] == BOB["id"] and k[1] >= DAYS[1]
    }


def test_daily_message_length(built: Built) -> None:
    """daily_message_length: count, mean, min and max of text lengths in code points, per chat and day."""
    rows = built.rows(
        "select chat_id, message_date, text_messages, avg_length, min_length, max_length "
        "from daily_message_length"
    )
    got = {(r[0], r[1]): r[2:] for r in rows}
    want = expected_daily_message_length(built.corpus)
    assert got.keys() == want.keys()
    for key, (count, mean, shortest, longest) in want.items():
        assert got[key] == (count, pytest.approx(mean), shortest, longest), key


def test_hourly_activity(built: Built) -> None:
    """hourly_activity: per chat, local ISO weekday and local hour, messages, senders and days."""
    rows = built.rows(
        "select chat_id, day_of_week, hour_of_day, messages, active_users, active_days from hourly_activity"
    )
    assert {(r[0], r[1], r[2]): r[3:] for r in rows} == expected_hourly_activity(built.corpus)
    names = dict(built.rows("select distinct day_of_week, day_name from hourly_activity"))
    assert names == {
        1: "Monday",
        2: "Tuesday",
        3: "Wednesday",
        4: "Thursday",
        5: "Friday",
        6: "Saturday",
        7: "Sunday",
    }


def test_message_types(built: Built) -> None:
    """message_types: per chat, day and type: messages and senders (animation beats document)."""
    rows = built.rows("select chat_id, message_date, message_type, messages, users from message_types")
    assert {(r[0], r[1], r[2]): r[3:] for r in rows} == expected_message_types(built.corpus)


def test_bot_commands(built: Built) -> None:
    """bot_commands: per chat, day and normalised command (lower-case, no @botname), uses and users."""
    rows = built.rows("select chat_id, message_date, bot_command, uses, users from bot_commands")
    assert {(r[0], r[1], r[2]): r[3:] for r in rows} == expected_bot_commands(built.corpus)


def test_reply_times(built: Built) -> None:
    """reply_times: per chat and day, replied messages and minutes to the first reply from someone else."""
    rows = built.rows(
        "select chat_id, message_date, messages, replied_messages, reply_rate, "
        "median_minutes_to_first_reply, avg_minutes_to_first_reply from reply_times"
    )
    got = {(r[0], r[1]): r[2:] for r in rows}
    want = expected_reply_times(built.corpus)
    assert got.keys() == want.keys()
    for key, (messages, replied, rate, median, mean) in want.items():
        approx = [pytest.approx(x) if x is not None else None for x in (rate, median, mean)]
        assert got[key] == (messages, replied, *approx), key
    assert any(v[1] for v in want.values()), "the corpus has replied messages"


def test_member_changes(built: Built) -> None:
    """member_changes: per chat and day, members joined (two in one message counts two) and left."""
    rows = built.rows(
        "select chat_id, message_date, joined_members, left_members, net_change from member_changes"
    )
    assert {(r[0], r[1]): r[2:] for r in rows} == expected_member_changes(built.corpus)


def test_chats(built: Built) -> None:
    """chats: one row per chat with its latest title and type, first and last message day and totals."""
    rows = built.rows(
        "select chat_id, chat_title, chat_type, first_message_date, last_message_date, messages, users "
        "from chats"
    )
    assert {r[0]: r[1:] for r in rows} == expected_chats(built.corpus)
    assert expected_chats(built.corpus)[GROUP["id"]][0] == NEW_GROUP_TITLE


def test_top_terms(built: Built) -> None:
    """top_terms: per chat and day, the 25 most used words, without stop words, links, mentions, commands."""
    rows = built.rows(
        "select chat_id, message_date, term_rank, term, uses, messages, users from top_terms "
        "order by chat_id, message_date, term_rank"
    )
    got: dict[tuple[int, date], list] = defaultdict(list)
    for r in rows:
        got[(r[0], r[1])].append(tuple(r[2:]))
    want = expected_top_terms(built.corpus)
    assert dict(got) == want
    assert "boleto" in {t[1] for terms in want.values() for t in terms}


def test_marts_are_per_chat_with_contract_types(built: Built) -> None:
    """Every mart has chat_id (BIGINT); message_date is DATE, user_id BIGINT, and no column is HUGEINT."""
    marts = [
        "chats",
        "daily_messages",
        "user_daily_activity",
        "daily_message_length",
        "hourly_activity",
        "message_types",
        "bot_commands",
        "top_terms",
        "reply_times",
        "member_changes",
        # engagement
        "active_users",
        "retention_cohorts",
        "member_roster",
        "reply_pairs",
        "daily_reactions",
        # questions
        "messages",
        "questions",
        "daily_questions",
        "question_topics",
    ]
    types = built.rows("select table_name, column_name, data_type from information_schema.columns")
    by_table: dict[str, dict[str, str]] = defaultdict(dict)
    for table, column, data_type in types:
        by_table[table][column] = data_type
    # What BI drivers read (timestamps are naive UTC; Athena's are milliseconds, the corpus's whole seconds).
    portable = {"BIGINT", "INTEGER", "DOUBLE", "VARCHAR", "DATE", "BOOLEAN", "TIMESTAMP"}
    for mart in marts:
        assert set(by_table[mart].values()) <= portable, (mart, by_table[mart])
        assert by_table[mart]["chat_id"] == "BIGINT", mart
        assert by_table[mart].get("message_date", "DATE") == "DATE", mart
        assert by_table[mart].get("user_id", "BIGINT") == "BIGINT", mart


def test_docs_generate_offline(built: Built) -> None:
    """`dbt docs generate` works offline on the local target and documents every mart column."""
    result = run_dbt("docs", "generate", env=pipeline_env(built.work), cwd=built.work, project=built.project)
    assert result.returncode == 0, result.stdout[-3000:]
    catalog = json.loads((built.work / "target" / "catalog.json").read_text(encoding="utf-8"))
    manifest = json.loads((built.work / "target" / "manifest.json").read_text(encoding="utf-8"))
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert sorted(models) == sorted(
        [
            *(p.stem for p in (DBT_PROJECT / "models" / "marts").rglob("*.sql")),
            "int_incremental_state",
            "int_people_messages",
            "stg_telegram__member_events",
            "stg_telegram__message_entities",
            "stg_telegram__messages",
            "stg_telegram__partitions",
            "stg_telegram__reactions",
        ]
    )
    for name, node in models.items():
        assert "One row per" in node["description"], name
        columns = catalog["nodes"][node["unique_id"]]["columns"]
        undocumented = {c.lower() for c in columns} - {
            c for c, v in node["columns"].items() if v["description"]
        }
        assert not undocumented, (name, undocumented)


# --- the engagement marts -------------------------------------------------------------------------


def test_active_users(built: Built) -> None:
    """active_users: every day of each chat's span, quiet days included: dau, wau (7 days), mau (30), new."""
    rows = built.rows("select chat_id, message_date, dau, wau, mau, new_users from active_users")
    got = {(r[0], r[1]): r[2:] for r in rows}
    want = expected_active_users(built.corpus)
    assert got == want
    assert len(rows) == len(want)
    group = {k[1]: v for k, v in want.items() if k[0] == GROUP["id"]}
    assert group[date(2026, 3, 13)][0] == 0, "a quiet day (Friday)"
    assert group[LATER_DAYS[-1]][2] < group[date(2026, 3, 24)][2], "the 30-day window let March 9-11 go"


def test_retention_cohorts(built: Built) -> None:
    """retention_cohorts: per chat and Monday cohort week, the cohort's size and who came back each week."""
    rows = built.rows(
        "select chat_id, cohort_week, weeks_since, activity_week, cohort_users, active_users "
        "from retention_cohorts"
    )
    got = {(r[0], r[1], r[2]): r[3:] for r in rows}
    assert got == expected_retention_cohorts(built.corpus)
    assert len(rows) == len(got)
    assert {k[1].isoweekday() for k in got} == {1}
    assert (GROUP["id"], date(2026, 3, 16), 0) in got, "Hugo and Davi start a cohort in the second week"


def test_member_roster(built: Built) -> None:
    """member_roster: every person seen (posted, joined, left, reacted), their membership and activity."""
    rows = built.rows(
        "select chat_id, user_id, first_seen_at, joined_at, left_at, is_member, messages, reactions_given, "
        "last_message_at, days_silent from member_roster"
    )
    got = {(r[0], r[1]): r[2:] for r in rows}
    want = expected_member_roster(built.corpus)
    assert got == want
    assert len(rows) == len(want)
    members = {user: v[3] for (chat, user), v in want.items() if chat == GROUP["id"]}
    assert members[HUGO["id"]] is True, "left, then came back"
    assert members[SPAMMER["id"]] is False, "banned, then unbanned: allowed back, not in"
    assert members[IVO["id"]] is None, "a join request only"
    assert members[CARLA["id"]] is False
    assert members[BOB["id"]] is True, "promoted"
    assert not {NEW_BOT["id"], HELPER["id"]} & members.keys(), "bots are not people"
    gabi = want[(GROUP["id"], GABI["id"])]
    assert (gabi[4], gabi[5], gabi[7]) == (1, 1, (LATER_DAYS[-1] - DAYS[0]).days), "the silent member"


def test_reply_pairs(built: Built) -> None:
    """reply_pairs: per chat, replier and replied-to person (never the same), replies, first and last."""
    rows = built.rows(
        "select chat_id, replier_user_id, replied_to_user_id, replies, first_reply_at, last_reply_at "
        "from reply_pairs"
    )
    got = {(r[0], r[1], r[2]): r[3:] for r in rows}
    assert got == expected_reply_pairs(built.corpus)
    assert len(rows) == len(got)
    self_replies = [
        s
        for s in _people_messages(built.corpus)
        if s.reply_to is not None
        and any(
            (m.chat["id"], m.message_id, m.user) == (s.chat["id"], s.reply_to, s.user)
            for m in _people_messages(built.corpus)
        )
    ]
    assert self_replies, "the corpus has self-replies, which make no pair"


def test_daily_reactions(built: Built) -> None:
    """daily_reactions: per chat, local day and reaction, added, taken back, net; snapshots left out."""
    rows = built.rows("select chat_id, message_date, reaction, added, removed, net from daily_reactions")
    got = {(r[0], r[1], r[2]): r[3:] for r in rows}
    assert got == expected_daily_reactions(built.corpus)
    assert len(rows) == len(got)
    assert CHANNEL["id"] not in {k[0] for k in got}, "the channel's anonymous totals are not changes"
    assert any(v[1] for v in got.values())


# --- the messages and questions marts -------------------------------------------------------------


def test_corpus_covers_the_question_cases() -> None:
    """The corpus has every outcome the questions marts must get right, in both zones."""
    corpus = build_corpus()
    questions = expected_questions(corpus)
    rows = list(questions.values())
    assert {r[13] for r in rows} == {"resolved", "answered", "unanswered"}
    assert {r[12] for r in rows} == {"reaction", "message", None}
    assert {r[7] for r in rows} == {True, False, None}, "first answers by a bot and by people"
    assert {r[4] for r in rows} >= {"payments", "access", "delivery", "other"}
    by_text = {r[3]: r for r in rows}
    assert by_text["Como faço para gerar o boleto"][12:] == ("reaction", "resolved")
    assert by_text["Where is the invoice?"][7] is True
    assert by_text["Where is the invoice?"][12:] == ("message", "resolved")
    assert by_text["\tQual o prazo de entrega"][12:] == ("message", "resolved"), "thanks 47h59 later"
    assert by_text["\u00a0Quando volta o login do app"][12:] == (None, "answered"), "thanks 48h01 later"
    assert by_text["¿Alguien sabe la contraseña"][13] == "unanswered"
    assert by_text["🤔？"][4] == "other"
    assert not {"🙏🙏🙏", "Precisa de ajuda?", "Bom dia pessoal"} & set(by_text), "not questions"
    midnight = by_text["Alguém acordado?"]
    assert midnight[2] == DAYS[0], "asked before local midnight"
    assert midnight[8].replace(tzinfo=UTC).astimezone(TZ).date() == DAYS[1], "answered after it"
    kolkata = by_text["Alguém sabe o horário do suporte?"]
    answered_at = kolkata[8].replace(tzinfo=UTC)
    assert kolkata[2] == DAYS[0], "asked at 23:50 in Kolkata"
    assert answered_at.astimezone(CHAT_ZONES[OLD_GROUP["id"]]).date() == DAYS[1], "answered at 00:10 there"
    assert answered_at.astimezone(TZ).date() == DAYS[0], "which is still the first day in TZ"
    assert kolkata[12:] == ("message", "resolved")
    assert len(rows) > 40, "the random traffic asks many more"


def test_messages(built: Built) -> None:
    """messages: one row per new message: local date, current text, edits, replies, reactions, is_question."""
    rows = built.rows(
        "select chat_id, message_id, message_date, current_text, edits, replies, reactions, is_question, "
        "topic_name from messages"
    )
    got = {(r[0], r[1]): r[2:] for r in rows}
    assert len(got) == len(rows)
    want = expected_messages(built.corpus)
    assert got == want
    assert {"Boletos e Pix"} == {v[6] for v in want.values()} - {None}
    assert any(v[4] for v in want.values()), "reactions"
    assert any(v[2] for v in want.values()), "edits"


def test_questions(built: Built) -> None:
    """questions: every question, its first answer, answers, resolution and topic, as computed in Python."""
    rows = built.rows(
        "select chat_id, message_id, user_id, asked_at, asked_date, question_text, topic, "
        "first_answer_message_id, first_answer_user_id, first_answer_is_bot, first_answer_at, "
        "minutes_to_first_answer, answers, resolved_at, resolved_by, status from questions"
    )
    got = {(r[0], r[1]): r[2:] for r in rows}
    assert len(got) == len(rows)
    want = expected_questions(built.corpus)
    assert got.keys() == want.keys()
    for key, row in want.items():
        minutes = pytest.approx(row[9]) if row[9] is not None else None
        assert got[key] == (*row[:9], minutes, *row[10:]), key


def test_daily_questions(built: Built) -> None:
    """daily_questions: per chat and local day of asking, counts, exact median minutes and rates."""
    rows = built.rows(
        "select chat_id, asked_date, questions, answered, resolved, unanswered, answered_by_bot, "
        "answered_by_people, median_minutes_to_first_answer, answer_rate, resolution_rate "
        "from daily_questions"
    )
    got = {(r[0], r[1]): r[2:] for r in rows}
    want = expected_daily_questions(built.corpus)
    assert got.keys() == want.keys()
    for key, row in want.items():
        approx = [pytest.approx(x) if x is not None else None for x in row[6:]]
        assert got[key] == (*row[:6], *approx), key
    assert (OLD_GROUP["id"], DAYS[0]) in want


def test_question_topics(built: Built) -> None:
    """question_topics: per chat, local day of asking and topic, questions and how they ended."""
    rows = built.rows(
        "select chat_id, asked_date, topic, questions, answered, resolved, unanswered from question_topics"
    )
    assert {(r[0], r[1], r[2]): r[3:] for r in rows} == expected_question_topics(built.corpus)


def test_question_marts_are_contracted_with_portable_types(built: Built) -> None:
    """The four public marts have exactly their contract's types (timestamps are naive UTC)."""
    types = built.rows(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_name in ('messages', 'questions', 'daily_questions', 'question_topics')"
    )
    portable = {"BIGINT", "INTEGER", "DOUBLE", "VARCHAR", "DATE", "BOOLEAN", "TIMESTAMP"}
    assert {t for _, _, t in types} <= portable
    by_table: dict[str, dict[str, str]] = defaultdict(dict)
    for table, column, data_type in types:
        by_table[table][column] = data_type
    assert by_table["questions"]["asked_date"] == "DATE"
    assert by_table["questions"]["minutes_to_first_answer"] == "DOUBLE"
    assert by_table["daily_questions"]["asked_date"] == "DATE"
    assert by_table["messages"]["sent_at"] == "TIMESTAMP"
