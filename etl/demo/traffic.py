"""A realistic, deterministic multi-day conversation of a support group, as webhook deliveries.

Several users write in Portuguese and English with emoji; they ask questions and answer them in
replies, use bot commands, send media, edit messages, join and leave. Around the group's own
updates come what a real webhook also sees: redeliveries, other chats' updates, requests without
the secret and one unreadable body.
"""

from __future__ import annotations

import functools
import heapq
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["DEMO_CHAT", "Delivery", "conversation"]

DEMO_CHAT = {"id": -1001000000001, "title": "Comunidade tgpipe 🇧🇷", "type": "supergroup"}
OTHER_CHAT = {"id": -1001000000999, "title": "Outro grupo", "type": "supergroup"}
BOT = {"id": 7000000099, "is_bot": True, "first_name": "tgpipe demo", "username": "tgpipe_demo_bot"}
USERS = [
    {"id": 1001, "is_bot": False, "first_name": "Ana", "last_name": "Souza", "username": "anasouza"},
    {"id": 1002, "is_bot": False, "first_name": "Bruno", "username": "bruno_dev"},
    {"id": 1003, "is_bot": False, "first_name": "Carla", "last_name": "Mendes"},
    {"id": 1004, "is_bot": False, "first_name": "David", "username": "dsmith"},
    {"id": 1005, "is_bot": False, "first_name": "Elena", "username": "elena_k"},
    {"id": 1006, "is_bot": False, "first_name": "Fábio", "last_name": "Lima"},
]
NEWCOMERS = [
    {"id": 1007, "is_bot": False, "first_name": "Gabi", "username": "gabi"},
    {"id": 1008, "is_bot": False, "first_name": "Hugo"},
]
QUESTIONS = [
    "Alguém sabe como emitir a segunda via do boleto? 🙏",
    "Como faço para redefinir a senha do app?",
    "O pagamento por pix caiu pra vocês hoje?",
    "How do I export the monthly report?",
    "Does anyone know why the login keeps failing? 😕",
    "Qual o prazo de entrega para São Paulo?",
    "Is there a way to change the invoice address?",
    "Vocês conseguem acessar o painel agora?",
]
ANSWERS = [
    "Sim! No app, menu Pagamentos → Segunda via 👍",
    "Tenta limpar o cache e entrar de novo",
    "Aqui funcionou normal, pode ter sido instabilidade",
    "Go to Settings → Reports → Export, it's a CSV",
    "Same here, support said they're fixing it 🔧",
    "Geralmente 3 dias úteis",
    "You can change it under Account → Billing",
    "Voltou agora há pouco ✅",
]
CHATTER = [
    "Bom dia pessoal! ☀️",
    "Boa tarde!",
    "Valeu pela ajuda 🙌",
    "Obrigado! Resolveu aqui",
    "Thanks everyone!",
    "kkkkk 😂",
    "Alguém vai no meetup sexta?",
    "Nice, that worked 🎉",
    "Vou testar e aviso",
    "Boa noite, até amanhã 🌙",
    "Good morning folks",
    "Atualizaram o app hoje, ficou bem mais rápido 🚀",
]
COMMANDS = ["/help", "/start@tgpipe_demo_bot", "/stats", "/help@tgpipe_demo_bot", "/faq"]


_Scheduled = tuple[datetime, int, Callable[[], object]]  # an event due at a time (heap order)


@dataclass(frozen=True)
class Delivery:
    """One POST to the webhook: the body, whether it carries the secret, and what should happen."""

    name: str
    body: bytes
    authenticated: bool = True
    expect: str = "stored"  # stored | ignored_chat | quarantined | unauthorized


def _body(update: dict[str, Any]) -> bytes:
    return json.dumps(update, ensure_ascii=False, separators=(",", ":")).encode()


class _Conversation:
    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.update_id = 510_000_000
        self.message_id = 100
        self.deliveries: list[Delivery] = []
        self.members = list(USERS)
        self.newcomers = list(NEWCOMERS)
        self.seq = 0  # tie-breaker of the event heap
        self.last_date = 0

    def push(self, name: str, kind: str, payload: dict[str, Any], expect: str = "stored") -> dict[str, Any]:
        self.update_id += 1
        update = {"update_id": self.update_id, kind: payload}
        self.deliveries.append(Delivery(name, _body(update), expect=expect))
        return update

    def message(self, when: datetime, user: dict[str, Any], **content: Any) -> dict[str, Any]:
        self.message_id += 1
        sent = int(when.timestamp())
        msg: dict[str, Any] = {"message_id": self.message_id, "from": user, "chat": DEMO_CHAT, "date": sent}
        msg.update(content)
        self.last_date = max(self.last_date, sent)
        self.push(next(iter(content), "message"), "message", msg)
        return msg

    def day(self, day: date, zone: ZoneInfo) -> None:
        """One day of the group, delivered in time order (answers and edits come when they happen)."""
        rnd = self.rnd
        # Busier in the morning and the evening, quiet at night.
        hours = [h for h in range(7, 24) for _ in range(3 if h in (9, 10, 11, 19, 20, 21) else 1)]
        times = sorted(
            datetime(day.year, day.month, day.day, rnd.choice(hours), rnd.randrange(60), tzinfo=zone)
            for _ in range(rnd.randint(35, 60))
        )
        later: list[_Scheduled] = []  # a heap of scheduled events
        self._membership(day, zone, later)
        for when in times:
            while later and later[0][0] <= when:
                heapq.heappop(later)[2]()
            self._event(when, later)
        while later:
            heapq.heappop(later)[2]()

    def _event(self, when: datetime, later: list[_Scheduled]) -> None:
        rnd = self.rnd
        asker = rnd.choice(self.members)
        roll = rnd.random()
        if roll < 0.25:
            q = rnd.randrange(len(QUESTIONS))
            question = self.message(when, asker, text=QUESTIONS[q])
            if rnd.random() < 0.75:  # most questions get an answer, some minutes later
                helper = rnd.choice([u for u in self.members if u is not asker])
                at = when + timedelta(minutes=rnd.choice([1, 2, 4, 7, 15, 30, 55]))
                answer = functools.partial(
                    self.message, at, helper, text=ANSWERS[q], reply_to_message=question
                )
                self._schedule(later, at, answer)
        elif roll < 0.33:
            command = rnd.choice(COMMANDS)
            length = len(command.encode("utf-16-le")) // 2
            entities = [{"offset": 0, "length": length, "type": "bot_command"}]
            self.message(when, asker, text=command, entities=entities)
        elif roll < 0.43:
            self._media(when, asker)
        elif roll < 0.48:
            msg = self.message(when, asker, text="Reunião amanhã às 10h")
            edited = {**msg, "text": "Reunião amanhã às 11h ✏️", "edit_date": msg["date"] + 120}
            edit: Callable[[], object] = functools.partial(self.push, "edit", "edited_message", edited)
            self._schedule(later, when + timedelta(minutes=2), edit)
        elif roll < 0.50:
            origin = {
                "type": "hidden_user",
                "sender_user_name": "Canal X",
                "date": int(when.timestamp()) - 86_400,
            }
            self.message(when, asker, text="Olha isso", forward_origin=origin)
        else:
            self.message(when, asker, text=rnd.choice(CHATTER))

    def _media(self, when: datetime, user: dict[str, Any]) -> None:
        rnd, n = self.rnd, self.message_id
        file = {"file_id": f"demo-file-{n}", "file_unique_id": f"demo-u-{n}"}
        kind = rnd.choice(["photo", "sticker", "voice", "document", "animation", "location", "poll", "video"])
        options: dict[str, dict[str, Any]] = {
            "photo": {"photo": [{**file, "width": 1280, "height": 720}], "caption": "print do erro 📸"},
            "sticker": {"sticker": {**file, "type": "regular", "width": 512, "height": 512, "emoji": "👍"}},
            "voice": {"voice": {**file, "duration": 7, "mime_type": "audio/ogg"}},
            "document": {"document": {**file, "file_name": "relatorio.pdf"}, "caption": "Segue o relatório"},
            "animation": {
                "animation": {**file, "width": 320, "height": 240, "duration": 3},
                "document": {**file, "file_name": "funny.mp4"},
            },
            "location": {"location": {"latitude": -23.5505, "longitude": -46.6333}},
            "poll": {
                "poll": {
                    "id": f"poll-{n}",
                    "question": "Melhor dia para o meetup?",
                    "options": [{"text": "Sexta", "voter_count": 0}, {"text": "Sábado", "voter_count": 0}],
                    "total_voter_count": 0,
                    "is_closed": False,
                    "is_anonymous": True,
                    "type": "regular",
                    "allows_multiple_answers": False,
                }
            },
            "video": {"video": {**file, "width": 1920, "height": 1080, "duration": 12}, "caption": "demo"},
        }
        self.message(when, user, **options[kind])

    def _schedule(self, later: list[_Scheduled], at: datetime, event: Callable[[], object]) -> None:
        self.seq += 1
        item: _Scheduled = (at, self.seq, event)
        heapq.heappush(later, item)

    def _membership(self, day: date, zone: ZoneInfo, later: list[_Scheduled]) -> None:
        """Someone joins (and says hello) or leaves, at some time of the day."""
        rnd = self.rnd
        when = datetime(day.year, day.month, day.day, rnd.randint(8, 22), rnd.randrange(60), tzinfo=zone)
        if self.newcomers and rnd.random() < 0.6:
            self._schedule(later, when, functools.partial(self._join, when, self.newcomers.pop(0)))
        elif len(self.members) > 5 and rnd.random() < 0.3:
            self._schedule(later, when, functools.partial(self._leave, when, self.members[-1]))

    def _join(self, when: datetime, user: dict[str, Any]) -> None:
        self.members.append(user)
        self.message(when, user, new_chat_members=[user])
        self.message(when + timedelta(minutes=1), user, text="Oi pessoal, cheguei agora 👋")

    def _leave(self, when: datetime, user: dict[str, Any]) -> None:
        self.members.remove(user)
        self.message(when, user, left_chat_member=user)


def conversation(days: int, end: date, zone: ZoneInfo, seed: int = 7) -> list[Delivery]:
    """The deliveries of ``days`` days of conversation ending on ``end`` (inclusive), in order."""
    conv = _Conversation(seed)
    for offset in range(days - 1, -1, -1):
        conv.day(end - timedelta(days=offset), zone)
    stored = [d for d in conv.deliveries if d.expect == "stored"]
    rnd = conv.rnd
    extra: list[Delivery] = []
    # What else a webhook sees: Telegram's retries, a reaction, other chats, strangers, garbage.
    extra += [Delivery(f"redelivered {d.name}", d.body) for d in rnd.sample(stored, 5)]
    reaction = {
        "chat": DEMO_CHAT,
        "message_id": 101,
        "user": USERS[0],
        "date": conv.last_date,
        "old_reaction": [],
        "new_reaction": [{"type": "emoji", "emoji": "❤"}],
    }
    conv.push("reaction", "message_reaction", reaction)
    for i in range(3):
        conv.push(
            "other chat",
            "message",
            {"message_id": i + 1, "from": USERS[1], "chat": OTHER_CHAT, "date": 1_760_000_000, "text": "oi"},
            expect="ignored_chat",
        )
    forged = _body(
        {"update_id": 1, "message": {"message_id": 1, "chat": DEMO_CHAT, "date": 0, "text": "spam"}}
    )
    extra += [Delivery("no secret", forged, authenticated=False, expect="unauthorized")] * 2
    extra.append(Delivery("truncated body", b'{"update_id": 5100', expect="quarantined"))
    return conv.deliveries + extra
